#include "sim/check_counters.h"

#include <map>
#include <optional>
#include <string>

#include "core/versions/counter_state.h"

namespace vigil::sim {

namespace {

struct Bounds {
  core::CounterTotal acknowledged = 0;
  core::CounterTotal unknown_up = 0;    // positive deltas of unknown outcome
  core::CounterTotal unknown_down = 0;  // negative ones
  bool any_acknowledged = false;
  std::optional<core::CounterTotal> final_read;  // the last answered final read's value
  core::CounterTotal low() const { return acknowledged + unknown_down; }
  core::CounterTotal high() const { return acknowledged + unknown_up; }
};

std::string text(core::CounterTotal value) {
  return core::counter_text(value);
}

// A final read's value as the counter it shows: absent is 0.
std::optional<core::CounterTotal> read_value(const Operation& read) {
  if (read.code == core::Code::not_found) return 0;
  if (read.code != core::Code::ok || read.values.empty()) return std::nullopt;
  const std::optional<std::int64_t> value = core::parse_counter_integer(read.values.back());
  if (!value) return std::nullopt;
  return *value;
}

}  // namespace

CheckResult check_counter_sums(const SimulationResult& result) {
  CheckResult check;
  check.name = "counter_sums";
  std::map<core::Key, Bounds> keys;
  std::uint64_t acknowledged = 0;
  std::uint64_t unknown = 0;
  std::uint64_t failed = 0;
  for (const Operation& op : result.history.operations()) {
    if (op.op == core::ClientOp::incr) {
      Bounds& bounds = keys[op.key];
      switch (op.outcome) {
        case Outcome::ok:
          bounds.acknowledged += op.delta;
          bounds.any_acknowledged = true;
          ++acknowledged;
          break;
        case Outcome::indeterminate:
          (op.delta > 0 ? bounds.unknown_up : bounds.unknown_down) += op.delta;
          ++unknown;
          break;
        case Outcome::failed: ++failed; break;
      }
    } else if (op.final_read && op.op == core::ClientOp::get) {
      if (const auto value = read_value(op)) keys[op.key].final_read = value;
    }
  }
  std::uint64_t low_replicas = 0;
  std::uint64_t high_replicas = 0;
  std::uint64_t low_read = 0;
  std::uint64_t high_read = 0;
  std::uint64_t unverified = 0;
  for (const auto& [key, bounds] : keys) {
    const auto bounds_text = "[" + text(bounds.low()) + ", " + text(bounds.high()) + "]";
    const auto held = result.replica_counters.find(key);
    const core::CounterTotal on_replicas = held == result.replica_counters.end() ? 0 : held->second;
    if (on_replicas < bounds.low() || on_replicas > bounds.high()) {
      ++(on_replicas < bounds.low() ? low_replicas : high_replicas);
      add_example(check, "key " + key + ": the replicas hold " + text(on_replicas) +
                             ", outside " + bounds_text + " (acknowledged " +
                             text(bounds.acknowledged) + ")");
    }
    if (!bounds.final_read) {
      if (bounds.any_acknowledged) {
        ++unverified;
        add_example(check, "key " + key + ": no final read answered");
      }
      continue;
    }
    const core::CounterTotal read = *bounds.final_read;
    if (read < bounds.low() || read > bounds.high()) {
      ++(read < bounds.low() ? low_read : high_read);
      add_example(check, "key " + key + ": the final read shows " + text(read) + ", outside " +
                             bounds_text + " (acknowledged " + text(bounds.acknowledged) + ")");
    }
  }
  check.counts = {{"keys_checked", keys.size()},
                  {"increments_acknowledged", acknowledged},
                  {"increments_unknown", unknown},
                  {"increments_failed", failed},
                  {"keys_low_on_replicas", low_replicas},
                  {"keys_high_on_replicas", high_replicas},
                  {"keys_low_in_final_read", low_read},
                  {"keys_high_in_final_read", high_read},
                  {"keys_unverified", unverified}};
  check.ok = low_replicas + high_replicas + low_read + high_read + unverified == 0;
  return check;
}

}  // namespace vigil::sim
