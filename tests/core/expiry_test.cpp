// Expiry (docs/expiry.md): an expiry is part of a version's content, an expired value reads
// as absent, and it is collected by the tombstone rules, so a replica that missed the
// expiring write holds collection up until it is repaired and the older value it still
// holds never comes back.

#include <gtest/gtest.h>

#include "core/node/node.h"
#include "core/wire/codec.h"
#include "tests/core/node_cluster.h"

namespace vigil::core {
namespace {

using testing::TestCluster;

NodeOptions collecting() {
  NodeOptions options;
  options.membership.enabled = false;  // peer_is_up is always true: silence is what counts
  options.hints.enabled = false;       // a replica that is down misses the write outright
  options.read_repair_enabled = false;
  options.hints.expiry = std::chrono::seconds(1);
  options.request_timeout = std::chrono::seconds(1);
  options.tombstone_gc.mode = TombstoneGcMode::replicas;
  options.tombstone_gc.grace = std::chrono::seconds(2);
  options.tombstone_gc.scan_interval = std::chrono::milliseconds(500);
  return options;
}

ClientReply put_expiring(TestCluster& cluster, const NodeId& at, const Key& key,
                         const Value& value, Duration expires_in,
                         std::optional<VectorClock> context = std::nullopt,
                         Consistency consistency = Consistency::all) {
  ClientRequest request;
  request.op = ClientOp::put;
  request.key = key;
  request.value = value;
  if (context) request.context.emplace(std::move(*context));
  request.consistency = consistency;
  request.expires_in = expires_in;
  return cluster.run(at, std::move(request));
}

std::size_t replicas_holding(TestCluster& cluster, const Key& key) {
  std::size_t holding = 0;
  for (const NodeId& replica : cluster.replicas_of(key)) {
    if (cluster.stored(replica, key)) ++holding;
  }
  return holding;
}

TEST(ExpiryVersions, AnExpiryIsContentThatRoundTripsAndAValueWithoutOneEncodesAsBefore) {
  SiblingSet set;
  VersionCounters counters;
  const WallMicros now = 1'000'000;
  ASSERT_TRUE(set.write("a", {}, Value("v"), now, ConflictMode::siblings, {}, counters, 0,
                        now + 5'000'000)
                  .ok());
  EXPECT_EQ(set.versions().front().expires_at_us, now + 5'000'000);
  EXPECT_FALSE(set.is_dead_at(now + 4'999'999));
  EXPECT_TRUE(set.is_dead_at(now + 5'000'000));
  EXPECT_FALSE(set.is_deleted()) << "expired is not deleted: the value is still stored";

  const std::string bytes = encode_sibling_set(set);
  auto decoded = decode_sibling_set(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, set);

  // Without an expiry the bytes are the older format's (tag 1), 8 bytes shorter.
  SiblingSet plain;
  ASSERT_TRUE(plain.write("a", {}, Value("v"), now, ConflictMode::siblings, {}, counters).ok());
  EXPECT_EQ(encode_sibling_set(plain).size() + 8, bytes.size());

  // A tag past 4 (3 and 4 are counters: docs/counters.md) is a decode error, never a
  // misreading.
  std::string damaged = encode_sibling_set(plain);
  const std::size_t tag = damaged.size() - 8 /*checksum*/ - 4 /*length*/ - 1 /*"v"*/ - 1;
  ASSERT_EQ(damaged[tag], '\x01');
  damaged[tag] = '\x05';
  auto refused = decode_sibling_set(damaged);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("is not 0 to 4"), std::string::npos)
      << refused.status().message();
}

TEST(ExpiryVersions, ATombstoneCannotCarryAnExpiryAndMergeKeepsTheLaterWrite) {
  Version tombstone;
  tombstone.dot = Dot{"a", 1};
  tombstone.checksum = value_checksum(std::nullopt);
  tombstone.expires_at_us = 5;
  EXPECT_EQ(SiblingSet::from_versions({tombstone}).status().code(), Code::invalid_argument);

  // An EXPIRE is a later write: it supersedes the value it read, on every replica.
  SiblingSet replica_a;
  VersionCounters counters;
  ASSERT_TRUE(replica_a.write("a", {}, Value("v"), 10, ConflictMode::siblings, {}, counters).ok());
  SiblingSet replica_b = replica_a;
  ASSERT_TRUE(replica_a.write("a", replica_a.context(), Value("v"), 20, ConflictMode::siblings, {},
                              counters, 0, 100)
                  .ok());
  replica_b.merge(replica_a, ConflictMode::siblings, {}, counters);
  ASSERT_EQ(replica_b.size(), 1u);
  EXPECT_EQ(replica_b.versions().front().expires_at_us, 100);
}

TEST(Expiry, AnExpiredKeyReadsAsAbsentAndIsCollectedFromEveryReplica) {
  TestCluster cluster(3, collecting());
  const Key key = "session";
  const NodeId first = cluster.replicas_of(key).front();
  ASSERT_TRUE(put_expiring(cluster, first, key, "v", std::chrono::seconds(3)).status.ok());
  const ClientReply live = cluster.get(first, key);
  ASSERT_TRUE(live.status.ok()) << live.status.to_string();
  EXPECT_EQ(live.values, std::vector<Value>{"v"});
  EXPECT_GT(live.expires_at_us, testing::wall_epoch_us);

  cluster.advance(std::chrono::seconds(4));
  const ClientReply expired = cluster.get(first, key, Consistency::all);
  EXPECT_EQ(expired.status.code(), Code::not_found);
  EXPECT_TRUE(expired.values.empty());

  cluster.advance(std::chrono::seconds(5));
  EXPECT_EQ(replicas_holding(cluster, key), 0u);
  EXPECT_EQ(cluster.counter_sum("expired_keys_collected"), 3u);
  EXPECT_EQ(cluster.get(first, key, Consistency::all).status.code(), Code::not_found);
}

TEST(Expiry, AReplicaThatMissedTheExpireHoldsCollectionUpAndTheOldValueNeverComesBack) {
  TestCluster cluster(3, collecting());
  const Key key = "cached";
  const auto list = cluster.replicas_of(key);
  ASSERT_TRUE(cluster.put(list[0], key, "old", std::nullopt, Consistency::all).status.ok());
  const ClientReply read = cluster.get(list[0], key);
  cluster.down = {list[2]};
  ASSERT_TRUE(put_expiring(cluster, list[0], key, "old", std::chrono::seconds(1), read.context,
                           Consistency::quorum)
                  .status.ok());

  // Expired, and past the grace, but list[2] still holds the value without an expiry.
  cluster.down.clear();
  cluster.advance(std::chrono::seconds(8));
  EXPECT_EQ(replicas_holding(cluster, key), 3u);
  EXPECT_GE(cluster.counter(list[0], "tombstones_refused_replica_differs"), 1u);
  EXPECT_EQ(cluster.get(list[1], key, Consistency::all).status.code(), Code::not_found)
      << "the expiring write supersedes the old value in every merge";

  cluster.act(list[0], [](Node& node, const Now& now) { node.request_anti_entropy(now); });
  cluster.advance(std::chrono::seconds(10));
  EXPECT_EQ(replicas_holding(cluster, key), 0u);
  EXPECT_EQ(cluster.get(list[2], key, Consistency::all).status.code(), Code::not_found);
}

TEST(Expiry, AReplicaWhoseClockIsBehindVouchesOnlyOnceTheValueExpiredOnItsClock) {
  TestCluster cluster(3, collecting());
  const Key key = "skewed";
  const auto list = cluster.replicas_of(key);
  cluster.set_skew(list[2], -20'000'000);  // 20 s behind
  ASSERT_TRUE(put_expiring(cluster, list[0], key, "v", std::chrono::seconds(1)).status.ok());
  cluster.advance(std::chrono::seconds(8));
  EXPECT_EQ(replicas_holding(cluster, key), 3u) << "list[2] does not see it expired yet";
  EXPECT_EQ(cluster.get(list[2], key, Consistency::one).values, std::vector<Value>{"v"})
      << "its own clock decides what it answers (docs/expiry.md, clock skew)";
  cluster.advance(std::chrono::seconds(20));
  EXPECT_EQ(replicas_holding(cluster, key), 0u);
}

TEST(Expiry, APlainWriteClearsTheExpiryAndADeleteOfAnExpiredKeyCountsNothing) {
  TestCluster cluster(3, collecting());
  const Key key = "k";
  const NodeId first = cluster.replicas_of(key).front();
  ASSERT_TRUE(put_expiring(cluster, first, key, "v", std::chrono::seconds(1)).status.ok());
  ASSERT_TRUE(cluster.put(first, key, "w", std::nullopt, Consistency::all).status.ok());
  cluster.advance(std::chrono::seconds(3));
  const ClientReply read = cluster.get(first, key);
  EXPECT_EQ(read.values, std::vector<Value>{"w"});
  EXPECT_EQ(read.expires_at_us, 0);

  ASSERT_TRUE(put_expiring(cluster, first, key, "x", std::chrono::seconds(1)).status.ok());
  cluster.advance(std::chrono::seconds(2));
  const ClientReply deleted = cluster.del(first, key, std::nullopt, Consistency::all);
  ASSERT_TRUE(deleted.status.ok());
  EXPECT_FALSE(deleted.existed) << "DEL's count: an expired value is not there";
}

}  // namespace
}  // namespace vigil::core
