// core::SessionOrder: one session's commands run in order per key, barriers in total order.

#include "core/node/session_order.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/random.h"

namespace vigil::core {
namespace {

using Ids = std::vector<std::uint64_t>;
using A = SessionOrder::Admission;

TEST(SessionOrderTest, SameKeyWaitsForTheEarlierCommand) {
  SessionOrder order(16);
  EXPECT_EQ(order.submit(1, {"p1"}, false), A::run);   // SET p1 1
  EXPECT_EQ(order.submit(2, {"p1"}, false), A::wait);  // GET p1
  EXPECT_EQ(order.waiting(), 1u);
  EXPECT_EQ(order.complete(1), Ids{2});
  EXPECT_EQ(order.waiting(), 0u);
  EXPECT_EQ(order.complete(2), Ids{});
  EXPECT_EQ(order.pending(), 0u);
}

TEST(SessionOrderTest, DisjointKeysRunConcurrently) {
  SessionOrder order(16);
  EXPECT_EQ(order.submit(1, {"a"}, false), A::run);
  EXPECT_EQ(order.submit(2, {"b"}, false), A::run);
  EXPECT_EQ(order.submit(3, {"a"}, false), A::wait);
  EXPECT_EQ(order.complete(2), Ids{});  // b's completion releases nothing on a
  EXPECT_EQ(order.complete(1), Ids{3});
}

TEST(SessionOrderTest, FifoPerKeyReleasesOneAtATime) {
  SessionOrder order(16);
  EXPECT_EQ(order.submit(1, {"k"}, false), A::run);   // SET k 1
  EXPECT_EQ(order.submit(2, {"k"}, false), A::wait);  // SET k 2
  EXPECT_EQ(order.submit(3, {"k"}, false), A::wait);  // GET k
  EXPECT_EQ(order.complete(1), Ids{2});
  EXPECT_EQ(order.complete(2), Ids{3});
  EXPECT_EQ(order.complete(3), Ids{});
}

TEST(SessionOrderTest, MultiKeyCommandWaitsForEachKey) {
  SessionOrder order(16);
  EXPECT_EQ(order.submit(1, {"a"}, false), A::run);
  EXPECT_EQ(order.submit(2, {"b"}, false), A::run);
  EXPECT_EQ(order.submit(3, {"a", "b", "a"}, false), A::wait);  // MGET a b a
  EXPECT_EQ(order.submit(4, {"c"}, false), A::run);
  EXPECT_EQ(order.submit(5, {"b"}, false), A::wait);  // behind the MGET on b
  EXPECT_EQ(order.complete(1), Ids{});
  EXPECT_EQ(order.complete(2), Ids{3});
  EXPECT_EQ(order.complete(3), Ids{5});
}

TEST(SessionOrderTest, BarrierWaitsForAllEarlierAndHoldsAllLater) {
  SessionOrder order(16);
  EXPECT_EQ(order.submit(1, {"a"}, false), A::run);
  EXPECT_EQ(order.submit(2, {}, true), A::wait);      // CONSISTENCY one
  EXPECT_EQ(order.submit(3, {"b"}, false), A::wait);  // must run at the new level
  EXPECT_EQ(order.submit(4, {}, false), A::wait);     // PING behind the barrier
  EXPECT_EQ(order.complete(1), Ids{2});
  EXPECT_EQ(order.complete(2), (Ids{3, 4}));
}

TEST(SessionOrderTest, KeylessCommandsRunAtOnceWithoutBarriers) {
  SessionOrder order(16);
  EXPECT_EQ(order.submit(1, {"a"}, false), A::run);
  EXPECT_EQ(order.submit(2, {}, false), A::run);
  EXPECT_EQ(order.submit(3, {}, true), A::wait);
  EXPECT_EQ(order.complete(2), Ids{});
  EXPECT_EQ(order.complete(1), Ids{3});
}

TEST(SessionOrderTest, BarrierFirstRunsAtOnce) {
  SessionOrder order(16);
  EXPECT_EQ(order.submit(7, {}, true), A::run);
  EXPECT_EQ(order.complete(7), Ids{});
  EXPECT_EQ(order.submit(8, {"a"}, false), A::run);
}

TEST(SessionOrderTest, CapacityRefusesAndRecordsNothing) {
  SessionOrder order(2);
  EXPECT_EQ(order.submit(1, {"a"}, false), A::run);
  EXPECT_EQ(order.submit(2, {"a"}, false), A::wait);
  EXPECT_EQ(order.submit(3, {"b"}, false), A::refused);
  EXPECT_EQ(order.pending(), 2u);
  EXPECT_EQ(order.complete(1), Ids{2});
  EXPECT_EQ(order.submit(4, {"b"}, false), A::run);
}

TEST(SessionOrderTest, ClearForgetsEverything) {
  SessionOrder order(4);
  EXPECT_EQ(order.submit(1, {"a"}, false), A::run);
  EXPECT_EQ(order.submit(2, {"a"}, false), A::wait);
  order.clear();
  EXPECT_EQ(order.pending(), 0u);
  EXPECT_EQ(order.waiting(), 0u);
  EXPECT_EQ(order.submit(3, {"a"}, false), A::run);
}

// Random sessions, completing running commands in random order: no two running commands
// share a key, a barrier runs alone, and for every key the commands run in id order.
TEST(SessionOrderTest, RandomSessionsKeepPerKeyOrder) {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    Random random(seed);
    SessionOrder order(8);
    std::map<std::uint64_t, std::vector<std::string>> running;  // id -> keys
    std::map<std::uint64_t, bool> barrier_of;
    std::map<std::uint64_t, std::vector<std::string>> keys_of;
    std::map<std::string, std::uint64_t> last_started;  // key -> last id that started
    std::uint64_t next = 1;
    auto start = [&](std::uint64_t id) {
      for (const auto& [other, keys] : running) {
        for (const std::string& key : keys) {
          for (const std::string& mine : keys_of[id]) ASSERT_NE(key, mine) << "seed " << seed;
        }
        ASSERT_FALSE(barrier_of[id] || barrier_of[other]) << "a barrier ran with " << other;
      }
      for (const std::string& key : keys_of[id]) {
        if (last_started[key] == id) continue;  // a key named twice
        ASSERT_LT(last_started[key], id) << "key " << key << " ran out of order";
        last_started[key] = id;
      }
      running[id] = keys_of[id];
    };
    for (int step = 0; step < 400; ++step) {
      if (random.uniform(2) == 0 || running.empty()) {
        std::vector<std::string> keys;
        const std::uint64_t count = random.uniform(3);
        for (std::uint64_t i = 0; i < count; ++i)
          keys.push_back("k" + std::to_string(random.uniform(4)));
        const bool barrier = random.uniform(10) == 0;
        const std::uint64_t id = next++;
        keys_of[id] = keys;
        barrier_of[id] = barrier;
        const A admission = order.submit(id, keys, barrier);
        if (admission == A::run) start(id);
      } else {
        auto it = running.begin();
        std::advance(it, static_cast<long>(random.uniform(running.size())));
        const std::uint64_t id = it->first;
        running.erase(it);
        for (const std::uint64_t released : order.complete(id)) start(released);
      }
    }
  }
}

}  // namespace
}  // namespace vigil::core
