// core::Node under set_context: coordinator (the default): a plain put/del (no client
// context) is coordinated on the key's first healthy preference-list node with that
// node's own state as its context, and a plain get's chosen value is the last one.

#include <gtest/gtest.h>

#include <algorithm>

#include "core/node/node.h"
#include "tests/core/node_cluster.h"

namespace vigil::core {
namespace {

using testing::TestCluster;

TEST(NodeSetContext, SequentialPlainPutsThroughAnyNodeSupersedeEachOther) {
  TestCluster cluster(5);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  // Through the first replica, another replica, and a node that is not a replica.
  std::vector<NodeId> entry_points{list[0], list[1], list[2]};
  for (const NodeId& id : cluster.ids()) {
    if (std::find(list.begin(), list.end(), id) == list.end()) entry_points.push_back(id);
  }
  int i = 0;
  for (const NodeId& at : entry_points) {
    const ClientReply put = cluster.put(at, key, "v" + std::to_string(i++));
    ASSERT_TRUE(put.status.ok()) << put.status.to_string();
  }
  const ClientReply got = cluster.get(list[2], key);
  ASSERT_TRUE(got.status.ok());
  EXPECT_EQ(got.values, std::vector<Value>{"v" + std::to_string(i - 1)});
  // Every plain write was forwarded to (and coordinated on) the first replica.
  EXPECT_EQ(cluster.counter(list[1], "writes_forwarded_to_coordinator"), 1u);
  EXPECT_EQ(cluster.counter(list[0], "writes_forwarded_to_coordinator"), 0u);
  EXPECT_EQ(cluster.counter(list[0], "requests_from_peers"), entry_points.size() - 1);
}

TEST(NodeSetContext, APlainDeleteSaysWhetherTheKeyExisted) {
  TestCluster cluster(3);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  const ClientReply absent = cluster.del(list[1], key, std::nullopt);
  ASSERT_TRUE(absent.status.ok()) << absent.status.to_string();
  EXPECT_FALSE(absent.existed);
  ASSERT_TRUE(cluster.put(list[2], key, "v").status.ok());
  const ClientReply present = cluster.del(list[1], key, std::nullopt);
  ASSERT_TRUE(present.status.ok());
  EXPECT_TRUE(present.existed);
  EXPECT_EQ(cluster.get(list[0], key).status.code(), Code::not_found);
  const ClientReply again = cluster.del(list[0], key, std::nullopt);
  EXPECT_FALSE(again.existed) << "only tombstones were left";
}

TEST(NodeSetContext, ADownFirstReplicaLeavesTheWriteToTheNext) {
  TestCluster cluster(3);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  ASSERT_TRUE(cluster.put(list[1], key, "before").status.ok());
  cluster.down.insert(list[0]);
  // No membership verdict yet: the forward to list[0] goes unanswered and the retry makes
  // the next replica a failover coordinator.
  const ClientReply put = cluster.put(list[2], key, "during");
  ASSERT_TRUE(put.status.ok()) << put.status.to_string();
  EXPECT_GE(cluster.counter(list[2], "forward_retries"), 1u);
  cluster.down.clear();
  const ClientReply got = cluster.get(list[1], key, Consistency::all);
  ASSERT_TRUE(got.status.ok());
  EXPECT_EQ(got.values.back(), "during");
}

TEST(NodeSetContext, ReadModeKeepsPlainPutsAsSiblings) {
  NodeOptions options;
  options.set_context = SetContext::read;
  TestCluster cluster(3, options);
  const auto list = cluster.replicas_of("k");
  ASSERT_TRUE(cluster.put(list[0], "k", "x").status.ok());
  ASSERT_TRUE(cluster.put(list[1], "k", "y").status.ok());
  EXPECT_EQ(cluster.get(list[2], "k").values.size(), 2u);
  EXPECT_EQ(cluster.counter(list[1], "writes_forwarded_to_coordinator"), 0u);
}

TEST(NodeSetContext, AGetOrdersSiblingsByTimestampThenDot) {
  TestCluster cluster(3);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  ASSERT_TRUE(cluster.put(list[0], key, "base").status.ok());
  const ClientReply read = cluster.get(list[0], key);
  // Two concurrent writes with the same context, the later one first in dot order.
  cluster.advance(std::chrono::milliseconds(10));
  ASSERT_TRUE(cluster.put(list[2], key, "later", read.context).status.ok());
  cluster.set_skew(list[1], -1'000'000);
  ASSERT_TRUE(cluster.put(list[1], key, "earlier", read.context).status.ok());
  const ClientReply got = cluster.get(list[0], key);
  ASSERT_EQ(got.values.size(), 2u);
  EXPECT_EQ(got.values.back(), "later") << "the greatest timestamp is the plain GET's answer";
}

}  // namespace
}  // namespace vigil::core

namespace vigil::core {
namespace {

// A first replica that refuses writes (its storage failed) leaves a plain write to the
// next one, within max_retries, and the retry timer armed before does not exceed them.
TEST(NodeSetContext, AFirstReplicaWithFailedStorageLeavesTheWriteToTheNext) {
  NodeOptions options;
  options.max_retries = 1;
  testing::TestCluster cluster(4, options);
  const Key key = cluster.key_with("n4", false);
  const auto list = cluster.replicas_of(key);
  cluster.store(list[0]).fail_next_commit();
  ASSERT_EQ(cluster.put(list[0], key, "v").status.code(), Code::io_error);
  const ClientReply put = cluster.put("n4", key, "w");
  EXPECT_TRUE(put.status.ok()) << put.status.to_string();
  cluster.advance(std::chrono::seconds(6));  // every timer fires; invariants hold
  EXPECT_EQ(cluster.counter("n4", "forward_retries"), 1u);
}

}  // namespace
}  // namespace vigil::core
