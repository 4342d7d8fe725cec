#pragma once
// The failure detector's judgements of a `vigil chaos` run, read back from the nodes' logs:
// every node logs each change of its view of a peer (`peer n3 is suspect (was alive)`,
// net/node_runtime.cpp), and the log of a node outlives its SIGKILLed incarnations
// (node.log is appended across restarts). That is the real-process stand-in for the
// simulator's record of every transition, so the failure_detection check runs on chaos
// runs too.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"
#include "sim/simulator.h"

namespace vigil::cli {

// The `peer_state` events of one node's text log (`<UTC time> <node> peer P is S (was S')`,
// docs/operations.md), as records of observer `node` in run time: the line's wall time
// minus `run_start_wall_us` (microseconds since the epoch). Lines of other events, of
// another node, unparsable ones and those before the run started are skipped.
std::vector<sim::PeerTransitionRecord> peer_transitions_from_log(std::string_view log,
                                                                 const core::NodeId& node,
                                                                 std::int64_t run_start_wall_us);

}  // namespace vigil::cli
