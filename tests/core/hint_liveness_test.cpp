// Hint replay liveness (core/handoff/hints.cpp, hint_stalls.cpp): a lost delivery does not
// stall the other hints for its target, it is retried on its own with its attempt
// counted; a refusal, or timeouts_before_pause timeouts in a row, pause the target; and
// hints kept undelivered while their target is up are counted as stalled.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/handoff/handoff.h"
#include "core/node/node_context.h"
#include "core/replica/replica.h"
#include "store/memory_store.h"
#include "store/typed_storage.h"
#include "tests/core/node_cluster.h"

namespace vigil::core {
namespace {

// A holder (n4) of `count` hints for n2, driven directly.
class Holder {
 public:
  explicit Holder(int count) : storage_(disk_), state_(options(), ring(), storage_, 7) {
    SiblingSet value;
    VersionCounters version_counters;
    EXPECT_TRUE(value.write("n1.1.abcdef", {}, Value("v"), testing::wall_epoch_us,
                            ConflictMode::siblings, SiblingLimits{}, version_counters)
                    .ok());
    for (int id = 1; id <= count; ++id) {
      handoff_.handle_hint_write(at(0), "n1",
                                 HintWrite{RequestId(id), "n2", "h" + std::to_string(id), value});
    }
    EXPECT_TRUE(disk_.commit().ok());
    state_.outbox.take();
  }

  static NodeOptions options() {
    NodeOptions options;
    options.id = "n4";
    options.membership.enabled = false;  // n2 is always up in this node's view
    options.hints.check_interval = std::chrono::seconds(10);
    options.hints.retry_interval = std::chrono::seconds(60);
    options.hints.replay_in_flight_max = 4;
    return options;  // replication_timeout: 2s
  }
  static const Ring& ring() {
    static const Ring ring = [] {
      RingOptions ring_options;
      ring_options.vnodes = 16;
      return Ring::build({"n1", "n2", "n3", "n4", "n5"}, ring_options);
    }();
    return ring;
  }
  static Now at(int seconds) {
    return Now{instant_from_micros(1'000'000LL * (1 + seconds)),
               testing::wall_epoch_us + 1'000'000LL * seconds};
  }

  std::vector<std::uint64_t> sent() {
    std::vector<std::uint64_t> ids;
    for (const Envelope& envelope : state_.outbox.take()) {
      if (const auto* delivery = std::get_if<HintDelivery>(&envelope.message)) {
        ids.push_back(delivery->hint_id);
      }
    }
    return ids;
  }
  void answer(int seconds, std::uint64_t id, Code code = Code::ok) {
    handoff_.handle_hint_delivery_reply(at(seconds), "n2", HintDeliveryReply{id, {code, ""}});
    ASSERT_TRUE(disk_.commit().ok());
  }
  void tick(int seconds) {
    handoff_.handle_timeout(at(seconds));
    ASSERT_TRUE(disk_.commit().ok());
  }
  std::uint64_t counter(CounterId counter) const { return state_.counters.get(counter); }
  Handoff& handoff() { return handoff_; }
  store::TypedStorage& storage() { return storage_; }

 private:
  store::MemoryStore disk_;
  store::TypedStorage storage_;
  NodeContext state_;
  Replica replica_{state_};
  Handoff handoff_{state_, replica_};
};

TEST(HintLiveness, ALostDeliveryDoesNotStallTheOtherHintsForItsTarget) {
  Holder holder(10);
  holder.tick(10);  // the first check: a round of replay_in_flight_max
  const auto first = holder.sent();
  ASSERT_EQ(first.size(), 4u);
  // The delivery of first[0] (or its reply) is lost; the others are answered at 11s, and
  // each answer sends the next hint at once (those time out at 13s, if ever).
  for (std::size_t i = 1; i < first.size(); ++i) holder.answer(11, first[i]);
  const auto second = holder.sent();
  ASSERT_EQ(second.size(), 3u);
  holder.tick(12);  // first[0] times out
  EXPECT_EQ(holder.counter("hint_delivery_timeouts"), 1u);
  EXPECT_EQ(holder.counter("hint_target_pauses"), 0u) << "one timeout does not pause n2";
  // The lost hint is retried on its own, its attempt stored, at the next round: here the
  // next answered delivery, long before retry_interval (60s).
  holder.answer(12, second[0]);
  const auto third = holder.sent();  // back to replay_in_flight_max, the lost hint first
  ASSERT_EQ(third.size(), 2u);
  EXPECT_EQ(third[0], first[0]);
  auto stored = holder.storage().hints_for("n2", 100, {});
  ASSERT_TRUE(stored.ok());
  ASSERT_FALSE(stored->empty());
  EXPECT_EQ(stored->front().id, first[0]);
  EXPECT_EQ(stored->front().attempts, 1u) << "the attempt is stored";
  // Everything else keeps flowing: answer each delivery as it goes out.
  std::vector<std::uint64_t> outstanding{second[1], second[2], third[0], third[1]};
  for (std::size_t i = 0; i < outstanding.size(); ++i) {
    ASSERT_LT(i, 20u);
    holder.answer(13, outstanding[i]);
    for (std::uint64_t id : holder.sent()) outstanding.push_back(id);
  }
  EXPECT_EQ(std::count(outstanding.begin(), outstanding.end(), first[0]), 1)
      << "the lost hint was sent again once";
  EXPECT_EQ(holder.handoff().hints_pending(), 0u) << "every hint delivered within seconds";
  EXPECT_EQ(holder.counter("hints_delivered"), 10u);
  EXPECT_EQ(holder.counter("hints_stalled_target_up"), 0u);
}

TEST(HintLiveness, ARefusalPausesTheTarget) {
  Holder holder(2);
  holder.tick(10);
  const auto first = holder.sent();
  ASSERT_EQ(first.size(), 2u);
  holder.answer(10, first[0], Code::io_error);
  EXPECT_EQ(holder.counter("hint_target_pauses"), 1u);
  holder.answer(10, first[1]);
  EXPECT_TRUE(holder.sent().empty()) << "paused: the answer sends nothing";
  holder.tick(20);  // a check during the pause starts no round
  EXPECT_TRUE(holder.sent().empty());
  holder.tick(70);  // retry_interval after the refusal
  EXPECT_EQ(holder.sent(), std::vector<std::uint64_t>{first[0]});
}

TEST(HintLiveness, TimeoutsInARowPauseTheTargetAndAStallIsCounted) {
  Holder holder(4);
  holder.tick(10);
  ASSERT_EQ(holder.sent().size(), 4u);
  holder.tick(12);  // n2 is silent: four timeouts in a row, the third pauses it
  EXPECT_EQ(holder.counter("hint_delivery_timeouts"), 4u);
  EXPECT_EQ(holder.counter("hint_target_pauses"), 1u);
  EXPECT_EQ(holder.counter("hints_stalled_target_up"), 0u);
  // Checks at 20s, 30s, ...: n2 is up in this node's view, its oldest hint stays.
  for (int second = 20; second <= 70; second += 10) holder.tick(second);
  EXPECT_TRUE(holder.sent().empty()) << "paused until 72s";
  EXPECT_EQ(holder.counter("hints_stalled_target_up"), 4u) << "watched from the check at 10s, stalled at the one at 70s";
}

}  // namespace
}  // namespace vigil::core
