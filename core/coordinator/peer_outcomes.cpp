// Replica traffic feeds the peers' circuit breakers (core/routing/circuit_breaker.h).
//
// Theory of operation. A coordinator must send a key's replica reads and writes to that
// key's replicas whatever their breakers say (the preference list is who holds the key),
// so that traffic is never gated, but its outcomes are the best evidence a node has of a
// peer's health: on a cluster where every node replicates, most of what a node sends is
// replica traffic, and forwards are rare. Each request contributes at most one outcome per
// replica: a reply (any status: the peer is alive and answering) resets the peer's run of
// failures; a replica still silent when the first retry fires (replication_timeout) is one
// failure, and its answer, when it comes, is too late to count as a success (a slow peer
// must be able to open its breaker). Later resends of the same request add nothing: one silent peer
// should not open its breaker from a single request's retries. These outcomes carry no permit, so
// they only count while a breaker is closed; an open breaker is closed only by the trials it
// admitted (forwards, hint writes).

#include "core/coordinator/coordinator_state.h"

namespace vigil::core {

void note_replica_answer(CoordinatorState& state, const Request& request, const NodeId& from) {
  if (from == state.context.self()) return;
  for (const ReplicaProgress& replica : request.replicas) {
    if (replica.node == from && replica.judged_silent) return;  // too late to count
  }
  state.context.router.record_success(from);
}

void note_silent_replicas(CoordinatorState& state, const Now& now, Request& request) {
  if (request.resends != 0) return;  // only the first retry judges
  for (ReplicaProgress& replica : request.replicas) {
    if (replica.node == state.context.self() || replica.settled() || replica.unasked) continue;
    replica.judged_silent = true;
    state.context.router.record_failure(now.monotonic, replica.node);
  }
}

}  // namespace vigil::core
