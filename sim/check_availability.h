#pragma once
// availability: did operations succeed whenever the replication settings say they could?
// Dynamo's promise for a sloppy quorum: an operation needing Q of N replicas succeeds while
// at most N-Q replicas of its key are unavailable.

#include "sim/checkers.h"
#include "sim/scenario.h"
#include "sim/simulator.h"

namespace vigil::sim {

// Over the workload's operations (final reads excluded). An operation is judged over its
// whole life, invocation to completion (to the end of the run when it never completed),
// against the simulator's fault timeline:
// - excluded_entry_down: the node the client sent it to was down (crashed or paused) at some
//   point of it; a client of a dead node fails whatever the replication does.
// - A replica of the key is unavailable to the operation while it is crashed or paused, or
//   cut off from the entry node in either direction (a partition or a one-way cut): that is
//   what the entry node can reach. excluded_replicas_down: more than N-Q replicas were
//   unavailable at some moment of it (Q = R for a get, W for a put or delete, at the
//   operation's consistency).
// - The rest are eligible; succeeded are those with outcome ok.
// counts: operations, eligible, succeeded, failed (eligible - succeeded),
//         excluded_entry_down, excluded_replicas_down, under_faults (eligible operations
//         with at least one replica unavailable at some moment), under_faults_succeeded;
// ratios: fraction (succeeded / eligible; 1 when none is eligible), under_faults_fraction.
// ok: fraction >= spec.min when given; always true otherwise.
CheckResult check_availability(const Scenario& scenario, const SimulationResult& result,
                               const CheckSpec& spec);

}  // namespace vigil::sim
