// Config -> NodeOptions. Kept apart from config.cpp so that the configuration does not
// depend on the node, and apart from node.cpp so that the node does not depend on YAML-era
// names.

#include "core/node_options.h"

#include <algorithm>

namespace vigil::core {

namespace {

QuorumCounts counts_for(const Config& config, Consistency level) {
  const QuorumSizes sizes = quorum_sizes(config, level);
  return QuorumCounts{sizes.r, sizes.w};
}

}  // namespace

NodeOptions node_options_from_config(const Config& config) {
  VIGIL_ASSERT(validate(config).ok(), "node_options_from_config() on an invalid config");
  NodeOptions options;
  options.id = config.node.id;
  options.replicas = config.quorum_settings.n;
  options.one = counts_for(config, Consistency::one);
  options.quorum = counts_for(config, Consistency::quorum);
  options.all = counts_for(config, Consistency::all);
  options.request_timeout = config.timing.request_timeout;
  options.replication_timeout = config.timing.replication_timeout;
  options.retry_interval = config.timing.retry_interval;
  options.max_retries = config.timing.max_retries;
  options.conflict_mode = config.conflict_resolution;
  options.sibling_limits = sibling_limits(config);
  options.read_repair_enabled = config.read_repair.enabled;
  options.read_repair_probability = config.read_repair.probability;
  // The config may lower the compiled-in caps, never raise them (core/types.h).
  options.key_size_bytes_max = static_cast<std::size_t>(
      std::min<std::uint64_t>(config.limits.key_bytes_max, key_size_bytes_max));
  options.value_size_bytes_max = static_cast<std::size_t>(
      std::min<std::uint64_t>(config.limits.value_bytes_max, value_size_bytes_max));
  options.requests_in_flight_max = config.limits.requests_in_flight_max;
  return options;
}

}  // namespace vigil::core
