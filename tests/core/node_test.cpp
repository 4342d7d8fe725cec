// core::Node: the quorum read and write paths, forwarding, and refusals.

#include "core/node/node.h"

#include <gtest/gtest.h>

#include "tests/core/node_cluster.h"

namespace vigil::core {
namespace {

using testing::sorted_values;
using testing::TestCluster;

TEST(Node, PutThenGetAtQuorumOnAnotherReplica) {
  TestCluster cluster(3);
  const Key key = "apple";
  const auto list = cluster.replicas_of(key);
  ASSERT_EQ(list.size(), 3u);

  const ClientReply put = cluster.put(list[0], key, "red");
  ASSERT_TRUE(put.status.ok()) << put.status.to_string();
  EXPECT_FALSE(put.context.empty());
  EXPECT_GE(put.replicas_answered, 2u);
  EXPECT_EQ(put.replicas_needed, 2u);

  const ClientReply got = cluster.get(list[2], key);
  ASSERT_TRUE(got.status.ok()) << got.status.to_string();
  EXPECT_EQ(got.values, std::vector<Value>{"red"});
  EXPECT_EQ(got.context, put.context);
  // Every replica holds the write once the network settled.
  for (const NodeId& id : list) {
    auto state = cluster.stored(id, key);
    ASSERT_TRUE(state.has_value()) << id;
    EXPECT_EQ(state->size(), 1u);
  }
  EXPECT_EQ(cluster.counter(list[0], "requests_put"), 1u);
  EXPECT_EQ(cluster.counter(list[2], "requests_get"), 1u);
  EXPECT_EQ(cluster.counter_sum("replica_writes_applied"), 2u);
}

TEST(Node, GetOfAbsentKeyIsNotFound) {
  TestCluster cluster(3);
  const ClientReply got = cluster.get("n1", "nothing-here");
  EXPECT_EQ(got.status.code(), Code::not_found);
  EXPECT_TRUE(got.values.empty());
  EXPECT_GE(got.replicas_answered, 2u);
}

TEST(Node, NonReplicaForwardsToTheFirstReplicaAndRelaysItsAnswer) {
  TestCluster cluster(5);
  const Key key = cluster.key_with("n5", /*on_list=*/false);
  const auto list = cluster.replicas_of(key);

  const ClientReply put = cluster.put("n5", key, "v1");
  ASSERT_TRUE(put.status.ok()) << put.status.to_string();
  EXPECT_FALSE(put.context.empty());
  EXPECT_EQ(cluster.counter("n5", "forwards_sent"), 1u);
  EXPECT_EQ(cluster.counter(list[0], "requests_from_peers"), 1u);
  EXPECT_FALSE(cluster.stored("n5", key).has_value()) << "a non-replica stores nothing";

  const ClientReply got = cluster.get("n5", key);
  ASSERT_TRUE(got.status.ok()) << got.status.to_string();
  EXPECT_EQ(got.values, std::vector<Value>{"v1"});
  EXPECT_EQ(got.context, put.context);
}

TEST(Node, ForwardRetriesTheNextReplicaWhenTheFirstIsSilent) {
  TestCluster cluster(5);
  const Key key = cluster.key_with("n5", false);
  const auto list = cluster.replicas_of(key);
  cluster.down.insert(list[0]);

  const ClientReply put = cluster.put("n5", key, "v");
  ASSERT_TRUE(put.status.ok()) << put.status.to_string();
  EXPECT_EQ(cluster.counter("n5", "forward_retries"), 1u);
  EXPECT_EQ(cluster.counter(list[1], "requests_from_peers"), 1u);
}

TEST(Node, ForwardTimesOutWhenNoReplicaAnswers) {
  TestCluster cluster(5);
  const Key key = cluster.key_with("n5", false);
  for (const NodeId& id : cluster.replicas_of(key)) cluster.down.insert(id);
  const Instant start = cluster.now_instant();

  const ClientReply put = cluster.put("n5", key, "v");
  EXPECT_EQ(put.status.code(), Code::timeout);
  EXPECT_NE(put.status.message().find("no coordinator answered"), std::string::npos)
      << put.status.message();
  EXPECT_EQ(cluster.now_instant() - start, std::chrono::seconds(5));
  // Tries at 0s, ~2.1s and ~4.3s (replication_timeout plus the retry policy's backoff
  // apart); the next would be past 5s.
  EXPECT_EQ(cluster.counter("n5", "forwards_sent"), 3u);
  EXPECT_EQ(cluster.counter("n5", "forward_timeouts"), 1u);
}

TEST(Node, WriteQuorumOfTwoSurvivesOneUnreachableReplica) {
  TestCluster cluster(3);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  cluster.down.insert(list[2]);

  const ClientReply put = cluster.put(list[0], key, "v");
  ASSERT_TRUE(put.status.ok()) << put.status.to_string();
  EXPECT_EQ(put.replicas_answered, 2u);
  EXPECT_FALSE(cluster.stored(list[2], key).has_value());
}

TEST(Node, WriteQuorumFailsWithUnavailableAndCountsWhenTwoReplicasAreUnreachable) {
  TestCluster cluster(3);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  cluster.down.insert(list[1]);
  cluster.down.insert(list[2]);
  const Instant start = cluster.now_instant();

  const ClientReply put = cluster.put(list[0], key, "v");
  EXPECT_EQ(put.status.code(), Code::unavailable);
  EXPECT_EQ(put.status.message(), "quorum not reached: 1 of 2 replicas acknowledged (3 replicas)");
  EXPECT_EQ(put.replicas_answered, 1u);
  EXPECT_EQ(put.replicas_needed, 2u);
  EXPECT_EQ(cluster.now_instant() - start, std::chrono::seconds(5));
  EXPECT_EQ(cluster.counter(list[0], "quorum_failures"), 1u);
  // 2 replicas x (first send + 3 resends).
  EXPECT_EQ(cluster.counter(list[0], "replica_writes_sent"), 2u);
  EXPECT_EQ(cluster.counter(list[0], "replica_write_resends"), 6u);
}

TEST(Node, ConsistencyOneAnswersOnTheLocalWriteAndAllNeedsEveryReplica) {
  TestCluster cluster(3);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  cluster.down.insert(list[1]);
  cluster.down.insert(list[2]);
  EXPECT_TRUE(cluster.put(list[0], key, "v", std::nullopt, Consistency::one).status.ok());
  cluster.down.clear();
  cluster.down.insert(list[2]);
  const ClientReply all = cluster.put(list[0], key, "w", std::nullopt, Consistency::all);
  EXPECT_EQ(all.status.code(), Code::unavailable);
  EXPECT_EQ(all.replicas_needed, 3u);
}

TEST(Node, ReadQuorumOfTwo) {
  TestCluster cluster(3);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  ASSERT_TRUE(cluster.put(list[0], key, "v").status.ok());

  cluster.down.insert(list[2]);
  const ClientReply one_down = cluster.get(list[0], key);
  ASSERT_TRUE(one_down.status.ok()) << one_down.status.to_string();
  EXPECT_EQ(one_down.values, std::vector<Value>{"v"});
  EXPECT_EQ(one_down.replicas_answered, 2u);

  cluster.down.insert(list[1]);
  const ClientReply two_down = cluster.get(list[0], key);
  EXPECT_EQ(two_down.status.code(), Code::unavailable);
  EXPECT_EQ(two_down.status.message(), "quorum not reached: 1 of 2 replicas answered (3 replicas)");
  EXPECT_EQ(two_down.replicas_answered, 1u);
  EXPECT_EQ(two_down.replicas_needed, 2u);
}

TEST(Node, ReadRepairBringsAStaleReplicaUpToDate) {
  NodeOptions options;
  options.read_repair_probability = 1.0;  // every read asks all N
  TestCluster cluster(3, options);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  cluster.down.insert(list[2]);
  ASSERT_TRUE(cluster.put(list[0], key, "v").status.ok());
  cluster.advance(std::chrono::seconds(6));  // the write's retries end
  ASSERT_FALSE(cluster.stored(list[2], key).has_value());

  cluster.down.clear();
  const ClientReply got = cluster.get(list[1], key);
  ASSERT_TRUE(got.status.ok());
  cluster.settle();
  auto repaired = cluster.stored(list[2], key);
  ASSERT_TRUE(repaired.has_value()) << "the stale replica was not repaired";
  EXPECT_EQ(*repaired, *cluster.stored(list[0], key));
  EXPECT_EQ(cluster.counter(list[1], "read_repairs_sent"), 1u);
}

TEST(Node, InvalidKeyAndValueSizesAreRefused) {
  NodeOptions options;
  options.key_size_bytes_max = 8;
  options.value_size_bytes_max = 16;
  TestCluster cluster(3, options);

  const ClientReply empty_key = cluster.put("n1", "", "v");
  EXPECT_EQ(empty_key.status.code(), Code::invalid_argument);
  const ClientReply long_key = cluster.get("n1", "123456789");
  EXPECT_EQ(long_key.status.code(), Code::invalid_argument);
  EXPECT_NE(long_key.status.message().find("key_size_bytes_max"), std::string::npos);
  const ClientReply big_value = cluster.put("n1", "k", std::string(17, 'x'));
  EXPECT_EQ(big_value.status.code(), Code::invalid_argument);
  EXPECT_NE(big_value.status.message().find("value_size_bytes_max"), std::string::npos);
  EXPECT_TRUE(cluster.put("n1", "12345678", std::string(16, 'x')).status.ok());
  EXPECT_EQ(cluster.counter("n1", "refused_invalid_argument"), 3u);
}

TEST(Node, RequestsInFlightAreBounded) {
  NodeOptions options;
  options.requests_in_flight_max = 1;
  TestCluster cluster(3, options);
  const auto list = cluster.replicas_of("k");
  cluster.hold = true;  // the first request stays in flight

  ClientRequest first;
  first.id = cluster.next_client_id();
  first.op = ClientOp::get;
  first.key = "k";
  cluster.client(list[0], first);
  ClientRequest second = first;
  second.id = cluster.next_client_id();
  cluster.client(list[0], second);
  auto refused = cluster.reply(second.id);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status.code(), Code::resource_exhausted);
  EXPECT_EQ(cluster.counter(list[0], "refused_in_flight_max"), 1u);
  EXPECT_FALSE(cluster.reply(first.id).has_value());
}

TEST(Node, CounterNamesCoverEveryRequestKind) {
  TestCluster cluster(3);
  const auto list = cluster.replicas_of("k");
  ASSERT_TRUE(cluster.put(list[0], "k", "v").status.ok());
  ASSERT_TRUE(cluster.get(list[0], "k").status.ok());
  ASSERT_TRUE(cluster.del(list[0], "k", std::nullopt).status.ok());
  EXPECT_EQ(cluster.counter(list[0], "requests_put"), 1u);
  EXPECT_EQ(cluster.counter(list[0], "requests_get"), 1u);
  EXPECT_EQ(cluster.counter(list[0], "requests_del"), 1u);
  EXPECT_EQ(cluster.counter(list[0], "replies_ok"), 3u);
  EXPECT_EQ(cluster.counter(list[0], "replies_failed"), 0u);
}

}  // namespace
}  // namespace vigil::core
