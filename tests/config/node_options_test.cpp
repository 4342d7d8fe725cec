// core::node_options_from_config: every setting the node takes comes from the config.

#include "config/node_options.h"

#include <gtest/gtest.h>

namespace vigil::core {
namespace {

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
  EXPECT_TRUE(options.read_repair_enabled);
  EXPECT_DOUBLE_EQ(options.read_repair_probability, 0.1);
  EXPECT_EQ(options.sibling_limits.siblings_max, 100u);
  EXPECT_EQ(options.requests_in_flight_max, 10000u);
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
  EXPECT_EQ(options.all.write, 5u);
  EXPECT_EQ(options.request_timeout, std::chrono::seconds(9));
  EXPECT_EQ(options.replication_timeout, std::chrono::seconds(3));
  EXPECT_EQ(options.retry_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(options.max_retries, 5u);
  EXPECT_EQ(options.conflict_mode, ConflictMode::timestamp);
  EXPECT_EQ(options.sibling_limits.siblings_max, 7u);
  EXPECT_EQ(options.sibling_limits.pruning.entries_small, 4u);
  EXPECT_FALSE(options.read_repair_enabled);
  EXPECT_DOUBLE_EQ(options.read_repair_probability, 0.5);
  EXPECT_EQ(options.key_size_bytes_max, 100u);
  EXPECT_EQ(options.value_size_bytes_max, 2000u);
  EXPECT_EQ(options.requests_in_flight_max, 12u);
}

}  // namespace
}  // namespace vigil::core
