#pragma once
// Internal to the scenario loader (sim/scenario*.cpp); sim/scenario.h is the contract.
// The Loader walks a scenario document and throws a Refusal at its first problem;
// load_scenario() (sim/scenario.cpp) turns that into a Status. Its methods are spread over
// sources by idea: reading and error formatting (scenario_yaml.cpp), the top level and the
// cluster, network and workload sections (scenario.cpp), faults (scenario_faults.cpp) and
// checks (scenario_checks.cpp).

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sim/scenario.h"

namespace vigil::sim::scenario_loader {

// Bounds on what a scenario may ask for (rule 7): generous for real use, small enough that
// a typo cannot ask the simulator for an unbounded amount of memory or time.
inline constexpr std::uint64_t nodes_max = 64;
inline constexpr std::uint64_t clients_max = 1000;
inline constexpr std::uint64_t keys_max = 1000000;
inline constexpr double rate_per_s_max = 1000000;
inline constexpr Duration duration_max = std::chrono::hours(24 * 30);
inline constexpr Duration clock_offset_max = std::chrono::hours(24 * 365);
inline constexpr Duration link_latency_max = std::chrono::seconds(60);
inline constexpr double drift_max = 0.5;  // a clock running at 1.5x or 0.5x is already absurd
inline constexpr std::size_t faults_max = 100000;
inline constexpr std::size_t name_size_max = 64;
inline constexpr double mix_tolerance = 1e-9;
inline constexpr std::size_t scenario_text_bytes_max = 1024 * 1024;

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
  YAML::Node require(const YAML::Node& map, const std::string& key, const std::string& path) const;

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
  void load_disk(const YAML::Node& node, DiskModel& disk) const;
  // {min, max} under `path`, both required, min <= max <= `max`.
  LatencyModel load_latency(const YAML::Node& node, const std::string& path, Duration max) const;
  void load_workload(const YAML::Node& node, Workload& workload) const;
  double rate(const YAML::Node& node, const std::string& path) const;
  void load_mix(const YAML::Node& node, Workload& workload) const;
  void load_faults(const YAML::Node& node, Scenario& scenario) const;
  Fault load_fault(const YAML::Node& node, const std::string& path, const Scenario& scenario) const;
  void load_fault_kind(const std::string& kind, const YAML::Node& value, const std::string& path,
                       Fault& fault) const;
  void load_partition(const YAML::Node& value, const std::string& path, Fault& fault) const;
  void load_one_way(const YAML::Node& value, const std::string& path, Fault& fault) const;
  void load_clock(const YAML::Node& value, const std::string& path, Fault& fault) const;
  void load_clog(const YAML::Node& value, const std::string& path, Fault& fault) const;
  void load_link(const YAML::Node& value, const std::string& path, Fault& fault) const;
  void load_client_partition(const YAML::Node& value, const std::string& path,
                             Fault& fault) const;
  void load_burst(const YAML::Node& value, const std::string& path, Fault& fault) const;
  Duration fault_length(const YAML::Node& value, const std::string& path) const;
  void check_fault_sequence(const std::vector<Fault>& faults,
                            const std::vector<YAML::Node>& items) const;
  void load_checks(const YAML::Node& node, Scenario& scenario) const;

  std::string file_;
  std::uint32_t nodes_ = 0;  // set once cluster.nodes is read; names n1..n<nodes_>
  std::uint32_t clients_ = 0;  // set once workload.clients is read; names c0..c<clients_-1>
};

// Prefixes the key paths of the node config loader's messages with "cluster.config.".
std::string within_cluster_config(const std::string& message, const std::string& file);
// "path.key", or "key" at the root.
std::string join_path(const std::string& path, const std::string& key);
// "a, b, c".
std::string list_of(const std::set<std::string>& names);

}  // namespace vigil::sim::scenario_loader
