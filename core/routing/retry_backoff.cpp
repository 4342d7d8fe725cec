// Capped exponential backoff with equal jitter (retry_backoff.h).
//
// Why equal jitter and not full jitter (uniform in [0, bound]): full jitter may draw a
// near-zero wait, and the seed's `initial` reads as a floor ("backoff 100ms -> 1s"); equal
// jitter keeps half of the exponential spacing, which is what stops retries from piling
// onto a recovering node, and still spreads callers apart.

#include "core/routing/retry_backoff.h"

#include <algorithm>

#include "core/assert.h"

namespace vigil::core {

Duration backoff_bound(const RetryPolicy& policy, std::uint32_t retry) {
  VIGIL_ASSERT(policy.initial > Duration::zero(), "backoff initial must be > 0");
  VIGIL_ASSERT(policy.max >= policy.initial, "backoff max must be >= initial");
  VIGIL_ASSERT(policy.factor >= 1.0, "backoff factor must be >= 1");
  const double max = static_cast<double>(policy.max.count());
  double bound = static_cast<double>(policy.initial.count());
  // At most until the cap: the loop is bounded by log_factor(max / initial) steps, and by
  // `retry`.
  for (std::uint32_t i = 0; i < retry && bound < max; ++i)
    bound = std::min(max, bound * policy.factor);
  return Duration{static_cast<Duration::rep>(bound)};
}

Duration backoff_delay(const RetryPolicy& policy, std::uint32_t retry, Random& random) {
  const Duration bound = backoff_bound(policy, retry);
  const Duration low = std::max(policy.initial, bound / 2);
  return Duration{random.uniform_range(low.count(), bound.count())};
}

std::optional<Duration> RetryBackoff::next(Random& random) {
  if (retries_ >= policy_.max_retries) return std::nullopt;
  return backoff_delay(policy_, retries_++, random);
}

}  // namespace vigil::core
