#pragma once
// The phi accrual failure detector of one peer (Hayashibara, Defago, Yared and Katayama,
// "The phi accrual failure detector", 2004), in the form Akka's PhiAccrualFailureDetector
// uses: a normal distribution fitted to the last `window_size` heartbeat inter-arrival
// times, with a floor on the standard deviation. phi(t) = -log10(P(a heartbeat arrives
// later than t after the last one)): phi 1 means a 10% chance that the silence is normal,
// phi 8 a 10^-8 chance. core/membership/phi_accrual.cpp says why normal and not Cassandra's
// exponential. Pure: time is handed in.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

#include "core/time.h"

namespace vigil::core {

struct PhiAccrualOptions {
  std::uint32_t window_size = 100;  // inter-arrival times kept (the oldest goes first)
  std::uint32_t min_samples = 10;   // intervals before ready() (the bootstrap rule is the caller's)
  double scale_factor = 1.0;        // multiplies every phi
  // The standard deviation used is never below this: a perfectly regular sender would
  // otherwise make any small delay look impossible (Akka's min-std-deviation).
  Duration min_std_deviation = std::chrono::milliseconds(250);
  // Intervals longer than this are not samples of normal behaviour (a pause, a partition,
  // a restart) and are left out of the window (Cassandra's MAX_INTERVAL). 0: no bound.
  Duration interval_max{0};
};

class PhiAccrual {
 public:
  // REQUIRES: window_size >= 1, 1 <= min_samples <= window_size, scale_factor > 0,
  // min_std_deviation > 0, interval_max >= 0 (asserted).
  explicit PhiAccrual(PhiAccrualOptions options);

  // A heartbeat arrived at `now`: the interval since the previous one enters the window
  // (unless over interval_max). REQUIRES: now >= the previous arrival (asserted).
  void heartbeat(Instant now);
  // Forgets every arrival and interval: the next heartbeat starts a new history.
  void reset();
  // Moves the last arrival `by` later (the observer itself was frozen that long, so the
  // silence it missed is no evidence; see membership's local pause rule).
  void shift(Duration by);

  std::optional<Instant> last_arrival() const { return last_arrival_; }
  std::size_t samples() const { return intervals_.size(); }
  // At least min_samples intervals in the window.
  bool ready() const;
  // Of the window (0 when empty); the std deviation before the floor is applied.
  double mean_us() const { return mean_us_; }
  double std_deviation_us() const { return std_deviation_us_; }

  // scale_factor * phi of the silence since the last arrival: 0 with no interval yet or
  // when now <= the last arrival; otherwise > 0, non-decreasing in `now`, and finite.
  double phi(Instant now) const;
  // The earliest instant (to the microsecond) at which phi(instant) >= threshold;
  // nullopt with no interval yet, or when phi stays below it for 2^50 us (35 years) of
  // silence. REQUIRES: threshold is finite.
  std::optional<Instant> reaches(double threshold) const;

 private:
  double phi_of_silence(double silence_us) const;  // unscaled; silence_us > 0

  PhiAccrualOptions options_;
  std::optional<Instant> last_arrival_;
  std::deque<std::int64_t> intervals_;  // microseconds, oldest first
  double mean_us_ = 0;
  double std_deviation_us_ = 0;
};

}  // namespace vigil::core
