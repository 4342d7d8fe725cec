#pragma once
// One simulated node's wall clock, computed from virtual time (see sim_clock.cpp). The node
// sees it only as Now::wall_us, the timestamps it puts in vector clocks and hints; its
// monotonic clock (timers, timeouts) is the true virtual time.

#include <cstdint>

#include "core/time.h"

namespace vigil::sim {

class SimClock {
 public:
  // wall_us(0) == epoch_us.
  explicit SimClock(core::WallMicros epoch_us) : epoch_us_(epoch_us) {}

  // The node's wall clock at virtual time `now_us`. REQUIRES: now_us >= the time of the
  // last set_drift() (clocks are read forwards in virtual time).
  core::WallMicros wall_us(std::int64_t now_us) const;

  // A fixed offset from true time, replacing the earlier one.
  void set_skew_us(std::int64_t skew_us) { skew_us_ = skew_us; }
  // From `now_us` on, the clock gains `drift` seconds per second (0.001 = 1 ms per s;
  // negative: it runs slow). What was gained so far is kept.
  void set_drift(std::int64_t now_us, double drift);
  // A one-off step (NTP stepping the clock; negative jumps backward).
  void jump_us(std::int64_t by_us) { jumps_us_ += by_us; }

  std::int64_t skew_us() const { return skew_us_; }
  double drift() const { return drift_; }

 private:
  std::int64_t drift_gained_us(std::int64_t now_us) const;

  core::WallMicros epoch_us_;
  std::int64_t skew_us_ = 0;
  std::int64_t jumps_us_ = 0;
  double drift_ = 0;
  std::int64_t drift_since_us_ = 0;   // virtual time the current drift started
  std::int64_t drift_banked_us_ = 0;  // what earlier drifts gained
};

}  // namespace vigil::sim
