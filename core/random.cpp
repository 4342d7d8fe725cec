#include "core/random.h"

#include "core/assert.h"

namespace vigil::core {

namespace {
// The 64x64->128 multiply Lemire's method needs; a GNU extension, named once.
__extension__ typedef unsigned __int128 uint128;

constexpr std::uint64_t rotate_left(std::uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}
}  // namespace

std::uint64_t splitmix64(std::uint64_t& state) {
  state += 0x9e3779b97f4a7c15ULL;
  std::uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Random::Random(std::uint64_t seed) {
  std::uint64_t state = seed;
  for (auto& word : state_) word = splitmix64(state);
}

std::uint64_t Random::next_u64() {
  const std::uint64_t result = rotate_left(state_[1] * 5, 7) * 9;
  const std::uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotate_left(state_[3], 45);
  return result;
}

std::uint64_t Random::uniform(std::uint64_t bound) {
  VIGIL_ASSERT(bound > 0, "Random::uniform bound must be positive");
  // Lemire, "Fast Random Integer Generation in an Interval" (2019).
  uint128 product = static_cast<uint128>(next_u64()) * bound;
  auto low = static_cast<std::uint64_t>(product);
  if (low < bound) {
    const std::uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      product = static_cast<uint128>(next_u64()) * bound;
      low = static_cast<std::uint64_t>(product);
    }
  }
  return static_cast<std::uint64_t>(product >> 64);
}

std::int64_t Random::uniform_range(std::int64_t low, std::int64_t high) {
  VIGIL_ASSERT(low <= high, "Random::uniform_range needs low <= high");
  const auto span = static_cast<std::uint64_t>(high) - static_cast<std::uint64_t>(low);
  if (span == UINT64_MAX) return static_cast<std::int64_t>(next_u64());
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(low) + uniform(span + 1));
}

double Random::uniform_double() {
  return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
}

bool Random::chance(double probability) {
  if (probability <= 0.0) return false;
  if (probability >= 1.0) return true;
  return uniform_double() < probability;
}

Random Random::fork() { return Random(next_u64()); }

}  // namespace vigil::core
