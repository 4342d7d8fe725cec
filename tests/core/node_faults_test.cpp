// core::Node under the faults the simulator injects: duplicated, reordered, late and lost
// messages, restarts, storage failures and corrupt records.

#include <gtest/gtest.h>

#include <algorithm>

#include "core/node/node.h"
#include "tests/core/node_cluster.h"

namespace vigil::core {
namespace {

using testing::sorted_values;
using testing::TestCluster;

// Delivers every held message twice, newest first.
void deliver_twice_reversed(TestCluster& cluster) {
  while (!cluster.held.empty()) {
    std::vector<Envelope> batch = std::exchange(cluster.held, {});
    std::reverse(batch.begin(), batch.end());
    for (const Envelope& envelope : batch) {
      cluster.deliver(envelope);
      cluster.deliver(envelope);
    }
  }
}

TEST(NodeFaults, DuplicatedAndReorderedMessagesAreHarmless) {
  TestCluster cluster(5);
  const Key key = cluster.key_with("n5", false);
  const auto list = cluster.replicas_of(key);
  cluster.hold = true;

  ClientRequest put;
  put.id = cluster.next_client_id();
  put.op = ClientOp::put;
  put.key = key;
  put.value = "v";
  cluster.client("n5", put);  // forwarded: exercises every message type
  deliver_twice_reversed(cluster);
  auto answer = cluster.reply(put.id);
  ASSERT_TRUE(answer.has_value());
  ASSERT_TRUE(answer->status.ok()) << answer->status.to_string();
  EXPECT_EQ(cluster.replies_for(put.id), 1u) << "one answer per request";

  ClientRequest get;
  get.id = cluster.next_client_id();
  get.op = ClientOp::get;
  get.key = key;
  cluster.client("n5", get);
  deliver_twice_reversed(cluster);
  auto read = cluster.reply(get.id);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->values, std::vector<Value>{"v"});
  EXPECT_EQ(cluster.replies_for(get.id), 1u);

  // The duplicated CoordinateRequest was coordinated once: one version, not two siblings.
  for (const NodeId& id : list) EXPECT_EQ(cluster.stored(id, key)->size(), 1u) << id;
  EXPECT_GE(cluster.counter_sum("ignored_duplicate") +
                cluster.counter_sum("coordinate_replies_resent") +
                cluster.counter_sum("ignored_unknown_request"),
            1u);
}

TEST(NodeFaults, ARepeatedCoordinateRequestIsAnsweredFromMemoryNotCoordinatedTwice) {
  TestCluster cluster(5);
  const Key key = cluster.key_with("n5", false);
  cluster.hold = true;
  ClientRequest put;
  put.id = cluster.next_client_id();
  put.op = ClientOp::put;
  put.key = key;
  put.value = "once";
  cluster.client("n5", put);
  ASSERT_EQ(cluster.held.size(), 1u);
  const Envelope forwarded = std::exchange(cluster.held, {}).front();
  ASSERT_TRUE(std::holds_alternative<CoordinateRequest>(forwarded.message));
  cluster.hold = false;

  cluster.deliver(forwarded);
  cluster.settle();
  ASSERT_TRUE(cluster.reply(put.id).has_value());
  ASSERT_TRUE(cluster.reply(put.id)->status.ok());
  cluster.deliver(forwarded);  // the network's duplicate, after the answer
  cluster.settle();

  EXPECT_EQ(cluster.counter(forwarded.to, "coordinate_replies_resent"), 1u);
  EXPECT_EQ(cluster.counter(forwarded.to, "requests_from_peers"), 1u);
  EXPECT_EQ(cluster.counter("n5", "ignored_unknown_request"), 1u);
  EXPECT_EQ(cluster.replies_for(put.id), 1u);
  EXPECT_EQ(cluster.stored(forwarded.to, key)->size(), 1u) << "one write, one dot";
}

TEST(NodeFaults, RepliesAfterTheDeadlineAreIgnored) {
  NodeOptions options;
  // The test expects no timer left at the end (membership and anti-entropy keep their own).
  options.membership.enabled = false;
  options.anti_entropy.trees_enabled = false;
  options.tombstone_gc.mode = TombstoneGcMode::disabled;  // its scan timer too
  TestCluster cluster(3, options);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  cluster.hold = true;
  ClientRequest put;
  put.id = cluster.next_client_id();
  put.op = ClientOp::put;
  put.key = key;
  put.value = "v";
  cluster.client(list[0], put);
  cluster.advance(std::chrono::seconds(6));
  auto answer = cluster.reply(put.id);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status.code(), Code::unavailable);

  // Now the replicas get the (many) held writes and answer: too late.
  cluster.hold = false;
  for (const Envelope& envelope : std::exchange(cluster.held, {})) cluster.deliver(envelope);
  cluster.settle();
  EXPECT_EQ(cluster.replies_for(put.id), 1u);
  EXPECT_GE(cluster.counter(list[0], "ignored_unknown_request"), 2u);
  EXPECT_EQ(cluster.node(list[0]).poll_timeout(), std::nullopt) << "nothing left in flight";
}

TEST(NodeFaults, ASilentReplicaIsSentTheWriteAgainAfterTheReplicationTimeout) {
  NodeOptions options;
  // The test expects no timer left at the end (membership and anti-entropy keep their own).
  options.membership.enabled = false;
  options.anti_entropy.trees_enabled = false;
  options.tombstone_gc.mode = TombstoneGcMode::disabled;  // its scan timer too
  TestCluster cluster(3, options);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  cluster.down.insert(list[2]);
  const ClientReply put = cluster.put(list[0], key, "v");
  ASSERT_TRUE(put.status.ok());
  EXPECT_FALSE(cluster.stored(list[2], key).has_value());

  cluster.advance(std::chrono::milliseconds(1999));
  EXPECT_EQ(cluster.counter(list[0], "replica_write_resends"), 0u);
  cluster.down.clear();  // the replica comes back before the first resend
  cluster.advance(std::chrono::milliseconds(1));
  EXPECT_EQ(cluster.counter(list[0], "replica_write_resends"), 1u);
  EXPECT_TRUE(cluster.stored(list[2], key).has_value());
  EXPECT_EQ(cluster.node(list[0]).poll_timeout(), std::nullopt) << "fully replicated: done";
}

TEST(NodeFaults, UnknownSendersAndMisaddressedMessagesAreCountedAndDropped) {
  TestCluster cluster(3);
  cluster.deliver(Envelope{"stranger", "n1", ReplicaRead{1, "k"}});
  cluster.node("n1").handle_message(cluster.now("n1"), Envelope{"n2", "n9", ReplicaRead{1, "k"}});
  cluster.deliver(Envelope{"n2", "n1", ReplicaWriteReply{12345, {}}});
  cluster.deliver(Envelope{"n2", "n1", ReplicaRead{7, ""}});  // bad key: answered
  EXPECT_EQ(cluster.counter("n1", "ignored_unknown_sender"), 1u);
  EXPECT_EQ(cluster.counter("n1", "ignored_misaddressed"), 1u);
  EXPECT_EQ(cluster.counter("n1", "ignored_unknown_request"), 1u);
  EXPECT_EQ(cluster.queued(), 1u);
}

TEST(NodeFaults, ARestartedNodeNeverReusesRequestIds) {
  TestCluster cluster(3);
  const auto list = cluster.replicas_of("k");
  cluster.hold = true;
  ClientRequest get;
  get.id = cluster.next_client_id();
  get.op = ClientOp::get;
  get.key = "k";
  cluster.client(list[0], get);
  ASSERT_FALSE(cluster.held.empty());
  const Envelope before = cluster.held.front();
  cluster.held.clear();

  cluster.restart(list[0]);
  get.id = cluster.next_client_id();
  cluster.client(list[0], get);
  ASSERT_FALSE(cluster.held.empty());
  const auto id_of = [](const Envelope& envelope) {
    return std::get<ReplicaRead>(envelope.message).request_id;
  };
  EXPECT_NE(id_of(before), id_of(cluster.held.front()));
  EXPECT_EQ(id_of(cluster.held.front()) >> 40, (id_of(before) >> 40) + 1);
}

TEST(NodeFaults, AnAcknowledgedWriteSurvivesALostLocalCommitAndARestart) {
  // A lying disk drops the coordinator's commit of an acknowledged write; after a restart
  // the coordinator no longer knows the dot it minted. Its next write must not repeat it.
  TestCluster cluster(3);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  const ClientReply base = cluster.put(list[0], key, "base");
  ASSERT_TRUE(base.status.ok());
  cluster.store(list[0]).lose_next_commit();
  ASSERT_TRUE(cluster.put(list[0], key, "acknowledged", base.context).status.ok());
  cluster.restart(list[0]);
  ASSERT_EQ(cluster.stored(list[0], key)->versions().front().value, "base");

  ASSERT_TRUE(cluster.put(list[0], key, "blind").status.ok());
  const ClientReply got = cluster.get(list[1], key, Consistency::all);
  EXPECT_EQ(sorted_values(got), (std::vector<Value>{"acknowledged", "blind"}));
  EXPECT_EQ(cluster.counter_sum("dot_conflicts"), 0u);
}

TEST(NodeFaults, AFailedCommitWithdrawsTheAcknowledgementAndRefusesLaterWrites) {
  TestCluster cluster(3);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  cluster.store(list[0]).fail_next_commit();

  const ClientReply put = cluster.put(list[0], key, "v", std::nullopt, Consistency::one);
  EXPECT_EQ(put.status.code(), Code::io_error) << put.status.to_string();
  EXPECT_EQ(cluster.counter(list[0], "storage_failures"), 1u);
  EXPECT_EQ(cluster.counter(list[0], "withdrawn_replies"), 1u);
  EXPECT_FALSE(cluster.stored(list[1], key).has_value()) << "the replica writes were withdrawn";

  const ClientReply later = cluster.put(list[0], key, "w");
  EXPECT_EQ(later.status.code(), Code::failed_precondition);
  // The failed node still serves reads, and the others still take writes.
  ASSERT_TRUE(cluster.put(list[1], key, "x").status.ok());
  const ClientReply read = cluster.get(list[0], key);
  EXPECT_TRUE(read.status.ok()) << read.status.to_string();
}

TEST(NodeFaults, AReplicaWhoseCommitFailsRefusesInsteadOfAcknowledging) {
  TestCluster cluster(3);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  cluster.store(list[1]).fail_next_commit();
  cluster.store(list[2]).fail_next_commit();
  const ClientReply put = cluster.put(list[0], key, "v");
  EXPECT_EQ(put.status.code(), Code::unavailable);
  EXPECT_NE(put.status.message().find("1 of 2 replicas acknowledged"), std::string::npos)
      << put.status.message();
  EXPECT_NE(put.status.message().find("io_error"), std::string::npos) << put.status.message();
}

TEST(NodeFaults, ACorruptLocalRecordIsRebuiltFromTheOtherReplicasOnWrite) {
  TestCluster cluster(3);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  ASSERT_TRUE(cluster.put(list[0], key, "old").status.ok());
  ASSERT_TRUE(cluster.store(list[0]).corrupt_key(key).ok());
  ASSERT_FALSE(cluster.storage(list[0]).read_key(key).ok());

  const ClientReply put = cluster.put(list[0], key, "new");
  ASSERT_TRUE(put.status.ok()) << put.status.to_string();
  EXPECT_EQ(cluster.counter(list[0], "storage_corruption"), 1u);
  EXPECT_GE(cluster.counter(list[0], "read_backs_merged"), 1u);
  auto local = cluster.stored(list[0], key);
  ASSERT_TRUE(local.has_value());
  EXPECT_EQ(local->size(), 2u) << "the old version came back from the replicas";
  EXPECT_EQ(sorted_values(cluster.get(list[1], key)), (std::vector<Value>{"new", "old"}));
}

TEST(NodeFaults, ACorruptReplicaDoesNotCountTowardsTheReadQuorumAndIsRepaired) {
  TestCluster cluster(3);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  ASSERT_TRUE(cluster.put(list[0], key, "v").status.ok());
  ASSERT_TRUE(cluster.store(list[1]).corrupt_key(key).ok());
  cluster.down.insert(list[2]);

  const ClientReply got = cluster.get(list[0], key);
  EXPECT_EQ(got.status.code(), Code::unavailable) << "one good answer of two needed";
  cluster.down.clear();
  const ClientReply again = cluster.get(list[0], key);
  ASSERT_TRUE(again.status.ok());
  cluster.settle();
  EXPECT_TRUE(cluster.storage(list[1]).read_key(key).ok()) << "read repair rewrote it";
}

}  // namespace
}  // namespace vigil::core
