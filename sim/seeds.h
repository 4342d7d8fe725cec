#pragma once
// How every random stream of a simulation is derived from its one seed. Portable and
// documented so that a seed means the same run everywhere: a chain of splitmix64 steps
// (core/random.h) over (seed, stream, index, incarnation), each step mixing in one value.
// Streams are independent in practice because splitmix64 is a bijective avalanche mix:
// changing any input changes every output bit with probability 1/2.

#include <cstdint>

#include "core/random.h"

namespace vigil::sim {

enum class Stream : std::uint64_t {
  network = 1,  // link latencies, loss, duplication, reordering, client link latency
  node = 2,     // index = node, incarnation = how many times it was restarted
  client = 3,   // index = client
  faults = 4,   // fault timing jitter and fault targets (which record to corrupt)
  clock = 5,    // index = node: the initial offset of its wall clock
  disk = 6,     // index = node: commit latencies, and whether a crash keeps a commit in flight
  // Under the network stream's seed (Network's constructor seed), drawn only while a fault
  // is active, so that a run without such faults draws exactly what it did before them:
  link = 7,   // index = from node, incarnation = to node: a `link` fault's loss on that link
  burst = 8,  // a `burst` fault's loss and duplication, every link
};

inline std::uint64_t derive_seed(std::uint64_t seed, Stream stream, std::uint64_t index = 0,
                                 std::uint64_t incarnation = 0) {
  std::uint64_t state = seed;
  std::uint64_t mixed = core::splitmix64(state);
  for (const std::uint64_t value : {static_cast<std::uint64_t>(stream), index, incarnation}) {
    state = mixed ^ value;
    mixed = core::splitmix64(state);
  }
  return mixed;
}

}  // namespace vigil::sim
