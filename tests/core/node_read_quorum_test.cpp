// core::Node reads: read_repair.probability decides whether a read asks all N replicas or
// only the ones R needs; a failed or silent replica makes it ask the others; an answered
// read waiting only for read repair does not hold a requests_in_flight_max slot.

#include <gtest/gtest.h>

#include "core/node/node.h"
#include "tests/core/node_cluster.h"

namespace vigil::core {
namespace {

using testing::TestCluster;

TEST(NodeReadQuorum, AtProbabilityZeroAReadAsksOnlyWhatRNeeds) {
  NodeOptions options;
  options.read_repair_probability = 0.0;
  TestCluster cluster(3, options);
  const auto list = cluster.replicas_of("k");
  ASSERT_TRUE(cluster.put(list[0], "k", "v").status.ok());
  const std::uint64_t sent_before = cluster.counter(list[0], "replica_reads_sent");
  const ClientReply got = cluster.get(list[0], "k");
  ASSERT_TRUE(got.status.ok());
  EXPECT_EQ(cluster.counter(list[0], "replica_reads_sent") - sent_before, 1u) << "R = 2: self + 1";
  EXPECT_EQ(cluster.counter(list[0], "reads_quorum_only"), 1u);
  EXPECT_EQ(cluster.counter(list[0], "reads_all_replicas"), 0u);
}

TEST(NodeReadQuorum, AtProbabilityOneAReadAsksAllReplicas) {
  NodeOptions options;
  options.read_repair_probability = 1.0;
  TestCluster cluster(3, options);
  const auto list = cluster.replicas_of("k");
  ASSERT_TRUE(cluster.put(list[0], "k", "v").status.ok());
  ASSERT_TRUE(cluster.get(list[0], "k").status.ok());
  EXPECT_EQ(cluster.counter(list[0], "reads_all_replicas"), 1u);
  EXPECT_EQ(cluster.counter(list[0], "replica_reads_sent"), 2u);
}

TEST(NodeReadQuorum, ASilentReplicaMakesTheReadAskTheOthers) {
  NodeOptions options;
  options.read_repair_probability = 0.0;
  TestCluster cluster(3, options);
  const auto list = cluster.replicas_of("k");
  ASSERT_TRUE(cluster.put(list[0], "k", "v").status.ok());
  cluster.advance(std::chrono::seconds(6));
  cluster.down.insert(list[1]);  // the first one asked; membership still thinks it is up
  const ClientReply got = cluster.get(list[0], "k");
  ASSERT_TRUE(got.status.ok()) << got.status.to_string();
  EXPECT_EQ(got.values, std::vector<Value>{"v"});
  EXPECT_GE(cluster.counter(list[0], "read_replicas_added"), 1u);
}

TEST(NodeReadQuorum, AnAnsweredReadWaitingForRepairFreesItsSlot) {
  NodeOptions options;
  options.read_repair_probability = 1.0;
  options.requests_in_flight_max = 1;
  TestCluster cluster(3, options);
  const auto list = cluster.replicas_of("k");
  ASSERT_TRUE(cluster.put(list[0], "k", "v").status.ok());
  cluster.advance(std::chrono::seconds(6));
  cluster.down.insert(list[2]);  // never answers: the first read stays for repair
  ASSERT_TRUE(cluster.get(list[0], "k").status.ok());
  const ClientReply second = cluster.get(list[0], "k");
  EXPECT_TRUE(second.status.ok()) << second.status.to_string();
  EXPECT_EQ(cluster.counter(list[0], "refused_in_flight_max"), 0u);
  // The repairing table is bounded too: the second answered read could not wait.
  EXPECT_EQ(cluster.counter(list[0], "read_repair_waits_dropped"), 1u);
}

}  // namespace
}  // namespace vigil::core

namespace vigil::core {
namespace {

// quorum_settings.R/W reach the node as the counts of Consistency::default_level.
TEST(NodeReadQuorum, TheDefaultLevelUsesItsOwnCounts) {
  NodeOptions options;
  options.read_repair_probability = 0.0;
  options.default_level = {1, 3};
  testing::TestCluster cluster(3, options);
  const auto list = cluster.replicas_of("k");
  cluster.down.insert(list[2]);
  const ClientReply put = cluster.put(list[0], "k", "v", std::nullopt, Consistency::default_level);
  EXPECT_EQ(put.status.code(), Code::unavailable) << "W = 3 with a replica down";
  EXPECT_EQ(put.replicas_needed, 3u);
  const std::uint64_t sent = cluster.counter(list[0], "replica_reads_sent");
  const ClientReply got = cluster.get(list[0], "k", Consistency::default_level);
  EXPECT_TRUE(got.status.ok()) << got.status.to_string();
  EXPECT_EQ(got.replicas_needed, 1u);
  EXPECT_EQ(cluster.counter(list[0], "replica_reads_sent"), sent) << "R = 1: the local answer";
}

}  // namespace
}  // namespace vigil::core
