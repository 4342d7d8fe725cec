// config::node_options_from_config: every setting the node takes comes from the config.

#include "config/node_options.h"

#include <gtest/gtest.h>

namespace vigil::config {
namespace {

using core::ConflictMode;
using core::MembershipOptions;
using core::NodeOptions;

TEST(NodeOptionsFromConfig, DefaultsAreTheSeeds) {
  Config config;
  const NodeOptions options = node_options_from_config(config);
  EXPECT_EQ(options.id, "n1");
  EXPECT_EQ(options.replicas, 3u);
  EXPECT_EQ(options.one.read, 1u);
  EXPECT_EQ(options.one.write, 1u);
  EXPECT_EQ(options.quorum.read, 2u);
  EXPECT_EQ(options.quorum.write, 2u);
  EXPECT_EQ(options.all.read, 3u);
  EXPECT_EQ(options.all.write, 3u);
  EXPECT_EQ(options.request_timeout, std::chrono::seconds(5));
  EXPECT_EQ(options.replication_timeout, std::chrono::seconds(2));
  EXPECT_EQ(options.retry_interval, std::chrono::milliseconds(100));
  EXPECT_EQ(options.max_retries, 3u);
  EXPECT_EQ(options.conflict_mode, ConflictMode::siblings);
  EXPECT_EQ(options.set_context, core::SetContext::coordinator);
  EXPECT_TRUE(options.read_repair_enabled);
  EXPECT_DOUBLE_EQ(options.read_repair_probability, 0.1);
  EXPECT_EQ(options.sibling_limits.siblings_max, 100u);
  EXPECT_EQ(options.requests_in_flight_max, 10000u);
}

void expect_same_membership(const MembershipOptions& got, const MembershipOptions& defaults) {
  EXPECT_EQ(got.enabled, defaults.enabled);
  EXPECT_EQ(got.gossip_interval, defaults.gossip_interval);
  EXPECT_EQ(got.fanout, defaults.fanout);
  EXPECT_EQ(got.indirect_probes, defaults.indirect_probes);
  EXPECT_EQ(got.probe_timeout, defaults.probe_timeout);
  EXPECT_EQ(got.phi_threshold, defaults.phi_threshold);
  EXPECT_EQ(got.phi_window_size, defaults.phi_window_size);
  EXPECT_EQ(got.phi_min_samples, defaults.phi_min_samples);
  EXPECT_EQ(got.phi_scale_factor, defaults.phi_scale_factor);
  EXPECT_EQ(got.phi_bootstrap_time, defaults.phi_bootstrap_time);
  EXPECT_EQ(got.phi_min_std_deviation, defaults.phi_min_std_deviation);
  EXPECT_EQ(got.suspicious_threshold, defaults.suspicious_threshold);
  EXPECT_EQ(got.failure_threshold, defaults.failure_threshold);
  EXPECT_EQ(got.recovery_timeout, defaults.recovery_timeout);
  EXPECT_EQ(got.max_failures, defaults.max_failures);
}

void expect_same_hints(const NodeOptions::Hints& got, const NodeOptions::Hints& defaults) {
  EXPECT_EQ(got.enabled, defaults.enabled);
  EXPECT_EQ(got.count_toward_write_quorum, defaults.count_toward_write_quorum);
  EXPECT_EQ(got.check_interval, defaults.check_interval);
  EXPECT_EQ(got.retry_interval, defaults.retry_interval);
  EXPECT_EQ(got.max_attempts, defaults.max_attempts);
  EXPECT_EQ(got.expiry, defaults.expiry);
  EXPECT_EQ(got.replay_in_flight_max, defaults.replay_in_flight_max);
  EXPECT_EQ(got.per_target_max, defaults.per_target_max);
}

// Defaults are written once, in core's option structs: the default Config must map onto
// exactly them, so a default changed on one side only fails here. Not compared: id,
// address and seeds (who the node is, not a default).
TEST(NodeOptionsFromConfig, DefaultsAreCoresDefaults) {
  const NodeOptions got = node_options_from_config(Config{});
  const NodeOptions defaults;
  EXPECT_EQ(got.replicas, defaults.replicas);
  for (const auto& [level, want] :
       {std::pair{got.one, defaults.one}, std::pair{got.quorum, defaults.quorum},
        std::pair{got.all, defaults.all}}) {
    EXPECT_EQ(level.read, want.read);
    EXPECT_EQ(level.write, want.write);
  }
  EXPECT_EQ(got.request_timeout, defaults.request_timeout);
  EXPECT_EQ(got.replication_timeout, defaults.replication_timeout);
  EXPECT_EQ(got.retry_interval, defaults.retry_interval);
  EXPECT_EQ(got.max_retries, defaults.max_retries);
  EXPECT_EQ(got.conflict_mode, defaults.conflict_mode);
  EXPECT_EQ(got.sibling_limits.siblings_max, defaults.sibling_limits.siblings_max);
  EXPECT_EQ(got.sibling_limits.pruning.entries_small,
            defaults.sibling_limits.pruning.entries_small);
  EXPECT_EQ(got.sibling_limits.pruning.entries_big, defaults.sibling_limits.pruning.entries_big);
  EXPECT_EQ(got.sibling_limits.pruning.age_young, defaults.sibling_limits.pruning.age_young);
  EXPECT_EQ(got.sibling_limits.pruning.age_old, defaults.sibling_limits.pruning.age_old);
  EXPECT_EQ(got.read_repair_enabled, defaults.read_repair_enabled);
  EXPECT_EQ(got.read_repair_probability, defaults.read_repair_probability);
  // The key limit defaults to the compiled-in cap (core/types.h) on both sides.
  EXPECT_EQ(got.key_size_bytes_max, defaults.key_size_bytes_max);
  EXPECT_EQ(defaults.key_size_bytes_max, core::key_size_bytes_max);
  EXPECT_EQ(got.value_size_bytes_max, defaults.value_size_bytes_max);
  EXPECT_EQ(got.requests_in_flight_max, defaults.requests_in_flight_max);
  expect_same_hints(got.hints, defaults.hints);
  expect_same_membership(got.membership, defaults.membership);
  const core::RoutingOptions& routing = got.routing;
  EXPECT_EQ(routing.strategy, defaults.routing.strategy);
  EXPECT_EQ(routing.fallback, defaults.routing.fallback);
  EXPECT_EQ(routing.retry.max_retries, defaults.routing.retry.max_retries);
  EXPECT_EQ(routing.retry.initial, defaults.routing.retry.initial);
  EXPECT_EQ(routing.retry.max, defaults.routing.retry.max);
  EXPECT_EQ(routing.retry.factor, defaults.routing.retry.factor);
  EXPECT_EQ(routing.health_check_interval, defaults.routing.health_check_interval);
  EXPECT_EQ(routing.breaker.threshold, defaults.routing.breaker.threshold);
  EXPECT_EQ(routing.breaker.timeout, defaults.routing.breaker.timeout);
  EXPECT_EQ(routing.breaker.half_open_requests, defaults.routing.breaker.half_open_requests);
  EXPECT_TRUE(routing.breaker.enabled);
}

TEST(NodeOptionsFromConfig, MapsEveryRoutingAndLoadBalancingKey) {
  Config config;
  config.routing.strategy = Config::RoutingStrategy::round_robin;
  config.routing.fallback = Config::RoutingFallback::none;
  config.routing.retry_policy.max_retries = 7;
  config.routing.retry_policy.backoff.initial = std::chrono::milliseconds(20);
  config.routing.retry_policy.backoff.max = std::chrono::milliseconds(900);
  config.routing.retry_policy.backoff.factor = 3.0;
  config.load_balancing.health_check_interval = std::chrono::seconds(2);
  config.load_balancing.circuit_breaker.threshold = 9;
  config.load_balancing.circuit_breaker.timeout = std::chrono::seconds(12);
  config.load_balancing.circuit_breaker.half_open_requests = 4;
  ASSERT_TRUE(validate(config).ok()) << validate(config).to_string();
  const core::RoutingOptions routing = node_options_from_config(config).routing;
  EXPECT_EQ(routing.strategy, core::RouteStrategy::round_robin);
  EXPECT_EQ(routing.fallback, core::RouteFallback::none);
  EXPECT_EQ(routing.retry.max_retries, 7u);
  EXPECT_EQ(routing.retry.initial, std::chrono::milliseconds(20));
  EXPECT_EQ(routing.retry.max, std::chrono::milliseconds(900));
  EXPECT_EQ(routing.retry.factor, 3.0);
  EXPECT_EQ(routing.health_check_interval, std::chrono::seconds(2));
  EXPECT_EQ(routing.breaker.threshold, 9u);
  EXPECT_EQ(routing.breaker.timeout, std::chrono::seconds(12));
  EXPECT_EQ(routing.breaker.half_open_requests, 4u);
}

TEST(RingOptionsFromConfig, DefaultsAreCoresDefaults) {
  const core::RingOptions got = ring_options(Config{});
  EXPECT_EQ(got.vnodes, core::RingOptions{}.vnodes);
  EXPECT_EQ(got.token_spacing_min, core::RingOptions{}.token_spacing_min);
}

TEST(NodeOptionsFromConfig, FollowsEverySection) {
  Config config;
  config.node.id = "n7";
  config.quorum_settings.n = 5;
  config.quorum_settings.r = 3;
  config.quorum_settings.w = 3;
  config.consistency_levels.eventual = {QuorumSize::fixed(2), QuorumSize::fixed(1)};
  config.timing.request_timeout = std::chrono::seconds(9);
  config.timing.replication_timeout = std::chrono::seconds(3);
  config.timing.retry_interval = std::chrono::milliseconds(250);
  config.timing.max_retries = 5;
  config.conflict_resolution = ConflictMode::timestamp;
  config.client.set_context = core::SetContext::read;
  config.vector_clock.siblings_max = 7;
  config.vector_clock.prune_small = 4;
  config.read_repair.enabled = false;
  config.read_repair.probability = 0.5;
  config.limits.key_bytes_max = 100;
  config.limits.value_bytes_max = 2000;
  config.limits.requests_in_flight_max = 12;
  ASSERT_TRUE(validate(config).ok()) << validate(config).to_string();

  const NodeOptions options = node_options_from_config(config);
  EXPECT_EQ(options.id, "n7");
  EXPECT_EQ(options.replicas, 5u);
  EXPECT_EQ(options.one.read, 2u);
  EXPECT_EQ(options.one.write, 1u);
  EXPECT_EQ(options.quorum.read, 3u);  // N/2 + 1
  // quorum_settings R/W: the level a connection starts with, apart from `quorum`.
  EXPECT_EQ(options.default_level.read, 3u);
  EXPECT_EQ(options.default_level.write, 3u);
  EXPECT_EQ(options.all.write, 5u);
  EXPECT_EQ(options.request_timeout, std::chrono::seconds(9));
  EXPECT_EQ(options.replication_timeout, std::chrono::seconds(3));
  EXPECT_EQ(options.retry_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(options.max_retries, 5u);
  EXPECT_EQ(options.conflict_mode, ConflictMode::timestamp);
  EXPECT_EQ(options.set_context, core::SetContext::read);
  EXPECT_EQ(options.sibling_limits.siblings_max, 7u);
  EXPECT_EQ(options.sibling_limits.pruning.entries_small, 4u);
  EXPECT_FALSE(options.read_repair_enabled);
  EXPECT_DOUBLE_EQ(options.read_repair_probability, 0.5);
  EXPECT_EQ(options.key_size_bytes_max, 100u);
  EXPECT_EQ(options.value_size_bytes_max, 2000u);
  EXPECT_EQ(options.requests_in_flight_max, 12u);
}

}  // namespace
}  // namespace vigil::config
