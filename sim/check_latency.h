#pragma once
// latency: what clients waited and how often they failed, the numbers a routing change is
// judged by (Dynamo reports its 99.9th percentile; issue 16 compares breakers on and off).

#include "sim/checkers.h"
#include "sim/scenario.h"
#include "sim/simulator.h"

namespace vigil::sim {

// Over the workload's operations (final reads excluded). An operation's latency is from
// its invocation to its completion; one never completed (its client timed out, or the run
// ended) counts until the run's end, so a stuck operation is never hidden.
// counts: operations, errors (outcome not ok: failed or indeterminate);
// ratios: mean_s, p50_s, p99_s (nearest rank), max_s, error_fraction, and, when the clients
//         route (workload.routing), hops_per_call: 1 + the fraction of calls sent to a
//         node not on the key's preference list (forwarded once more).
// ok: every number with a bound in spec.max_of (p99_s, mean_s, error_fraction) is at most
// its bound; always true otherwise.
CheckResult check_latency(const SimulationResult& result, const CheckSpec& spec);

}  // namespace vigil::sim
