// The scenario loader's reading helpers: where a node is in the file, the one error
// format ("file:line:col: path: reason"), and the typed, bounded readers of single values
// and node names every section uses (sim/scenario_loader.h).

#include <algorithm>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include "config/units.h"
#include "sim/scenario_loader.h"

namespace vigil::sim::scenario_loader {

using core::Code;
using core::Result;

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
  const bool numbered =
      name.size() >= 2 && name[0] == 'n' && name[1] != '0' &&
      std::all_of(name.begin() + 1, name.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!numbered || name.size() > 4) {
    refuse(node, path, "'" + name + "' is not a node name (n1 .. n" + std::to_string(nodes_) + ")");
  }
  if (std::stoul(name.substr(1)) > nodes_) {
    refuse(node, path, "no node " + name + " in a " + std::to_string(nodes_) + "-node cluster");
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

}  // namespace vigil::sim::scenario_loader
