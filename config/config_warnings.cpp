// Keys that are parsed and bounded but cannot change behaviour in this design (rule 5: a
// key that changes nothing is said to be so, here and in docs/configuration.md), and
// settings that are allowed but unsafe. Each is reported only when set away from its
// default, so a default config warns about nothing.

#include <string>
#include <vector>

#include "config/config.h"

namespace vigil::config {

std::vector<std::string> config_warnings(const Config& config) {
  const Config defaults;
  std::vector<std::string> warnings;
  const auto warn_if = [&warnings](bool changed, const std::string& key, const std::string& why) {
    if (changed) warnings.push_back(key + ": " + why);
  };
  warn_if(config.background_repair.resources.max_cpu != defaults.background_repair.resources.max_cpu,
          "background_repair.resources.max_cpu",
          "cannot matter: a node's protocol runs on one thread; the pass is bounded by "
          "segments_per_run, max_duration and io_priority instead");
  const auto& optimization = config.incremental_repair.optimization;
  const auto& default_optimization = defaults.incremental_repair.optimization;
  warn_if(optimization.bloom_filter_size_bytes != default_optimization.bloom_filter_size_bytes ||
              optimization.false_positive_rate != default_optimization.false_positive_rate,
          "incremental_repair.optimization",
          "cannot matter: tictac trees already skip every unchanged range in O(1) per tree "
          "node, so a bloom filter of changed keys would save nothing (docs/anti-entropy.md)");
  warn_if(config.tombstone_gc.mode == core::TombstoneGcMode::timeout, "tombstone_gc.mode",
          "timeout drops a tombstone on this replica's word after the grace: a replica that "
          "missed the delete brings the deleted value back (docs/deletes.md); `replicas` is "
          "safe");
  return warnings;
}

}  // namespace vigil::config
