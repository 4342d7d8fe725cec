#include "sim/event_queue.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <tuple>
#include <vector>

namespace vigil::sim {
namespace {

Event at(std::int64_t time_us, std::uint64_t tag) {
  return Event::make(time_us, EventKind::fault, 0, tag);
}

TEST(EventQueue, PopsInTimeOrder) {
  EventQueue queue(16);
  queue.push(at(30, 0));
  queue.push(at(10, 1));
  queue.push(at(20, 2));
  EXPECT_EQ(queue.next_time_us(), 10);
  EXPECT_EQ(queue.pop().tag, 1u);
  EXPECT_EQ(queue.pop().tag, 2u);
  EXPECT_EQ(queue.pop().tag, 0u);
  EXPECT_TRUE(queue.empty());
}

TEST(EventQueue, TiesAreBrokenBySchedulingOrder) {
  EventQueue queue(64);
  for (std::uint64_t i = 0; i < 40; ++i) queue.push(at(5, i));
  for (std::uint64_t i = 0; i < 40; ++i) {
    const Event event = queue.pop();
    EXPECT_EQ(event.tag, i);
    EXPECT_EQ(event.sequence, i);
  }
}

TEST(EventQueue, KeepsPayloadBytesAndReusesSlots) {
  EventQueue queue(4);
  for (int round = 0; round < 10; ++round) {
    Event event = at(round, 0);
    event.bytes = std::string(100 + static_cast<std::size_t>(round), 'x');
    queue.push(std::move(event));
    EXPECT_EQ(queue.pop().bytes.size(), 100u + static_cast<std::size_t>(round));
  }
  EXPECT_EQ(queue.length_peak(), 1u);
}

TEST(EventQueue, ReportsFullAtItsBound) {
  EventQueue queue(2);
  queue.push(at(1, 0));
  EXPECT_FALSE(queue.full());
  queue.push(at(1, 1));
  EXPECT_TRUE(queue.full());
  queue.pop();
  EXPECT_FALSE(queue.full());
}

TEST(EventQueueDeathTest, RefusesToScheduleInThePast) {
  EventQueue queue(4);
  queue.push(at(10, 0));
  queue.pop();
  EXPECT_DEATH(queue.push(at(9, 0)), "in the past");
}

// Any interleaving of pushes and pops gives the events in (time, push order) order.
RC_GTEST_PROP(EventQueueProperty, OrderIsTimeThenPushOrder, ()) {
  const auto times = *rc::gen::container<std::vector<std::int64_t>>(rc::gen::inRange(0, 8));
  EventQueue queue(1000);
  std::vector<std::tuple<std::int64_t, std::uint64_t>> expected;
  for (std::size_t i = 0; i < times.size(); ++i) {
    queue.push(at(times[i], i));
    expected.emplace_back(times[i], i);
  }
  std::sort(expected.begin(), expected.end());
  for (const auto& [time, tag] : expected) {
    const Event event = queue.pop();
    RC_ASSERT(event.time_us == time);
    RC_ASSERT(event.tag == tag);
  }
  RC_ASSERT(queue.empty());
}

}  // namespace
}  // namespace vigil::sim
