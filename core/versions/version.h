#pragma once
// Vector clocks, dotted versions and sibling sets: what a replica keeps for one key.
//
// Model (Preguica et al., "Dotted Version Vectors", and Riak 2.0's dvvset): every write
// creates one Version identified by a *dot* (coordinator node, counter) and carrying the
// *context* (a vector clock) of what the writer had seen. A version's causal history is
// context + {dot}. A version is obsolete when another version's history contains its dot.
// Because the dot is separate from the context, two writes through one coordinator with
// the same (stale) context get two different dots and are siblings, while a write whose
// context covers the old dot replaces it: real concurrency is told apart from sequence.
//
// Replicas always exchange whole SiblingSets (never single versions), so a context that is
// the join of a set's histories is sound. docs/versions.md explains the rules, the
// timestamp rule's clock bump, absorption of superseded histories, and what pruning costs.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "core/types.h"

namespace vigil::core {

// One node's entry in a vector clock: the seed's {counter, timestamp}.
struct ClockEntry {
  std::uint64_t counter = 0;
  WallMicros timestamp_us = 0;  // wall time of the event that set `counter`
  friend bool operator==(const ClockEntry&, const ClockEntry&) = default;
};

struct Dot {
  NodeId node;
  std::uint64_t counter = 0;
  friend auto operator<=>(const Dot&, const Dot&) = default;
};

enum class Ordering : std::uint8_t { before, after, equal, concurrent };

// What a version's value bytes are: a client's bytes (SET), or the state of a PN-counter
// (INCR; core/versions/pn_counter.h), which reads merge across siblings.
enum class ValueKind : std::uint8_t { bytes, counter };

// Riak's vclock pruning limits (small_vclock, big_vclock, young_vclock, old_vclock).
struct ClockPruning {
  std::size_t entries_small = 10;  // never prune a clock with at most this many entries
  std::size_t entries_big = 50;    // always prune down to this many entries
  Duration age_young = std::chrono::seconds(20);   // never prune entries younger
  Duration age_old = std::chrono::seconds(86400);  // prune entries older (if > small)
};

// node -> {counter, timestamp}, ordered by node id (deterministic iteration).
class VectorClock {
 public:
  VectorClock() = default;

  std::uint64_t counter(const NodeId& node) const;  // 0 when absent
  bool contains(const Dot& dot) const;              // counter(dot.node) >= dot.counter
  // Counter + 1 for `node`, timestamp `now`.
  void increment(const NodeId& node, WallMicros now);
  // Sets an entry. REQUIRES: entry.counter > 0.
  void set(const NodeId& node, ClockEntry entry);
  // Point-wise maximum of counters and, independently, of timestamps: an entry's timestamp
  // is the latest wall time known for that node's events (what pruning ages, and what a
  // write's timestamp must exceed, see SiblingSet::write). A join: idempotent,
  // commutative, associative.
  void merge(const VectorClock& other);
  // True when every entry of `other` is here with a counter and a timestamp at least as
  // large (merging `other` in would change nothing).
  bool includes(const VectorClock& other) const;
  // Removes entries by Riak's rules (vclock:prune), oldest (timestamp, node) first:
  // nothing while size() <= entries_small; the oldest entry goes while size() >
  // entries_big, or while it is older than age_old; pruning stops at the first entry that
  // is neither (in particular one younger than age_young). Returns how many were removed.
  // Pruning can make a later version look concurrent with one it descends from (a
  // spurious sibling, or a timestamp tiebreak), and can let an obsolete version or a
  // deleted value that a lagging replica still holds come back; docs/versions.md.
  std::size_t prune(const ClockPruning& limits, WallMicros now);

  // Ascending node ids, each once: iterate with `for (const auto& [node, entry] : ...)`.
  using Entries = std::vector<std::pair<NodeId, ClockEntry>>;
  const Entries& entries() const { return entries_; }
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  friend bool operator==(const VectorClock&, const VectorClock&) = default;

 private:
  // A sorted vector, not a std::map: clocks hold a handful of entries (one per
  // coordinator, N or a few more), and every replica message decodes, merges and compares
  // several of them. One allocation per clock instead of one per entry, and the merge and
  // compare walks are over contiguous memory (docs/performance.md, the simulator profile).
  Entries::iterator find(const NodeId& node);
  Entries::const_iterator find(const NodeId& node) const;
  Entries entries_;
};

// Compares by counters only (timestamps never decide causality).
Ordering compare(const VectorClock& a, const VectorClock& b);

struct Version {
  Dot dot;              // the write event
  VectorClock context;  // what the writer had seen (may or may not hold the dot)
  // The coordinator's wall clock when it wrote, raised past every timestamp in the
  // context (SiblingSet::write), so a version is always later than what it supersedes.
  WallMicros timestamp_us = 0;
  std::optional<Value> value;  // nullopt: a tombstone (delete)
  std::uint64_t checksum = 0;  // value_checksum(value); verified when decoded
  // Expiry (SET EX, EXPIRE; docs/expiry.md): the wall time (the coordinator's clock, in
  // microseconds since the Unix epoch) from which the value reads as absent; 0: never.
  // Part of the version's content like the value: replicated, merged and hashed with it,
  // so a replica that missed an EXPIRE learns it as it learns any write. Always 0 on a
  // tombstone.
  WallMicros expires_at_us = 0;
  // counter: `value` holds encode_pn_counter bytes (always valid: the codec and
  // from_versions refuse others). Always bytes on a tombstone.
  ValueKind kind = ValueKind::bytes;

  bool is_tombstone() const { return !value.has_value(); }
  // Reads as absent at wall time `now`: a tombstone, or a value whose expiry has passed
  // (on the reader's clock; docs/expiry.md bounds what clock skew does to that).
  bool is_dead_at(WallMicros now) const {
    return !value.has_value() || (expires_at_us != 0 && expires_at_us <= now);
  }
  // True when `other` is this version's dot or its context contains it. Not
  // history().contains(other): two writes through one coordinator with the same stale
  // context get dots (a,1) and (a,2), and (a,2) did not see (a,1).
  bool covers(const Dot& other) const;
  // context + dot as one vector clock (the dot's entry carries timestamp_us). Claims the
  // gap below the dot too, which is right for a context handed to a client who read the
  // whole set, and wrong for deciding what one version covers (use covers()).
  VectorClock history() const;
  friend bool operator==(const Version&, const Version&) = default;
};

// xxhash64 of the value (seeded apart for a counter, so a counter and a plain value with the
// same bytes differ); a fixed distinct constant for a tombstone.
std::uint64_t value_checksum(const std::optional<Value>& value,
                             ValueKind kind = ValueKind::bytes);

enum class ConflictMode : std::uint8_t {
  // The seed's rule: causal order first; among concurrent versions the larger timestamp
  // wins; equal timestamps are broken by the larger dot. Keeps at most one version, whose
  // context absorbs the losers' histories so they cannot come back.
  timestamp,
  // Dynamo/Riak allow_mult: keep every concurrent version for the client to merge.
  siblings,
};

struct SiblingLimits {
  std::size_t siblings_max = 100;  // Riak's max_siblings
  ClockPruning pruning;
};

// What a merge or write had to do at a bound or on a damaged input; callers add these to
// their counters (rule 4: what happens at a bound is counted).
struct VersionCounters {
  std::uint64_t siblings_dropped = 0;  // merge result over siblings_max: oldest dropped
  std::uint64_t dot_conflicts = 0;     // same dot, different content (storage lost a write)
  std::uint64_t clock_entries_pruned = 0;
};

// The state of one key on one replica.
// Invariants (check_invariants): versions sorted by dot, dots unique, every node id valid
// and every counter > 0, no version covered by another, every checksum matches,
// size <= siblings_max after any operation, and in timestamp mode at most one version.
class SiblingSet {
 public:
  SiblingSet() = default;
  // Validates untrusted input (decoded bytes): invalid_argument when a node id is invalid,
  // a dot or clock counter is 0, the versions are not sorted by dot with unique dots, or
  // one version covers another; corruption when a checksum does not match its value. It
  // cannot check the mode and limits (it does not know them): merge the result into the
  // local state (or into an empty set) to apply them. O(n^2) in the number of versions.
  static Result<SiblingSet> from_versions(std::vector<Version> versions);

  const std::vector<Version>& versions() const { return versions_; }
  bool empty() const { return versions_.empty(); }
  std::size_t size() const { return versions_.size(); }
  // True when there are versions and every one is a tombstone.
  bool is_deleted() const;
  // True when there are versions and every one is dead at `now` (a tombstone or expired):
  // the key reads as absent, and the tombstone collector may collect it (docs/expiry.md).
  bool is_dead_at(WallMicros now) const;
  // The versions live at `now` (not dead_at) in read order, (timestamp, dot) ascending:
  // back() is the one a plain GET answers (the greatest timestamp, ties broken by the larger
  // dot: the timestamp mode's rule, so both modes pick the same winner), the same on every
  // node for the same state. The pointers are into this set.
  std::vector<const Version*> live_at(WallMicros now) const;
  // The causal context handed to a client that read this set: the join of every version's
  // history. A write with this context supersedes every version now in the set.
  VectorClock context() const;

  // A new write coordinated by `coordinator` at wall time `now`. Its dot counter is one
  // more than the larger of what this set and `client_context` know of `coordinator`; it
  // removes every version `client_context` covers. Its context is `client_context` joined
  // with the histories of the versions it removes (one may have absorbed a timestamp loser
  // since the client read it), then pruned (counted in clock_entries_pruned). Its
  // timestamp is the larger of `now` and one more than every timestamp in that context. In
  // timestamp mode the result is resolved to one version (the new one may lose to a
  // concurrent version with a larger timestamp; its dot is still returned and covered).
  // Errors (nothing changed, nothing counted): resource_exhausted in siblings mode when
  // the result would exceed siblings_max; invalid_argument when the dot counter would
  // overflow (a forged context).
  // `expires_at_us`: the new version's expiry (0: never). A tombstone has none, and like a
  // tombstone an expiring version never prunes its context: once it expires it stands for
  // a delete, and must keep covering what it superseded (docs/expiry.md).
  // `kind`: counter for an INCR's new counter state (`value` holds its bytes).
  // REQUIRES: is_valid_node_id(coordinator); expires_at_us >= 0, and 0 when !value; kind
  // bytes when !value.
  // `dots_minted`: the largest dot counter `coordinator` minted before, on any key (0: not
  // tracked); the new dot is above it too. A coordinator that tracks it never mints the
  // same dot twice, even for a key whose state went away meanwhile (a collected tombstone)
  // while another replica still holds a version that covers the old dot: Riak's kv679,
  // where such a new write was silently dominated (docs/deletes.md).
  Result<Dot> write(const NodeId& coordinator, const VectorClock& client_context,
                    std::optional<Value> value, WallMicros now, ConflictMode mode,
                    const SiblingLimits& limits, VersionCounters& counters,
                    std::uint64_t dots_minted = 0, WallMicros expires_at_us = 0,
                    ValueKind kind = ValueKind::bytes);
  // The dot write() would mint for `coordinator` with this context and dots_minted (an INCR
  // names its new counter entry after it before writing). nullopt when it would overflow.
  std::optional<Dot> next_dot(const NodeId& coordinator, const VectorClock& client_context,
                              std::uint64_t dots_minted) const;

  // Merges another replica's state in: union by dot (one dot's copies are joined: their
  // contexts merge; different content is a dot conflict, counted, and the larger
  // (timestamp, checksum, value) kept), then every version another covers is dropped and
  // its history absorbed into the versions that cover it; in timestamp mode the survivor
  // with the largest (timestamp, dot) wins and absorbs the others' histories. For states
  // built by write() and merge() without clock pruning: idempotent, commutative and
  // associative. In siblings mode past siblings_max the oldest survivors by
  // (timestamp, dot) are dropped and counted (not absorbed: a replica still holding one
  // can bring it back once there is room); there merge is commutative and idempotent only.
  void merge(const SiblingSet& other, ConflictMode mode, const SiblingLimits& limits,
             VersionCounters& counters);

  // Asserts the invariants above (our own state: a violation is a bug).
  void check_invariants(ConflictMode mode, const SiblingLimits& limits) const;

  friend bool operator==(const SiblingSet&, const SiblingSet&) = default;

 private:
  std::vector<Version> versions_;
};

}  // namespace vigil::core
