#pragma once
// Retries with capped exponential backoff and jitter (routing.retry_policy; the AWS
// Architecture Blog's "Exponential Backoff And Jitter", its "equal jitter" variant).
//
// Retry k (0 for the first retry) waits a delay drawn uniformly from
// [max(initial, bound_k / 2), bound_k], where bound_k = min(max, initial * factor^k). So
// every delay is within [initial, max], the bound never decreases from one retry to the
// next, and two callers that failed together do not retry together. The draw uses the
// caller's seeded generator (core/random.h; no std distribution), so the simulator stays
// reproducible.

#include <cstdint>
#include <optional>

#include "core/random.h"
#include "core/routing/routing_options.h"
#include "core/time.h"

namespace vigil::core {

// min(max, initial * factor^retry). REQUIRES: initial > 0, max >= initial, factor >= 1.
Duration backoff_bound(const RetryPolicy& policy, std::uint32_t retry);
// A delay in [max(initial, bound / 2), bound] for retry `retry` (0-based).
Duration backoff_delay(const RetryPolicy& policy, std::uint32_t retry, Random& random);

// One request's retries: at most max_retries delays, then nullopt.
class RetryBackoff {
 public:
  explicit RetryBackoff(const RetryPolicy& policy) : policy_(policy) {}
  // The wait before the next retry, or nullopt when max_retries are spent.
  std::optional<Duration> next(Random& random);
  std::uint32_t retries() const { return retries_; }

 private:
  RetryPolicy policy_;
  std::uint32_t retries_ = 0;
};

}  // namespace vigil::core
