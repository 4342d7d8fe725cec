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

namespace {

// The first entry whose node is not less than `node` (entries are sorted by node).
template <typename Iterator>
Iterator lower_bound_of(Iterator begin, Iterator end, const NodeId& node) {
  return std::lower_bound(begin, end, node,
                          [](const auto& entry, const NodeId& id) { return entry.first < id; });
}

}  // namespace

VectorClock::Entries::iterator VectorClock::find(const NodeId& node) {
  const auto it = lower_bound_of(entries_.begin(), entries_.end(), node);
  return it != entries_.end() && it->first == node ? it : entries_.end();
}

VectorClock::Entries::const_iterator VectorClock::find(const NodeId& node) const {
  const auto it = lower_bound_of(entries_.begin(), entries_.end(), node);
  return it != entries_.end() && it->first == node ? it : entries_.end();
}

std::uint64_t VectorClock::counter(const NodeId& node) const {
  const auto it = find(node);
  return it == entries_.end() ? 0 : it->second.counter;
}

bool VectorClock::contains(const Dot& dot) const {
  return counter(dot.node) >= dot.counter;
}

void VectorClock::increment(const NodeId& node, WallMicros now) {
  auto it = lower_bound_of(entries_.begin(), entries_.end(), node);
  if (it == entries_.end() || it->first != node) it = entries_.insert(it, {node, ClockEntry{}});
  ClockEntry& entry = it->second;
  VIGIL_ASSERT(entry.counter < std::numeric_limits<std::uint64_t>::max(),
               "vector clock counter overflow");
  entry.counter += 1;
  entry.timestamp_us = now;
}

void VectorClock::set(const NodeId& node, ClockEntry entry) {
  VIGIL_ASSERT(entry.counter > 0, "a vector clock entry needs a counter > 0");
  // Decoding sets entries in ascending order: appending is the common case.
  if (entries_.empty() || entries_.back().first < node) {
    entries_.emplace_back(node, entry);
    return;
  }
  const auto it = lower_bound_of(entries_.begin(), entries_.end(), node);
  if (it != entries_.end() && it->first == node) {
    it->second = entry;
  } else {
    entries_.insert(it, {node, entry});
  }
}

void VectorClock::merge(const VectorClock& other) {
  if (other.entries_.empty()) return;
  if (entries_.empty()) {
    entries_ = other.entries_;
    return;
  }
  if (includes(other)) return;  // the common case on a replica: nothing new
  // Both sorted: one walk into the union.
  Entries merged;
  merged.reserve(entries_.size() + other.entries_.size());
  auto ours = entries_.begin();
  auto theirs = other.entries_.begin();
  while (ours != entries_.end() || theirs != other.entries_.end()) {
    if (theirs == other.entries_.end() ||
        (ours != entries_.end() && ours->first < theirs->first)) {
      merged.push_back(std::move(*ours++));
    } else if (ours == entries_.end() || theirs->first < ours->first) {
      merged.push_back(*theirs++);
    } else {
      ClockEntry entry = ours->second;
      entry.counter = std::max(entry.counter, theirs->second.counter);
      entry.timestamp_us = std::max(entry.timestamp_us, theirs->second.timestamp_us);
      merged.emplace_back(std::move(ours->first), entry);
      ++ours;
      ++theirs;
    }
  }
  entries_ = std::move(merged);
}

bool VectorClock::includes(const VectorClock& other) const {
  if (other.entries_.size() > entries_.size()) return false;
  // Both sorted: one walk.
  auto ours = entries_.begin();
  for (const auto& [node, theirs] : other.entries_) {
    while (ours != entries_.end() && ours->first < node) ++ours;
    if (ours == entries_.end() || ours->first != node) return false;
    if (ours->second.counter < theirs.counter) return false;
    if (ours->second.timestamp_us < theirs.timestamp_us) return false;
    ++ours;
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
    entries_.erase(find(node));
    ++removed;
  }
  return removed;
}

Ordering compare(const VectorClock& a, const VectorClock& b) {
  bool a_ahead = false;  // some counter of a is larger than b's
  bool b_ahead = false;
  auto ia = a.entries().begin();
  auto ib = b.entries().begin();
  // Walk both sorted entry lists at once; an absent entry counts as 0.
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
