// Deletes (docs/deletes.md). A delete concurrent with a put is a sibling that a read shows
// and a write with the merged context resolves. Tombstone collection (core/tombstones/): a
// tombstone every replica holds goes from every
// store after the grace; a replica that missed the delete holds collection up until
// anti-entropy gave it the tombstone, so the value cannot come back; and `timeout` mode,
// Cassandra's rule on one replica's word, lets it come back (the zombie it is shipped to
// show).

#include <gtest/gtest.h>

#include "core/node/node.h"
#include "tests/core/node_cluster.h"

namespace vigil::core {
namespace {

using testing::TestCluster;

NodeOptions collecting(TombstoneGcMode mode) {
  NodeOptions options;
  options.membership.enabled = false;  // peer_is_up is always true: silence is what counts
  options.hints.enabled = false;       // a replica that is down misses the delete outright
  options.read_repair_enabled = false;
  options.hints.expiry = std::chrono::seconds(1);
  options.tombstone_gc.mode = mode;
  options.tombstone_gc.grace = std::chrono::seconds(2);
  options.tombstone_gc.scan_interval = std::chrono::milliseconds(500);
  return options;
}

// Puts `value` at `all`, then deletes it with the context a read gave.
void put_then_delete(TestCluster& cluster, const Key& key, Consistency delete_level) {
  const NodeId first = cluster.replicas_of(key).front();
  ASSERT_TRUE(cluster.put(first, key, "v", std::nullopt, Consistency::all).status.ok());
  const ClientReply read = cluster.get(first, key);
  ASSERT_TRUE(read.status.ok()) << read.status.to_string();
  ASSERT_TRUE(cluster.del(first, key, read.context, delete_level).status.ok());
}

std::size_t replicas_holding(TestCluster& cluster, const Key& key) {
  std::size_t holding = 0;
  for (const NodeId& replica : cluster.replicas_of(key)) {
    if (cluster.stored(replica, key)) ++holding;
  }
  return holding;
}

TEST(TombstoneCollector, ATombstoneEveryReplicaHoldsGoesFromEveryStoreAfterTheGrace) {
  TestCluster cluster(3, collecting(TombstoneGcMode::replicas));
  const Key key = "deleted";
  put_then_delete(cluster, key, Consistency::all);
  ASSERT_EQ(replicas_holding(cluster, key), 3u);

  cluster.advance(std::chrono::seconds(1));
  EXPECT_EQ(replicas_holding(cluster, key), 3u) << "collected inside the grace";
  EXPECT_EQ(cluster.counter_sum("tombstones_collected"), 0u);

  cluster.advance(std::chrono::seconds(5));
  EXPECT_EQ(replicas_holding(cluster, key), 0u);
  EXPECT_EQ(cluster.counter_sum("tombstones_collected"), 3u);
  EXPECT_EQ(cluster.counter(cluster.replicas_of(key).front(), "tombstone_rounds_started"), 1u);
  for (const NodeId& id : cluster.ids()) EXPECT_EQ(cluster.node(id).tombstones_held(), 0u) << id;
  EXPECT_EQ(cluster.get(cluster.ids().front(), key).status.code(), Code::not_found);
}

TEST(TombstoneCollector, AReplicaThatMissedTheDeleteHoldsCollectionUpUntilRepaired) {
  TestCluster cluster(3, collecting(TombstoneGcMode::replicas));
  const Key key = "deleted";
  const auto list = cluster.replicas_of(key);
  ASSERT_TRUE(cluster.put(list[0], key, "v", std::nullopt, Consistency::all).status.ok());
  const ClientReply read = cluster.get(list[0], key);
  cluster.down = {list[2]};
  ASSERT_TRUE(cluster.del(list[0], key, read.context, Consistency::quorum).status.ok());

  // Down past the grace: the collector's rounds get no answer from it.
  cluster.advance(std::chrono::seconds(10));
  EXPECT_EQ(replicas_holding(cluster, key), 3u);
  EXPECT_GE(cluster.counter(list[0], "tombstones_refused_no_answer"), 1u);

  // Back, still holding the value: it says so, and the tombstone stays.
  cluster.down.clear();
  cluster.advance(std::chrono::seconds(3));
  EXPECT_EQ(replicas_holding(cluster, key), 3u);
  EXPECT_GE(cluster.counter(list[0], "tombstones_refused_replica_differs"), 1u);
  EXPECT_FALSE(cluster.stored(list[2], key)->is_deleted()) << "it still holds the value";

  // Anti-entropy gives it the tombstone; a later round collects the key everywhere.
  cluster.act(list[0], [](Node& node, const Now& now) { node.request_anti_entropy(now); });
  cluster.advance(std::chrono::seconds(10));
  EXPECT_EQ(replicas_holding(cluster, key), 0u);
  EXPECT_EQ(cluster.get(list[1], key, Consistency::all).status.code(), Code::not_found);
}

TEST(TombstoneCollector, ALiveWriteAfterTheDeleteIsNeverCollected) {
  TestCluster cluster(3, collecting(TombstoneGcMode::replicas));
  const Key key = "rewritten";
  put_then_delete(cluster, key, Consistency::all);
  const ClientReply read = cluster.get(cluster.ids().front(), key);
  ASSERT_TRUE(cluster.put(cluster.ids().front(), key, "again", read.context, Consistency::all)
                  .status.ok());
  cluster.advance(std::chrono::seconds(10));
  EXPECT_EQ(replicas_holding(cluster, key), 3u);
  EXPECT_EQ(cluster.counter_sum("tombstones_collected"), 0u);
  EXPECT_EQ(cluster.get(cluster.ids().front(), key).values, std::vector<Value>{"again"});
}

TEST(Deletes, ADeleteConcurrentWithAPutIsASiblingAndAMergedWriteResolvesIt) {
  TestCluster cluster(3, collecting(TombstoneGcMode::disabled));
  const Key key = "raced";
  const NodeId at = cluster.ids().front();
  ASSERT_TRUE(cluster.put(at, key, "v1", std::nullopt, Consistency::all).status.ok());
  const VectorClock stale = cluster.get(at, key).context;
  // Both from the same read: neither saw the other.
  ASSERT_TRUE(cluster.put(at, key, "v2", stale, Consistency::all).status.ok());
  ASSERT_TRUE(cluster.del(at, key, stale, Consistency::all).status.ok());

  const ClientReply read = cluster.get(at, key);
  ASSERT_EQ(read.status.code(), Code::ok) << "a live sibling wins a plain read";
  EXPECT_EQ(read.values, std::vector<Value>{"v2"});
  EXPECT_EQ(read.deleted_siblings, 1u);

  ASSERT_TRUE(cluster.put(at, key, "v3", read.context, Consistency::all).status.ok());
  const ClientReply resolved = cluster.get(at, key);
  EXPECT_EQ(resolved.values, std::vector<Value>{"v3"});
  EXPECT_EQ(resolved.deleted_siblings, 0u);

  // And a delete with the merged context deletes both siblings.
  ASSERT_TRUE(cluster.put(at, key, "v4", read.context, Consistency::all).status.ok());
  const ClientReply two = cluster.get(at, key);
  ASSERT_EQ(two.values.size(), 2u);
  ASSERT_TRUE(cluster.del(at, key, two.context, Consistency::all).status.ok());
  EXPECT_EQ(cluster.get(at, key).status.code(), Code::not_found);
}

// Cassandra's gc_grace_seconds on one replica's word: the two replicas that saw the delete
// drop it after the grace, and the one that missed it gives the value back to them.
TEST(TombstoneCollector, TimeoutModeOnOneReplicasWordBringsTheValueBack) {
  TestCluster cluster(3, collecting(TombstoneGcMode::timeout));
  const Key key = "zombie";
  const auto list = cluster.replicas_of(key);
  ASSERT_TRUE(cluster.put(list[0], key, "v", std::nullopt, Consistency::all).status.ok());
  const ClientReply read = cluster.get(list[0], key);
  cluster.down = {list[2]};
  ASSERT_TRUE(cluster.del(list[0], key, read.context, Consistency::quorum).status.ok());
  cluster.advance(std::chrono::seconds(10));
  EXPECT_FALSE(cluster.stored(list[0], key).has_value());
  EXPECT_FALSE(cluster.stored(list[1], key).has_value());

  cluster.down.clear();
  cluster.act(list[0], [](Node& node, const Now& now) { node.request_anti_entropy(now); });
  cluster.advance(std::chrono::seconds(1));
  EXPECT_EQ(cluster.get(list[0], key, Consistency::all).values, std::vector<Value>{"v"})
      << "the deleted value is back";
}

}  // namespace
}  // namespace vigil::core
