#include "sim/scenario.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "config/config_yaml.h"
#include "config/units.h"

// Theory of operation. A scenario file is untrusted input written by people, so the loader
// is strict in the way a compiler is: every key is known, every value is typed and
// bounded, and the first error is reported as "file:line:col: path: reason" (line and
// column 1-based, pointing at the offending key or value). Silently ignoring an unknown key
// would let a typo ("fualts:") turn a fault-injection scenario into a fault-free one that
// passes for the wrong reason, which is the failure a simulator exists to prevent.
//
// The loader walks the yaml-cpp node tree (keeping the marks yaml-cpp records for every
// node) and throws an internal Refusal at the first problem; load_scenario() turns it into
// a core::Status, so no exception leaves this file. The `cluster.config` section is handed
// to the node configuration loader (config/config_yaml.h), which applies the same rules to
// the node settings.
//
// Faults are sorted by time (stable: faults at the same time keep their file order) and
// then replayed against a model of node states, so that a fault the simulator could only
// ignore or misread -- a restart of a running node, a crash of a crashed one, a pause of a
// crashed one, a crash of a paused one -- is refused here instead.

namespace vigil::sim {
namespace {

using core::Code;
using core::Result;
using core::Status;

// Bounds on what a scenario may ask for (rule 7): generous for real use, small enough that
// a typo cannot ask the simulator for an unbounded amount of memory or time.
constexpr std::uint64_t nodes_max = 64;
constexpr std::uint64_t clients_max = 1000;
constexpr std::uint64_t keys_max = 1000000;
constexpr double rate_per_s_max = 1000000;
constexpr Duration duration_max = std::chrono::hours(24 * 30);
constexpr Duration clock_offset_max = std::chrono::hours(24 * 365);
constexpr double drift_max = 0.5;  // a clock running at 1.5x or 0.5x is already absurd
constexpr std::size_t faults_max = 100000;
constexpr std::size_t name_size_max = 64;
constexpr double mix_tolerance = 1e-9;
constexpr std::size_t scenario_text_bytes_max = 1024 * 1024;

struct Refusal {
  std::string message;
};

class Loader {
 public:
  explicit Loader(std::string_view file) : file_(file) {}

  Scenario load(const YAML::Node& root);

 private:
  [[noreturn]] void refuse(const YAML::Node& at, const std::string& path,
                           const std::string& reason) const;
  std::string where(const YAML::Node& at) const;

  void expect_map(const YAML::Node& node, const std::string& path) const;
  void expect_sequence(const YAML::Node& node, const std::string& path) const;
  // Refuses keys outside `allowed` and keys given twice.
  void check_keys(const YAML::Node& map, const std::string& path,
                  const std::set<std::string>& allowed) const;
  YAML::Node require(const YAML::Node& map, const std::string& key,
                     const std::string& path) const;

  std::string scalar(const YAML::Node& node, const std::string& path) const;
  std::uint64_t whole(const YAML::Node& node, const std::string& path, std::uint64_t min,
                      std::uint64_t max) const;
  double real(const YAML::Node& node, const std::string& path) const;
  double probability(const YAML::Node& node, const std::string& path) const;
  // A duration; with `signed_allowed` a leading '-' or '+' is accepted ("-3s").
  Duration duration(const YAML::Node& node, const std::string& path,
                    bool signed_allowed = false) const;
  NodeId node_name(const YAML::Node& node, const std::string& path) const;
  std::vector<NodeId> node_list(const YAML::Node& node, const std::string& path) const;

  void load_cluster(const YAML::Node& node, Scenario& scenario);
  void load_network(const YAML::Node& node, NetworkModel& network) const;
  void load_workload(const YAML::Node& node, Workload& workload) const;
  double rate(const YAML::Node& node, const std::string& path) const;
  void load_mix(const YAML::Node& node, Workload& workload) const;
  void load_faults(const YAML::Node& node, Scenario& scenario) const;
  Fault load_fault(const YAML::Node& node, const std::string& path,
                   const Scenario& scenario) const;
  void load_fault_kind(const std::string& kind, const YAML::Node& value,
                       const std::string& path, Fault& fault) const;
  void check_fault_sequence(const std::vector<Fault>& faults,
                            const std::vector<YAML::Node>& items) const;
  void load_checks(const YAML::Node& node, Scenario& scenario) const;

  std::string file_;
  std::uint32_t nodes_ = 0;  // set once cluster.nodes is read; names n1..n<nodes_>
};

std::string Loader::where(const YAML::Node& at) const {
  const YAML::Mark mark = at.Mark();
  if (mark.is_null()) return file_;
  return file_ + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

void Loader::refuse(const YAML::Node& at, const std::string& path,
                    const std::string& reason) const {
  std::string message = where(at) + ": ";
  if (!path.empty()) message += path + ": ";
  throw Refusal{message + reason};
}

void Loader::expect_map(const YAML::Node& node, const std::string& path) const {
  if (!node.IsMap()) refuse(node, path, "expected a mapping of keys to values");
}

void Loader::expect_sequence(const YAML::Node& node, const std::string& path) const {
  if (!node.IsSequence()) refuse(node, path, "expected a list");
}

// The node config loader names keys from the section's root ("quorum_settings.R"); in a
// scenario they live under cluster.config. Each message line is
// "<file>:<line>:<column>: <key.path>: ..." or "<file>: <key.path>: ...".
std::string within_cluster_config(const std::string& message, const std::string& file) {
  std::istringstream lines(message);
  std::string line, result;
  while (std::getline(lines, line)) {
    std::size_t at = 0;
    if (line.compare(0, file.size(), file) == 0) {
      at = file.size();
      // Skip ":<line>:<column>" when present.
      for (int field = 0; field < 2 && at < line.size() && line[at] == ':' &&
                          at + 1 < line.size() && line[at + 1] >= '0' && line[at + 1] <= '9';
           ++field) {
        at = line.find_first_not_of("0123456789", at + 1);
        if (at == std::string::npos) at = line.size();
      }
      if (line.compare(at, 2, ": ") == 0) {
        at += 2;
        line.insert(at, "cluster.config.");
      }
    }
    result += (result.empty() ? "" : "\n") + line;
  }
  return result;
}

std::string join_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string list_of(const std::set<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

void Loader::check_keys(const YAML::Node& map, const std::string& path,
                        const std::set<std::string>& allowed) const {
  expect_map(map, path);
  std::set<std::string> seen;
  for (const auto& entry : map) {
    if (!entry.first.IsScalar()) refuse(entry.first, path, "a key must be a plain name");
    const std::string key = entry.first.Scalar();
    if (!allowed.contains(key)) {
      refuse(entry.first, join_path(path, key),
             "unknown key (expected one of: " + list_of(allowed) + ")");
    }
    if (!seen.insert(key).second) refuse(entry.first, join_path(path, key), "key given twice");
  }
}

YAML::Node Loader::require(const YAML::Node& map, const std::string& key,
                           const std::string& path) const {
  const YAML::Node value = map[key];
  if (!value.IsDefined()) refuse(map, path, "missing required key '" + key + "'");
  return value;
}

std::string Loader::scalar(const YAML::Node& node, const std::string& path) const {
  if (!node.IsScalar()) refuse(node, path, "expected a single value");
  return node.Scalar();
}

std::uint64_t Loader::whole(const YAML::Node& node, const std::string& path, std::uint64_t min,
                            std::uint64_t max) const {
  const std::string text = scalar(node, path);
  const Result<std::uint64_t> number = config::parse_whole_number(text);
  if (!number.ok()) refuse(node, path, number.status().message());
  if (*number < min || *number > max) {
    refuse(node, path,
           text + " is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return *number;
}

double Loader::real(const YAML::Node& node, const std::string& path) const {
  const Result<double> number = config::parse_real(scalar(node, path));
  if (!number.ok()) refuse(node, path, number.status().message());
  return *number;
}

double Loader::probability(const YAML::Node& node, const std::string& path) const {
  const double value = real(node, path);
  if (value < 0 || value > 1) refuse(node, path, "a probability must be within [0, 1]");
  return value;
}

Duration Loader::duration(const YAML::Node& node, const std::string& path,
                          bool signed_allowed) const {
  const std::string written = scalar(node, path);
  std::string_view text = written;
  bool negative = false;
  if (signed_allowed && !text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  const Result<Duration> value = config::parse_duration(text);
  if (!value.ok()) refuse(node, path, value.status().message());
  return negative ? -*value : *value;
}

NodeId Loader::node_name(const YAML::Node& node, const std::string& path) const {
  const std::string name = scalar(node, path);
  const bool numbered = name.size() >= 2 && name[0] == 'n' && name[1] != '0' &&
                        std::all_of(name.begin() + 1, name.end(),
                                    [](char c) { return c >= '0' && c <= '9'; });
  if (!numbered || name.size() > 4) {
    refuse(node, path, "'" + name + "' is not a node name (n1 .. n" + std::to_string(nodes_) +
                           ")");
  }
  if (std::stoul(name.substr(1)) > nodes_) {
    refuse(node, path,
           "no node " + name + " in a " + std::to_string(nodes_) + "-node cluster");
  }
  return name;
}

std::vector<NodeId> Loader::node_list(const YAML::Node& node, const std::string& path) const {
  expect_sequence(node, path);
  if (node.size() == 0) refuse(node, path, "expected at least one node");
  std::vector<NodeId> names;
  std::set<NodeId> seen;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string item_path = path + "[" + std::to_string(i) + "]";
    NodeId name = node_name(node[i], item_path);
    if (!seen.insert(name).second) refuse(node[i], item_path, name + " is listed twice");
    names.push_back(std::move(name));
  }
  return names;
}

Scenario Loader::load(const YAML::Node& root) {
  if (!root.IsDefined() || root.IsNull()) refuse(root, "", "the scenario is empty");
  check_keys(root, "",
             {"name", "duration", "quiesce", "cluster", "network", "workload", "faults",
              "checks", "expect"});
  Scenario scenario;
  scenario.file = file_;

  const YAML::Node name = require(root, "name", "");
  scenario.name = scalar(name, "name");
  const bool name_ok =
      !scenario.name.empty() && scenario.name.size() <= name_size_max &&
      std::all_of(scenario.name.begin(), scenario.name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
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

  load_cluster(require(root, "cluster", ""), scenario);
  if (root["network"].IsDefined()) load_network(root["network"], scenario.network);
  load_workload(require(root, "workload", ""), scenario.workload);
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

void Loader::load_network(const YAML::Node& node, NetworkModel& network) const {
  check_keys(node, "network", {"latency", "loss", "duplicate", "reorder"});
  if (node["latency"].IsDefined()) {
    const YAML::Node latency = node["latency"];
    check_keys(latency, "network.latency", {"min", "max"});
    network.latency.min = duration(require(latency, "min", "network.latency"),
                                   "network.latency.min");
    network.latency.max = duration(require(latency, "max", "network.latency"),
                                   "network.latency.max");
    if (network.latency.min > network.latency.max) {
      refuse(latency["max"], "network.latency.max", "must not be less than min");
    }
    if (network.latency.max > std::chrono::seconds(60)) {
      refuse(latency["max"], "network.latency.max", "must be at most 60s");
    }
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
  check_keys(node, "workload", {"clients", "keys", "rate", "mix", "mode", "consistency"});
  workload.clients = static_cast<std::uint32_t>(
      whole(require(node, "clients", "workload"), "workload.clients", 1, clients_max));
  workload.keys = static_cast<std::uint32_t>(
      whole(require(node, "keys", "workload"), "workload.keys", 1, keys_max));
  workload.rate_per_s = rate(require(node, "rate", "workload"), "workload.rate");
  load_mix(require(node, "mix", "workload"), workload);
  if (node["mode"].IsDefined()) {
    const std::string mode = scalar(node["mode"], "workload.mode");
    if (mode == "read_modify_write") {
      workload.mode = WorkloadMode::read_modify_write;
    } else if (mode == "blind") {
      workload.mode = WorkloadMode::blind;
    } else {
      refuse(node["mode"], "workload.mode",
             "expected read_modify_write or blind, not '" + mode + "'");
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

// The key that names a fault's kind, and the keys that may come with it besides `at`.
const std::map<std::string, std::set<std::string>>& fault_kinds() {
  static const std::map<std::string, std::set<std::string>> kinds{
      {"partition", {}}, {"one_way", {}},    {"heal", {}},       {"crash", {}},
      {"restart", {}},   {"pause", {"for"}}, {"clock", {}},      {"clog", {}},
      {"lose_write", {}}, {"corrupt", {}},
  };
  return kinds;
}

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

void Loader::load_fault_kind(const std::string& kind, const YAML::Node& value,
                             const std::string& path, Fault& fault) const {
  if (kind == "partition") {
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
  } else if (kind == "one_way") {
    fault.kind = FaultKind::one_way;
    check_keys(value, path, {"from", "to"});
    fault.from = node_list(require(value, "from", path), path + ".from");
    fault.to = node_list(require(value, "to", path), path + ".to");
    for (std::size_t i = 0; i < fault.to.size(); ++i) {
      if (std::find(fault.from.begin(), fault.from.end(), fault.to[i]) != fault.from.end()) {
        refuse(value["to"][i], path + ".to", fault.to[i] + " is on both sides of the cut");
      }
    }
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
    fault.kind = FaultKind::clock;
    check_keys(value, path, {"node", "skew", "drift", "jump"});
    fault.node = node_name(require(value, "node", path), path + ".node");
    if (!value["skew"].IsDefined() && !value["drift"].IsDefined() &&
        !value["jump"].IsDefined()) {
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
  } else if (kind == "clog") {
    fault.kind = FaultKind::clog;
    check_keys(value, path, {"node", "delay", "for"});
    fault.node = node_name(require(value, "node", path), path + ".node");
    fault.delay = duration(require(value, "delay", path), path + ".delay");
    fault.length = duration(require(value, "for", path), path + ".for");
    if (fault.delay <= Duration{0}) refuse(value["delay"], path + ".delay", "must be more than 0");
    if (fault.length <= Duration{0}) refuse(value["for"], path + ".for", "must be more than 0");
  } else {
    VIGIL_ASSERT(false, "fault_kinds() and load_fault_kind() disagree");
  }
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
      default:
        break;
    }
  }
}

void Loader::load_checks(const YAML::Node& node, Scenario& scenario) const {
  expect_sequence(node, "checks");
  const std::set<std::string> known{"no_lost_writes", "stale_reads", "hints_drained",
                                    "availability", "failure_detection"};
  std::set<std::string> seen;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string path = "checks[" + std::to_string(i) + "]";
    const YAML::Node item = node[i];
    CheckSpec check;
    // yaml-cpp's Node::operator= assigns into the node it refers to, so the name's node is
    // chosen once rather than reassigned.
    const YAML::Node name_node = item.IsMap() && item.size() == 1 ? item.begin()->first : item;
    if (item.IsMap()) {
      if (item.size() != 1) refuse(item, path, "expected one check name with its options");
      check.name = scalar(name_node, path);
      const YAML::Node options = item.begin()->second;
      const std::string options_path = path + "." + check.name;
      if (check.name == "stale_reads") {
        check_keys(options, options_path, {"max"});
        if (options["max"].IsDefined()) {
          check.max = whole(options["max"], options_path + ".max", 0, UINT64_MAX);
        }
      } else if (check.name == "availability") {
        check_keys(options, options_path, {"min"});
        if (options["min"].IsDefined()) {
          check.min = probability(options["min"], options_path + ".min");
        }
      } else if (check.name == "failure_detection") {
        const std::set<std::string> gated{"false_suspicions", "false_failures",
                                          "suspect_time_s_max", "failed_time_s_max",
                                          "crashes_missed"};
        check_keys(options, options_path, gated);
        for (const std::string& number : gated) {
          const YAML::Node gate = options[number];
          if (!gate.IsDefined()) continue;
          const std::string gate_path = options_path + "." + number;
          check_keys(gate, gate_path, {"max"});
          const YAML::Node bound = require(gate, "max", gate_path);
          const double max = real(bound, gate_path + ".max");
          if (!(max >= 0)) refuse(bound, gate_path + ".max", "must be 0 or more");
          check.max_of[number] = max;
        }
      } else if (check.name == "hints_drained") {
        check_keys(options, options_path, {"expire"});
        if (options["expire"].IsDefined()) {
          const std::string expire = scalar(options["expire"], options_path + ".expire");
          if (expire != "true" && expire != "false") {
            refuse(options["expire"], options_path + ".expire", "expected true or false");
          }
          check.expire = expire == "true";
        }
      } else if (known.contains(check.name)) {
        refuse(options, options_path, "this check takes no options");
      }
    } else {
      check.name = scalar(item, path);
    }
    if (!known.contains(check.name)) {
      refuse(name_node, path, "unknown check '" + check.name + "' (expected one of: " +
                                  list_of(known) + ")");
    }
    if (!seen.insert(check.name).second) refuse(name_node, path, check.name + " listed twice");
    scenario.checks.push_back(std::move(check));
  }
}

}  // namespace

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
