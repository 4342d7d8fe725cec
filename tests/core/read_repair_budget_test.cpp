// Read repair under its budget (core/coordinator/read_repair.cpp; seed 4.1): repairs over
// max_concurrent_repairs or the bandwidth bucket are dropped and counted, a slot comes
// back with the acknowledgement or after replication_timeout, the missing replica goes
// before the stale one (or after, when repair_priority says so), the bucket refills with
// simulated time, local repairs are free, and max_repair_threads bounds the reads kept
// repairing.

#include <gtest/gtest.h>

#include "core/wire/codec.h"
#include "tests/core/node_cluster.h"

namespace vigil::core {
namespace {

using testing::TestCluster;

NodeOptions repair_options() {
  NodeOptions options;
  options.read_repair_probability = 1.0;  // every read asks all N
  options.hints.enabled = false;          // a down replica just misses the write
  return options;
}

bool holds(TestCluster& cluster, const NodeId& id, const Key& key, const Value& value) {
  auto state = cluster.stored(id, key);
  if (!state) return false;
  for (const Version& version : state->versions()) {
    if (version.value == value) return true;
  }
  return false;
}

// list[0] holds "v2", list[1] nothing (missing), list[2] "v1" (stale).
std::vector<NodeId> missing_and_stale(TestCluster& cluster, const Key& key) {
  const auto list = cluster.replicas_of(key);
  cluster.down = {list[1]};
  EXPECT_TRUE(cluster.put(list[0], key, "v1", std::nullopt, Consistency::one).status.ok());
  cluster.advance(std::chrono::seconds(6));  // the write's retries end
  cluster.down = {list[1], list[2]};
  EXPECT_TRUE(cluster.put(list[0], key, "v2", std::nullopt, Consistency::one).status.ok());
  cluster.advance(std::chrono::seconds(6));
  cluster.down.clear();
  EXPECT_FALSE(cluster.stored(list[1], key).has_value());
  EXPECT_TRUE(holds(cluster, list[2], key, "v1"));
  return list;
}

TEST(ReadRepairBudget, RepairsOverTheConcurrencyBudgetAreDroppedAndCounted) {
  NodeOptions options = repair_options();
  options.read_repair.max_in_flight = 1;
  TestCluster cluster(3, options);
  const Key key = "k";
  const auto list = missing_and_stale(cluster, key);

  // R = N: both stale answers are in when the read is answered, so one read ranks both.
  ASSERT_TRUE(cluster.get(list[0], key, Consistency::all).status.ok());
  cluster.settle();
  EXPECT_EQ(cluster.counter(list[0], "read_repairs_sent"), 1u);
  EXPECT_EQ(cluster.counter(list[0], "read_repairs_dropped_throttle"), 1u);
  EXPECT_EQ(cluster.counter(list[0], "read_repairs_acknowledged"), 1u);
  EXPECT_TRUE(holds(cluster, list[1], key, "v2")) << "missing (high) is repaired first";
  EXPECT_FALSE(holds(cluster, list[2], key, "v2")) << "stale (medium) was dropped";

  // The acknowledgement gave the slot back: the next read repairs the other one.
  ASSERT_TRUE(cluster.get(list[0], key, Consistency::all).status.ok());
  cluster.settle();
  EXPECT_EQ(cluster.counter(list[0], "read_repairs_sent"), 2u);
  EXPECT_EQ(cluster.counter(list[0], "read_repairs_dropped_throttle"), 1u);
  EXPECT_TRUE(holds(cluster, list[2], key, "v2"));
}

TEST(ReadRepairBudget, RepairPriorityCanPutStaleReplicasFirst) {
  NodeOptions options = repair_options();
  options.read_repair.max_in_flight = 1;
  options.read_repair.missing_rank = 1;  // missing_replicas: medium
  options.read_repair.stale_rank = 2;    // stale_replicas: high
  TestCluster cluster(3, options);
  const Key key = "k";
  const auto list = missing_and_stale(cluster, key);

  ASSERT_TRUE(cluster.get(list[0], key, Consistency::all).status.ok());
  cluster.settle();
  EXPECT_EQ(cluster.counter(list[0], "read_repairs_dropped_throttle"), 1u);
  EXPECT_TRUE(holds(cluster, list[2], key, "v2")) << "stale (high) is repaired first";
  EXPECT_FALSE(cluster.stored(list[1], key).has_value()) << "missing (medium) was dropped";
}

TEST(ReadRepairBudget, AnUnacknowledgedRepairHoldsItsSlotUntilReplicationTimeout) {
  NodeOptions options = repair_options();
  options.read_repair.max_in_flight = 1;
  TestCluster cluster(3, options);
  const Key key = "k";
  const auto list = missing_and_stale(cluster, key);
  // The repair to list[1] is lost.
  cluster.drop_if = [](const Envelope& envelope) {
    return std::holds_alternative<ReplicaWrite>(envelope.message);
  };
  ASSERT_TRUE(cluster.get(list[0], key, Consistency::all).status.ok());
  cluster.settle();
  EXPECT_EQ(cluster.counter(list[0], "read_repairs_dropped_throttle"), 1u);
  cluster.drop_if = nullptr;
  // Before replication_timeout (2s) the slot is still taken; after it, it is free.
  cluster.advance(std::chrono::seconds(1));
  ASSERT_TRUE(cluster.get(list[0], key, Consistency::all).status.ok());
  cluster.settle();
  EXPECT_EQ(cluster.counter(list[0], "read_repairs_dropped_throttle"), 3u) << "both dropped";
  EXPECT_EQ(cluster.counter(list[0], "read_repairs_timed_out"), 0u);
  cluster.advance(std::chrono::seconds(2));
  ASSERT_TRUE(cluster.get(list[0], key, Consistency::all).status.ok());
  cluster.settle();
  EXPECT_EQ(cluster.counter(list[0], "read_repairs_timed_out"), 1u);
  EXPECT_EQ(cluster.counter(list[0], "read_repairs_sent"), 2u);
  EXPECT_EQ(cluster.counter(list[0], "read_repairs_dropped_throttle"), 4u) << "the stale one";
  EXPECT_TRUE(holds(cluster, list[1], key, "v2"));
}

TEST(ReadRepairBudget, TheBandwidthBucketDropsAndRefillsWithSimulatedTime) {
  NodeOptions options = repair_options();
  TestCluster cluster(3, options);
  const Key key = "k";
  const auto list = missing_and_stale(cluster, key);
  // What one repair of this key costs: the encoded merged state plus the key.
  const std::uint64_t bytes = encode_sibling_set(*cluster.stored(list[0], key)).size() + key.size();
  // A bucket of one and a half repairs, refilled at that rate per second. (The options
  // are the node's: restart with them.)
  options.read_repair.bandwidth_bytes_per_second = bytes + bytes / 2;
  TestCluster limited(3, options);
  const auto same = missing_and_stale(limited, key);
  ASSERT_EQ(same, list);

  ASSERT_TRUE(limited.get(list[0], key, Consistency::all).status.ok());
  limited.settle();
  EXPECT_EQ(limited.counter(list[0], "read_repairs_sent"), 1u);
  EXPECT_EQ(limited.counter(list[0], "read_repairs_dropped_bandwidth"), 1u);
  EXPECT_TRUE(holds(limited, list[1], key, "v2")) << "missing first";
  // 0.5 repair left; 100 ms adds 0.15: still short.
  limited.advance(std::chrono::milliseconds(100));
  ASSERT_TRUE(limited.get(list[0], key, Consistency::all).status.ok());
  limited.settle();
  EXPECT_EQ(limited.counter(list[0], "read_repairs_dropped_bandwidth"), 2u);
  EXPECT_FALSE(holds(limited, list[2], key, "v2"));
  // 400 ms more adds 0.6: enough.
  limited.advance(std::chrono::milliseconds(400));
  ASSERT_TRUE(limited.get(list[0], key, Consistency::all).status.ok());
  limited.settle();
  EXPECT_EQ(limited.counter(list[0], "read_repairs_sent"), 2u);
  EXPECT_EQ(limited.counter(list[0], "read_repairs_dropped_bandwidth"), 2u);
  EXPECT_TRUE(holds(limited, list[2], key, "v2"));
}

TEST(ReadRepairBudget, LocalRepairsAreFree) {
  NodeOptions options = repair_options();
  options.read_repair.max_in_flight = 1;
  options.read_repair.bandwidth_bytes_per_second = 1;  // no remote repair ever fits
  TestCluster cluster(3, options);
  const Key key = "k";
  const auto list = missing_and_stale(cluster, key);
  // Coordinated on list[2], whose own copy is stale: merged locally, whatever the budget.
  ASSERT_TRUE(cluster.get(list[2], key, Consistency::all).status.ok());
  cluster.settle();
  EXPECT_EQ(cluster.counter(list[2], "read_repairs_local"), 1u);
  EXPECT_TRUE(holds(cluster, list[2], key, "v2"));
  EXPECT_EQ(cluster.counter(list[2], "read_repairs_sent"), 0u);
  EXPECT_EQ(cluster.counter(list[2], "read_repairs_dropped_bandwidth"), 1u) << "list[1]";
}

// max_repair_threads: answered reads kept waiting for late answers (to repair them).
TEST(ReadRepairBudget, MaxRepairTasksBoundsTheReadsKeptRepairing) {
  NodeOptions options = repair_options();
  options.read_repair.max_tasks = 1;
  TestCluster cluster(3, options);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  ASSERT_TRUE(cluster.put(list[0], key, "v").status.ok());
  cluster.settle();
  cluster.down = {list[2]};  // silent: every read answered by R = 2 still owes its answer
  ASSERT_TRUE(cluster.get(list[0], key).status.ok());
  EXPECT_EQ(cluster.counter(list[0], "read_repair_waits_dropped"), 0u) << "kept repairing";
  ASSERT_TRUE(cluster.get(list[0], key).status.ok());
  EXPECT_EQ(cluster.counter(list[0], "read_repair_waits_dropped"), 1u) << "the bound is full";
}

}  // namespace
}  // namespace vigil::core
