#include "sim/network.h"

#include <gtest/gtest.h>

namespace vigil::sim {
namespace {

using std::chrono::milliseconds;

NetworkModel model(double loss = 0, double duplicate = 0, double reorder = 0) {
  NetworkModel result;
  result.latency.min = milliseconds(1);
  result.latency.max = milliseconds(20);
  result.loss = loss;
  result.duplicate = duplicate;
  result.reorder = reorder;
  return result;
}

// Sends one message and lets it arrive; true when it was delivered.
bool round_trip(Network& network, std::uint32_t from, std::uint32_t to) {
  const MessageFate fate = network.send(0, from, to);
  bool delivered = false;
  for (std::uint8_t copy = 0; copy < fate.copies; ++copy) {
    delivered = network.arrive(from, to) || delivered;
  }
  return delivered;
}

TEST(Network, LatencyIsWithinTheModel) {
  Network network(3, model(), 1);
  for (int i = 0; i < 1000; ++i) {
    const MessageFate fate = network.send(1000, 0, 1);
    ASSERT_EQ(fate.copies, 1);
    EXPECT_GE(fate.arrive_us[0], 1000 + 1000);
    EXPECT_LE(fate.arrive_us[0], 1000 + 20000);
    EXPECT_TRUE(network.arrive(0, 1));
  }
  EXPECT_EQ(network.counters().sent, 1000u);
  EXPECT_EQ(network.counters().arrived, 1000u);
}

TEST(Network, PartitionCutsBetweenGroupsOnlyAndHealRestores) {
  Network network(5, model(), 2);
  network.partition({{0, 1}, {2, 3}});  // node 4 is named in no group: a group of its own
  EXPECT_TRUE(round_trip(network, 0, 1));
  EXPECT_TRUE(round_trip(network, 3, 2));
  EXPECT_FALSE(round_trip(network, 0, 2));
  EXPECT_FALSE(round_trip(network, 2, 0));
  EXPECT_FALSE(round_trip(network, 4, 0));
  EXPECT_FALSE(round_trip(network, 3, 4));
  EXPECT_EQ(network.counters().dropped_partition, 4u);
  network.heal();
  EXPECT_TRUE(round_trip(network, 0, 2));
  EXPECT_TRUE(round_trip(network, 4, 3));
}

TEST(Network, NewPartitionReplacesTheOld) {
  Network network(3, model(), 3);
  network.partition({{0}, {1, 2}});
  EXPECT_FALSE(round_trip(network, 0, 1));
  network.partition({{0, 1}, {2}});
  EXPECT_TRUE(round_trip(network, 0, 1));
  EXPECT_FALSE(round_trip(network, 1, 2));
}

TEST(Network, OneWayCutDropsOneDirection) {
  Network network(3, model(), 4);
  network.cut_one_way({0}, {1, 2});
  EXPECT_FALSE(round_trip(network, 0, 1));
  EXPECT_FALSE(round_trip(network, 0, 2));
  EXPECT_TRUE(round_trip(network, 1, 0));
  EXPECT_TRUE(round_trip(network, 2, 0));
  EXPECT_TRUE(round_trip(network, 1, 2));
  network.heal();
  EXPECT_TRUE(round_trip(network, 0, 1));
}

TEST(Network, PartitionDropsMessagesInFlight) {
  Network network(2, model(), 5);
  const MessageFate fate = network.send(0, 0, 1);
  ASSERT_EQ(fate.copies, 1);
  EXPECT_EQ(network.in_flight(0, 1), 1u);
  network.partition({{0}, {1}});
  EXPECT_FALSE(network.arrive(0, 1));
  EXPECT_EQ(network.in_flight(0, 1), 0u);
  EXPECT_EQ(network.counters().dropped_in_flight, 1u);
}

TEST(Network, LossAndDuplicationHappenAtAboutTheirRates) {
  Network network(2, model(0.2, 0.1), 6);
  int delivered = 0, duplicated = 0;
  const int sends = 20000;
  for (int i = 0; i < sends; ++i) {
    const MessageFate fate = network.send(0, 0, 1);
    if (fate.copies > 0) delivered += 1;
    if (fate.copies == 2) duplicated += 1;
    for (std::uint8_t c = 0; c < fate.copies; ++c) EXPECT_TRUE(network.arrive(0, 1));
  }
  EXPECT_NEAR(1.0 - static_cast<double>(delivered) / sends, 0.2, 0.02);
  EXPECT_NEAR(static_cast<double>(duplicated) / delivered, 0.1, 0.02);
  EXPECT_EQ(network.counters().dropped_loss, static_cast<std::uint64_t>(sends - delivered));
  EXPECT_EQ(network.counters().duplicated, static_cast<std::uint64_t>(duplicated));
}

TEST(Network, ReorderingAddsDelayBeyondTheLatencyRange) {
  Network network(2, model(0, 0, 1.0), 7);
  std::int64_t latest = 0;
  for (int i = 0; i < 1000; ++i) {
    const MessageFate fate = network.send(0, 0, 1);
    latest = std::max(latest, fate.arrive_us[0]);
    EXPECT_LE(fate.arrive_us[0], 20000 + 10 * 20000);
    EXPECT_TRUE(network.arrive(0, 1));
  }
  EXPECT_GT(latest, 20000);
  EXPECT_EQ(network.counters().reordered, 1000u);
}

TEST(Network, ClogSlowsBothDirectionsUntilItEnds) {
  Network network(3, model(), 8);
  network.clog(1, 500000, 1000000);
  const MessageFate to = network.send(0, 0, 1);
  const MessageFate from = network.send(0, 1, 2);
  const MessageFate other = network.send(0, 0, 2);
  EXPECT_GE(to.arrive_us[0], 501000);
  EXPECT_GE(from.arrive_us[0], 501000);
  EXPECT_LE(other.arrive_us[0], 20000);
  EXPECT_GE(network.client_latency_us(0, 1), 501000);
  const MessageFate later = network.send(1000000, 0, 1);
  EXPECT_LE(later.arrive_us[0], 1020000);
}

TEST(Network, InFlightBoundDropsAndCounts) {
  Network network(2, model(), 9, NetworkLimits{3, 10});
  for (int i = 0; i < 5; ++i) network.send(0, 0, 1);
  EXPECT_EQ(network.in_flight(0, 1), 3u);
  EXPECT_EQ(network.counters().dropped_link_full, 2u);
}

TEST(Network, SameSeedSameFates) {
  Network a(3, model(0.1, 0.1, 0.1), 42), b(3, model(0.1, 0.1, 0.1), 42);
  Network c(3, model(0.1, 0.1, 0.1), 43);
  bool differs = false;
  for (int i = 0; i < 200; ++i) {
    const MessageFate fa = a.send(i, 0, 1), fb = b.send(i, 0, 1), fc = c.send(i, 0, 1);
    EXPECT_EQ(fa.copies, fb.copies);
    EXPECT_EQ(fa.arrive_us, fb.arrive_us);
    differs = differs || fa.arrive_us != fc.arrive_us;
  }
  EXPECT_TRUE(differs);
}

// Client links draw from their own stream: client traffic does not change node messages.
TEST(Network, ClientTrafficDoesNotShiftNodeMessageFates) {
  Network quiet(3, model(0.1, 0.1, 0.1), 44), busy(3, model(0.1, 0.1, 0.1), 44);
  for (int i = 0; i < 200; ++i) {
    const std::int64_t client = busy.client_latency_us(i, 2);
    EXPECT_GE(client, 1000);
    EXPECT_LE(client, 20000);
    const MessageFate a = quiet.send(i, 0, 1), b = busy.send(i, 0, 1);
    EXPECT_EQ(a.copies, b.copies);
    EXPECT_EQ(a.arrive_us, b.arrive_us);
  }
}

}  // namespace
}  // namespace vigil::sim
