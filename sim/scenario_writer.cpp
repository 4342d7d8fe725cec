// Writes a Scenario as YAML: the top level, cluster (its config through the node config
// writer, config/config_yaml.h, which writes every key in the form its reader takes back),
// network, disk, workload, faults in time order, checks with their options.

#include "sim/scenario_writer.h"

#include <sstream>
#include <string>

#include "config/config_yaml.h"
#include "config/units.h"

namespace vigil::sim {
namespace {

std::string duration(Duration value) {
  return value < Duration{0} ? "-" + config::format_duration(-value)
                             : config::format_duration(value);
}

// A real in the shortest form that reads back exactly.
std::string real(double value) {
  std::ostringstream out;
  out.precision(17);
  out << value;
  return out.str();
}

std::string node_list(const std::vector<NodeId>& nodes) {
  std::string text = "[";
  for (std::size_t i = 0; i < nodes.size(); ++i) text += (i ? ", " : "") + nodes[i];
  return text + "]";
}

std::string fault_entry(const Fault& fault) {
  std::string text = "{at: " + duration(fault.at) + ", ";
  switch (fault.kind) {
    case FaultKind::partition: {
      text += "partition: [";
      for (std::size_t i = 0; i < fault.groups.size(); ++i) {
        text += (i ? ", " : "") + node_list(fault.groups[i]);
      }
      return text + "]}";
    }
    case FaultKind::one_way:
      return text + "one_way: {from: " + node_list(fault.from) + ", to: " + node_list(fault.to) +
             "}}";
    case FaultKind::heal: return text + "heal: all}";
    case FaultKind::crash: return text + "crash: " + fault.node + "}";
    case FaultKind::restart: return text + "restart: " + fault.node + "}";
    case FaultKind::pause:
      return text + "pause: " + fault.node + ", for: " + duration(fault.length) + "}";
    case FaultKind::clock:
      text += "clock: {node: " + fault.node;
      // All three zero is the reset; skew: 0 says it.
      if (fault.skew.count() != 0 || (fault.drift == 0 && fault.jump.count() == 0)) {
        text += ", skew: " + duration(fault.skew);
      }
      if (fault.drift != 0) text += ", drift: " + real(fault.drift);
      if (fault.jump.count() != 0) text += ", jump: " + duration(fault.jump);
      return text + "}}";
    case FaultKind::clog:
      return text + "clog: {node: " + fault.node + ", delay: " + duration(fault.delay) +
             ", for: " + duration(fault.length) + "}}";
    case FaultKind::lose_write: return text + "lose_write: " + fault.node + "}";
    case FaultKind::corrupt: return text + "corrupt: " + fault.node + "}";
    case FaultKind::link:
      text += "link: {from: " + fault.from.at(0) + ", to: " + fault.to.at(0);
      if (fault.delay.count() != 0 || fault.loss == 0)
        text += ", latency: " + duration(fault.delay);
      if (fault.loss != 0) text += ", loss: " + real(fault.loss);
      return text + ", for: " + duration(fault.length) + "}}";
    case FaultKind::client_partition: {
      text += "client_partition: {clients: [";
      for (std::size_t i = 0; i < fault.clients.size(); ++i) {
        text += (i ? ", c" : "c") + std::to_string(fault.clients[i]);
      }
      return text + "], nodes: " + node_list(fault.nodes) + ", for: " + duration(fault.length) +
             "}}";
    }
    case FaultKind::burst:
      text += "burst: {";
      if (fault.loss != 0 || fault.duplicate == 0) text += "loss: " + real(fault.loss) + ", ";
      if (fault.duplicate != 0) text += "duplicate: " + real(fault.duplicate) + ", ";
      return text + "for: " + duration(fault.length) + "}}";
  }
  return text + "heal: all}";
}

std::string check_entry(const CheckSpec& check) {
  std::string options;
  if (check.max) {
    options = (check.name == "tombstones_collected" ? "max_held: " : "max: ") +
              std::to_string(*check.max);
  }
  if (check.min) options = "min: " + real(*check.min);
  if (check.name == "hints_drained" && check.expire) options = "expire: true";
  if (check.name == "no_resurrection" && check.final_reads_only) options = "reads: final";
  for (const auto& [number, max] : check.max_of) {
    options += options.empty() ? "" : ", ";
    if (check.name == "convergence" && number == "converge_time_s") {
      // The loader's one convergence option is a duration (sim/scenario_checks.cpp).
      options += "max_converge_time: " +
                 duration(Duration(static_cast<std::int64_t>(max * 1e6 + 0.5)));
    } else {
      options += number + ": {max: " + real(max) + "}";
    }
  }
  return options.empty() ? check.name : "{" + check.name + ": {" + options + "}}";
}

const char* mode_name(WorkloadMode mode) {
  switch (mode) {
    case WorkloadMode::blind: return "blind";
    case WorkloadMode::set: return "set";
    case WorkloadMode::counter: return "counter";
    case WorkloadMode::read_modify_write: break;
  }
  return "read_modify_write";
}

const char* consistency_name(core::Consistency level) {
  switch (level) {
    case core::Consistency::one: return "one";
    case core::Consistency::all: return "all";
    default: break;
  }
  return "quorum";
}

void write_cluster(std::ostream& out, const Scenario& scenario) {
  out << "cluster:\n  nodes: " << scenario.nodes << "\n  config:\n";
  std::istringstream config(config::config_to_yaml(scenario.config));
  std::string line;
  while (std::getline(config, line)) {
    if (line.empty() || line.front() == '#') continue;
    out << "    " << line << '\n';
  }
}

void write_workload(std::ostream& out, const Workload& workload) {
  out << "workload:\n  clients: " << workload.clients << "\n  keys: " << workload.keys
      << "\n  rate: " << real(workload.rate_per_s) << "/s\n  mix: {get: " << real(workload.get)
      << ", put: " << real(workload.put) << ", delete: " << real(workload.del)
      << "}\n  mode: " << mode_name(workload.mode)
      << "\n  consistency: " << consistency_name(workload.consistency)
      << "\n  pipeline: " << workload.pipeline << '\n';
  if (workload.put_condition != core::WriteCondition::always) {
    out << "  condition: "
        << (workload.put_condition == core::WriteCondition::if_absent ? "nx" : "xx") << '\n';
  }
  if (workload.expire_fraction > 0) {
    out << "  expire: {fraction: " << real(workload.expire_fraction)
        << ", after: " << duration(workload.expire_after) << "}\n";
  }
  if (workload.routing) {
    const core::RouteStrategy strategy = *workload.routing;
    out << "  routing: "
        << (strategy == core::RouteStrategy::token_aware   ? "token_aware"
            : strategy == core::RouteStrategy::round_robin ? "round_robin"
                                                           : "random")
        << '\n';
  }
}

}  // namespace

std::string write_scenario(const Scenario& scenario, const std::string& comment) {
  std::ostringstream out;
  std::istringstream comment_lines(comment);
  std::string line;
  while (std::getline(comment_lines, line)) out << "# " << line << '\n';
  out << "name: " << scenario.name << '\n';
  if (scenario.seed) out << "seed: " << *scenario.seed << '\n';
  out << "duration: " << duration(scenario.duration) << '\n'
      << "quiesce: " << duration(scenario.quiesce) << '\n';
  write_cluster(out, scenario);
  const NetworkModel& network = scenario.network;
  out << "network: {latency: {min: " << duration(network.latency.min)
      << ", max: " << duration(network.latency.max) << "}, loss: " << real(network.loss)
      << ", duplicate: " << real(network.duplicate) << ", reorder: " << real(network.reorder)
      << "}\n";
  out << "disk: {commit_latency: {min: " << duration(scenario.disk.commit_latency.min)
      << ", max: " << duration(scenario.disk.commit_latency.max) << "}}\n";
  write_workload(out, scenario.workload);
  out << "faults:" << (scenario.faults.empty() ? " []" : "") << '\n';
  for (const Fault& fault : scenario.faults) out << "  - " << fault_entry(fault) << '\n';
  out << "checks: [";
  for (std::size_t i = 0; i < scenario.checks.size(); ++i) {
    out << (i ? ", " : "") << check_entry(scenario.checks[i]);
  }
  out << "]\nexpect: " << (scenario.expect == Expectation::pass ? "pass" : "fail") << '\n';
  return out.str();
}

}  // namespace vigil::sim
