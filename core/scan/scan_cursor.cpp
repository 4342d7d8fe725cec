// SCAN's cursor (scan_cursor.h has the layout and why it is a number).

#include "core/scan/scan_cursor.h"

#include <array>

#include "core/assert.h"
#include "core/hash.h"

namespace vigil::core {

namespace {

constexpr std::uint64_t position_mask = (std::uint64_t{1} << cursor_position_bits) - 1;
constexpr std::uint64_t check_values = 31;  // 1..31: five bits, never 0
static_assert(((check_values) << cursor_position_bits | position_mask) <= cursor_max,
              "a cursor must stay exact as a JavaScript Number");

std::uint64_t check_of(std::uint64_t bucket) {
  std::array<char, 8> bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<char>((bucket >> (8 * i)) & 0xff);
  }
  return 1 + xxhash64(std::string_view(bytes.data(), bytes.size()), 0) % check_values;
}

Status invalid(std::string_view shown, std::string_view why) {
  return error(Code::invalid_argument,
               "invalid cursor '" + std::string(shown) + "': " + std::string(why) +
                   " (a SCAN cursor is 0 to start, or the number the previous SCAN answered)");
}

}  // namespace

std::uint64_t encode_cursor(Token next_token) {
  VIGIL_ASSERT(next_token == bucket_start(next_token), "a page ends at a bucket's end");
  const std::uint64_t bucket = next_token >> cursor_bucket_bits;
  if (bucket == 0) return 0;
  return check_of(bucket) << cursor_position_bits | bucket;
}

Result<Token> decode_cursor(std::uint64_t cursor) {
  if (cursor == 0) return Token{0};
  const std::string shown = std::to_string(cursor);
  if (cursor > cursor_max) return invalid(shown, "out of range");
  const std::uint64_t bucket = cursor & position_mask;
  if (bucket == 0 || cursor >> cursor_position_bits != check_of(bucket)) {
    return invalid(shown, "not a cursor this cluster gave out");
  }
  return Token{bucket << cursor_bucket_bits};
}

Result<Token> decode_cursor(std::string_view text) {
  constexpr std::size_t digits_max = 20;
  const std::string shown(text.substr(0, digits_max + 1));
  if (text.empty() || text.size() > digits_max) return invalid(shown, "not a decimal number");
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return invalid(shown, "not a decimal number");
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return invalid(shown, "out of range");
    value = value * 10 + digit;
  }
  return decode_cursor(value);
}

}  // namespace vigil::core
