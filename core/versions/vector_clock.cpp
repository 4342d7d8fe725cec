// Vector clocks: node -> {counter, timestamp}, the seed's format.
//
// Theory of operation. Counters alone decide causality (Lamport; Dynamo section 4.4):
// `compare` is the product order on counters, so wall clocks, which skew and jump, never
// make one event look after another. Timestamps ride along for two jobs: Riak-style
// pruning ages entries by them, and SiblingSet::write raises a new version's timestamp
// past every timestamp in its context. For the second job an entry's timestamp is the
// latest wall time known for that node, so `merge` takes the maximum of counters and of
// timestamps independently (Riak keeps the timestamp of the larger counter; with a clock
// that stepped back, that would forget the later-looking time of an earlier event). Both
// halves are joins, so merge is idempotent, commutative and associative.
//
// Pruning follows Riak's vclock:prune (small/big/young/old = 10/50/20s/86400s): bounded
// clocks at the price of forgetting causality for nodes that have not written for a long
// time. What that costs is in docs/versions.md.

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "core/assert.h"
#include "core/versions/version.h"

namespace vigil::core {

std::uint64_t VectorClock::counter(const NodeId& node) const {
  const auto it = entries_.find(node);
  return it == entries_.end() ? 0 : it->second.counter;
}

bool VectorClock::contains(const Dot& dot) const {
  return counter(dot.node) >= dot.counter;
}

void VectorClock::increment(const NodeId& node, WallMicros now) {
  ClockEntry& entry = entries_[node];
  VIGIL_ASSERT(entry.counter < std::numeric_limits<std::uint64_t>::max(),
               "vector clock counter overflow");
  entry.counter += 1;
  entry.timestamp_us = now;
}

void VectorClock::set(const NodeId& node, ClockEntry entry) {
  VIGIL_ASSERT(entry.counter > 0, "a vector clock entry needs a counter > 0");
  entries_[node] = entry;
}

void VectorClock::merge(const VectorClock& other) {
  for (const auto& [node, theirs] : other.entries_) {
    auto [it, inserted] = entries_.try_emplace(node, theirs);
    if (inserted) continue;
    ClockEntry& ours = it->second;
    ours.counter = std::max(ours.counter, theirs.counter);
    ours.timestamp_us = std::max(ours.timestamp_us, theirs.timestamp_us);
  }
}

bool VectorClock::includes(const VectorClock& other) const {
  for (const auto& [node, theirs] : other.entries_) {
    const auto it = entries_.find(node);
    if (it == entries_.end()) return false;
    if (it->second.counter < theirs.counter) return false;
    if (it->second.timestamp_us < theirs.timestamp_us) return false;
  }
  return true;
}

namespace {

// now - timestamp, saturated: timestamps come from peers and may be anything.
std::int64_t age_us(WallMicros now, WallMicros timestamp) {
  std::int64_t age = 0;
  if (__builtin_sub_overflow(now, timestamp, &age)) {
    return timestamp > now ? std::numeric_limits<std::int64_t>::min()
                           : std::numeric_limits<std::int64_t>::max();
  }
  return age;
}

}  // namespace

std::size_t VectorClock::prune(const ClockPruning& limits, WallMicros now) {
  if (entries_.size() <= limits.entries_small) return 0;
  // Oldest first; the node id breaks timestamp ties so the result is deterministic.
  std::vector<std::pair<WallMicros, NodeId>> by_age;
  by_age.reserve(entries_.size());
  for (const auto& [node, entry] : entries_) by_age.emplace_back(entry.timestamp_us, node);
  std::sort(by_age.begin(), by_age.end());

  std::size_t removed = 0;
  for (const auto& [timestamp, node] : by_age) {
    if (entries_.size() <= limits.entries_small) break;
    const std::int64_t age = age_us(now, timestamp);
    const bool too_many = entries_.size() > limits.entries_big;
    const bool young = age < to_micros(limits.age_young);
    const bool old = age > to_micros(limits.age_old);
    if (!too_many && (young || !old)) break;
    entries_.erase(node);
    ++removed;
  }
  return removed;
}

Ordering compare(const VectorClock& a, const VectorClock& b) {
  bool a_ahead = false;  // some counter of a is larger than b's
  bool b_ahead = false;
  auto ia = a.entries().begin();
  auto ib = b.entries().begin();
  // Walk both sorted maps at once; an absent entry counts as 0.
  while (ia != a.entries().end() || ib != b.entries().end()) {
    if (ib == b.entries().end() || (ia != a.entries().end() && ia->first < ib->first)) {
      a_ahead = true;  // counters are > 0, so a present entry beats an absent one
      ++ia;
    } else if (ia == a.entries().end() || ib->first < ia->first) {
      b_ahead = true;
      ++ib;
    } else {
      if (ia->second.counter > ib->second.counter) a_ahead = true;
      if (ib->second.counter > ia->second.counter) b_ahead = true;
      ++ia;
      ++ib;
    }
  }
  if (a_ahead && b_ahead) return Ordering::concurrent;
  if (a_ahead) return Ordering::after;
  if (b_ahead) return Ordering::before;
  return Ordering::equal;
}

}  // namespace vigil::core
