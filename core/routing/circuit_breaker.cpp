// A peer's circuit breaker (circuit_breaker.h has the state machine).
//
// Theory of operation. The breaker protects callers from a peer that keeps failing: past
// `threshold` failures in a row it stops sending to it at all (open), so requests go to
// another node at once instead of each waiting out a timeout on the sick one (Nygard's
// "fail fast"; Hystrix's short-circuit). After `timeout` it lets a few trial requests
// through (half-open, Hystrix's single test request widened to `half_open_requests` as the
// seed specifies): all of them must succeed for it to close, because one lucky answer from
// a flapping node is no evidence of health; one failure opens it again for another
// `timeout`. Counting consecutive failures rather than a rate (Hystrix's rolling window)
// is Finagle's FailureAccrual policy: it needs no window and no clock while closed, and
// the seed's threshold is a count.
//
// Epochs. Each transition starts an epoch and a permit remembers the epoch it was given
// in. Outcomes of older epochs are dropped: without that, replies to requests sent while
// closed, arriving after the breaker went half-open, would count as trial successes and
// close it with no trial ever answered.
//
// Once per permit. A permit's outcome is handed back at most once: the breaker cannot tell
// a repeated outcome from another trial's, so the caller drops the permit at the first
// reply (core/coordinator/peer_outcomes.cpp), and a second success of one trial trips the
// assertion in handle_success.

#include "core/routing/circuit_breaker.h"

#include "core/assert.h"

namespace vigil::core {

std::string_view breaker_state_name(BreakerState state) {
  switch (state) {
    case BreakerState::closed: return "closed";
    case BreakerState::open: return "open";
    case BreakerState::half_open: return "half_open";
  }
  return "unknown";
}

CircuitBreaker::CircuitBreaker(const CircuitBreakerOptions& options) : options_(options) {
  VIGIL_ASSERT(options_.threshold >= 1, "circuit_breaker.threshold must be >= 1");
  VIGIL_ASSERT(options_.half_open_requests >= 1, "circuit_breaker.half_open_requests >= 1");
  VIGIL_ASSERT(options_.timeout > Duration::zero(), "circuit_breaker.timeout must be > 0");
}

BreakerTransition CircuitBreaker::move_to(BreakerState to, Instant now) {
  const BreakerTransition transition{state_, to};
  state_ = to;
  ++epoch_;
  consecutive_failures_ = 0;
  trials_ = 0;
  trial_successes_ = 0;
  if (to == BreakerState::open) opened_at_ = now;
  return transition;
}

void CircuitBreaker::advance(Instant now, std::optional<BreakerTransition>* transition) {
  if (state_ == BreakerState::open && now >= opened_at_ + options_.timeout) {
    const BreakerTransition moved = move_to(BreakerState::half_open, now);
    if (transition != nullptr) *transition = moved;
  }
}

BreakerState CircuitBreaker::state(Instant now) const {
  if (state_ == BreakerState::open && now >= opened_at_ + options_.timeout) {
    return BreakerState::half_open;
  }
  return state_;
}

bool CircuitBreaker::would_admit(Instant now) const {
  switch (state(now)) {
    case BreakerState::closed: return true;
    case BreakerState::open: return false;
    case BreakerState::half_open:
      // An open breaker past its timeout has let no trial through yet.
      return state_ != BreakerState::half_open || trials_ < options_.half_open_requests;
  }
  return false;
}

std::optional<CircuitBreaker::Permit> CircuitBreaker::try_acquire(
    Instant now, std::optional<BreakerTransition>* transition) {
  advance(now, transition);
  switch (state_) {
    case BreakerState::closed: return Permit{epoch_, false};
    case BreakerState::open: return std::nullopt;
    case BreakerState::half_open:
      if (trials_ >= options_.half_open_requests) return std::nullopt;
      ++trials_;
      return Permit{epoch_, true};
  }
  return std::nullopt;
}

std::optional<BreakerTransition> CircuitBreaker::handle_success(Instant now, const Permit& permit) {
  if (permit.epoch != epoch_) return std::nullopt;
  if (state_ == BreakerState::closed) return record_success();
  if (state_ != BreakerState::half_open || !permit.trial) return std::nullopt;
  ++trial_successes_;
  VIGIL_ASSERT(trial_successes_ <= trials_, "more trial successes than trials");
  if (trial_successes_ < options_.half_open_requests) return std::nullopt;
  return move_to(BreakerState::closed, now);
}

std::optional<BreakerTransition> CircuitBreaker::handle_failure(Instant now, const Permit& permit) {
  if (permit.epoch != epoch_) return std::nullopt;
  if (state_ == BreakerState::closed) return record_failure(now);
  if (state_ != BreakerState::half_open || !permit.trial) return std::nullopt;
  return move_to(BreakerState::open, now);
}

std::optional<BreakerTransition> CircuitBreaker::record_success() {
  if (state_ == BreakerState::closed) consecutive_failures_ = 0;
  return std::nullopt;
}

std::optional<BreakerTransition> CircuitBreaker::record_failure(Instant now) {
  if (!options_.enabled || state_ != BreakerState::closed) return std::nullopt;
  ++consecutive_failures_;
  if (consecutive_failures_ < options_.threshold) return std::nullopt;
  return move_to(BreakerState::open, now);
}

std::optional<Instant> CircuitBreaker::poll_timeout() const {
  if (state_ != BreakerState::open) return std::nullopt;
  return opened_at_ + options_.timeout;
}

}  // namespace vigil::core
