#pragma once
// counter_sums: the counters of workload.mode counter lose no acknowledged increment and
// invent none (docs/counters.md).
//
// An increment the client saw acknowledged took effect; one that failed outright (refused
// before anything was written) did not; one whose outcome is unknown (unavailable, timeout)
// may or may not have. So for each key, with A the sum of the acknowledged deltas and
// P (N) the sum of the positive (negative) deltas of unknown outcome, a correct store ends
// with a value in [A + N, A + P]; with every increment acknowledged, exactly A.
//
// It looks at two places, and each must be in those bounds:
// - the replicas: every counter version the key's preference-list replicas hold, merged
//   (SimulationResult::replica_counters, after the quiesce, before the final reads). A
//   value below the bound is an acknowledged increment no replica keeps;
// - the final read (at `all`, after healing), what a client sees at the end.
// counts: keys_checked, increments_acknowledged, increments_unknown, increments_failed,
//         keys_low_on_replicas, keys_high_on_replicas, keys_low_in_final_read,
//         keys_high_in_final_read, keys_unverified (no answered final read of a key with
//         acknowledged increments).
// ok: every count of a key out of bounds is 0, and keys_unverified is 0.

#include "sim/checkers.h"
#include "sim/simulator.h"

namespace vigil::sim {

CheckResult check_counter_sums(const SimulationResult& result);

}  // namespace vigil::sim
