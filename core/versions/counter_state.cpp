#include "core/versions/counter_state.h"

#include <charconv>
#include <limits>

#include "core/assert.h"

namespace vigil::core {

namespace {

constexpr std::string_view not_an_integer = "value is not an integer or out of range";
constexpr std::string_view would_overflow = "increment or decrement would overflow";

bool fits_int64(CounterTotal value) {
  return value >= std::numeric_limits<std::int64_t>::min() &&
         value <= std::numeric_limits<std::int64_t>::max();
}

}  // namespace

std::optional<PnCounter> merged_counter(const std::vector<const Version*>& live) {
  std::optional<PnCounter> merged;
  for (const Version* version : live) {
    if (version->kind != ValueKind::counter) continue;
    auto counter = decode_pn_counter(*version->value);
    VIGIL_ASSERT(counter.ok(), "a stored counter does not decode: " + counter.status().message());
    if (!merged) {
      merged = std::move(*counter);
    } else {
      merged->merge(*counter);
    }
  }
  return merged;
}

std::optional<std::int64_t> parse_counter_integer(const Value& value) {
  const std::string_view text(value);
  if (text.empty() || text.size() > 20) return std::nullopt;
  const std::string_view digits = text.front() == '-' ? text.substr(1) : text;
  if (digits.empty() || (digits.front() == '0' && text.size() > 1)) return std::nullopt;
  std::int64_t parsed = 0;
  const auto [end, code] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (code != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return parsed;
}

Result<CounterWrite> increment_counter(const SiblingSet& state, const Dot& fresh,
                                       std::int64_t delta, WallMicros now) {
  const std::vector<const Version*> live = state.live_at(now);
  CounterWrite write;
  PnCounter counter;
  if (!live.empty()) {
    const Version& winner = *live.back();
    write.expires_at_us = winner.expires_at_us;
    if (winner.kind == ValueKind::counter) {
      counter = *merged_counter(live);
    } else {
      const std::optional<std::int64_t> base = parse_counter_integer(*winner.value);
      if (!base) return error(Code::invalid_argument, std::string(not_an_integer));
      // Keyed by the plain version's dot: two coordinators that turn the same value into a
      // counter at once write the same base entry, which the merge then counts once.
      if (Status added = counter.add(winner.dot, *base); !added.ok()) return added;
    }
  }
  const PnCounterEntry* own = counter.latest_of(fresh.node);
  const Dot id = own != nullptr ? own->id : fresh;
  if (!fits_int64(counter.value() + delta)) {
    return error(Code::invalid_argument, std::string(would_overflow));
  }
  if (Status added = counter.add(id, delta); !added.ok()) {
    return error(Code::invalid_argument, std::string(would_overflow) + " (" + added.message() + ")");
  }
  write.total = counter.value();
  write.value = encode_pn_counter(counter);
  return write;
}

}  // namespace vigil::core
