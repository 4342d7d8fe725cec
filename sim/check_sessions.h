#pragma once
// read_your_writes: what a pipelining client (workload.pipeline, one connection per
// client) must see of its own writes. Its commands take effect in the order it sent them,
// per key (core/node/session_order.h), so a read it sends after its own put of the same key
// -- even before that put was answered -- runs after the put completed.
//
// The rule: a read (not a final read) that client c sent to node n after c's put of the
// same key to n (by invocation order, the history's index), where the put was acknowledged,
// reflects the put, unless
//   - a delete of the key, not refused, was invoked after the put and before the read
//     completed (the element may be gone legitimately), or
//   - blind mode: the read shows a value written by a put invoked after the missed put (a
//     later write replaced it).
// counts: reads_checked (answered reads after an acknowledged own put of the key),
//         missed (reads that missed an own put);
// ok: missed <= max (max defaults to 0: with per-key order and quorums that overlap, a
// session always sees its own acknowledged writes).

#include <cstdint>
#include <optional>

#include "sim/checkers.h"
#include "sim/history.h"
#include "sim/scenario.h"

namespace vigil::sim {

CheckResult check_read_your_writes(const History& history, WorkloadMode mode,
                                   std::optional<std::uint64_t> max);

}  // namespace vigil::sim
