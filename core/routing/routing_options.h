#pragma once
// What a router is told (config/node_options.cpp maps the configuration's `routing` and
// `load_balancing` sections onto this; the simulator's clients build their own). Durations
// are > 0, counts >= 1 and factor >= 1 (config/config_validate.cpp refuses the rest; the
// router asserts them).

#include <cstdint>

#include "core/time.h"

namespace vigil::core {

// routing.strategy. `random` is not a configuration value: the simulator's clients use it
// as the baseline token awareness is measured against (sim/workload.h).
enum class RouteStrategy : std::uint8_t { token_aware, round_robin, random };
// routing.fallback: what token_aware does when it cannot be token-aware (no ring known, or
// no node of the key's preference list is usable).
enum class RouteFallback : std::uint8_t { round_robin, none };

// routing.retry_policy (core/routing/retry_backoff.h).
struct RetryPolicy {
  std::uint32_t max_retries = 3;
  Duration initial = std::chrono::milliseconds(100);
  Duration max = std::chrono::seconds(1);
  double factor = 2.0;
};

// load_balancing.circuit_breaker (core/routing/circuit_breaker.h).
struct CircuitBreakerOptions {
  // Off: every breaker stays closed and lets everything through (the scenarios' "breakers
  // off" baseline; the configuration always has them on).
  bool enabled = true;
  std::uint32_t threshold = 5;                  // consecutive failures that open the breaker
  Duration timeout = std::chrono::seconds(30);  // open this long, then half-open
  std::uint32_t half_open_requests = 3;         // trial requests let through half-open
};

struct RoutingOptions {
  RouteStrategy strategy = RouteStrategy::token_aware;
  RouteFallback fallback = RouteFallback::round_robin;
  RetryPolicy retry;
  // load_balancing.health_check_interval: how often the router asks for every node's
  // health (core/routing/router.h, "Health").
  Duration health_check_interval = std::chrono::seconds(5);
  CircuitBreakerOptions breaker;
};

}  // namespace vigil::core
