// The scenario loader's faults section: the table of fault kinds, one reader per kind, and
// the replay that refuses a fault sequence the simulator could only ignore or misread.
//
// Faults are sorted by time (stable: faults at the same time keep their file order) and
// then replayed against a model of node states, so that a fault the simulator could only
// ignore or misread -- a restart of a running node, a crash of a crashed one, a pause of a
// crashed one, a crash of a paused one -- is refused here instead.

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "config/units.h"
#include "core/assert.h"
#include "sim/scenario_loader.h"

namespace vigil::sim::scenario_loader {

using core::Code;
using core::Result;

namespace {

// The key that names a fault's kind, and the keys that may come with it besides `at`.
const std::map<std::string, std::set<std::string>>& fault_kinds() {
  static const std::map<std::string, std::set<std::string>> kinds{
      {"partition", {}},  {"one_way", {}},    {"heal", {}},  {"crash", {}},
      {"restart", {}},    {"pause", {"for"}}, {"clock", {}}, {"clog", {}},
      {"lose_write", {}}, {"corrupt", {}},    {"link", {}},  {"client_partition", {}},
      {"burst", {}},
  };
  return kinds;
}

}  // namespace

void Loader::load_faults(const YAML::Node& node, Scenario& scenario) const {
  expect_sequence(node, "faults");
  if (node.size() > faults_max) refuse(node, "faults", "more than 100000 faults");
  std::vector<Fault> faults;
  for (std::size_t i = 0; i < node.size(); ++i) {
    faults.push_back(load_fault(node[i], "faults[" + std::to_string(i) + "]", scenario));
  }
  // Sorted through indices: assigning a YAML::Node (as sorting would) writes into the
  // document instead of rebinding the handle.
  std::vector<std::size_t> order(faults.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return faults[a].at < faults[b].at; });
  std::vector<YAML::Node> items;
  for (const std::size_t i : order) {
    scenario.faults.push_back(faults[i]);
    items.push_back(node[i]);
  }
  check_fault_sequence(scenario.faults, items);
}

Fault Loader::load_fault(const YAML::Node& node, const std::string& path,
                         const Scenario& scenario) const {
  expect_map(node, path);
  std::string kind;
  for (const auto& entry : node) {
    const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "";
    if (fault_kinds().contains(key)) {
      if (!kind.empty()) {
        refuse(entry.first, path, "one fault per entry: both " + kind + " and " + key);
      }
      kind = key;
    }
  }
  if (kind.empty()) {
    std::set<std::string> names;
    for (const auto& [name, extra] : fault_kinds()) names.insert(name);
    refuse(node, path, "no fault kind given (expected one of: " + list_of(names) + ")");
  }
  std::set<std::string> allowed = fault_kinds().at(kind);
  allowed.insert({"at", kind});
  check_keys(node, path, allowed);

  Fault fault;
  const YAML::Node at = require(node, "at", path);
  fault.at = duration(at, path + ".at");
  if (fault.at >= scenario.duration) {
    refuse(at, path + ".at",
           "a fault at or after the end of the run (duration " +
               config::format_duration(scenario.duration) + ") would never happen");
  }
  fault.line = static_cast<std::size_t>(node.Mark().line + 1);
  fault.column = static_cast<std::size_t>(node.Mark().column + 1);
  load_fault_kind(kind, node[kind], path + "." + kind, fault);
  if (kind == "pause") {
    fault.length = duration(require(node, "for", path), path + ".for");
    if (fault.length <= Duration{0}) refuse(node["for"], path + ".for", "must be more than 0");
  }
  return fault;
}

// One function per kind that takes more than a node name; the table of kinds is
// fault_kinds() above.
void Loader::load_fault_kind(const std::string& kind, const YAML::Node& value,
                             const std::string& path, Fault& fault) const {
  if (kind == "partition") {
    load_partition(value, path, fault);
  } else if (kind == "one_way") {
    load_one_way(value, path, fault);
  } else if (kind == "heal") {
    fault.kind = FaultKind::heal;
    if (scalar(value, path) != "all") refuse(value, path, "expected 'all'");
  } else if (kind == "crash" || kind == "restart" || kind == "pause" || kind == "lose_write" ||
             kind == "corrupt") {
    fault.kind = kind == "crash"        ? FaultKind::crash
                 : kind == "restart"    ? FaultKind::restart
                 : kind == "pause"      ? FaultKind::pause
                 : kind == "lose_write" ? FaultKind::lose_write
                                        : FaultKind::corrupt;
    fault.node = node_name(value, path);
  } else if (kind == "clock") {
    load_clock(value, path, fault);
  } else if (kind == "clog") {
    load_clog(value, path, fault);
  } else if (kind == "link") {
    load_link(value, path, fault);
  } else if (kind == "client_partition") {
    load_client_partition(value, path, fault);
  } else if (kind == "burst") {
    load_burst(value, path, fault);
  } else {
    VIGIL_ASSERT(false, "fault_kinds() and load_fault_kind() disagree");
  }
}

void Loader::load_partition(const YAML::Node& value, const std::string& path, Fault& fault) const {
  fault.kind = FaultKind::partition;
  expect_sequence(value, path);
  if (value.size() == 0) refuse(value, path, "a partition needs at least one group");
  std::set<NodeId> seen;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const std::string group_path = path + "[" + std::to_string(i) + "]";
    std::vector<NodeId> group = node_list(value[i], group_path);
    for (std::size_t j = 0; j < group.size(); ++j) {
      if (!seen.insert(group[j]).second) {
        refuse(value[i][j], group_path, group[j] + " is in two groups");
      }
    }
    fault.groups.push_back(std::move(group));
  }
  // Nodes named in no group form one more group together (sim/network.h).
  if (fault.groups.size() == 1 && seen.size() == nodes_) {
    refuse(value, path, "one group holding every node cuts nothing");
  }
}

void Loader::load_one_way(const YAML::Node& value, const std::string& path, Fault& fault) const {
  fault.kind = FaultKind::one_way;
  check_keys(value, path, {"from", "to"});
  fault.from = node_list(require(value, "from", path), path + ".from");
  fault.to = node_list(require(value, "to", path), path + ".to");
  for (std::size_t i = 0; i < fault.to.size(); ++i) {
    if (std::find(fault.from.begin(), fault.from.end(), fault.to[i]) != fault.from.end()) {
      refuse(value["to"][i], path + ".to", fault.to[i] + " is on both sides of the cut");
    }
  }
}

void Loader::load_clock(const YAML::Node& value, const std::string& path, Fault& fault) const {
  fault.kind = FaultKind::clock;
  check_keys(value, path, {"node", "skew", "drift", "jump"});
  fault.node = node_name(require(value, "node", path), path + ".node");
  if (!value["skew"].IsDefined() && !value["drift"].IsDefined() && !value["jump"].IsDefined()) {
    refuse(value, path, "expected at least one of skew, drift, jump");
  }
  if (value["skew"].IsDefined()) {
    fault.skew = duration(value["skew"], path + ".skew", true);
    if (fault.skew > clock_offset_max || fault.skew < -clock_offset_max) {
      refuse(value["skew"], path + ".skew", "must be within a year either way");
    }
  }
  if (value["jump"].IsDefined()) {
    fault.jump = duration(value["jump"], path + ".jump", true);
    if (fault.jump > clock_offset_max || fault.jump < -clock_offset_max) {
      refuse(value["jump"], path + ".jump", "must be within a year either way");
    }
  }
  if (value["drift"].IsDefined()) {
    fault.drift = real(value["drift"], path + ".drift");
    if (std::fabs(fault.drift) > drift_max) {
      refuse(value["drift"], path + ".drift", "must be within [-0.5, 0.5]");
    }
  }
}

void Loader::load_clog(const YAML::Node& value, const std::string& path, Fault& fault) const {
  fault.kind = FaultKind::clog;
  check_keys(value, path, {"node", "delay", "for"});
  fault.node = node_name(require(value, "node", path), path + ".node");
  fault.delay = duration(require(value, "delay", path), path + ".delay");
  fault.length = duration(require(value, "for", path), path + ".for");
  if (fault.delay <= Duration{0}) refuse(value["delay"], path + ".delay", "must be more than 0");
  if (fault.length <= Duration{0}) refuse(value["for"], path + ".for", "must be more than 0");
}

// `for`: more than 0 (link, client_partition, burst).
Duration Loader::fault_length(const YAML::Node& value, const std::string& path) const {
  const Duration length = duration(require(value, "for", path), path + ".for");
  if (length <= Duration{0}) refuse(value["for"], path + ".for", "must be more than 0");
  return length;
}

void Loader::load_link(const YAML::Node& value, const std::string& path, Fault& fault) const {
  fault.kind = FaultKind::link;
  check_keys(value, path, {"from", "to", "latency", "loss", "for"});
  fault.from = {node_name(require(value, "from", path), path + ".from")};
  fault.to = {node_name(require(value, "to", path), path + ".to")};
  if (fault.from == fault.to) {
    refuse(value["to"], path + ".to", "a link joins two different nodes");
  }
  if (!value["latency"].IsDefined() && !value["loss"].IsDefined()) {
    refuse(value, path, "expected at least one of latency, loss");
  }
  if (value["latency"].IsDefined()) {
    fault.delay = duration(value["latency"], path + ".latency");
    if (fault.delay > link_latency_max) {
      refuse(value["latency"], path + ".latency", "must be at most 60s");
    }
  }
  if (value["loss"].IsDefined()) fault.loss = probability(value["loss"], path + ".loss");
  fault.length = fault_length(value, path);
}

void Loader::load_client_partition(const YAML::Node& value, const std::string& path,
                                   Fault& fault) const {
  fault.kind = FaultKind::client_partition;
  check_keys(value, path, {"clients", "nodes", "for"});
  const YAML::Node clients = require(value, "clients", path);
  expect_sequence(clients, path + ".clients");
  if (clients.size() == 0) refuse(clients, path + ".clients", "name at least one client");
  for (std::size_t i = 0; i < clients.size(); ++i) {
    const std::string name = scalar(clients[i], path + ".clients");
    std::uint64_t index = 0;
    const bool numbered = name.size() > 1 && name[0] == 'c' &&
                          name.find_first_not_of("0123456789", 1) == std::string::npos &&
                          (name.size() == 2 || name[1] != '0') && name.size() <= 8;
    if (numbered) index = std::stoull(name.substr(1));
    if (!numbered || index >= clients_) {
      refuse(clients[i], path + ".clients",
             "no client " + name + " in a workload of " + std::to_string(clients_) +
                 " clients (named c0 .. c" + std::to_string(clients_ - 1) + ")");
    }
    if (std::find(fault.clients.begin(), fault.clients.end(), index) != fault.clients.end()) {
      refuse(clients[i], path + ".clients", name + " is named twice");
    }
    fault.clients.push_back(static_cast<std::uint32_t>(index));
  }
  fault.nodes = node_list(require(value, "nodes", path), path + ".nodes");
  if (fault.nodes.empty()) refuse(value["nodes"], path + ".nodes", "name at least one node");
  fault.length = fault_length(value, path);
}

void Loader::load_burst(const YAML::Node& value, const std::string& path, Fault& fault) const {
  fault.kind = FaultKind::burst;
  check_keys(value, path, {"loss", "duplicate", "for"});
  if (!value["loss"].IsDefined() && !value["duplicate"].IsDefined()) {
    refuse(value, path, "expected at least one of loss, duplicate");
  }
  if (value["loss"].IsDefined()) fault.loss = probability(value["loss"], path + ".loss");
  if (value["duplicate"].IsDefined()) {
    fault.duplicate = probability(value["duplicate"], path + ".duplicate");
  }
  fault.length = fault_length(value, path);
}

void Loader::check_fault_sequence(const std::vector<Fault>& faults,
                                  const std::vector<YAML::Node>& items) const {
  std::set<NodeId> crashed;
  std::map<NodeId, Duration> paused_until;
  for (std::size_t i = 0; i < faults.size(); ++i) {
    const Fault& fault = faults[i];
    const auto paused = paused_until.find(fault.node);
    const bool is_paused = paused != paused_until.end() && fault.at < paused->second;
    const std::string at = config::format_duration(fault.at);
    const std::string path = "faults (line " + std::to_string(fault.line) + ")";
    switch (fault.kind) {
      case FaultKind::crash:
        if (crashed.contains(fault.node)) {
          refuse(items[i], path, fault.node + " is already crashed at " + at);
        }
        if (is_paused) refuse(items[i], path, fault.node + " is paused at " + at);
        crashed.insert(fault.node);
        break;
      case FaultKind::restart:
        if (!crashed.contains(fault.node)) {
          refuse(items[i], path, fault.node + " is not crashed at " + at + ": nothing to restart");
        }
        crashed.erase(fault.node);
        break;
      case FaultKind::pause:
        if (crashed.contains(fault.node)) {
          refuse(items[i], path, fault.node + " is crashed at " + at + ": nothing to pause");
        }
        if (is_paused) refuse(items[i], path, fault.node + " is already paused at " + at);
        paused_until[fault.node] = fault.at + fault.length;
        break;
      default: break;
    }
  }
}

}  // namespace vigil::sim::scenario_loader
