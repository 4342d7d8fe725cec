#include "config/units.h"

#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <span>
#include <system_error>

// Every parser here reads untrusted text (a config file), so each step that could overflow
// is checked before it is taken, and every refusal quotes the text it refused. Units are
// exact-case: "mb" or "Mb" could mean megabits, and "M" minutes or months; guessing would
// turn a typo into a silently wrong limit.

namespace vigil::config {

using core::Code;
using core::Duration;
using core::Result;
using core::Status;

namespace {

struct Unit {
  std::string_view name;
  std::uint64_t scale;
};

constexpr std::uint64_t kilo = 1024;
constexpr std::array<Unit, 9> size_units{{
    {"B", 1},
    {"KB", kilo},
    {"MB", kilo* kilo},
    {"GB", kilo* kilo* kilo},
    {"TB", kilo* kilo* kilo* kilo},
    {"KiB", kilo},
    {"MiB", kilo* kilo},
    {"GiB", kilo* kilo* kilo},
    {"TiB", kilo* kilo* kilo* kilo},
}};
constexpr std::string_view size_unit_list = "B, KB, MB, GB, TB";

constexpr std::uint64_t second_us = 1000 * 1000;
constexpr std::array<Unit, 6> duration_units{{
    {"us", 1},
    {"ms", 1000},
    {"s", second_us},
    {"m", 60 * second_us},
    {"h", 3600 * second_us},
    {"d", 86400 * second_us},
}};
constexpr std::string_view duration_unit_list = "us, ms, s, m, h, d";

std::string quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Decimal digits to a number; nullopt on overflow. REQUIRES: digits are all 0-9.
std::optional<std::uint64_t> digits_value(std::string_view digits) {
  std::uint64_t value = 0;
  for (const char c : digits) {
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

// "<whole number><space?><unit>" against a unit table; the scaled value must not exceed
// `max`. `what` names the kind of value in messages.
Result<std::uint64_t> parse_scaled(std::string_view original, std::string_view what,
                                   std::span<const Unit> units, std::string_view unit_list,
                                   std::string_view example, std::uint64_t max) {
  const std::string_view text = trim(original);
  const std::string shape = "expected a whole number followed by a unit (" +
                            std::string(unit_list) + "), e.g. " + std::string(example);
  if (text.empty())
    return error(Code::invalid_argument, "empty " + std::string(what) + "; " + shape);
  if (text.front() == '-') {
    return error(Code::invalid_argument,
                 quoted(original) + ": a " + std::string(what) + " cannot be negative");
  }
  std::size_t end = 0;
  while (end < text.size() && is_digit(text[end])) ++end;
  if (end == 0) return error(Code::invalid_argument, quoted(original) + ": " + shape);
  const std::string_view digits = text.substr(0, end);
  std::string_view unit = text.substr(end);
  if (!unit.empty() && (unit.front() == '.' || unit.front() == ',')) {
    return error(Code::invalid_argument,
                 quoted(original) + ": fractions are not accepted; use a smaller unit");
  }
  unit = trim(unit);
  if (unit.empty()) {
    return error(Code::invalid_argument,
                 quoted(original) + ": missing unit (" + std::string(unit_list) + ")");
  }
  const Unit* found = nullptr;
  for (const Unit& candidate : units) {
    if (candidate.name == unit) found = &candidate;
  }
  if (found == nullptr) {
    return error(Code::invalid_argument, quoted(original) + ": unknown unit " + quoted(unit) +
                                             " (expected " + std::string(unit_list) + ")");
  }
  const std::optional<std::uint64_t> number = digits_value(digits);
  if (!number || *number > max / found->scale) {
    return error(Code::invalid_argument, quoted(original) + ": too large (at most " +
                                             std::to_string(max / found->scale) +
                                             std::string(found->name) + ")");
  }
  return *number * found->scale;
}

// The largest unit (in table order, largest last) that divides `value` exactly.
// Zero is written in `zero_unit` ("0s", not "0h").
std::string format_scaled(std::uint64_t value, std::span<const Unit> units_small_to_large,
                          std::string_view zero_unit) {
  if (value == 0) return "0" + std::string(zero_unit);
  const Unit* best = &units_small_to_large.front();
  for (const Unit& unit : units_small_to_large) {
    if (value % unit.scale == 0) best = &unit;
  }
  return std::to_string(value / best->scale) + std::string(best->name);
}

}  // namespace

Result<Duration> parse_duration(std::string_view text) {
  const auto max = static_cast<std::uint64_t>(std::numeric_limits<Duration::rep>::max());
  Result<std::uint64_t> micros =
      parse_scaled(text, "duration", duration_units, duration_unit_list, "100ms or 5s", max);
  if (!micros.ok()) return micros.status();
  return Duration{static_cast<Duration::rep>(*micros)};
}

std::string format_duration(Duration duration) {
  // Days are accepted but not written: "24h" reads better than "1d" in a config.
  constexpr std::span<const Unit> written{duration_units.data(), 5};
  if (duration.count() < 0) {
    // Not a valid config value (parse refuses it) but still printable in a message.
    const auto magnitude = static_cast<std::uint64_t>(-(duration.count() + 1)) + 1;
    return "-" + format_scaled(magnitude, written, "s");
  }
  return format_scaled(static_cast<std::uint64_t>(duration.count()), written, "s");
}

Result<std::uint64_t> parse_size_bytes(std::string_view text) {
  return parse_scaled(text, "size", size_units, size_unit_list, "10MB",
                      std::numeric_limits<std::uint64_t>::max());
}

std::string format_size_bytes(std::uint64_t size_bytes) {
  return format_scaled(size_bytes, std::span<const Unit>{size_units.data(), 5}, "B");
}

Result<std::uint64_t> parse_rate_bytes_per_second(std::string_view original) {
  std::string_view text = trim(original);
  constexpr std::string_view per_second = "/s";
  if (text.size() < per_second.size() || text.substr(text.size() - 2) != per_second) {
    return error(Code::invalid_argument,
                 quoted(original) + ": expected a size per second, e.g. 50MB/s");
  }
  text.remove_suffix(per_second.size());
  Result<std::uint64_t> size = parse_size_bytes(text);
  if (!size.ok()) {
    return error(Code::invalid_argument, quoted(original) +
                                             ": expected a size per second, e.g. 50MB/s (" +
                                             size.status().message() + ")");
  }
  return *size;
}

std::string format_rate_bytes_per_second(std::uint64_t rate_bytes_per_second) {
  return format_size_bytes(rate_bytes_per_second) + "/s";
}

Result<std::uint64_t> parse_whole_number(std::string_view original) {
  const std::string_view text = trim(original);
  const Status shape{Code::invalid_argument,
                     quoted(original) + ": expected a whole number (e.g. 3 or 1e12)"};
  std::size_t at = 0;
  const auto take_digits = [&] {
    const std::size_t start = at;
    while (at < text.size() && is_digit(text[at])) ++at;
    return text.substr(start, at - start);
  };
  if (!text.empty() && text.front() == '-') {
    return error(Code::invalid_argument, quoted(original) + ": cannot be negative");
  }
  const std::string_view whole = take_digits();
  if (whole.empty()) return shape;
  std::string_view fraction;
  if (at < text.size() && text[at] == '.') {
    ++at;
    fraction = take_digits();
  }
  std::uint64_t exponent = 0;
  const bool has_exponent = at < text.size() && (text[at] == 'e' || text[at] == 'E');
  if (has_exponent) {
    ++at;
    if (at < text.size() && text[at] == '+') ++at;
    const std::string_view exponent_digits = take_digits();
    if (exponent_digits.empty() || exponent_digits.size() > 3) return shape;
    exponent = *digits_value(exponent_digits);
  }
  if (at != text.size()) return shape;
  // A fraction is only a whole number when an exponent shifts it into the integer part.
  if (!fraction.empty() && !has_exponent) return shape;
  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  if (fraction.size() > exponent) {
    return error(Code::invalid_argument, quoted(original) + ": not a whole number");
  }
  const Status too_large{Code::invalid_argument,
                         quoted(original) + ": too large (at most 18446744073709551615)"};
  const std::optional<std::uint64_t> mantissa =
      digits_value(std::string(whole) + std::string(fraction));
  if (!mantissa) return too_large;
  std::uint64_t value = *mantissa;
  for (std::uint64_t shift = exponent - fraction.size(); shift > 0 && value != 0; --shift) {
    if (value > std::numeric_limits<std::uint64_t>::max() / 10) return too_large;
    value *= 10;
  }
  return value;
}

std::string format_whole_number(std::uint64_t number) {
  const std::string decimal = std::to_string(number);
  if (number == 0) return decimal;
  std::uint64_t mantissa = number;
  int exponent = 0;
  while (mantissa % 10 == 0) {
    mantissa /= 10;
    ++exponent;
  }
  // Only a long run of zeros is worth the less familiar form.
  if (exponent < 6) return decimal;
  return std::to_string(mantissa) + "e" + std::to_string(exponent);
}

Result<double> parse_real(std::string_view original) {
  const std::string_view text = trim(original);
  double value = 0;
  const char* const end = text.data() + text.size();
  const auto [stop, failure] = std::from_chars(text.data(), end, value);
  if (text.empty() || failure != std::errc{} || stop != end || !std::isfinite(value)) {
    return error(Code::invalid_argument,
                 quoted(original) + ": expected a number (e.g. 0.1 or 8.0)");
  }
  return value;
}

std::string format_real(double number) {
  std::array<char, 64> buffer{};
  const auto [stop, failure] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), number);
  VIGIL_ASSERT(failure == std::errc{}, "64 characters hold any double");
  std::string text(buffer.data(), stop);
  if (text.find_first_not_of("-0123456789") == std::string::npos) text += ".0";
  return text;
}

}  // namespace vigil::config
