#pragma once
// A PN-counter (Shapiro et al., "A comprehensive study of Convergent and Commutative
// Replicated Data Types", 2011, 3.1.3; Riak's riak_dt_pncounter): per-writer totals of
// increments and of decrements that only grow, merged by the maximum per writer, so that
// increments made through different coordinators at the same time are all kept. The value
// is the sum of the increments minus the sum of the decrements.
//
// Vigil keeps a counter as the content of a Version (ValueKind::counter, the value bytes
// are encode_pn_counter's): it is replicated, hinted, repaired and hashed like any write.
// Concurrent counter versions are siblings like any others; what reads them merges them
// (counter_value.h). docs/counters.md has the rules.
//
// Entries are keyed by a Dot, not a node id:
// - an increment entry is keyed by the dot of the counter version that created it, (the
//   coordinator's actor, that write's counter). Only that actor writes it, and it writes
//   only through its own committed state, so the entry it reads is always the latest;
// - a *base* entry holds the integer of a plain value an INCR turned into a counter, keyed
//   by that plain version's dot: two coordinators converting the same value concurrently
//   write the same entry, and the maximum counts it once.
// A SET over a counter drops its entries with the version. A counter started again later
// gets entries under new dots, so a stale sibling of the old counter that comes back is
// added to the new one (its increments were concurrent with the SET) instead of hiding
// the new entries behind larger old ones under the same key.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/versions/version.h"

namespace vigil::core {

// A counter's total: 128 bits, because entries are u64 and the sum of concurrent
// increments may pass what one 64-bit value holds. (__extension__: a GCC/Clang builtin
// type, which -Wpedantic would otherwise refuse.)
__extension__ typedef __int128 CounterTotal;
__extension__ typedef unsigned __int128 CounterMagnitude;

struct PnCounterEntry {
  Dot id;
  std::uint64_t increments = 0;
  std::uint64_t decrements = 0;
  friend bool operator==(const PnCounterEntry&, const PnCounterEntry&) = default;
};

// How many entries one counter may hold: one per (coordinator actor, counter lineage), so a
// few times the replica count in practice. A decoded counter over it is refused.
inline constexpr std::size_t pn_counter_entries_max = 1024;

class PnCounter {
 public:
  // Entries sorted by id, ids unique.
  const std::vector<PnCounterEntry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

  // Max per id of increments and, independently, of decrements: a join (idempotent,
  // commutative, associative).
  void merge(const PnCounter& other);

  // Sum of increments minus sum of decrements.
  CounterTotal value() const;

  // The latest entry of `actor` (the one with the largest id counter), or nullptr.
  const PnCounterEntry* latest_of(const NodeId& actor) const;

  // Adds `delta` to the entry `id` (created when absent): to its increments when delta > 0,
  // to its decrements when delta < 0. invalid_argument when that entry's total would pass
  // 2^64 - 1 (nothing changed).
  Status add(const Dot& id, std::int64_t delta);

  friend bool operator==(const PnCounter&, const PnCounter&) = default;
  friend Result<PnCounter> decode_pn_counter(std::string_view bytes);

 private:
  std::vector<PnCounterEntry> entries_;
};

// The value bytes of a counter version: u32 count, then per entry (ascending id) the dot's
// node (u32 length + bytes), its counter (u64), increments (u64), decrements (u64).
std::string encode_pn_counter(const PnCounter& counter);
// Decodes untrusted bytes: invalid_argument naming what is wrong (a bad node id, a zero dot
// counter, ids not strictly ascending, more than pn_counter_entries_max, trailing bytes).
Result<PnCounter> decode_pn_counter(std::string_view bytes);

// The decimal text of a counter value (what GET answers for a counter key).
std::string counter_text(CounterTotal value);

}  // namespace vigil::core
