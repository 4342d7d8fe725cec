#pragma once
// Internal to core/handoff/: what the holder of hints keeps in memory (the hints themselves
// are in storage), shared by hints.cpp (the state machine), hint_scan.cpp (walking the hint
// table) and hint_stalls.cpp (the stall watch). Not a contract: handoff.h is.

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <optional>
#include <vector>

#include "core/node/node_context.h"

namespace vigil::core {

class Replica;

struct HintDeliveryInFlight {
  StoredHint hint;  // as sent (attempts are recorded in it when the delivery fails)
  Instant timeout_at;
};

// The stall watch of one target (hint_stalls.cpp): the oldest hint held for it as first
// seen at a check with the target up, and since when.
struct StallWatch {
  std::uint64_t oldest = 0;
  Instant since;
  bool stalled = false;  // counted once per stall (hints_stalled_target_up)
};

struct HintTarget {
  std::uint64_t held = 0;             // hints stored for it (as loaded and kept since)
  std::optional<std::uint64_t> oldest;  // the smallest id held, as of the last reload
  std::optional<Instant> next_round;  // when to send it hints next (nullopt: not scheduled)
  std::uint32_t in_flight = 0;        // deliveries sent and not answered
  // Deliveries timed out since the target last answered one: at timeouts_before_pause the
  // target's rounds pause (hints.cpp).
  std::uint32_t timeouts_in_a_row = 0;
  std::optional<StallWatch> watch;
};

struct HandoffState {
  HandoffState(NodeContext& context_in, Replica& replica_in)
      : context(context_in), replica(replica_in) {}

  NodeContext& context;
  Replica& replica;
  bool loaded = false;  // `targets` and `next_id` were built from storage
  std::uint64_t next_id = 1;
  std::map<NodeId, HintTarget> targets;
  std::map<std::uint64_t, HintDeliveryInFlight> in_flight;  // by hint id
  std::optional<Instant> check_at;  // the periodic check (armed while hints are held)
  // Targets whose hints expired undelivered since the node last asked (their data is now
  // missing there: anti-entropy compares with them at once).
  std::set<NodeId> expired_targets;
};

// --- hint_scan.cpp ---
// Walks every stored hint in id order, erasing corrupt ones (counted as hints_corrupt),
// and calls `visit` for each intact one. False when storage refused a read or an erase.
bool for_each_hint(HandoffState& state, const std::function<void(const StoredHint&)>& visit);
// Builds the per-target counts, oldest ids and the next id from storage (once per life,
// at every check, and after a corrupt hint was met). With `now`, also collects the hints
// past their expiry (not counted as held). False when storage cannot be read.
bool reload(HandoffState& state, const Now* now, std::vector<StoredHint>* expired_hints);
bool expired(const StoredHint& hint, const Now& now);

// --- hint_stalls.cpp ---
// At a check, after reload: updates every target's stall watch and counts new stalls.
void watch_stalls(HandoffState& state, const Now& now);
// The target left `alive` in this node's view: its watch starts over when it is back.
void forget_stall(HandoffState& state, const NodeId& target);
// Hints held for targets found stalled at the last check.
std::uint64_t hints_stalled(const HandoffState& state);

}  // namespace vigil::core
