#pragma once
// A key's state read as a counter, and an INCRBY applied to it (docs/counters.md).
//
// The rules, all decided by what a plain GET answers (SiblingSet::live_at's back(), the
// live sibling with the greatest timestamp):
// - GET of a counter answers its decimal total: every live counter sibling merged (they
//   are concurrent increments through different coordinators; the merge keeps them all).
// - INCRBY on a key whose GET answers a counter adds to that merged counter; on a key whose
//   GET answers a plain value, that value must be a decimal integer (Redis's rule and
//   error), which becomes the counter's base; on an absent key the counter starts at 0.
// - A SET and an INCR that were concurrent (siblings) are therefore resolved as GET
//   resolves them: the later timestamp wins, and INCR goes on from the winner.
// - INCRBY keeps the expiry of the value it increments (Redis keeps a key's TTL on INCR).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/versions/pn_counter.h"
#include "core/versions/version.h"

namespace vigil::core {

// The merge of the counter versions among `live` (SiblingSet::live_at's result); nullopt
// when none is a counter. The bytes were validated when the versions were decoded or
// written, so a failure to decode here is a bug (asserted).
std::optional<PnCounter> merged_counter(const std::vector<const Version*>& live);

// Redis's integer rule for INCR on a string: optional '-', decimal digits, no leading zero,
// within int64. nullopt otherwise.
std::optional<std::int64_t> parse_counter_integer(const Value& value);

struct CounterWrite {
  Value value;                  // encode_pn_counter of the new counter
  WallMicros expires_at_us = 0;  // kept from the value incremented
  CounterTotal total = 0;           // the counter's value after the increment
};

// The content of the version an INCRBY of `delta` writes on the coordinating replica, whose
// state of the key is `state` at wall time `now`. `fresh` is the dot the write will mint
// (SiblingSet::next_dot): the id of the coordinator's new entry when the counter holds none
// of its actor yet. invalid_argument, with Redis's messages, when GET's value is not an
// integer or the result would leave int64 (nothing is written).
Result<CounterWrite> increment_counter(const SiblingSet& state, const Dot& fresh,
                                       std::int64_t delta, WallMicros now);

}  // namespace vigil::core
