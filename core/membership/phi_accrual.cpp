// Phi accrual over heartbeat inter-arrival times.
//
// Theory of operation (Hayashibara et al. 2004). Instead of a yes/no timeout, the detector
// says how surprising the current silence is given the intervals seen so far:
// phi(t) = -log10(1 - F(t)), F the distribution of inter-arrival times. The caller picks a
// threshold; each +1 of phi is ten times fewer mistakes and a later detection.
//
// Which distribution. Cassandra models intervals as exponential (phi = t / (mean ln 10)),
// which ignores their spread: phi 8 needs 18.4 mean intervals of silence, about 18 s at a
// 1 s gossip interval. That is later than failure_detector.failure_threshold (15 s), so
// phi would never be the rule that suspects anyone, and the threshold would trade nothing.
// Akka fits a normal distribution (as the paper does), so a regular sender is suspected
// soon after it stops and an irregular one (a lossy, jittery network) later: with a 1 s
// mean and 0.3 s spread, phi 8 is reached after about 2.7 s of silence. We follow Akka,
// including its two guards:
// - a floor on the standard deviation (min_std_deviation), because a window of nearly
//   identical intervals would make any small delay look impossible;
// - the logistic approximation of the normal CDF (Bowling et al. 2009) that Akka uses,
//   written here so that it neither overflows nor loses precision far in the tail:
//   with y = (t - mean) / std and z = y (1.5976 + 0.070566 y^2),
//   1 - F(t) ~= 1 / (1 + e^z), so phi = log10(1 + e^z), increasing in t.
// Intervals longer than interval_max are left out (Cassandra's MAX_INTERVAL): one long
// pause would otherwise widen the fitted spread and blunt the detector for a whole window.
//
// Determinism: the window is a deque of integers, its mean and spread are recomputed from
// them in order on every heartbeat, and the functions used (exp, log1p) are the C
// library's, so the same inputs give the same phi on every run of a build.

#include "core/membership/phi_accrual.h"

#include <algorithm>
#include <cmath>

#include "core/assert.h"

namespace vigil::core {

namespace {

// Far enough (about 31 years of silence) that no threshold a person sets is out of reach
// before it, near enough that doubling towards it cannot overflow.
constexpr std::int64_t search_limit_us = std::int64_t{1} << 50;

}  // namespace

PhiAccrual::PhiAccrual(PhiAccrualOptions options) : options_(options) {
  VIGIL_ASSERT(options_.window_size >= 1, "phi accrual: window_size must be >= 1");
  VIGIL_ASSERT(options_.min_samples >= 1 && options_.min_samples <= options_.window_size,
               "phi accrual: min_samples must be in 1..window_size");
  VIGIL_ASSERT(options_.scale_factor > 0 && std::isfinite(options_.scale_factor),
               "phi accrual: scale_factor must be > 0");
  VIGIL_ASSERT(options_.min_std_deviation > Duration::zero(),
               "phi accrual: min_std_deviation must be > 0");
  VIGIL_ASSERT(options_.interval_max >= Duration::zero(), "phi accrual: interval_max must be >= 0");
}

void PhiAccrual::heartbeat(Instant now) {
  if (last_arrival_) {
    VIGIL_ASSERT(now >= *last_arrival_, "phi accrual: a heartbeat earlier than the last one");
    const std::int64_t interval_us = to_micros(now - *last_arrival_);
    const bool too_long = options_.interval_max > Duration::zero() &&
                          interval_us > to_micros(options_.interval_max);
    if (!too_long) {
      intervals_.push_back(interval_us);
      while (intervals_.size() > options_.window_size) intervals_.pop_front();
      double sum = 0;
      for (const std::int64_t interval : intervals_) sum += static_cast<double>(interval);
      mean_us_ = sum / static_cast<double>(intervals_.size());
      double squares = 0;
      for (const std::int64_t interval : intervals_) {
        const double delta = static_cast<double>(interval) - mean_us_;
        squares += delta * delta;
      }
      std_deviation_us_ = std::sqrt(squares / static_cast<double>(intervals_.size()));
    }
  }
  last_arrival_ = now;
}

void PhiAccrual::reset() {
  last_arrival_.reset();
  intervals_.clear();
  mean_us_ = 0;
  std_deviation_us_ = 0;
}

void PhiAccrual::shift(Duration by) {
  if (last_arrival_) *last_arrival_ += by;
}

bool PhiAccrual::ready() const {
  return intervals_.size() >= options_.min_samples;
}

double PhiAccrual::phi_of_silence(double silence_us) const {
  const double deviation =
      std::max(std_deviation_us_, static_cast<double>(to_micros(options_.min_std_deviation)));
  const double y = (silence_us - mean_us_) / deviation;
  const double z = y * (1.5976 + 0.070566 * y * y);
  // log10(1 + e^z), computed on the side where e^z does not overflow.
  const double natural = z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
  return natural / std::log(10.0);
}

double PhiAccrual::phi(Instant now) const {
  if (!last_arrival_ || intervals_.empty() || now <= *last_arrival_) return 0;
  return options_.scale_factor * phi_of_silence(static_cast<double>(to_micros(now - *last_arrival_)));
}

std::optional<Instant> PhiAccrual::reaches(double threshold) const {
  VIGIL_ASSERT(std::isfinite(threshold), "phi accrual: threshold must be finite");
  if (!last_arrival_ || intervals_.empty()) return std::nullopt;
  if (threshold <= 0) return *last_arrival_;
  const Instant last = *last_arrival_;
  const auto reached = [&](std::int64_t silence_us) {
    return phi(last + Duration{silence_us}) >= threshold;
  };
  // phi is non-decreasing in silence: double until reached, then bisect to the microsecond.
  std::int64_t high_us = 1;
  while (!reached(high_us)) {
    if (high_us >= search_limit_us) return std::nullopt;
    high_us *= 2;
  }
  std::int64_t low_us = high_us / 2;  // not reached (or 0, where phi is 0 < threshold)
  while (high_us - low_us > 1) {
    const std::int64_t middle_us = low_us + (high_us - low_us) / 2;
    if (reached(middle_us)) {
      high_us = middle_us;
    } else {
      low_us = middle_us;
    }
  }
  return last + Duration{high_us};
}

}  // namespace vigil::core
