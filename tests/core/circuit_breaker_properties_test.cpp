// RapidCheck properties of the circuit breaker (core/routing/circuit_breaker.h) and the
// retry backoff (core/routing/retry_backoff.h), the laws issue 16 states:
// - half-open never lets more than half_open_requests trial requests through;
// - the breaker opens after exactly `threshold` consecutive failures, never fewer;
// - it closes only from half-open, after half_open_requests trial successes and no failure;
// - every backoff delay is within [initial, max], and its bound never decreases.
// The breaker is driven by random schedules of acquisitions, outcomes (of permits old and
// new, each answered at most once, and without a permit) and clock advances, and checked against a small model
// after every step.

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/random.h"
#include "core/routing/circuit_breaker.h"
#include "core/routing/retry_backoff.h"

namespace vigil::core {
namespace {

using std::chrono::milliseconds;

// 0 acquire, 1 success of a permit, 2 failure of a permit, 3 success without a permit,
// 4 failure without a permit, 5 advance the clock.
struct Step {
  int kind = 0;
  int permit = 0;      // which permit given so far (modulo their number)
  int advance_ms = 0;  // kind 5
};

void showValue(const Step& step, std::ostream& os) {
  os << "{kind " << step.kind << ", permit " << step.permit << ", advance " << step.advance_ms
     << "ms}";
}

template <typename T>
rc::Gen<T> uniform(T low, T high) {
  return rc::gen::resize(100, rc::gen::inRange(low, high));
}

rc::Gen<std::vector<Step>> gen_steps() {
  return rc::gen::container<std::vector<Step>>(rc::gen::apply(
      [](int kind, int permit, int advance_ms) {
        return Step{kind, permit, advance_ms};
      },
      uniform(0, 6), uniform(0, 1000), uniform(0, 1500)));
}

CircuitBreakerOptions gen_options() {
  CircuitBreakerOptions options;
  options.threshold = static_cast<std::uint32_t>(*uniform(1, 7));
  options.half_open_requests = static_cast<std::uint32_t>(*uniform(1, 5));
  options.timeout = milliseconds(*uniform(1, 3000));
  return options;
}

// What the model expects of the breaker, kept beside it.
struct Model {
  std::uint32_t consecutive_failures = 0;  // in the current closed epoch
  std::uint32_t trials = 0;                // in the current half-open epoch
  std::uint32_t trial_successes = 0;       // in the current half-open epoch
};

struct Run {
  CircuitBreakerOptions options;
  CircuitBreaker breaker;
  Instant now{};
  std::vector<CircuitBreaker::Permit> permits;     // every permit given
  std::vector<CircuitBreaker::Permit> unanswered;  // those whose outcome is still due
  Model model;
  std::uint64_t epoch = 0;
  BreakerState state = BreakerState::closed;

  explicit Run(const CircuitBreakerOptions& options_in) : options(options_in), breaker(options) {}

  // Checks a transition (or its absence) against the model, then resets the model for a new
  // epoch. `failed` and `succeeded` say what the step's outcome was (at most one).
  void check(std::optional<BreakerTransition> transition, bool failed, bool succeeded,
             bool counts) {
    if (breaker.epoch() != epoch) {
      RC_ASSERT(transition.has_value());
      RC_ASSERT(breaker.epoch() == epoch + 1);
    }
    if (transition) {
      RC_ASSERT(transition->from == state);
      if (transition->to == BreakerState::open && transition->from == BreakerState::closed) {
        // Exactly threshold consecutive failures, the last one being this step's.
        RC_ASSERT(failed && counts);
        RC_ASSERT(model.consecutive_failures + 1 == options.threshold);
      }
      if (transition->to == BreakerState::open && transition->from == BreakerState::half_open) {
        RC_ASSERT(failed && counts);
      }
      if (transition->to == BreakerState::closed) {
        RC_ASSERT(transition->from == BreakerState::half_open);
        RC_ASSERT(succeeded && counts);
        RC_ASSERT(model.trial_successes + 1 == options.half_open_requests);
      }
      if (transition->to == BreakerState::half_open) {
        RC_ASSERT(transition->from == BreakerState::open);
      }
      state = transition->to;
      epoch = breaker.epoch();
      model = Model{};
      return;
    }
    if (state == BreakerState::closed && counts && failed) {
      ++model.consecutive_failures;
      RC_ASSERT(model.consecutive_failures < options.threshold);
    }
    if (state == BreakerState::closed && counts && succeeded) model.consecutive_failures = 0;
    if (state == BreakerState::half_open && counts && succeeded) ++model.trial_successes;
    RC_ASSERT(breaker.consecutive_failures() == model.consecutive_failures);
  }

  void step(const Step& step) {
    switch (step.kind) {
      case 0: {
        std::optional<BreakerTransition> transition;
        const std::optional<CircuitBreaker::Permit> permit = breaker.try_acquire(now, &transition);
        check(transition, false, false, false);
        if (!permit) {
          // Refused only when open, or half-open with every trial let through.
          RC_ASSERT(state != BreakerState::closed);
          RC_ASSERT(state == BreakerState::open || model.trials == options.half_open_requests);
          return;
        }
        if (state == BreakerState::half_open) {
          RC_ASSERT(permit->trial);
          ++model.trials;
          RC_ASSERT(model.trials <= options.half_open_requests);
        }
        RC_ASSERT(permit->epoch == epoch);
        permits.push_back(*permit);
        unanswered.push_back(*permit);
        return;
      }
      case 1:
      case 2: {
        // A permit's outcome is handed back once (the breaker's contract; the node keeps it
        // with the request and drops it at the first reply): it leaves the unanswered list.
        if (unanswered.empty()) return;
        const std::size_t index = static_cast<std::size_t>(step.permit) % unanswered.size();
        const CircuitBreaker::Permit permit = unanswered[index];
        unanswered.erase(unanswered.begin() + static_cast<std::ptrdiff_t>(index));
        const bool counts =
            permit.epoch == epoch && (state == BreakerState::closed || permit.trial);
        if (step.kind == 1) {
          check(breaker.handle_success(now, permit), false, true, counts);
        } else {
          check(breaker.handle_failure(now, permit), true, false, counts);
        }
        return;
      }
      case 3: check(breaker.record_success(), false, true, state == BreakerState::closed); return;
      case 4:
        check(breaker.record_failure(now), true, false, state == BreakerState::closed);
        return;
      default: now += milliseconds(step.advance_ms); return;
    }
  }
};

// Run::check asserts, at every step: a closed breaker opens only at the threshold-th
// consecutive failure; a breaker closes only from half-open, at its half_open_requests-th
// trial success with no trial failure in between (a failure opens it again).
RC_GTEST_PROP(CircuitBreakerProperties, OpensAtThresholdAndClosesOnlyAfterTrialSuccesses, ()) {
  const CircuitBreakerOptions options = gen_options();
  Run run(options);
  for (const Step& step : *gen_steps()) {
    run.step(step);
    RC_ASSERT(run.breaker.trials_let_through() <= options.half_open_requests);
    RC_ASSERT(run.breaker.trial_successes() <= run.breaker.trials_let_through());
  }
}

// The law on its own: whatever happens, the permits given in one half-open epoch are at
// most half_open_requests.
RC_GTEST_PROP(CircuitBreakerProperties, HalfOpenLetsAtMostHalfOpenRequestsThrough, ()) {
  const CircuitBreakerOptions options = gen_options();
  Run run(options);
  std::vector<std::uint32_t> trials_by_epoch;
  for (const Step& step : *gen_steps()) run.step(step);
  for (const CircuitBreaker::Permit& permit : run.permits) {
    if (!permit.trial) continue;
    if (trials_by_epoch.size() <= permit.epoch) trials_by_epoch.resize(permit.epoch + 1, 0);
    ++trials_by_epoch[permit.epoch];
  }
  for (const std::uint32_t trials : trials_by_epoch) {
    RC_ASSERT(trials <= options.half_open_requests);
  }
}

// Exactly threshold: threshold - 1 failures leave it closed, the threshold-th opens it.
RC_GTEST_PROP(CircuitBreakerProperties, OpensAfterExactlyThresholdConsecutiveFailures, ()) {
  const CircuitBreakerOptions options = gen_options();
  CircuitBreaker breaker(options);
  const Instant now{};
  // Some successes interleaved first: they reset the run.
  const int noise = *uniform(0, 5);
  for (int i = 0; i < noise; ++i) {
    (void)breaker.record_failure(now);
    if (breaker.state(now) == BreakerState::open) return;  // threshold 1
    (void)breaker.record_success();
  }
  for (std::uint32_t i = 1; i < options.threshold; ++i) {
    RC_ASSERT(!breaker.record_failure(now).has_value());
    RC_ASSERT(breaker.state(now) == BreakerState::closed);
  }
  const std::optional<BreakerTransition> opened = breaker.record_failure(now);
  RC_ASSERT(opened.has_value());
  RC_ASSERT(opened->to == BreakerState::open);
  RC_ASSERT(breaker.state(now) == BreakerState::open);
}

RC_GTEST_PROP(BackoffProperties, DelaysStayWithinInitialAndMaxAndBoundsNeverDecrease, ()) {
  RetryPolicy policy;
  policy.initial = milliseconds(*uniform(1, 500));
  policy.max = policy.initial + milliseconds(*uniform(0, 5000));
  policy.factor = 1.0 + *uniform(0, 40) / 10.0;
  policy.max_retries = static_cast<std::uint32_t>(*uniform(0, 20));
  Random random(*rc::gen::arbitrary<std::uint64_t>());
  Duration previous_bound{0};
  for (std::uint32_t retry = 0; retry < 40; ++retry) {
    const Duration bound = backoff_bound(policy, retry);
    RC_ASSERT(bound >= previous_bound);
    RC_ASSERT(bound >= policy.initial);
    RC_ASSERT(bound <= policy.max);
    const Duration delay = backoff_delay(policy, retry, random);
    RC_ASSERT(delay >= policy.initial);
    RC_ASSERT(delay <= bound);
    previous_bound = bound;
  }
  RetryBackoff backoff(policy);
  std::uint32_t given = 0;
  while (backoff.next(random)) ++given;
  RC_ASSERT(given == policy.max_retries);
}

}  // namespace
}  // namespace vigil::core
