#pragma once
// One peer's circuit breaker (Nygard, "Release It!"; Netflix Hystrix; Finagle's
// FailureAccrualFactory): a pure state machine that time is handed to, never read.
//
//   closed --(threshold consecutive failures)--> open --(timeout)--> half_open
//   half_open --(half_open_requests successes)--> closed
//   half_open --(one failure)--> open
//
// A caller asks try_acquire(now) before sending; a permit says the request may go, and the
// request's outcome is handed back with that permit. Closed lets everything through; open
// lets nothing through; half-open lets at most half_open_requests trial requests through
// in all, closes once that many of them succeeded and opens again at the first that
// failed. Every transition starts a new epoch, and an outcome carrying a permit of an older
// epoch is ignored: a reply to a request sent before the breaker opened says nothing about
// whether the peer recovered. Outcomes of traffic that is never gated (a coordinator's
// replica writes, which must go to their replicas whatever happens) are recorded without a
// permit and count only while closed.
//
// With options.enabled false the breaker is always closed and never opens.

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/routing/routing_options.h"
#include "core/time.h"

namespace vigil::core {

enum class BreakerState : std::uint8_t { closed = 0, open = 1, half_open = 2 };
std::string_view breaker_state_name(BreakerState state);  // "closed", "open", "half_open"

// What one outcome or acquisition changed: the caller counts transitions (openings).
struct BreakerTransition {
  BreakerState from = BreakerState::closed;
  BreakerState to = BreakerState::closed;
};

class CircuitBreaker {
 public:
  struct Permit {
    std::uint64_t epoch = 0;
    bool trial = false;  // let through half-open
  };

  explicit CircuitBreaker(const CircuitBreakerOptions& options);

  // A permit to send now, or nullopt when the breaker is open (or half-open with every
  // trial already let through). An open breaker whose timeout passed turns half-open here
  // (reported through `transition`).
  std::optional<Permit> try_acquire(Instant now, std::optional<BreakerTransition>* transition);
  // Whether try_acquire(now) would give a permit (changes nothing).
  bool would_admit(Instant now) const;
  // The outcome of a request sent with `permit`. Returns the transition it caused.
  std::optional<BreakerTransition> handle_success(Instant now, const Permit& permit);
  std::optional<BreakerTransition> handle_failure(Instant now, const Permit& permit);
  // The outcome of traffic sent without a permit: counts only while closed.
  std::optional<BreakerTransition> record_success();
  std::optional<BreakerTransition> record_failure(Instant now);

  // The state as of `now` (an open breaker past its timeout reads half_open).
  BreakerState state(Instant now) const;
  // When an open breaker turns half-open; nullopt unless open.
  std::optional<Instant> poll_timeout() const;
  std::uint32_t consecutive_failures() const { return consecutive_failures_; }
  std::uint32_t trials_let_through() const { return trials_; }
  std::uint32_t trial_successes() const { return trial_successes_; }
  std::uint64_t epoch() const { return epoch_; }

 private:
  BreakerTransition move_to(BreakerState to, Instant now);
  void advance(Instant now, std::optional<BreakerTransition>* transition);

  CircuitBreakerOptions options_;
  BreakerState state_ = BreakerState::closed;
  std::uint64_t epoch_ = 0;
  std::uint32_t consecutive_failures_ = 0;  // closed
  Instant opened_at_{};                     // open
  std::uint32_t trials_ = 0;                // half_open: permits given
  std::uint32_t trial_successes_ = 0;       // half_open
};

}  // namespace vigil::core
