// The scenario loader's checks section: which checks a scenario runs and their options
// (the gates of failure_detection, the max of stale_reads, ...).

#include <cstdint>
#include <set>
#include <string>
#include <utility>

#include "sim/scenario_loader.h"

namespace vigil::sim::scenario_loader {

using core::Code;
using core::Result;

void Loader::load_checks(const YAML::Node& node, Scenario& scenario) const {
  expect_sequence(node, "checks");
  const std::set<std::string> known{"no_lost_writes", "stale_reads", "read_your_writes",
                                    "hints_drained", "availability", "failure_detection",
                                    "convergence", "no_resurrection", "tombstones_collected",
                                    "latency", "counter_sums"};
  // Checks of elements (a put's unique value) against counter mode's sums.
  const std::set<std::string> element_checks{"no_lost_writes", "stale_reads",
                                             "read_your_writes", "no_resurrection"};
  const bool counters = scenario.workload.mode == WorkloadMode::counter;
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
      if (check.name == "stale_reads" || check.name == "read_your_writes") {
        check_keys(options, options_path, {"max"});
        if (options["max"].IsDefined()) {
          check.max = whole(options["max"], options_path + ".max", 0, UINT64_MAX);
        }
      } else if (check.name == "no_resurrection") {
        check_keys(options, options_path, {"reads"});
        if (options["reads"].IsDefined()) {
          const std::string reads = scalar(options["reads"], options_path + ".reads");
          if (reads != "all" && reads != "final") {
            refuse(options["reads"], options_path + ".reads", "expected all or final");
          }
          check.final_reads_only = reads == "final";
        }
      } else if (check.name == "tombstones_collected") {
        check_keys(options, options_path, {"max_held"});
        if (options["max_held"].IsDefined()) {
          check.max = whole(options["max_held"], options_path + ".max_held", 0, UINT64_MAX);
        }
      } else if (check.name == "availability") {
        check_keys(options, options_path, {"min"});
        if (options["min"].IsDefined()) {
          check.min = probability(options["min"], options_path + ".min");
        }
      } else if (check.name == "failure_detection" || check.name == "latency") {
        const std::set<std::string> gated =
            check.name == "latency"
                ? std::set<std::string>{"p99_s", "mean_s", "error_fraction"}
                : std::set<std::string>{"false_suspicions", "false_failures",
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
      } else if (check.name == "convergence") {
        check_keys(options, options_path, {"max_converge_time"});
        if (options["max_converge_time"].IsDefined()) {
          const Duration bound =
              duration(options["max_converge_time"], options_path + ".max_converge_time");
          check.max_of["converge_time_s"] = static_cast<double>(core::to_micros(bound)) / 1e6;
        }
      } else if (known.contains(check.name)) {
        refuse(options, options_path, "this check takes no options");
      }
    } else {
      check.name = scalar(item, path);
    }
    if (!known.contains(check.name)) {
      refuse(name_node, path,
             "unknown check '" + check.name + "' (expected one of: " + list_of(known) + ")");
    }
    if (!seen.insert(check.name).second) refuse(name_node, path, check.name + " listed twice");
    if (counters && element_checks.contains(check.name)) {
      refuse(name_node, path,
             check.name + " reads put elements; workload.mode counter has none (use counter_sums)");
    }
    if (!counters && check.name == "counter_sums") {
      refuse(name_node, path, "counter_sums needs workload.mode: counter");
    }
    scenario.checks.push_back(std::move(check));
  }
}

}  // namespace vigil::sim::scenario_loader
