#pragma once
// The one source of randomness in core/: a seeded generator value owned by whoever needs it
// (STYLE rule 3). It is xoshiro256** seeded through splitmix64 (Blackman and Vigna), chosen
// because its output is fully specified, so the same seed gives the same stream on every
// standard library and platform. std::*_distribution is banned (its algorithms differ
// between libraries); the bounded and floating helpers below map bits themselves.

#include <array>
#include <cstdint>

namespace vigil::core {

class Random {
 public:
  explicit Random(std::uint64_t seed);

  std::uint64_t next_u64();
  // Uniform in [0, bound). REQUIRES: bound > 0. Lemire's multiply-shift with rejection,
  // so there is no modulo bias.
  std::uint64_t uniform(std::uint64_t bound);
  // Uniform in [low, high]. REQUIRES: low <= high.
  std::int64_t uniform_range(std::int64_t low, std::int64_t high);
  // Uniform in [0, 1) with 53 random bits.
  double uniform_double();
  // True with the given probability (clamped to [0, 1]).
  bool chance(double probability);
  // A new generator whose stream is independent of this one (for per-node streams derived
  // from one simulation seed).
  Random fork();

 private:
  std::array<std::uint64_t, 4> state_{};
};

// splitmix64 step: also the recommended way to derive seeds from a seed.
std::uint64_t splitmix64(std::uint64_t& state);

}  // namespace vigil::core
