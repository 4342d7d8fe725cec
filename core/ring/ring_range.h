#pragma once
// Arithmetic on ranges of the 64-bit ring, shared by the ring's sources (not a public
// contract). The range owned by token t is (previous token, t]; its size needs 65 bits,
// because a ring with one token owns all 2^64 positions.

#include <cstdint>

#include "core/types.h"

namespace vigil::core {

__extension__ typedef unsigned __int128 RingSpan;  // a number of positions, <= 2^64

inline constexpr RingSpan ring_positions = RingSpan{1} << 64;

// The size of (previous, token]: token - previous modulo 2^64, or the whole ring when the
// two coincide (a ring with one token).
inline RingSpan range_size(Token previous, Token token) {
  const Token size = token - previous;  // wraps modulo 2^64 by definition
  return size == 0 ? ring_positions : RingSpan{size};
}

// A span as a fraction of the ring.
inline double ring_fraction(RingSpan span) {
  return static_cast<double>(span) / 0x1p64;
}

}  // namespace vigil::core
