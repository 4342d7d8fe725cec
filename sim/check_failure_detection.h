#pragma once
// failure_detection: how fast every live node marks a crashed node suspect and failed, and
// how often a node that was up was wrongly marked (core/membership/membership.h;
// docs/failure-detection.md has the measurements). Reads the peer transitions every node
// judged, the crashes, and the fault timeline (sim/simulator.h).

#include "sim/checkers.h"
#include "sim/scenario.h"
#include "sim/simulator.h"

namespace vigil::sim {

// Definitions. L (the look-back) = failure_threshold + 2 gossip intervals of the scenario's
// config: how far back a verdict may rest on evidence (silence reaches failure_threshold,
// and the last heartbeat is learned up to about a round after it was made).
// - A crash of P at t_c, until P restarts (or the run ends) at t_r, is measured against
//   its observers: the other nodes up (neither crashed nor paused) throughout [t_c, t_r].
//   An observer's verdict at t_c is what it judged last (alive after its own restart). Its
//   suspect time is when it first held P suspect or failed at or after t_c (0 when it
//   already did); its failed time likewise for failed. The crash's suspect (failed) time
//   is the largest over its observers: the time until EVERY live node had marked P.
//   A crash lasting at least L that some observer did not mark failed within L is missed.
// - An escalation (alive -> suspect, or -> failed) of P by observer O at t is justified
//   when P was down (crashed or paused) at some moment of [t - L, t]; otherwise it is
//   partitioned when O and P were cut off from each other in both directions at some
//   moment of [t - L, t] (a partition: O cannot tell a cut-off node from a dead one), and
//   false otherwise. A one-way cut excuses nothing: indirect probes and gossip relayed by
//   third nodes exist so that one bad link does not condemn a node.
// counts: transitions (every judged change), crashes, crashes_suspected and crashes_failed
//         (crashes with observers that every observer marked suspect / failed before
//         t_r), crashes_missed, false_suspicions, false_failures, partitioned_suspicions,
//         partitioned_failures;
// ratios (only when some crash was suspected / failed by every observer):
//         suspect_time_s_max, suspect_time_s_median, failed_time_s_max,
//         failed_time_s_median (medians over crashes).
// ok: crashes_missed == 0, and every number named in spec.max_of is at most its bound (a
// time that was not measured passes its bound).
CheckResult check_failure_detection(const Scenario& scenario, const SimulationResult& result,
                                    const CheckSpec& spec);

}  // namespace vigil::sim
