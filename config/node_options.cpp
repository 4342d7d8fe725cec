// Config -> NodeOptions. Kept apart from config.cpp so that the configuration does not
// depend on the node, and apart from node.cpp so that the node does not depend on YAML-era
// names.

#include "config/node_options.h"

#include <algorithm>
#include <cstdint>

namespace vigil::config {

using core::Consistency;
using core::MembershipOptions;
using core::NodeOptions;
using core::QuorumCounts;

namespace {

QuorumCounts counts_for(const Config& config, Consistency level) {
  const QuorumSizes sizes = quorum_sizes(config, level);
  return QuorumCounts{sizes.r, sizes.w};
}

MembershipOptions membership_options(const Config& config) {
  MembershipOptions options;
  options.gossip_interval = config.gossip_protocol.interval;
  options.fanout = config.gossip_protocol.fanout;
  options.indirect_probes = config.gossip_protocol.indirect_probes;
  options.probe_timeout = config.gossip_protocol.probe_timeout;
  options.phi_threshold = config.phi_accrual.threshold;
  options.phi_window_size = config.phi_accrual.window_size;
  options.phi_min_samples = config.phi_accrual.min_samples;
  options.phi_scale_factor = config.phi_accrual.scale_factor;
  options.phi_bootstrap_time = config.phi_accrual.bootstrap_time;
  options.phi_min_std_deviation = config.phi_accrual.min_std_deviation;
  options.suspicious_threshold = config.failure_detector.suspicious_threshold;
  options.failure_threshold = config.failure_detector.failure_threshold;
  options.recovery_timeout = config.failure_detector.recovery_timeout;
  options.max_failures = config.failure_detector.max_failures;
  return options;
}

core::SyncWork sync_work(Config::SyncWork work) {
  switch (work) {
    case Config::SyncWork::missing_replicas:
      return core::SyncWork::missing_replicas;
    case Config::SyncWork::inconsistent_replicas:
      return core::SyncWork::inconsistent_replicas;
    case Config::SyncWork::background_sync:
      break;
  }
  return core::SyncWork::background_sync;
}

// merkle_tree, sync_process, background_repair and incremental_repair. The keys that
// cannot matter in this design are listed by config_warnings() (config_warnings.cpp).
core::AntiEntropyOptions anti_entropy_options(const Config& config) {
  core::AntiEntropyOptions options;
  options.depth = config.merkle_tree.depth;
  options.bucket_size = config.merkle_tree.bucket_size;
  options.update_interval = config.merkle_tree.update_interval;
  const Config::SyncProcess& sync = config.sync_process;
  options.exchanges_enabled = sync.enabled;
  options.scan_interval = sync.scan_interval;
  options.batch_size = sync.batch_size;
  options.concurrent_transfers = sync.concurrent_transfers;
  options.bandwidth_bytes_per_second = sync.bandwidth_limit_bytes_per_second;
  options.priority = {sync_work(sync.priority_levels.high), sync_work(sync.priority_levels.medium),
                      sync_work(sync.priority_levels.low)};
  const Config::BackgroundRepair& background = config.background_repair;
  options.background_interval = background.schedule.interval;
  options.background_offset = background.schedule.offset;
  options.background_max_duration = background.schedule.max_duration;
  options.segments_per_run = background.scope.segments_per_run;
  options.keys_per_segment = background.scope.keys_per_segment;
  options.background_memory_bytes_max = background.resources.max_memory_bytes;
  switch (background.resources.io_priority) {
    case Config::PriorityLevel::low:
      options.background_yield_requests = 16;
      break;
    case Config::PriorityLevel::medium:
      options.background_yield_requests = 64;
      break;
    case Config::PriorityLevel::high:
      options.background_yield_requests = SIZE_MAX;
      break;
  }
  const Config::IncrementalRepair& incremental = config.incremental_repair;
  options.validation_probability = incremental.validation.probability;
  options.persist_trees = incremental.storage.persist_merkle_trees;
  options.compress_trees = incremental.storage.compression == Config::TreeCompression::snappy;
  return options;
}

// routing and load_balancing (docs/configuration.md says what each key changes).
core::RoutingOptions routing_options(const Config& config) {
  core::RoutingOptions options;
  options.strategy = config.routing.strategy == Config::RoutingStrategy::round_robin
                         ? core::RouteStrategy::round_robin
                         : core::RouteStrategy::token_aware;
  options.fallback = config.routing.fallback == Config::RoutingFallback::none
                         ? core::RouteFallback::none
                         : core::RouteFallback::round_robin;
  const Config::Routing::RetryPolicy& retry = config.routing.retry_policy;
  options.retry.max_retries = retry.max_retries;
  options.retry.initial = retry.backoff.initial;
  options.retry.max = retry.backoff.max;
  options.retry.factor = retry.backoff.factor;
  const Config::LoadBalancing& balancing = config.load_balancing;
  options.health_check_interval = balancing.health_check_interval;
  options.breaker.threshold = balancing.circuit_breaker.threshold;
  options.breaker.timeout = balancing.circuit_breaker.timeout;
  options.breaker.half_open_requests = balancing.circuit_breaker.half_open_requests;
  return options;
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
  options.default_level = counts_for(config, Consistency::default_level);
  options.request_timeout = config.timing.request_timeout;
  options.replication_timeout = config.timing.replication_timeout;
  options.retry_interval = config.timing.retry_interval;
  options.max_retries = config.timing.max_retries;
  options.conflict_mode = config.conflict_resolution;
  options.set_context = config.client.set_context;
  options.sibling_limits = sibling_limits(config);
  options.read_repair_enabled = config.read_repair.enabled;
  options.read_repair_probability = config.read_repair.probability;
  options.read_repair.max_tasks = config.read_repair.max_repair_threads;
  options.read_repair.max_in_flight = config.read_repair.throttling.max_concurrent_repairs;
  options.read_repair.bandwidth_bytes_per_second =
      config.read_repair.throttling.bandwidth_limit_bytes_per_second;
  // PriorityLevel is ordered low < medium < high: its value is the rank.
  options.read_repair.missing_rank =
      static_cast<std::uint8_t>(config.read_repair.repair_priority.missing_replicas);
  options.read_repair.stale_rank =
      static_cast<std::uint8_t>(config.read_repair.repair_priority.stale_replicas);
  // The config may lower the compiled-in caps, never raise them (core/types.h).
  options.key_size_bytes_max = static_cast<std::size_t>(
      std::min<std::uint64_t>(config.limits.key_bytes_max, core::key_size_bytes_max));
  options.value_size_bytes_max = static_cast<std::size_t>(
      std::min<std::uint64_t>(config.limits.value_bytes_max, core::value_size_bytes_max));
  options.requests_in_flight_max = config.limits.requests_in_flight_max;
  options.hints.enabled = config.hint_storage.enabled;
  options.hints.count_toward_write_quorum = config.hint_storage.count_toward_write_quorum;
  options.hints.check_interval = config.hint_storage.maintenance.check_interval;
  options.hints.retry_interval = config.hint_storage.maintenance.retry_interval;
  options.hints.max_attempts = config.hint_storage.maintenance.max_attempts;
  options.hints.expiry = config.hint_storage.maintenance.expiry;
  options.hints.replay_in_flight_max = config.hint_storage.replay_in_flight_max;
  options.tombstone_gc.mode = config.tombstone_gc.mode;
  options.tombstone_gc.grace = config.tombstone_gc.grace;
  options.tombstone_gc.scan_interval = config.tombstone_gc.scan_interval;
  options.tombstone_gc.keys_per_scan = config.tombstone_gc.keys_per_scan;
  options.hints.per_target_max = config.limits.hints_per_target_max;
  options.address = format_address(config.node.listen);
  for (const SeedNode& seed : config.node.seeds) {
    options.seeds.emplace_back(seed.id, format_address(seed.address));
  }
  options.membership = membership_options(config);
  options.anti_entropy = anti_entropy_options(config);
  options.routing = routing_options(config);
  return options;
}

}  // namespace vigil::config
