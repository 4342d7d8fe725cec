#pragma once
// SCAN's cursor: where the next page of a walk of the ring starts, as the decimal integer
// Redis clients expect. A client library holds a cursor as a number, not a string:
// node-redis as a JavaScript Number (exact only below 2^53), redis-cli as an unsigned long
// long, redis-py as an int. So a cursor cannot carry a key; it names a token bucket:
//
//   cursor = check << 48 | bucket      (< 2^53; 0 is the start and the end of a walk)
//
// bucket: the next page starts at token bucket << 16 (a bucket is 2^16 consecutive tokens
// of the 2^64 ring, so there are 2^48 of them). A page always ends at a bucket's end: the
// replica that lists the last bucket lists all of its keys (core/scan/key_scan.h), so the
// position needs no key to resume without a repeat or a gap. Keys share a bucket only when
// their tokens (SHA-256 prefixes) agree in 48 bits: a page rarely grows past COUNT by it.
// check: 1 + xxhash64(bucket) mod 31, five bits that make a number this server did not hand
// out (a real Redis cursor, a typo) a clear error rather than a silent jump.
// The cursor names a position on the ring, not a node or a snapshot: it survives restarts
// of any node, including the one that gave it out, and any node takes it.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/types.h"

namespace vigil::core {

inline constexpr unsigned cursor_bucket_bits = 16;  // tokens per bucket: 2^16
inline constexpr unsigned cursor_position_bits = 64 - cursor_bucket_bits;  // 48
inline constexpr std::uint64_t cursor_max = (std::uint64_t{1} << 53) - 1;  // JavaScript's exact range

// The first token of `token`'s bucket, and its last.
constexpr Token bucket_start(Token token) {
  return token & ~((Token{1} << cursor_bucket_bits) - 1);
}
constexpr Token bucket_end(Token token) {
  return token | ((Token{1} << cursor_bucket_bits) - 1);
}

// The cursor of a walk whose next page starts at `next_token`; 0 for next_token 0 (the
// start of the ring: a walk that is done answers 0 too).
// REQUIRES (asserted): next_token == bucket_start(next_token).
std::uint64_t encode_cursor(Token next_token);

// The token a cursor resumes at (0 for cursor 0). invalid_argument "invalid cursor ..."
// when `cursor` is not one encode_cursor gives: above cursor_max or a wrong check.
Result<Token> decode_cursor(std::uint64_t cursor);

// The same from a client's argument: decimal digits only (no sign, no spaces), at most 20.
Result<Token> decode_cursor(std::string_view text);

}  // namespace vigil::core
