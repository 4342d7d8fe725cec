// core/membership/phi_accrual.h: the laws of phi (0 at a heartbeat, non-decreasing in silence, higher
// for a more regular sender), its window and guards, and reaches() as phi's inverse.

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cmath>

#include "core/membership/phi_accrual.h"

namespace vigil::core {
namespace {

using std::chrono::milliseconds;

Instant at_ms(std::int64_t ms) {
  return instant_from_micros(ms * 1000);
}

// A detector fed `count` heartbeats `interval_ms` apart, the last at time `end_ms`.
PhiAccrual regular(std::int64_t interval_ms, int count, PhiAccrualOptions options = {}) {
  PhiAccrual detector(options);
  for (int i = 0; i < count; ++i) detector.heartbeat(at_ms(i * interval_ms));
  return detector;
}

TEST(PhiAccrual, IsZeroWithNoIntervalAndRightAfterAHeartbeat) {
  PhiAccrual detector({});
  EXPECT_EQ(detector.phi(at_ms(5000)), 0.0);
  EXPECT_FALSE(detector.reaches(8.0).has_value());
  detector.heartbeat(at_ms(0));
  EXPECT_EQ(detector.phi(at_ms(60000)), 0.0);  // one arrival: no interval yet
  detector.heartbeat(at_ms(1000));
  EXPECT_EQ(detector.phi(at_ms(1000)), 0.0);
  EXPECT_GT(detector.phi(at_ms(1001)), 0.0);
  EXPECT_LT(detector.phi(at_ms(1001)), 0.01);
}

TEST(PhiAccrual, GrowsWithSilenceAndCrossesTheUsualThresholds) {
  const PhiAccrual detector = regular(1000, 20);  // last at 19 s, mean 1 s, std floored
  const Instant last = at_ms(19000);
  EXPECT_LT(detector.phi(last + milliseconds(1000)), 1.0);  // one normal interval
  EXPECT_GT(detector.phi(last + milliseconds(3000)), 8.0);  // 8 floored deviations late
  EXPECT_NEAR(detector.mean_us(), 1e6, 1);
  EXPECT_NEAR(detector.std_deviation_us(), 0, 1);
  EXPECT_TRUE(std::isfinite(detector.phi(last + std::chrono::hours(24 * 365))));
}

TEST(PhiAccrual, AnIrregularSenderIsSuspectedLater) {
  PhiAccrual regular_sender = regular(1000, 30);
  PhiAccrual irregular({});
  std::int64_t t = 0;
  for (int i = 0; i < 30; ++i) {
    t += i % 2 == 0 ? 400 : 1600;  // mean 1 s, deviation 0.6 s
    irregular.heartbeat(at_ms(t));
  }
  const Duration silence = milliseconds(2500);
  EXPECT_GT(regular_sender.phi(at_ms(29000) + silence), irregular.phi(at_ms(t) + silence));
  EXPECT_LT(*regular_sender.reaches(8.0) - at_ms(29000), *irregular.reaches(8.0) - at_ms(t));
}

TEST(PhiAccrual, WindowKeepsTheNewestIntervals) {
  PhiAccrualOptions options;
  options.window_size = 5;
  options.min_samples = 3;
  PhiAccrual detector(options);
  detector.heartbeat(at_ms(0));
  detector.heartbeat(at_ms(10000));  // a 10 s interval, soon pushed out
  EXPECT_FALSE(detector.ready());
  for (int i = 1; i <= 5; ++i) detector.heartbeat(at_ms(10000 + i * 1000));
  EXPECT_TRUE(detector.ready());
  EXPECT_EQ(detector.samples(), 5u);
  EXPECT_NEAR(detector.mean_us(), 1e6, 1);
}

TEST(PhiAccrual, LeavesOutIntervalsOverTheBound) {
  PhiAccrualOptions options;
  options.interval_max = std::chrono::seconds(5);
  PhiAccrual detector = regular(1000, 11, options);
  detector.heartbeat(at_ms(10000 + 60000));  // a minute of silence: not a sample
  EXPECT_EQ(detector.samples(), 10u);
  EXPECT_NEAR(detector.mean_us(), 1e6, 1);
  EXPECT_EQ(detector.phi(at_ms(70000)), 0.0);  // but the arrival counts
}

TEST(PhiAccrual, ResetForgetsAndShiftMovesTheLastArrival) {
  PhiAccrual detector = regular(1000, 12);
  const double before = detector.phi(at_ms(14000));
  detector.shift(milliseconds(2000));
  EXPECT_EQ(*detector.last_arrival(), at_ms(13000));
  EXPECT_LT(detector.phi(at_ms(14000)), before);
  detector.reset();
  EXPECT_EQ(detector.samples(), 0u);
  EXPECT_FALSE(detector.last_arrival().has_value());
  EXPECT_EQ(detector.phi(at_ms(100000)), 0.0);
}

TEST(PhiAccrual, ScaleFactorMultipliesPhi) {
  PhiAccrualOptions doubled;
  doubled.scale_factor = 2.0;
  const PhiAccrual one = regular(1000, 12);
  const PhiAccrual two = regular(1000, 12, doubled);
  const Instant t = at_ms(11000 + 1700);
  EXPECT_DOUBLE_EQ(two.phi(t), 2.0 * one.phi(t));
}

// Laws over arbitrary arrival histories.
RC_GTEST_PROP(PhiAccrualProperties, NonDecreasingInSilence, ()) {
  const auto gaps = *rc::gen::container<std::vector<int>>(rc::gen::inRange(1, 5000));
  RC_PRE(!gaps.empty());
  PhiAccrual detector({});
  std::int64_t t = 0;
  detector.heartbeat(at_ms(0));
  for (const int gap : gaps) detector.heartbeat(at_ms(t += gap));
  const auto a = *rc::gen::inRange(0, 100000);
  const auto b = *rc::gen::inRange(0, 100000);
  const double phi_a = detector.phi(at_ms(t + std::min(a, b)));
  const double phi_b = detector.phi(at_ms(t + std::max(a, b)));
  RC_ASSERT(phi_a <= phi_b);
  RC_ASSERT(phi_a >= 0.0);
  RC_ASSERT(std::isfinite(phi_b));
  RC_ASSERT(detector.phi(at_ms(t)) == 0.0);
}

RC_GTEST_PROP(PhiAccrualProperties, ReachesIsTheEarliestMicrosecondOverTheThreshold, ()) {
  const auto gaps = *rc::gen::container<std::vector<int>>(rc::gen::inRange(1, 5000));
  RC_PRE(!gaps.empty());
  const double threshold = *rc::gen::inRange(1, 200) / 10.0;  // 0.1 .. 20
  PhiAccrual detector({});
  std::int64_t t = 0;
  detector.heartbeat(at_ms(0));
  for (const int gap : gaps) detector.heartbeat(at_ms(t += gap));
  const std::optional<Instant> when = detector.reaches(threshold);
  RC_ASSERT(when.has_value());
  RC_ASSERT(*when > at_ms(t));
  RC_ASSERT(detector.phi(*when) >= threshold);
  RC_ASSERT(detector.phi(*when - Duration{1}) < threshold);
}

}  // namespace
}  // namespace vigil::core
