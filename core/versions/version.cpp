// A Version is one write event of a key: its dot, the causal context its writer had seen,
// its timestamp and its value or tombstone. See version.h for the dotted-version-vector
// model (Preguica et al.; Riak 2.0 dvvset).
//
// Why covers() is not history().contains(): a version's history is context + {dot} as a
// *set of events*, and the set can have a gap below the dot. Two writes through
// coordinator A with the same empty context get dots (A,1) and (A,2); the second did not
// see the first. history() flattens (A,2) into the vector {A:2}, which would claim (A,1)
// too, so covers() tests the dot and the context separately. history() is still the right
// thing to join into a context handed to a client who read every version of the set.

#include "core/versions/version.h"

#include "core/hash.h"

namespace vigil::core {

namespace {

// "TOMBSTON": the checksum of a tombstone, so a tombstone's record is checked like a value.
constexpr std::uint64_t tombstone_checksum = 0x544f4d4253544f4eULL;

}  // namespace

bool Version::covers(const Dot& other) const {
  return other == dot || context.contains(other);
}

VectorClock Version::history() const {
  VectorClock result = context;
  VectorClock own;
  own.set(dot.node, ClockEntry{dot.counter, timestamp_us});
  result.merge(own);
  return result;
}

std::uint64_t value_checksum(const std::optional<Value>& value, ValueKind kind) {
  if (!value.has_value()) return tombstone_checksum;
  // A counter's bytes hash under another seed: a plain value that happens to hold the same
  // bytes is different content (and the anti-entropy trees hash the kind with the codec).
  constexpr std::uint64_t counter_seed = 0x636f756e746572;  // "counter"
  return xxhash64(*value, kind == ValueKind::counter ? counter_seed : 0);
}

}  // namespace vigil::core
