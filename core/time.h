#pragma once
// Time in core/ is a value handed in, never read (STYLE rule 1). Two kinds exist:
// - Instant: monotonic time of the environment (virtual microseconds under sim/, the steady
//   clock under net/). Used for timers, timeouts and failure detection.
// - WallMicros: the node's idea of the wall clock (microseconds since the Unix epoch),
//   possibly skewed; it only feeds the timestamps in vector clocks and hints.

#include <chrono>
#include <cstdint>

namespace vigil::core {

using Duration = std::chrono::microseconds;

// A clock type with no now(): instants can only be computed from instants handed in.
struct MonotonicClock {
  using rep = std::int64_t;
  using period = std::micro;
  using duration = Duration;
  using time_point = std::chrono::time_point<MonotonicClock, Duration>;
  static constexpr bool is_steady = true;
};

using Instant = MonotonicClock::time_point;
using WallMicros = std::int64_t;

constexpr std::int64_t to_micros(Duration duration) { return duration.count(); }
constexpr std::int64_t to_micros(Instant instant) {
  return instant.time_since_epoch().count();
}
constexpr Instant instant_from_micros(std::int64_t micros) { return Instant{Duration{micros}}; }

}  // namespace vigil::core
