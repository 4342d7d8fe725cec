// core::Node: what clients see of versions: siblings, timestamp resolution, deletes,
// the sibling bound.

#include <gtest/gtest.h>

#include "core/node/node.h"
#include "tests/core/node_cluster.h"

namespace vigil::core {
namespace {

using testing::sorted_values;
using testing::TestCluster;

TEST(NodeVersions, ConcurrentPutsWithTheSameContextBecomeSiblingsThatAReadContextResolves) {
  TestCluster cluster(3);
  const Key key = "cart";
  const auto list = cluster.replicas_of(key);
  ASSERT_TRUE(cluster.put(list[0], key, "base").status.ok());
  const ClientReply read = cluster.get(list[0], key);
  ASSERT_TRUE(read.status.ok());

  // Two writers read the same state and write back concurrently (through different
  // coordinators, and through the same one: both must keep both writes).
  ASSERT_TRUE(cluster.put(list[0], key, "a", read.context).status.ok());
  ASSERT_TRUE(cluster.put(list[1], key, "b", read.context).status.ok());
  ASSERT_TRUE(cluster.put(list[1], key, "c", read.context).status.ok());
  const ClientReply siblings = cluster.get(list[2], key);
  ASSERT_TRUE(siblings.status.ok());
  EXPECT_EQ(sorted_values(siblings), (std::vector<Value>{"a", "b", "c"}));

  // A write with the context of that read supersedes all of them.
  ASSERT_TRUE(cluster.put(list[2], key, "abc", siblings.context).status.ok());
  const ClientReply resolved = cluster.get(list[0], key);
  ASSERT_TRUE(resolved.status.ok());
  EXPECT_EQ(resolved.values, std::vector<Value>{"abc"});
}

TEST(NodeVersions, BlindPutsWithoutContextAreSiblingsInSiblingsMode) {
  NodeOptions options;
  options.set_context = SetContext::read;  // puts without context supersede nothing
  TestCluster cluster(3, options);
  const auto list = cluster.replicas_of("k");
  ASSERT_TRUE(cluster.put(list[0], "k", "x").status.ok());
  ASSERT_TRUE(cluster.put(list[0], "k", "y").status.ok());
  EXPECT_EQ(sorted_values(cluster.get(list[1], "k")), (std::vector<Value>{"x", "y"}));
}

TEST(NodeVersions, TimestampModeKeepsOneValueTheLaterWrite) {
  NodeOptions options;
  options.conflict_mode = ConflictMode::timestamp;
  TestCluster cluster(3, options);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  ASSERT_TRUE(cluster.put(list[0], key, "first").status.ok());
  cluster.advance(std::chrono::milliseconds(10));
  ASSERT_TRUE(cluster.put(list[1], key, "second").status.ok());
  const ClientReply got = cluster.get(list[2], key);
  ASSERT_TRUE(got.status.ok());
  EXPECT_EQ(got.values, std::vector<Value>{"second"});
  for (const NodeId& id : list) EXPECT_EQ(cluster.stored(id, key)->size(), 1u) << id;
}

TEST(NodeVersions, TimestampModeLetsASkewedClockWinAndLosesTheOtherWrite) {
  // The loss the brief wants shown: with last-write-wins, a coordinator whose clock runs
  // ahead silently beats a later write.
  NodeOptions options;
  options.conflict_mode = ConflictMode::timestamp;
  options.set_context = SetContext::read;  // puts without context supersede nothing
  TestCluster cluster(3, options);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  cluster.set_skew(list[0], 60'000'000);
  ASSERT_TRUE(cluster.put(list[0], key, "early-but-skewed").status.ok());
  cluster.advance(std::chrono::seconds(1));
  ASSERT_TRUE(cluster.put(list[1], key, "later").status.ok());
  EXPECT_EQ(cluster.get(list[2], key).values, std::vector<Value>{"early-but-skewed"});
}

TEST(NodeVersions, DeleteThenGetIsNotFoundAndAPutWithItsContextRevivesTheKey) {
  TestCluster cluster(3);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  const ClientReply put = cluster.put(list[0], key, "v");
  ASSERT_TRUE(put.status.ok());
  const ClientReply deleted = cluster.del(list[1], key, put.context);
  ASSERT_TRUE(deleted.status.ok()) << deleted.status.to_string();

  const ClientReply got = cluster.get(list[2], key);
  EXPECT_EQ(got.status.code(), Code::not_found);
  EXPECT_TRUE(got.values.empty());
  EXPECT_FALSE(got.context.empty()) << "a tombstone's context comes back";
  for (const NodeId& id : list) EXPECT_TRUE(cluster.stored(id, key)->is_deleted()) << id;

  ASSERT_TRUE(cluster.put(list[0], key, "again", got.context).status.ok());
  EXPECT_EQ(cluster.get(list[1], key).values, std::vector<Value>{"again"});
}

TEST(NodeVersions, ADeleteWithoutContextLeavesTheValueAsASibling) {
  NodeOptions options;
  options.set_context = SetContext::read;  // puts without context supersede nothing
  TestCluster cluster(3, options);
  const auto list = cluster.replicas_of("k");
  ASSERT_TRUE(cluster.put(list[0], "k", "v").status.ok());
  ASSERT_TRUE(cluster.del(list[0], "k", std::nullopt).status.ok());
  const ClientReply got = cluster.get(list[0], "k");
  EXPECT_TRUE(got.status.ok()) << "a concurrent delete does not hide the value";
  EXPECT_EQ(got.values, std::vector<Value>{"v"});
}

TEST(NodeVersions, AWriteOverSiblingsMaxIsRefusedAndCounted) {
  NodeOptions options;
  options.sibling_limits.siblings_max = 2;
  options.set_context = SetContext::read;  // puts without context supersede nothing
  TestCluster cluster(3, options);
  const auto list = cluster.replicas_of("k");
  ASSERT_TRUE(cluster.put(list[0], "k", "1").status.ok());
  ASSERT_TRUE(cluster.put(list[0], "k", "2").status.ok());
  const ClientReply third = cluster.put(list[0], "k", "3");
  EXPECT_EQ(third.status.code(), Code::resource_exhausted);
  EXPECT_EQ(cluster.counter(list[0], "sibling_refusals"), 1u);
  EXPECT_EQ(sorted_values(cluster.get(list[1], "k")), (std::vector<Value>{"1", "2"}));
}

}  // namespace
}  // namespace vigil::core
