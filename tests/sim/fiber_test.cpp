#include "sim/fiber.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace vigil::sim {
namespace {

// A minimal event loop: what the simulator does with fiber_wake events.
struct Loop {
  EventQueue queue{1024};
  FiberScheduler fibers{queue};
  std::int64_t now_us = 0;

  void run() {
    while (!queue.empty()) {
      const Event event = queue.pop();
      now_us = event.time_us;
      ASSERT_EQ(event.kind, EventKind::fiber_wake);
      fibers.handle_event(event);
    }
  }
};

TEST(Fiber, RunsUntilSuspendAndResumesWhereItLeft) {
  StackPool stacks;
  std::vector<std::string> log;
  Fiber* self = nullptr;
  Fiber fiber(
      "f",
      [&] {
        log.push_back("a");
        self->suspend();
        log.push_back("b");
      },
      stacks);
  self = &fiber;
  EXPECT_TRUE(log.empty());
  fiber.resume();
  EXPECT_EQ(log, std::vector<std::string>{"a"});
  EXPECT_FALSE(fiber.finished());
  fiber.resume();
  EXPECT_EQ(log, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(fiber.finished());
}

TEST(Fiber, DestroyingASuspendedFiberUnwindsItsStack) {
  struct Guard {
    bool* flag;
    ~Guard() { *flag = true; }
  };
  StackPool stacks;
  bool unwound = false;
  bool after_suspend = false;
  {
    Fiber* self = nullptr;
    Fiber fiber(
        "f",
        [&] {
          Guard guard{&unwound};
          self->suspend();
          after_suspend = true;
        },
        stacks);
    self = &fiber;
    fiber.resume();
    EXPECT_FALSE(unwound);
  }
  EXPECT_TRUE(unwound);
  EXPECT_FALSE(after_suspend);
}

TEST(Fiber, DestroyingAFiberNeverResumedSkipsItsBody) {
  StackPool stacks;
  bool ran = false;
  {
    Fiber fiber(
        "f", [&] { ran = true; }, stacks);
  }
  EXPECT_FALSE(ran);
}

// Deep recursion on a fiber stack works (the stack is real, not a heap frame).
int depth(int n) {
  volatile char pad[256];
  pad[0] = static_cast<char>(n);
  return n == 0 ? pad[0] : 1 + depth(n - 1);
}

TEST(Fiber, HasARealStack) {
  StackPool stacks;
  int result = 0;
  Fiber fiber(
      "deep", [&] { result = depth(200); }, stacks);
  fiber.resume();
  EXPECT_EQ(result, 200);
}

TEST(FiberScheduler, FibersSleepAndWakeInVirtualTimeOrder) {
  Loop loop;
  std::vector<std::pair<std::int64_t, std::string>> log;
  auto sleeper = [&](std::string name, std::vector<std::int64_t> naps) {
    return [&, name, naps] {
      for (const std::int64_t nap : naps) {
        loop.fibers.sleep_until(loop.now_us + nap);
        log.emplace_back(loop.now_us, name);
      }
    };
  };
  loop.fibers.spawn("a", sleeper("a", {30, 30, 30}), 0);
  loop.fibers.spawn("b", sleeper("b", {20, 20, 20, 20}), 0);
  loop.fibers.spawn("c", sleeper("c", {60}), 5);
  loop.run();
  const std::vector<std::pair<std::int64_t, std::string>> expected = {
      {20, "b"}, {30, "a"}, {40, "b"}, {60, "a"}, {60, "b"}, {65, "c"}, {80, "b"}, {90, "a"}};
  EXPECT_EQ(log, expected);
  for (FiberId id = 0; id < 3; ++id) EXPECT_TRUE(loop.fibers.finished(id));
}

// Finished fibers give back their stack and slot; a wake meant for the old occupant of a
// slot does not reach the new one.
TEST(FiberScheduler, ReusesStacksAndSlotsWithoutStaleWakes) {
  Loop loop;
  int runs = 0;
  const FiberId first = loop.fibers.spawn(
      "first", [&] { runs += 1; }, 0);
  loop.run();
  EXPECT_TRUE(loop.fibers.finished(first));
  bool woken_early = false;
  const FiberId second = loop.fibers.spawn(
      "second",
      [&] {
        loop.fibers.sleep_until(1000);
        woken_early = loop.now_us < 1000;
        runs += 1;
      },
      10);
  EXPECT_EQ(second, first);                                           // the slot is reused
  loop.queue.push(Event::make(20, EventKind::fiber_wake, first, 1));  // the old fiber's token
  loop.run();
  EXPECT_FALSE(woken_early);
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(loop.fibers.stacks().allocated(), 1u);  // one stack served both
  EXPECT_EQ(loop.fibers.live(), 0u);
  for (int i = 0; i < 1000; ++i)
    loop.fibers.spawn(
        "many", [&] { runs += 1; }, 2000);
  loop.run();
  EXPECT_EQ(runs, 1002);
  EXPECT_EQ(loop.fibers.spawned(), 1002u);
}

// A fiber can start fibers (a client starting one fiber per operation).
TEST(FiberScheduler, FibersSpawnFibers) {
  Loop loop;
  std::vector<std::int64_t> done;
  loop.fibers.spawn(
      "parent",
      [&] {
        for (int i = 0; i < 50; ++i) {
          loop.fibers.spawn(
              "child",
              [&, i] {
                loop.fibers.sleep_until(loop.now_us + 100 - 2 * i);  // wakes at 100 - i
                done.push_back(loop.now_us);
              },
              loop.now_us);
          loop.fibers.sleep_until(loop.now_us + 1);
        }
      },
      0);
  loop.run();
  ASSERT_EQ(done.size(), 50u);
  EXPECT_TRUE(std::is_sorted(done.begin(), done.end()));
  EXPECT_EQ(done.front(), 51);
  EXPECT_EQ(done.back(), 100);
  EXPECT_EQ(loop.fibers.live(), 0u);
}

TEST(FiberScheduler, SameTimeWakesRunInSchedulingOrder) {
  Loop loop;
  std::vector<int> order;
  for (int i = 0; i < 5; ++i) {
    loop.fibers.spawn(
        "f",
        [&, i] {
          loop.fibers.sleep_until(100);
          order.push_back(i);
        },
        0);
  }
  loop.run();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

// A wait ends on whichever comes first; the other wake finds its token stale.
TEST(FiberScheduler, FirstWakeWinsAndLaterOnesAreStale) {
  Loop loop;
  std::uint64_t token = 0;
  std::int64_t woke_at = -1;
  const FiberId id = loop.fibers.spawn(
      "waiter",
      [&] {
        token = loop.fibers.begin_wait();
        // The "timeout":
        loop.queue.push(Event::make(500, EventKind::fiber_wake, loop.fibers.current(), token));
        loop.fibers.wait(token);
        woke_at = loop.now_us;
      },
      0);
  // Run the spawn, then deliver the "reply" at t=100 by hand.
  const Event start = loop.queue.pop();
  loop.fibers.handle_event(start);
  ASSERT_NE(token, 0u);
  loop.now_us = 100;
  EXPECT_TRUE(loop.fibers.wake(id, token));
  EXPECT_EQ(woke_at, 100);
  EXPECT_FALSE(loop.fibers.wake(id, token));
  const Event timeout = loop.queue.pop();
  EXPECT_FALSE(loop.fibers.handle_event(timeout));
  EXPECT_TRUE(loop.fibers.finished(id));
}

TEST(FiberScheduler, DestroyingTheSchedulerCancelsBlockedFibers) {
  bool cleaned = false;
  {
    EventQueue queue(16);
    FiberScheduler fibers(queue);
    fibers.spawn(
        "blocked",
        [&] {
          struct Cleanup {
            bool* flag;
            ~Cleanup() { *flag = true; }
          } cleanup{&cleaned};
          fibers.wait(fibers.begin_wait());  // nobody will ever wake it
        },
        0);
    fibers.handle_event(queue.pop());
  }
  EXPECT_TRUE(cleaned);
}

}  // namespace
}  // namespace vigil::sim
