#include "sim/scenario.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <utility>

#include "config/config_yaml.h"
#include "config/units.h"
#include "sim/scenario_loader.h"

// Theory of operation. A scenario file is untrusted input written by people, so the loader
// is strict in the way a compiler is: every key is known, every value is typed and
// bounded, and the first error is reported as "file:line:col: path: reason" (line and
// column 1-based, pointing at the offending key or value). Silently ignoring an unknown key
// would let a typo ("fualts:") turn a fault-injection scenario into a fault-free one that
// passes for the wrong reason, which is the failure a simulator exists to prevent.
//
// The loader walks the yaml-cpp node tree (keeping the marks yaml-cpp records for every
// node) and throws an internal Refusal at the first problem; load_scenario() turns it into
// a core::Status, so no exception leaves the loader. The `cluster.config` section is handed
// to the node configuration loader (config/config_yaml.h), which applies the same rules to
// the node settings.
//
// This file holds the entry points, the top level of a scenario and its cluster, network
// and workload sections; the rest of the Loader is in the sources sim/scenario_loader.h
// names.

namespace vigil::sim::scenario_loader {

using core::Code;
using core::Result;

Scenario Loader::load(const YAML::Node& root) {
  if (!root.IsDefined() || root.IsNull()) refuse(root, "", "the scenario is empty");
  check_keys(root, "",
             {"name", "duration", "quiesce", "cluster", "network", "disk", "workload", "faults", "checks",
              "expect", "seed"});
  Scenario scenario;
  scenario.file = file_;

  const YAML::Node name = require(root, "name", "");
  scenario.name = scalar(name, "name");
  const bool name_ok = !scenario.name.empty() && scenario.name.size() <= name_size_max &&
                       std::all_of(scenario.name.begin(), scenario.name.end(), [](char c) {
                         return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
                       });
  if (!name_ok) refuse(name, "name", "expected 1-64 characters of [A-Za-z0-9_.-]");

  const YAML::Node length = require(root, "duration", "");
  scenario.duration = duration(length, "duration");
  if (scenario.duration <= Duration{0} || scenario.duration > duration_max) {
    refuse(length, "duration", "must be more than 0 and at most 30d");
  }

  if (root["quiesce"].IsDefined()) {
    scenario.quiesce = duration(root["quiesce"], "quiesce");
    if (scenario.quiesce <= Duration{0} || scenario.quiesce > duration_max) {
      refuse(root["quiesce"], "quiesce", "must be more than 0 and at most 30d");
    }
  }

  if (root["seed"].IsDefined()) {
    scenario.seed = whole(root["seed"], "seed", 0, std::numeric_limits<std::uint64_t>::max());
  }

  load_cluster(require(root, "cluster", ""), scenario);
  if (root["network"].IsDefined()) load_network(root["network"], scenario.network);
  if (root["disk"].IsDefined()) load_disk(root["disk"], scenario.disk);
  load_workload(require(root, "workload", ""), scenario.workload);
  scenario.workload.set_context = scenario.config.client.set_context;
  clients_ = scenario.workload.clients;
  if (root["faults"].IsDefined()) load_faults(root["faults"], scenario);
  load_checks(require(root, "checks", ""), scenario);

  const YAML::Node expect = require(root, "expect", "");
  const std::string verdict = scalar(expect, "expect");
  if (verdict == "pass") {
    scenario.expect = Expectation::pass;
  } else if (verdict == "fail") {
    scenario.expect = Expectation::fail;
  } else {
    refuse(expect, "expect", "expected pass or fail, not '" + verdict + "'");
  }
  return scenario;
}

void Loader::load_cluster(const YAML::Node& node, Scenario& scenario) {
  check_keys(node, "cluster", {"nodes", "config"});
  const YAML::Node nodes = require(node, "nodes", "cluster");
  scenario.nodes = static_cast<std::uint32_t>(whole(nodes, "cluster.nodes", 1, nodes_max));
  nodes_ = scenario.nodes;

  if (node["config"].IsDefined()) {
    const YAML::Node section = node["config"];
    expect_map(section, "cluster.config");
    Result<config::Config> config = config::config_from_yaml(section, file_);
    if (!config.ok()) throw Refusal{within_cluster_config(config.status().message(), file_)};
    scenario.config = std::move(*config);
  }
  const std::uint32_t replicas = scenario.config.quorum_settings.n;
  if (scenario.nodes < replicas) {
    refuse(nodes, "cluster.nodes",
           std::to_string(scenario.nodes) + " nodes cannot hold N=" + std::to_string(replicas) +
               " replicas (quorum_settings.N)");
  }
}

LatencyModel Loader::load_latency(const YAML::Node& node, const std::string& path,
                                 Duration max) const {
  check_keys(node, path, {"min", "max"});
  LatencyModel latency;
  latency.min = duration(require(node, "min", path), path + ".min");
  latency.max = duration(require(node, "max", path), path + ".max");
  if (latency.min > latency.max) refuse(node["max"], path + ".max", "must not be less than min");
  if (latency.max > max) {
    refuse(node["max"], path + ".max",
           "must be at most " + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(max).count()) + "s");
  }
  return latency;
}

void Loader::load_disk(const YAML::Node& node, DiskModel& disk) const {
  check_keys(node, "disk", {"commit_latency"});
  if (node["commit_latency"].IsDefined()) {
    disk.commit_latency =
        load_latency(node["commit_latency"], "disk.commit_latency", std::chrono::seconds(10));
  }
}

void Loader::load_network(const YAML::Node& node, NetworkModel& network) const {
  check_keys(node, "network", {"latency", "loss", "duplicate", "reorder"});
  if (node["latency"].IsDefined()) {
    network.latency = load_latency(node["latency"], "network.latency", std::chrono::seconds(60));
  }
  if (node["loss"].IsDefined()) network.loss = probability(node["loss"], "network.loss");
  if (node["duplicate"].IsDefined()) {
    network.duplicate = probability(node["duplicate"], "network.duplicate");
  }
  if (node["reorder"].IsDefined()) {
    network.reorder = probability(node["reorder"], "network.reorder");
  }
  if (network.loss >= 1) refuse(node["loss"], "network.loss", "a loss of 1 delivers nothing");
}

double Loader::rate(const YAML::Node& node, const std::string& path) const {
  const std::string text = scalar(node, path);
  const std::size_t slash = text.find('/');
  if (slash == std::string::npos) refuse(node, path, "expected a rate such as 200/s or 600/m");
  const std::string unit = text.substr(slash + 1);
  double per_unit_s = 0;
  if (unit == "s") {
    per_unit_s = 1;
  } else if (unit == "m") {
    per_unit_s = 60;
  } else {
    refuse(node, path, "the unit of a rate is /s or /m, not /" + unit);
  }
  const Result<double> count = config::parse_real(text.substr(0, slash));
  if (!count.ok()) refuse(node, path, count.status().message());
  const double per_s = *count / per_unit_s;
  if (!(per_s > 0) || per_s > rate_per_s_max) {
    refuse(node, path, "must be more than 0 and at most 1000000/s");
  }
  return per_s;
}

void Loader::load_mix(const YAML::Node& node, Workload& workload) const {
  check_keys(node, "workload.mix", {"get", "put", "delete"});
  workload.get = node["get"].IsDefined() ? probability(node["get"], "workload.mix.get") : 0;
  workload.put = node["put"].IsDefined() ? probability(node["put"], "workload.mix.put") : 0;
  workload.del =
      node["delete"].IsDefined() ? probability(node["delete"], "workload.mix.delete") : 0;
  const double sum = workload.get + workload.put + workload.del;
  if (std::fabs(sum - 1) > mix_tolerance) {
    std::ostringstream text;
    text << "get + put + delete must sum to 1, not " << sum;
    refuse(node, "workload.mix", text.str());
  }
}

void Loader::load_workload(const YAML::Node& node, Workload& workload) const {
  check_keys(node, "workload",
             {"clients", "keys", "rate", "mix", "mode", "consistency", "pipeline", "condition",
              "routing", "expire"});
  workload.clients = static_cast<std::uint32_t>(
      whole(require(node, "clients", "workload"), "workload.clients", 1, clients_max));
  workload.keys = static_cast<std::uint32_t>(
      whole(require(node, "keys", "workload"), "workload.keys", 1, keys_max));
  workload.rate_per_s = rate(require(node, "rate", "workload"), "workload.rate");
  load_mix(require(node, "mix", "workload"), workload);
  if (node["pipeline"].IsDefined()) {
    // At most a client's operations in flight (sim/simulation.h: operations_in_flight_max).
    workload.pipeline =
        static_cast<std::uint32_t>(whole(node["pipeline"], "workload.pipeline", 0, 128));
  }
  if (node["routing"].IsDefined()) {
    const std::string routing = scalar(node["routing"], "workload.routing");
    if (routing == "token_aware") {
      workload.routing = core::RouteStrategy::token_aware;
    } else if (routing == "round_robin") {
      workload.routing = core::RouteStrategy::round_robin;
    } else if (routing == "random") {
      workload.routing = core::RouteStrategy::random;
    } else {
      refuse(node["routing"], "workload.routing",
             "expected token_aware, round_robin or random, not '" + routing + "'");
    }
    if (workload.pipeline > 0) {
      refuse(node["routing"], "workload.routing",
             "cannot be combined with workload.pipeline (a pipelining client keeps one "
             "connection)");
    }
  }
  if (node["mode"].IsDefined()) {
    const std::string mode = scalar(node["mode"], "workload.mode");
    if (mode == "read_modify_write") {
      workload.mode = WorkloadMode::read_modify_write;
    } else if (mode == "blind") {
      workload.mode = WorkloadMode::blind;
    } else if (mode == "set") {
      workload.mode = WorkloadMode::set;
    } else if (mode == "counter") {
      workload.mode = WorkloadMode::counter;
    } else {
      refuse(node["mode"], "workload.mode",
             "expected read_modify_write, blind, set or counter, not '" + mode + "'");
    }
  }
  if (node["expire"].IsDefined()) {
    const YAML::Node expire = node["expire"];
    check_keys(expire, "workload.expire", {"fraction", "after"});
    workload.expire_fraction =
        probability(require(expire, "fraction", "workload.expire"), "workload.expire.fraction");
    workload.expire_after =
        duration(require(expire, "after", "workload.expire"), "workload.expire.after");
    if (workload.expire_after <= Duration{0}) {
      refuse(expire["after"], "workload.expire.after", "must be positive");
    }
    if (workload.mode == WorkloadMode::set && workload.put_condition !=
                                                  core::WriteCondition::always) {
      refuse(expire, "workload.expire", "cannot be combined with workload.condition");
    }
    if (workload.mode == WorkloadMode::counter) {
      refuse(expire, "workload.expire", "counter mode's increments carry no expiry");
    }
  }
  if (workload.mode == WorkloadMode::counter && workload.del > 0) {
    refuse(node["mix"], "workload.mix.delete",
           "must be 0 in counter mode (counter_sums adds the increments of a key's whole life)");
  }
  if (node["condition"].IsDefined()) {
    const std::string condition = scalar(node["condition"], "workload.condition");
    if (workload.mode != WorkloadMode::set) {
      refuse(node["condition"], "workload.condition", "only set mode has conditional puts");
    }
    if (condition == "nx") {
      workload.put_condition = core::WriteCondition::if_absent;
    } else if (condition == "xx") {
      workload.put_condition = core::WriteCondition::if_present;
    } else if (condition != "none") {
      refuse(node["condition"], "workload.condition",
             "expected none, nx or xx, not '" + condition + "'");
    }
  }
  if (node["consistency"].IsDefined()) {
    const std::string level = scalar(node["consistency"], "workload.consistency");
    if (level == "one" || level == "eventual") {
      workload.consistency = core::Consistency::one;
    } else if (level == "quorum") {
      workload.consistency = core::Consistency::quorum;
    } else if (level == "all" || level == "strong") {
      workload.consistency = core::Consistency::all;
    } else {
      refuse(node["consistency"], "workload.consistency",
             "expected one, quorum, all, eventual or strong, not '" + level + "'");
    }
  }
}

}  // namespace vigil::sim::scenario_loader

namespace vigil::sim {

using core::Code;
using scenario_loader::Loader;
using scenario_loader::Refusal;
using scenario_loader::scenario_text_bytes_max;

std::vector<NodeId> scenario_node_ids(const Scenario& scenario) {
  std::vector<NodeId> ids;
  ids.reserve(scenario.nodes);
  for (std::uint32_t i = 1; i <= scenario.nodes; ++i) ids.push_back("n" + std::to_string(i));
  return ids;
}

core::Result<Scenario> load_scenario(std::string_view text, std::string_view file) {
  if (text.size() > scenario_text_bytes_max) {
    return core::error(Code::invalid_argument,
                       std::string(file) + ": a scenario file is at most 1 MiB");
  }
  try {
    return Loader(file).load(YAML::Load(std::string(text)));
  } catch (const Refusal& refusal) {
    return core::error(Code::invalid_argument, refusal.message);
  } catch (const YAML::Exception& e) {
    std::string where = std::string(file);
    if (!e.mark.is_null()) {
      where += ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
    }
    return core::error(Code::invalid_argument, where + ": malformed YAML: " + e.msg);
  }
}

core::Result<Scenario> load_scenario_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::error(Code::not_found, path + ": cannot open the scenario file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return core::error(Code::io_error, path + ": cannot read the scenario file");
  return load_scenario(text.str(), path);
}

}  // namespace vigil::sim
