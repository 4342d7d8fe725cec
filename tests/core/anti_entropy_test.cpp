// Anti-entropy in a small cluster (core/antientropy/): replicas converge by exchanges alone,
// the trees survive a restart without a rebuild, and a corrupt record is found by the
// background pass and replaced from a replica.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/core/node_cluster.h"

namespace vigil::core::testing {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Hints and read repair off: only anti-entropy can bring a replica up to date.
NodeOptions anti_entropy_only() {
  NodeOptions options;
  options.hints.enabled = false;
  options.read_repair_enabled = false;
  options.membership.enabled = false;
  options.anti_entropy.depth = 10;
  options.anti_entropy.bucket_size = 4;
  return options;
}

std::vector<Key> write_keys(TestCluster& cluster, int count) {
  std::vector<Key> keys;
  for (int i = 0; i < count; ++i) {
    const Key key = "key-" + std::to_string(i);
    EXPECT_EQ(cluster.put("n1", key, "value-" + std::to_string(i)).status.code(), Code::ok);
    keys.push_back(key);
  }
  return keys;
}

std::size_t divergent(TestCluster& cluster, const std::vector<Key>& keys) {
  std::size_t differing = 0;
  for (const Key& key : keys) {
    const auto reference = cluster.stored(cluster.replicas_of(key).front(), key);
    for (const NodeId& replica : cluster.replicas_of(key)) {
      if (cluster.stored(replica, key) != reference) {
        ++differing;
        break;
      }
    }
  }
  return differing;
}

TEST(AntiEntropy, AnExchangeRepairsWhatAReplicaMissed) {
  TestCluster cluster(3, anti_entropy_only());
  cluster.down.insert("n3");
  const std::vector<Key> keys = write_keys(cluster, 60);
  cluster.down.clear();
  ASSERT_GT(divergent(cluster, keys), 0u);

  cluster.act("n1", [](Node& node, const Now& now) { node.request_anti_entropy(now); });
  cluster.advance(seconds(5));

  EXPECT_EQ(divergent(cluster, keys), 0u);
  EXPECT_GE(cluster.counter("n1", "ae_keys_repaired_missing"), 1u);
  // Only the keys that differed were shipped (over-streaming 1.0 here).
  EXPECT_EQ(cluster.counter("n1", "ae_keys_sent"), cluster.counter("n1", "ae_keys_different"));
  // Both trees agree afterwards.
  const auto before = cluster.node("n1").anti_entropy_status();
  const auto after = cluster.node("n3").anti_entropy_status();
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].root_hash, after[0].root_hash);
}

TEST(AntiEntropy, ScheduledExchangesConvergeWithoutBeingAsked) {
  NodeOptions options = anti_entropy_only();
  options.anti_entropy.scan_interval = seconds(10);
  TestCluster cluster(3, options);
  cluster.down.insert("n2");
  const std::vector<Key> keys = write_keys(cluster, 30);
  cluster.down.clear();
  cluster.advance(seconds(25));
  EXPECT_EQ(divergent(cluster, keys), 0u);
  EXPECT_GE(cluster.counter_sum("ae_exchanges_repaired"), 1u);
}

TEST(AntiEntropy, WithExchangesOffNothingConverges) {
  NodeOptions options = anti_entropy_only();
  options.anti_entropy.scan_interval = seconds(10);
  options.anti_entropy.exchanges_enabled = false;
  TestCluster cluster(3, options);
  cluster.down.insert("n2");
  const std::vector<Key> keys = write_keys(cluster, 30);
  cluster.down.clear();
  cluster.advance(seconds(25));
  EXPECT_GT(divergent(cluster, keys), 0u);
  EXPECT_EQ(cluster.counter_sum("ae_exchanges_started"), 0u);
}

TEST(AntiEntropy, TreesSurviveARestartFromTheirJournal) {
  TestCluster cluster(3, anti_entropy_only());
  write_keys(cluster, 40);
  const std::uint64_t root = cluster.node("n2").anti_entropy_status()[0].root_hash;
  ASSERT_NE(root, 0u);
  cluster.restart("n2");
  EXPECT_EQ(cluster.node("n2").anti_entropy_status()[0].root_hash, root);
  // Loaded from the snapshot and journal: no rebuild this life.
  EXPECT_EQ(cluster.counter("n2", "ae_tree_rebuilds"), 0u);
}

TEST(AntiEntropy, WithoutPersistenceARestartRebuildsTheSameTrees) {
  NodeOptions options = anti_entropy_only();
  options.anti_entropy.persist_trees = false;
  TestCluster cluster(3, options);
  write_keys(cluster, 40);
  const std::uint64_t root = cluster.node("n2").anti_entropy_status()[0].root_hash;
  cluster.restart("n2");
  EXPECT_EQ(cluster.node("n2").anti_entropy_status()[0].root_hash, root);
  EXPECT_EQ(cluster.counter("n2", "ae_tree_rebuilds"), 1u);
}

TEST(AntiEntropy, TheBackgroundPassReplacesACorruptRecordFromAReplica) {
  NodeOptions options = anti_entropy_only();
  options.anti_entropy.background_offset = seconds(1);
  options.anti_entropy.background_interval = hours(1);
  options.anti_entropy.background_max_duration = seconds(60);
  options.anti_entropy.segments_per_run = 4;
  options.anti_entropy.keys_per_segment = 100;
  TestCluster cluster(3, options);
  const std::vector<Key> keys = write_keys(cluster, 20);
  const Key victim = keys[3];
  const NodeId holder = cluster.replicas_of(victim).back();
  const auto good = cluster.stored(cluster.replicas_of(victim).front(), victim);
  ASSERT_TRUE(cluster.store(holder).corrupt_key(victim).ok());
  ASSERT_EQ(cluster.storage(holder).read_key(victim).status().code(), Code::corruption);

  cluster.advance(seconds(10));

  EXPECT_GE(cluster.counter(holder, "ae_corrupt_records_found"), 1u);
  EXPECT_EQ(cluster.counter(holder, "ae_corrupt_records_repaired"), 1u);
  EXPECT_EQ(cluster.stored(holder, victim), good);
  EXPECT_EQ(divergent(cluster, keys), 0u);
}

TEST(AntiEntropy, TheTreeCheckFindsNothingWrongInAHealthyStore) {
  NodeOptions options = anti_entropy_only();
  options.anti_entropy.update_interval = seconds(1);
  TestCluster cluster(3, options);
  write_keys(cluster, 30);
  cluster.advance(seconds(70));  // 64 checks: every leaf once
  EXPECT_GE(cluster.counter("n1", "ae_tree_leaves_checked"), 1024u);
  EXPECT_EQ(cluster.counter_sum("ae_tree_check_mismatches"), 0u);
}

}  // namespace
}  // namespace vigil::core::testing
