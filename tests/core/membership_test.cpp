// core/membership/membership.h over a small hand-driven network: gossip merge and learning, SWIM
// probes direct and indirect, the alive -> suspect -> failed -> alive cycle with its
// deadlines, the bootstrap and recovery rules, the local pause rule, and determinism.

#include "core/membership/membership.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "core/wire/outbox.h"

namespace vigil::core {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct Change {
  NodeId observer;
  PeerTransition transition;
};

// Memberships exchanging messages with a fixed latency, in virtual time.
class Network {
 public:
  Network(std::size_t nodes, MembershipOptions options, std::uint64_t seed = 7,
          bool one_seed = false)
      : options_(options), seed_(seed) {
    for (std::size_t i = 1; i <= nodes; ++i) ids_.push_back("n" + std::to_string(i));
    for (const NodeId& id : ids_) {
      seeds_[id] = one_seed ? std::vector<std::pair<NodeId, std::string>>{{"n1", "n1"}}
                            : all_seeds();
      start(id, 1);
    }
  }

  void start(const NodeId& id, std::uint64_t incarnation, std::uint64_t digest = 99) {
    Node& node = nodes_[id];
    node.random = std::make_unique<Random>(seed_ * 1000 + incarnation * 100 + index(id));
    node.outbox = std::make_unique<Outbox>(id);
    node.membership =
        std::make_unique<Membership>(options_, MembershipIdentity{id, id, incarnation, digest},
                                     seeds_[id], ids_, *node.random, node.counters, *node.outbox);
    down.erase(id);
  }
  void crash(const NodeId& id) {
    down.insert(id);
    nodes_[id].membership.reset();
  }

  Membership& at(const NodeId& id) { return *nodes_.at(id).membership; }
  std::uint64_t counter(const NodeId& id, CounterId name) {
    return nodes_.at(id).counters.get(name);
  }
  PeerState state(const NodeId& observer, const NodeId& peer) {
    return at(observer).state_of(peer);
  }
  Instant now() const { return now_; }

  // Runs every input due until `until`, in time order (timers before messages at a tie).
  void run_until(Instant until) {
    for (int steps = 0; steps < 10000000; ++steps) {
      std::optional<Instant> timer;
      NodeId timer_node;
      for (const NodeId& id : ids_) {
        if (down.contains(id)) continue;
        const auto t = at(id).poll_timeout();
        if (t && (!timer || std::max(*t, now_) < *timer)) {
          timer = std::max(*t, now_);
          timer_node = id;
        }
      }
      const bool message_first =
          !queue_.empty() && (!timer || std::get<0>(queue_.begin()->first) < *timer);
      const Instant next = message_first ? std::get<0>(queue_.begin()->first) : *timer;
      if (!message_first && !timer) break;
      if (next > until) break;
      now_ = std::max(now_, next);
      NodeId input_node;
      if (message_first) {
        const Envelope envelope = queue_.begin()->second;
        queue_.erase(queue_.begin());
        input_node = envelope.to;
        if (down.contains(envelope.to)) continue;
        EXPECT_TRUE(at(envelope.to).handle_message(now_, envelope.from, envelope.message));
      } else {
        input_node = timer_node;
        at(timer_node).handle_timeout(now_);
      }
      at(input_node).check_invariants();
      for (const PeerTransition& t : at(input_node).take_transitions()) {
        changes.push_back({input_node, t});
      }
      for (Envelope& envelope : nodes_.at(input_node).outbox->take()) send(std::move(envelope));
    }
    now_ = std::max(now_, until);
  }
  void run_for(Duration duration) { run_until(now_ + duration); }
  // Time passes for `id` with no input at all (a frozen process); others run on.
  void freeze(const NodeId& id, Duration duration) {
    frozen_.insert(id);
    down.insert(id);
    run_for(duration);
    down.erase(id);
    frozen_.erase(id);
  }

  std::set<NodeId> down;
  std::set<std::pair<NodeId, NodeId>> cut;  // (from, to): dropped
  std::vector<Change> changes;
  std::vector<Envelope> sent;  // every message sent, in order

  // The first transition of `peer` to `to` judged by `observer` at or after `since`.
  std::optional<Instant> first(const NodeId& observer, const NodeId& peer, PeerState to,
                               Instant since) const {
    for (const Change& change : changes) {
      if (change.observer == observer && change.transition.peer == peer &&
          change.transition.to == to && change.transition.at >= since) {
        return change.transition.at;
      }
    }
    return std::nullopt;
  }
  std::size_t count_to(PeerState to) const {
    std::size_t n = 0;
    for (const Change& change : changes) n += change.transition.to == to ? 1 : 0;
    return n;
  }
  const std::vector<NodeId>& ids() const { return ids_; }

 private:
  struct Node {
    std::unique_ptr<Random> random;
    NodeCounters counters;
    std::unique_ptr<Outbox> outbox;
    std::unique_ptr<Membership> membership;
  };

  std::vector<std::pair<NodeId, std::string>> all_seeds() const {
    std::vector<std::pair<NodeId, std::string>> seeds;
    for (const NodeId& id : ids_) seeds.emplace_back(id, id);
    return seeds;
  }
  std::uint64_t index(const NodeId& id) const {
    return static_cast<std::uint64_t>(std::find(ids_.begin(), ids_.end(), id) - ids_.begin());
  }
  void send(Envelope envelope) {
    sent.push_back(envelope);
    if (down.contains(envelope.from) || cut.contains({envelope.from, envelope.to})) return;
    queue_.emplace(std::make_tuple(now_ + milliseconds(10), sequence_++), std::move(envelope));
  }

  MembershipOptions options_;
  std::uint64_t seed_;
  std::vector<NodeId> ids_;
  std::map<NodeId, std::vector<std::pair<NodeId, std::string>>> seeds_;
  std::map<NodeId, Node> nodes_;
  std::map<std::tuple<Instant, std::uint64_t>, Envelope> queue_;
  std::uint64_t sequence_ = 0;
  std::set<NodeId> frozen_;
  Instant now_ = instant_from_micros(1'000'000);
};

MembershipOptions fast_phi() {
  MembershipOptions options;
  options.phi_bootstrap_time = Duration{0};
  return options;
}

TEST(Membership, PeerStateNames) {
  EXPECT_EQ(peer_state_name(PeerState::alive), "alive");
  EXPECT_EQ(peer_state_name(PeerState::suspect), "suspect");
  EXPECT_EQ(peer_state_name(PeerState::failed), "failed");
}

TEST(Membership, AskToStartAtOnceAndThenTickEveryGossipInterval) {
  Network net(3, {});
  EXPECT_EQ(net.at("n1").poll_timeout(), Instant{});
  net.run_for(milliseconds(1));
  const Instant start = instant_from_micros(1'000'000);
  EXPECT_LE(*net.at("n1").poll_timeout(), start + seconds(1));
  EXPECT_GT(*net.at("n1").poll_timeout(), net.now());
  net.run_for(seconds(10));
  for (const NodeId& id : net.ids()) {
    EXPECT_GE(net.counter(id, "gossip_sent"), 20u) << id;  // 2 fanout + replies per round
    EXPECT_GE(net.counter(id, "probes_sent"), 9u) << id;
    EXPECT_EQ(net.counter(id, "probe_failures"), 0u) << id;
  }
  EXPECT_EQ(net.changes.size(), 0u);
}

TEST(Membership, ASeedListOfOneTeachesEveryNodeTheWholeCluster) {
  Network net(8, {}, 3, /*one_seed=*/true);
  net.run_for(milliseconds(1));
  // At first n2 knows the address of n1 only.
  EXPECT_EQ(net.at("n2").address_of("n1"), "n1");
  EXPECT_EQ(net.at("n2").address_of("n3"), "");
  net.run_for(seconds(10));
  for (const NodeId& observer : net.ids()) {
    const std::vector<PeerStatus> view = net.at(observer).view(net.now());
    ASSERT_EQ(view.size(), 8u);
    for (const PeerStatus& row : view) {
      EXPECT_EQ(row.address, row.id) << observer << " about " << row.id;
      EXPECT_EQ(row.incarnation, 1u) << observer << " about " << row.id;
      EXPECT_GE(row.heartbeat, 5u) << observer << " about " << row.id;
      EXPECT_EQ(row.is_self, row.id == observer);
      EXPECT_EQ(row.state, PeerState::alive);
    }
    EXPECT_GE(net.counter(observer, "gossip_members_learned"), 7u) << observer;
  }
}

TEST(Membership, TheSameSeedMakesTheSameChoices) {
  Network a(6, {}, 11), b(6, {}, 11), c(6, {}, 12);
  a.run_for(seconds(20));
  b.run_for(seconds(20));
  c.run_for(seconds(20));
  ASSERT_EQ(a.sent.size(), b.sent.size());
  EXPECT_TRUE(a.sent == b.sent);
  EXPECT_FALSE(a.sent == c.sent);
}

TEST(Membership, ACrashedPeerIsSuspectedThenFailedByEveryone) {
  Network net(5, {});
  net.run_for(seconds(40));  // past bootstrap_time: phi counts
  const Instant crash = net.now();
  net.crash("n5");
  net.run_for(seconds(20));
  for (const char* observer : {"n1", "n2", "n3", "n4"}) {
    const auto suspect = net.first(observer, "n5", PeerState::suspect, crash);
    const auto failed = net.first(observer, "n5", PeerState::failed, crash);
    ASSERT_TRUE(suspect && failed) << observer;
    EXPECT_LT(*suspect - crash, seconds(4)) << observer << ": phi suspects before silence does";
    // Silence counts from when the observer learned the last heartbeat: up to one round
    // (and a link) after it was made, which may be right before the crash.
    EXPECT_LE(*failed - crash, seconds(16) + milliseconds(50)) << observer;
    EXPECT_GE(*failed - crash, seconds(14)) << observer;
    EXPECT_EQ(net.state(observer, "n5"), PeerState::failed);
    EXPECT_TRUE(net.first(observer, "n5", PeerState::suspect, crash) <= failed);
  }
  // Nobody else was suspected.
  EXPECT_EQ(net.count_to(PeerState::suspect), 4u);
  EXPECT_EQ(net.count_to(PeerState::failed), 4u);
  EXPECT_GE(net.counter("n1", "peers_failed"), 1u);
}

TEST(Membership, WhileBootstrappingOnlySilenceSuspects) {
  Network net(5, {});  // bootstrap_time 30 s
  net.run_for(seconds(15));
  const Instant crash = net.now();
  net.crash("n5");
  net.run_for(seconds(20));
  for (const char* observer : {"n1", "n2", "n3", "n4"}) {
    const auto suspect = net.first(observer, "n5", PeerState::suspect, crash);
    ASSERT_TRUE(suspect) << observer;
    // Silence counts from when the last heartbeat was learned: made at most one round
    // before the crash, learned at most one round (and a link or two) after it was made.
    EXPECT_GE(*suspect - crash, seconds(4)) << observer;
    EXPECT_LE(*suspect - crash, seconds(6) + milliseconds(50)) << observer;
  }
}

TEST(Membership, ARestartedPeerIsAliveAgainAsItsNewIncarnation) {
  Network net(4, fast_phi());
  net.run_for(seconds(20));
  net.crash("n4");
  net.run_for(seconds(20));
  ASSERT_EQ(net.state("n1", "n4"), PeerState::failed);
  const Instant restart = net.now();
  net.start("n4", 2);
  net.run_for(seconds(3));
  for (const char* observer : {"n1", "n2", "n3"}) {
    const auto alive = net.first(observer, "n4", PeerState::alive, restart);
    ASSERT_TRUE(alive) << observer;
    EXPECT_LT(*alive - restart, seconds(2)) << observer;
    for (const PeerStatus& row : net.at(observer).view(net.now())) {
      if (row.id != "n4") continue;
      EXPECT_EQ(row.incarnation, 2u);  // the new life replaced the old, heartbeat from 1
      EXPECT_LE(row.heartbeat, 4u);
      EXPECT_EQ(row.probe_failures, 0u);
    }
  }
}

TEST(Membership, RecoveryTimeoutKeepsPhiOutAfterAReturn) {
  // A peer back from failed is judged by silence alone for recovery_timeout: its old
  // window is gone and its new one is too short to trust.
  MembershipOptions options = fast_phi();
  options.recovery_timeout = seconds(30);
  Network net(4, options);
  net.run_for(seconds(20));
  net.crash("n4");
  net.run_for(seconds(20));
  net.start("n4", 2);
  net.run_for(seconds(15));  // 15 samples, but inside recovery_timeout
  Instant crash = net.now();
  net.crash("n4");
  net.run_for(seconds(20));
  auto suspect = net.first("n1", "n4", PeerState::suspect, crash);
  ASSERT_TRUE(suspect);
  EXPECT_GE(*suspect - crash, seconds(4)) << "silence, not phi";
  net.start("n4", 3);
  net.run_for(seconds(45));  // past recovery_timeout
  crash = net.now();
  net.crash("n4");
  net.run_for(seconds(20));
  suspect = net.first("n1", "n4", PeerState::suspect, crash);
  ASSERT_TRUE(suspect);
  EXPECT_LT(*suspect - crash, seconds(4)) << "phi";
}

TEST(Membership, IndirectProbesKeepAPeerBehindOneBadLinkAlive) {
  Network net(5, fast_phi());
  net.cut.insert({"n1", "n2"});  // n1's messages to n2 are lost; n2 -> n1 still works
  net.run_for(seconds(120));
  EXPECT_EQ(net.count_to(PeerState::suspect), 0u);
  EXPECT_EQ(net.count_to(PeerState::failed), 0u);
  EXPECT_GT(net.counter("n1", "probe_indirect_requests"), 0u);
  EXPECT_GT(net.counter("n1", "probe_acks"), 0u);
  std::uint64_t relayed = 0;
  for (const NodeId& id : net.ids()) relayed += net.counter(id, "probe_indirect_relayed");
  EXPECT_GT(relayed, 0u);
}

TEST(Membership, WithoutIndirectProbesOneBadLinkMakesAPeerSuspectButNotFailed) {
  MembershipOptions options = fast_phi();
  options.indirect_probes = 0;
  Network net(5, options);
  net.cut.insert({"n1", "n2"});
  net.run_for(seconds(120));
  ASSERT_TRUE(net.first("n1", "n2", PeerState::suspect, Instant{}));
  EXPECT_EQ(net.state("n1", "n2"), PeerState::suspect);  // its heartbeats still arrive
  EXPECT_EQ(net.count_to(PeerState::failed), 0u);
  EXPECT_EQ(net.counter("n1", "probe_indirect_requests"), 0u);
}

TEST(Membership, MergeTakesNewerInformationOnly) {
  Random random(1);
  NodeCounters counters;
  Outbox outbox("n1");
  Membership m({}, MembershipIdentity{"n1", "n1", 1, 5}, {}, {"n1", "n2", "n3"}, random, counters,
               outbox);
  std::vector<Envelope> out;
  const Instant t0 = instant_from_micros(1'000'000);
  m.handle_timeout(t0);
  outbox.take();  // the first round's gossip and ping
  const auto row_of = [&](const NodeId& id) {
    for (const PeerStatus& row : m.view(t0)) {
      if (row.id == id) return row;
    }
    return PeerStatus{};
  };
  ASSERT_TRUE(m.handle_message(t0, "n2", Gossip{{{"n2", "a2", 3, 10, 5}}, false}));
  out = outbox.take();
  EXPECT_EQ(row_of("n2").heartbeat, 10u);
  ASSERT_EQ(out.size(), 1u);  // the pull half: our view back to n2
  EXPECT_TRUE(std::get<Gossip>(out[0].message).is_reply);
  EXPECT_EQ(out[0].to, "n2");
  m.handle_message(t0, "n3", Gossip{{{"n2", "a2", 3, 9, 5}}, true});  // older
  out = outbox.take();
  EXPECT_EQ(row_of("n2").heartbeat, 10u);
  EXPECT_TRUE(out.empty());  // a reply is not answered
  m.handle_message(t0, "n3", Gossip{{{"n2", "a2b", 4, 1, 5}}, true});  // new life
  out = outbox.take();
  EXPECT_EQ(row_of("n2").incarnation, 4u);
  EXPECT_EQ(row_of("n2").heartbeat, 1u);
  EXPECT_EQ(m.address_of("n2"), "a2b");
  // Ourselves, strangers and incarnation 0 are not taken.
  m.handle_message(
      t0, "n3", Gossip{{{"n1", "x", 9, 9, 5}, {"n9", "a9", 1, 1, 5}, {"n3", "a3", 0, 4, 5}}, true});
  EXPECT_EQ(row_of("n1").incarnation, 1u);
  EXPECT_EQ(counters.get("gossip_self_newer"), 1u);
  EXPECT_EQ(counters.get("gossip_members_not_in_ring"), 1u);
  EXPECT_EQ(counters.get("gossip_members_invalid"), 1u);
  EXPECT_EQ(row_of("n3").incarnation, 0u);
  // A different ring digest is shown and counted once.
  m.handle_message(t0, "n3", Gossip{{{"n3", "a3", 1, 1, 6}}, true});
  m.handle_message(t0, "n3", Gossip{{{"n3", "a3", 1, 2, 6}}, true});
  out = outbox.take();
  EXPECT_TRUE(row_of("n3").ring_mismatch);
  EXPECT_FALSE(row_of("n2").ring_mismatch);
  EXPECT_EQ(counters.get("ring_mismatches"), 1u);
  EXPECT_FALSE(m.handle_message(t0, "n3", ReplicaRead{1, "k"}));
}

TEST(Membership, AcksAreMatchedToTheRoundInProgressOnly) {
  Random random(1);
  NodeCounters counters;
  Outbox outbox("n1");
  Membership m({}, MembershipIdentity{"n1", "n1", 1, 5}, {{"n2", "n2"}}, {"n1", "n2", "n3"}, random,
               counters, outbox);
  std::vector<Envelope> out;
  const Instant t0 = instant_from_micros(1'000'000);
  m.handle_timeout(t0);
  out = outbox.take();
  const Ping* ping = nullptr;
  for (const Envelope& e : out) {
    if (std::holds_alternative<Ping>(e.message)) ping = &std::get<Ping>(e.message);
  }
  ASSERT_NE(ping, nullptr);
  const std::uint64_t id = ping->probe_id;
  m.handle_message(t0, "n3", PingAck{id, "", "n2"});  // not from the target
  out = outbox.take();
  EXPECT_EQ(counters.get("membership_ignored_bad_ack"), 1u);
  m.handle_message(t0, "n2", PingAck{id + 1, "", "n2"});  // another round
  out = outbox.take();
  EXPECT_EQ(counters.get("probe_acks_stale"), 1u);
  m.handle_message(t0, "n2", PingAck{id, "", "n2"});
  out = outbox.take();
  EXPECT_EQ(counters.get("probe_acks"), 1u);
  m.handle_message(t0, "n2", PingAck{id, "", "n2"});  // duplicate
  out = outbox.take();
  EXPECT_EQ(counters.get("probe_acks_stale"), 2u);
  // As a helper: a PingRequest makes a Ping naming the requester; the ack is relayed.
  m.handle_message(t0, "n3", PingRequest{77, "n2"});
  out = outbox.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to, "n2");
  EXPECT_EQ(std::get<Ping>(out[0].message).requester, "n3");
  m.handle_message(t0, "n2", PingAck{77, "n3", "n2"});
  out = outbox.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to, "n3");
  EXPECT_EQ(std::get<PingAck>(out[0].message), (PingAck{77, "n3", "n2"}));
  EXPECT_EQ(counters.get("probe_indirect_relayed"), 1u);
  // And a Ping is answered with an ack naming us.
  m.handle_message(t0, "n3", Ping{5, ""});
  out = outbox.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<PingAck>(out[0].message), (PingAck{5, "", "n1"}));
}

TEST(Membership, AFrozenObserverDoesNotBlameItsPeers) {
  Network net(4, fast_phi());
  net.run_for(seconds(40));
  net.freeze("n1", seconds(20));  // longer than failure_threshold
  net.run_for(seconds(10));
  for (const Change& change : net.changes) {
    EXPECT_NE(change.observer, "n1") << "n1 judged " << change.transition.peer;
  }
  EXPECT_EQ(net.counter("n1", "membership_local_pauses"), 1u);
  // The others did see n1 go silent, and come back.
  EXPECT_TRUE(net.first("n2", "n1", PeerState::failed, Instant{}));
  EXPECT_EQ(net.state("n2", "n1"), PeerState::alive);
}

}  // namespace
}  // namespace vigil::core
