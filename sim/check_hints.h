#pragma once
// hints_drained: did hinted handoff hand back what it held (Dynamo 4.6)? Reads the nodes'
// counters and the snapshot the simulator takes after the quiesce, before the final reads
// (sim/simulator.h).

#include "sim/checkers.h"
#include "sim/scenario.h"
#include "sim/simulator.h"

namespace vigil::sim {

// counts: stored, delivered, expired, dropped_max_attempts, refused_backlog, corrupt
//         (summed node counters hints_*), pending (hints still held by any node after the
//         quiesce), writes_missing_on_replicas ((acknowledged put, preference-list replica)
//         pairs where the put's element is in the key's final read but the replica did not
//         hold it before the final reads: what hinted handoff did not bring back and only
//         read repair or anti-entropy can), keys_missing_on_replicas (keys with such a pair).
//         delivered_not_received (hints the holders erased as delivered beyond the
//         deliveries targets received: each delivered hint was received first, so more
//         means a hint erased before its delivery was acknowledged, and lost with it).
// ok: delivered_not_received == 0, pending == 0, and expired + dropped_max_attempts == 0 unless `spec.expire` (hints are
// expected to expire), in which case expired + dropped_max_attempts > 0.
// writes_missing_on_replicas is reported, never gated: acknowledged writes whose coordinator
// crashed before covering a silent replica with a hint are left for anti-entropy.
CheckResult check_hints_drained(const Scenario& scenario, const SimulationResult& result,
                                const CheckSpec& spec);

}  // namespace vigil::sim
