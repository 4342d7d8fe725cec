// core::Node with membership on (TestCluster): a node that goes silent is suspected, then
// failed, by every other node; restarted, it is alive again as its new incarnation. And
// the node's view, its transitions, and membership disabled.

#include <gtest/gtest.h>

#include "core/node/node.h"
#include "tests/core/node_cluster.h"

namespace vigil::core {
namespace {

using std::chrono::seconds;
using testing::TestCluster;

// Every node seeded with every other (TestCluster's ids are n1..n<count>; addresses are ids).
NodeOptions seeded(std::size_t count) {
  NodeOptions options;
  for (std::size_t i = 1; i <= count; ++i) {
    options.seeds.emplace_back("n" + std::to_string(i), "n" + std::to_string(i));
  }
  return options;
}

std::optional<PeerStatus> row(Node& node, Instant now, const NodeId& id) {
  for (const PeerStatus& status : node.members(now)) {
    if (status.id == id) return status;
  }
  return std::nullopt;
}

TEST(NodeMembership, ASilentNodeIsSuspectedThenFailedAndAliveAgainAfterRestart) {
  TestCluster cluster(4, seeded(4));
  cluster.advance(seconds(40));  // past bootstrap_time
  for (const NodeId& id : cluster.ids()) {
    EXPECT_TRUE(cluster.take_peer_transitions(id).empty()) << id;
    const auto view = cluster.node(id).members(cluster.now_instant());
    ASSERT_EQ(view.size(), 4u);
    for (const PeerStatus& status : view) {
      EXPECT_EQ(status.state, PeerState::alive);
      EXPECT_GE(status.heartbeat, 30u);
      EXPECT_GE(status.incarnation, 1u);
    }
  }
  cluster.down.insert("n4");  // as good as crashed, for everyone else
  cluster.advance(seconds(20));
  for (const NodeId& id : {NodeId("n1"), NodeId("n2"), NodeId("n3")}) {
    const std::vector<PeerTransition> transitions = cluster.take_peer_transitions(id);
    ASSERT_EQ(transitions.size(), 2u) << id;
    EXPECT_EQ(transitions[0].peer, "n4");
    EXPECT_EQ(transitions[0].from, PeerState::alive);
    EXPECT_EQ(transitions[0].to, PeerState::suspect);
    EXPECT_EQ(transitions[1].to, PeerState::failed);
    EXPECT_LE(transitions[1].at - transitions[0].at, seconds(15));
    const auto n4 = row(cluster.node(id), cluster.now_instant(), "n4");
    ASSERT_TRUE(n4.has_value());
    EXPECT_EQ(n4->state, PeerState::failed);
    EXPECT_GT(n4->phi, 8.0);
    EXPECT_GE(n4->silence, seconds(15));
    EXPECT_EQ(cluster.counter(id, "peers_failed"), 1u);
  }
  const std::uint64_t old_incarnation =
      row(cluster.node("n1"), cluster.now_instant(), "n4")->incarnation;
  cluster.restart("n4");
  cluster.down.clear();
  cluster.advance(seconds(3));
  for (const NodeId& id : {NodeId("n1"), NodeId("n2"), NodeId("n3")}) {
    const std::vector<PeerTransition> transitions = cluster.take_peer_transitions(id);
    ASSERT_EQ(transitions.size(), 1u) << id;
    EXPECT_EQ(transitions[0].from, PeerState::failed);
    EXPECT_EQ(transitions[0].to, PeerState::alive);
    const auto n4 = row(cluster.node(id), cluster.now_instant(), "n4");
    EXPECT_EQ(n4->state, PeerState::alive);
    EXPECT_GT(n4->incarnation, old_incarnation);
  }
  // Requests work throughout (membership traffic never reaches the request code).
  EXPECT_TRUE(cluster.put("n1", "k", "v").status.ok());
}

TEST(NodeMembership, DisabledMeansNoTimerNoViewAndMembershipMessagesIgnored) {
  NodeOptions options;
  options.membership.enabled = false;
  options.anti_entropy.trees_enabled = false;  // its periodic timers are not membership's
  options.tombstone_gc.mode = TombstoneGcMode::disabled;  // its scan timer too
  TestCluster cluster(3, options);
  EXPECT_EQ(cluster.node("n1").poll_timeout(), std::nullopt);
  EXPECT_TRUE(cluster.node("n1").members(cluster.now_instant()).empty());
  cluster.deliver(Envelope{"n2", "n1", Ping{1, ""}});
  EXPECT_EQ(cluster.counter("n1", "ignored_membership_disabled"), 1u);
  EXPECT_EQ(cluster.queued(), 0u);
}

TEST(NodeMembership, GossipRunsAlongsideRequests) {
  TestCluster cluster(3, seeded(3));
  EXPECT_TRUE(cluster.put("n1", "k", "v").status.ok());
  cluster.advance(seconds(5));
  EXPECT_GT(cluster.counter_sum("gossip_received"), 0u);
  EXPECT_GT(cluster.counter_sum("probe_acks"), 0u);
  EXPECT_TRUE(cluster.node("n1").poll_timeout().has_value());
  EXPECT_EQ(cluster.get("n2", "k").values, std::vector<Value>{"v"});
}

}  // namespace
}  // namespace vigil::core
