// How often the simulator checks each node's invariants.

#pragma once

#include <cstdint>

namespace vigil::sim {

// Every Kth input of a node runs Node::check_invariants() (1 = every input). The
// coordinator's invariants walk every request in flight -- dozens under a partition -- so
// checking after every input was 30% of the simulator's time, and every 8th input still
// 10%: a walk every few inputs finds the maps cold in the cache (docs/performance.md).
// With every 32nd input a violation stops the run at most 31 of that node's inputs later,
// with the same seed; one that appears and is undone within those inputs is missed.
// `vigil sim --invariants-every 1` checks after every input.
inline constexpr std::uint64_t sim_invariant_interval = 32;

}  // namespace vigil::sim
