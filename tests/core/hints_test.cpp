// Sloppy quorum and hinted handoff (core/coordinator/hints_fallback.cpp,
// core/handoff/hints.cpp): a write whose replicas are down succeeds through durable hints
// on fallback nodes, the hints are handed back when the replicas return, and expiry,
// attempts, backlog, duplicates and storage failures are bounded and counted.

#include <gtest/gtest.h>

#include <algorithm>

#include "config/config.h"
#include "config/node_options.h"
#include "core/handoff/handoff.h"
#include "core/node/node.h"
#include "core/node/node_context.h"
#include "core/replica/replica.h"
#include "tests/core/node_cluster.h"

namespace vigil::core {
namespace {

using testing::TestCluster;

NodeOptions hint_options() {
  NodeOptions options;
  options.membership.enabled = false;  // peer_is_up is always true: silence is what counts
  options.hints.check_interval = std::chrono::seconds(10);
  options.hints.retry_interval = std::chrono::seconds(20);
  return options;
}

// The ring walk past the preference list: where hints for `key` go, in order.
std::vector<NodeId> fallbacks_of(const TestCluster& cluster, const Key& key) {
  const auto walk = cluster.ring().preference_list(token_of_key(key), cluster.ids().size());
  return std::vector<NodeId>(walk.begin() + 3, walk.end());
}

std::vector<StoredHint> hints_on(TestCluster& cluster, const NodeId& id) {
  auto hints = cluster.storage(id).hints_after(0, 1000);
  EXPECT_TRUE(hints.ok()) << hints.status().to_string();
  return hints.ok() ? *hints : std::vector<StoredHint>{};
}

bool holds_value(TestCluster& cluster, const NodeId& id, const Key& key, const Value& value) {
  auto state = cluster.stored(id, key);
  if (!state) return false;
  for (const Version& version : state->versions()) {
    if (version.value == value) return true;
  }
  return false;
}

TEST(Hints, AWriteReachesQuorumThroughHintsWhenTwoReplicasAreDown) {
  TestCluster cluster(5, hint_options());
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  const auto fallbacks = fallbacks_of(cluster, key);
  cluster.down = {list[1], list[2]};

  const ClientReply put = cluster.put(list[0], key, "v");
  ASSERT_TRUE(put.status.ok()) << put.status.to_string();
  EXPECT_GE(cluster.counter(list[0], "hint_acks_counted"), 1u);
  EXPECT_EQ(cluster.counter(list[0], "hint_writes_sent"), 2u) << "one fallback per replica";
  // Each fallback holds one hint, for a different replica, durably: it survives a crash.
  std::set<NodeId> targets;
  for (const NodeId& fallback : fallbacks) {
    cluster.restart(fallback);
    const auto hints = hints_on(cluster, fallback);
    ASSERT_EQ(hints.size(), 1u) << fallback;
    EXPECT_EQ(hints[0].key, key);
    targets.insert(hints[0].target);
    EXPECT_EQ(cluster.node(fallback).hints_pending(), 1u);
  }
  EXPECT_EQ(targets, (std::set<NodeId>{list[1], list[2]}));
}

TEST(Hints, HintsAreReplayedWhenTheTargetsReturn) {
  NodeOptions options = hint_options();
  options.anti_entropy.trees_enabled = false;  // the end asserts no timer; it keeps its own
  options.tombstone_gc.mode = TombstoneGcMode::disabled;  // its scan timer too
  TestCluster cluster(5, options);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  const auto fallbacks = fallbacks_of(cluster, key);
  cluster.down = {list[1], list[2]};
  ASSERT_TRUE(cluster.put(list[0], key, "v").status.ok());
  EXPECT_FALSE(holds_value(cluster, list[1], key, "v"));

  cluster.down.clear();
  cluster.advance(std::chrono::seconds(30));  // the first checks find the targets answering
  for (const NodeId& replica : {list[1], list[2]}) {
    EXPECT_TRUE(holds_value(cluster, replica, key, "v")) << replica;
  }
  for (const NodeId& fallback : fallbacks) {
    EXPECT_EQ(cluster.node(fallback).hints_pending(), 0u) << fallback;
    EXPECT_EQ(cluster.counter(fallback, "hints_delivered"), 1u) << fallback;
  }
  EXPECT_EQ(cluster.counter_sum("hint_deliveries_received"), 2u);
  // Nothing held, nothing armed: an idle holder has no timer.
  for (const NodeId& fallback : fallbacks) {
    EXPECT_EQ(cluster.node(fallback).poll_timeout(), std::nullopt) << fallback;
  }
}

TEST(Hints, AHintIsNotAcknowledgedBeforeItsCommit) {
  TestCluster cluster(5, hint_options());
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  const auto fallbacks = fallbacks_of(cluster, key);
  cluster.down = {list[1], list[2]};
  for (const NodeId& fallback : fallbacks) cluster.store(fallback).fail_next_commit();

  const ClientReply put = cluster.put(list[0], key, "v");
  EXPECT_EQ(put.status.code(), Code::unavailable) << put.status.to_string();
  EXPECT_EQ(cluster.counter(list[0], "hint_acks_counted"), 0u);
  EXPECT_GE(cluster.counter(list[0], "hint_write_refusals"), 2u) << "io_error in place of acks";
  for (const NodeId& fallback : fallbacks) {
    EXPECT_EQ(cluster.counter(fallback, "withdrawn_messages"), 1u) << fallback;
    cluster.restart(fallback);
    EXPECT_EQ(cluster.node(fallback).hints_pending(), 0u) << "the hint never became durable";
  }
}

TEST(Hints, ConsistencyAllIsNotSatisfiedByHints) {
  TestCluster cluster(5, hint_options());
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  cluster.down = {list[2]};
  const ClientReply put = cluster.put(list[0], key, "v", std::nullopt, Consistency::all);
  EXPECT_EQ(put.status.code(), Code::unavailable) << put.status.to_string();
  EXPECT_EQ(cluster.counter(list[0], "hint_acks_counted"), 0u);
  EXPECT_EQ(cluster.counter(list[0], "hint_writes_acknowledged"), 1u)
      << "the hint is still kept, so the replica gets the write when it returns";
  cluster.down.clear();
  cluster.advance(std::chrono::seconds(30));
  EXPECT_TRUE(holds_value(cluster, list[2], key, "v"));
}

TEST(Hints, HintsCanBeKeptOutOfTheQuorum) {
  NodeOptions options = hint_options();
  options.hints.count_toward_write_quorum = false;
  TestCluster cluster(5, options);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  cluster.down = {list[1], list[2]};
  const ClientReply put = cluster.put(list[0], key, "v");
  EXPECT_EQ(put.status.code(), Code::unavailable);
  EXPECT_EQ(cluster.counter(list[0], "hint_writes_acknowledged"), 2u);
}

TEST(Hints, WithHintsDisabledADownReplicaIsJustMissing) {
  NodeOptions options = hint_options();
  options.hints.enabled = false;
  TestCluster cluster(5, options);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  cluster.down = {list[1], list[2]};
  EXPECT_EQ(cluster.put(list[0], key, "v").status.code(), Code::unavailable);
  EXPECT_EQ(cluster.counter_sum("hint_writes_sent"), 0u);
  EXPECT_EQ(cluster.counter_sum("hints_stored"), 0u);
}

TEST(Hints, HintsPastTheirExpiryAreDroppedAndCounted) {
  NodeOptions options = hint_options();
  options.hints.expiry = std::chrono::seconds(45);
  options.hints.retry_interval = std::chrono::hours(1);  // no attempt limit in the way
  TestCluster cluster(5, options);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  const auto fallbacks = fallbacks_of(cluster, key);
  cluster.down = {list[1], list[2]};
  ASSERT_TRUE(cluster.put(list[0], key, "v").status.ok());

  cluster.advance(std::chrono::seconds(40));
  EXPECT_EQ(cluster.counter_sum("hints_expired"), 0u);
  cluster.advance(std::chrono::seconds(30));
  EXPECT_EQ(cluster.counter_sum("hints_expired"), 2u);
  for (const NodeId& fallback : fallbacks) EXPECT_EQ(cluster.node(fallback).hints_pending(), 0u);
  cluster.down.clear();
  cluster.advance(std::chrono::minutes(2));
  EXPECT_FALSE(holds_value(cluster, list[1], key, "v")) << "expired: left to anti-entropy";
  EXPECT_EQ(cluster.counter_sum("hint_deliveries_received"), 0u);
}

TEST(Hints, AHintIsDroppedAfterMaxAttempts) {
  NodeOptions options = hint_options();
  options.hints.max_attempts = 3;
  TestCluster cluster(5, options);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  const auto fallbacks = fallbacks_of(cluster, key);
  cluster.down = {list[1], list[2]};
  ASSERT_TRUE(cluster.put(list[0], key, "v").status.ok());

  // A timeout does not pause the target: the hint goes again at the next check (every
  // 10s), so the attempts are spent at 10s, 20s and 30s (each times out 2s later).
  cluster.advance(std::chrono::seconds(25));
  EXPECT_EQ(cluster.counter_sum("hint_delivery_failures"), 4u) << "two attempts per hint";
  EXPECT_EQ(hints_on(cluster, fallbacks[0]).at(0).attempts, 2u) << "attempts are stored";
  EXPECT_EQ(cluster.counter_sum("hint_target_pauses"), 0u) << "two timeouts in a row";
  cluster.advance(std::chrono::seconds(10));
  EXPECT_EQ(cluster.counter_sum("hint_delivery_failures"), 6u);
  EXPECT_EQ(cluster.counter_sum("hints_dropped_max_attempts"), 2u);
  for (const NodeId& fallback : fallbacks) EXPECT_EQ(cluster.node(fallback).hints_pending(), 0u);
}

TEST(Hints, TheBacklogPerTargetIsBoundedAndCounted) {
  NodeOptions options = hint_options();
  options.hints.per_target_max = 2;
  TestCluster cluster(5, options);
  std::vector<WireStatus> answers;
  cluster.drop_if = [&](const Envelope& envelope) {
    if (const auto* reply = std::get_if<ReplicaWriteReply>(&envelope.message)) {
      answers.push_back(reply->status);
      return true;
    }
    return false;
  };
  SiblingSet state;
  VersionCounters version_counters;
  ASSERT_TRUE(state.write("n1.1.abcdef", {}, Value("v"), testing::wall_epoch_us,
                          ConflictMode::siblings, SiblingLimits{}, version_counters)
                  .ok());
  for (RequestId id = 1; id <= 3; ++id) {
    cluster.deliver(Envelope{"n1", "n4", HintWrite{id, "n2", "k" + std::to_string(id), state}});
  }
  cluster.deliver(Envelope{"n1", "n4", HintWrite{4, "n3", "k4", state}});
  cluster.settle();
  ASSERT_EQ(answers.size(), 4u);
  EXPECT_EQ(answers[0].code, Code::ok);
  EXPECT_EQ(answers[1].code, Code::ok);
  EXPECT_EQ(answers[2].code, Code::resource_exhausted) << answers[2].message;
  EXPECT_EQ(answers[3].code, Code::ok) << "the bound is per target";
  EXPECT_EQ(cluster.counter("n4", "hints_refused_backlog"), 1u);
  EXPECT_EQ(cluster.node("n4").hints_pending(), 3u);
}

TEST(Hints, ADuplicatedDeliveryIsHarmlessAndAnUnknownReplyIsCounted) {
  TestCluster cluster(5, hint_options());
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  const auto fallbacks = fallbacks_of(cluster, key);
  cluster.down = {list[1], list[2]};
  ASSERT_TRUE(cluster.put(list[0], key, "v").status.ok());
  cluster.down.clear();
  cluster.hold = true;
  cluster.advance(std::chrono::seconds(10));  // the first check sends the deliveries
  std::vector<Envelope> deliveries = std::exchange(cluster.held, {});
  ASSERT_EQ(deliveries.size(), 2u);
  cluster.hold = false;
  for (const Envelope& envelope : deliveries) {
    cluster.deliver(envelope);
    cluster.deliver(envelope);
  }
  cluster.settle();
  for (const NodeId& replica : {list[1], list[2]}) {
    EXPECT_EQ(cluster.stored(replica, key), cluster.stored(list[0], key)) << replica;
  }
  EXPECT_EQ(cluster.counter_sum("hints_delivered"), 2u);
  EXPECT_EQ(cluster.counter_sum("ignored_unknown_hint"), 2u) << "the second replies";
  for (const NodeId& fallback : fallbacks) EXPECT_EQ(cluster.node(fallback).hints_pending(), 0u);
}

TEST(Hints, HintIdsStayUniqueAcrossRestarts) {
  TestCluster cluster(5, hint_options());
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  const auto fallbacks = fallbacks_of(cluster, key);
  cluster.down = {list[1], list[2]};
  ASSERT_TRUE(cluster.put(list[0], key, "v1").status.ok());
  const std::uint64_t first_id = hints_on(cluster, fallbacks[0]).at(0).id;
  cluster.restart(fallbacks[0]);
  ASSERT_TRUE(cluster.put(list[0], key, "v2").status.ok());
  const auto hints = hints_on(cluster, fallbacks[0]);
  ASSERT_EQ(hints.size(), 2u);
  EXPECT_EQ(hints[0].id, first_id);
  EXPECT_GT(hints[1].id, first_id);
}

TEST(Hints, ACorruptHintIsErasedAndCountedAndTheOthersAreDelivered) {
  TestCluster cluster(5, hint_options());
  const auto list = cluster.replicas_of("k");
  cluster.down = {list[1], list[2]};
  // Several hints on one fallback: three keys sharing the same preference list are rare,
  // so send the hints directly.
  const NodeId holder = fallbacks_of(cluster, "k")[0];
  SiblingSet state;
  VersionCounters version_counters;
  ASSERT_TRUE(state.write("n1.1.abcdef", {}, Value("v"), testing::wall_epoch_us,
                          ConflictMode::siblings, SiblingLimits{}, version_counters)
                  .ok());
  for (RequestId id = 1; id <= 3; ++id) {
    cluster.deliver(Envelope{list[0], holder, HintWrite{id, list[1], "h" + std::to_string(id),
                                                        state}});
  }
  cluster.settle();
  const auto hints = hints_on(cluster, holder);
  ASSERT_EQ(hints.size(), 3u);
  ASSERT_TRUE(cluster.store(holder).corrupt_hint(hints[1].id).ok());
  cluster.down.clear();
  cluster.advance(std::chrono::seconds(30));
  EXPECT_EQ(cluster.counter(holder, "hints_corrupt"), 1u);
  EXPECT_EQ(cluster.counter(holder, "hints_delivered"), 2u);
  EXPECT_EQ(cluster.node(holder).hints_pending(), 0u);
  EXPECT_TRUE(holds_value(cluster, list[1], "h1", "v"));
  EXPECT_TRUE(holds_value(cluster, list[1], "h3", "v"));
}

// The holder's state machine directly: replay on recovery, paced.
TEST(Hints, ATargetSeenAliveAgainGetsItsHintsAtOncePaced) {
  store::MemoryStore disk;
  store::TypedStorage storage(disk);
  NodeOptions options = hint_options();
  options.id = "n4";
  options.hints.check_interval = std::chrono::hours(1);  // only the transition can replay
  options.hints.replay_in_flight_max = 4;
  RingOptions ring_options;
  ring_options.vnodes = 16;
  const Ring ring = Ring::build({"n1", "n2", "n3", "n4", "n5"}, ring_options);
  NodeContext state(options, ring, storage, 7);
  Replica replica(state);
  Handoff handoff(state, replica);
  const Now now{instant_from_micros(1'000'000), testing::wall_epoch_us};
  SiblingSet value;
  VersionCounters version_counters;
  ASSERT_TRUE(value.write("n1.1.abcdef", {}, Value("v"), testing::wall_epoch_us,
                          ConflictMode::siblings, SiblingLimits{}, version_counters)
                  .ok());
  for (RequestId id = 1; id <= 10; ++id) {
    handoff.handle_hint_write(now, "n1", HintWrite{id, "n2", "h" + std::to_string(id), value});
  }
  ASSERT_TRUE(disk.commit().ok());
  state.outbox.take();

  auto deliveries = [&] {
    std::vector<HintDelivery> out;
    for (const Envelope& envelope : state.outbox.take()) {
      if (const auto* delivery = std::get_if<HintDelivery>(&envelope.message)) {
        EXPECT_EQ(envelope.to, "n2");
        out.push_back(*delivery);
      }
    }
    return out;
  };
  handoff.handle_peer_transition(now,
                                 PeerTransition{"n3", PeerState::failed, PeerState::alive, {}});
  EXPECT_TRUE(deliveries().empty()) << "no hints for n3";
  handoff.handle_peer_transition(now,
                                 PeerTransition{"n2", PeerState::failed, PeerState::alive, {}});
  auto first = deliveries();
  ASSERT_EQ(first.size(), 4u) << "replay_in_flight_max";
  // Each answer lets the next one go.
  handoff.handle_hint_delivery_reply(now, "n2", HintDeliveryReply{first[0].hint_id, {}});
  EXPECT_EQ(deliveries().size(), 1u);
  // A reply from another node for the same id is not the target's.
  handoff.handle_hint_delivery_reply(now, "n3", HintDeliveryReply{first[1].hint_id, {}});
  EXPECT_EQ(state.counters.get("ignored_unknown_hint"), 1u);
  EXPECT_EQ(state.counters.get("hints_delivered"), 1u);
  EXPECT_EQ(*storage.hint_count(), 9u);
}

TEST(Hints, SettingsComeFromTheConfig) {
  config::Config config;
  config.hint_storage.maintenance.check_interval = std::chrono::seconds(7);
  config.hint_storage.maintenance.retry_interval = std::chrono::seconds(8);
  config.hint_storage.maintenance.max_attempts = 9;
  config.hint_storage.maintenance.expiry = std::chrono::seconds(60);
  config.hint_storage.count_toward_write_quorum = false;
  config.hint_storage.replay_in_flight_max = 3;
  config.hint_storage.enabled = false;
  config.limits.hints_per_target_max = 11;
  ASSERT_TRUE(config::validate(config).ok());
  const NodeOptions options = config::node_options_from_config(config);
  EXPECT_EQ(options.hints.check_interval, std::chrono::seconds(7));
  EXPECT_EQ(options.hints.retry_interval, std::chrono::seconds(8));
  EXPECT_EQ(options.hints.max_attempts, 9u);
  EXPECT_EQ(options.hints.expiry, std::chrono::seconds(60));
  EXPECT_FALSE(options.hints.count_toward_write_quorum);
  EXPECT_EQ(options.hints.replay_in_flight_max, 3u);
  EXPECT_FALSE(options.hints.enabled);
  EXPECT_EQ(options.hints.per_target_max, 11u);
  const NodeOptions defaults = config::node_options_from_config(config::Config{});
  EXPECT_TRUE(defaults.hints.enabled);
  EXPECT_TRUE(defaults.hints.count_toward_write_quorum);
  EXPECT_EQ(defaults.hints.replay_in_flight_max, 16u);
  EXPECT_EQ(defaults.hints.check_interval, std::chrono::minutes(1));
}

}  // namespace
}  // namespace vigil::core
