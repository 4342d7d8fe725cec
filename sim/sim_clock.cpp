// Theory of operation. A node's wall clock is true time plus what can go wrong with a real
// one (Jepsen's clock nemesis; Kingsbury, "The trouble with timestamps"):
//   wall = epoch + now + skew + jumps + drift gained so far
// Skew is a standing offset (a badly synchronised host), drift a rate error accumulated
// piecewise (each set_drift() banks what the previous rate gained), a jump a one-off step
// in either direction (an NTP correction). Backward jumps and negative skews make the wall
// clock run backwards, which is the point: vector-clock timestamps and the timestamp
// tiebreak must survive it. Drift uses one double multiplication, rounded toward zero,
// which IEEE 754 specifies exactly, so the result is the same on every platform.

#include "sim/sim_clock.h"

#include "core/assert.h"

namespace vigil::sim {

std::int64_t SimClock::drift_gained_us(std::int64_t now_us) const {
  VIGIL_ASSERT(now_us >= drift_since_us_, "a clock read before its last drift change");
  const double elapsed = static_cast<double>(now_us - drift_since_us_);
  return drift_banked_us_ + static_cast<std::int64_t>(elapsed * drift_);
}

core::WallMicros SimClock::wall_us(std::int64_t now_us) const {
  return epoch_us_ + now_us + skew_us_ + jumps_us_ + drift_gained_us(now_us);
}

void SimClock::set_drift(std::int64_t now_us, double drift) {
  drift_banked_us_ = drift_gained_us(now_us);
  drift_since_us_ = now_us;
  drift_ = drift;
}

}  // namespace vigil::sim
