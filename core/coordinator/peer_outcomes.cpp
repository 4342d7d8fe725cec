// Replica traffic feeds the peers' circuit breakers (core/routing/circuit_breaker.h).
//
// Theory of operation. A coordinator must send a key's replica writes to every replica
// whatever their breakers say (the preference list is who holds the key), but their
// outcomes are the best evidence a node has of a peer's health: on a cluster where every
// node replicates, most of what a node sends is replica traffic, and forwards are rare.
// Each request contributes at most one outcome per replica: a reply (any status: the peer
// is alive and answering) is a success; a replica still silent when the first retry fires
// (replication_timeout) is one failure, and its answer, when it comes, is too late to
// count as a success (a slow peer must be able to open its breaker). Later resends of the
// same request add nothing: one silent peer should not open its breaker from a single
// request's retries. Writes carry no permit, so their outcomes count only while a breaker
// is closed. Reads ask the replicas whose breaker admits first, with a permit
// (coordinator_read.cpp), so a half-open breaker's trials are reads too, and an open
// breaker is closed only by the trials it admitted (reads, forwards).

#include "core/coordinator/coordinator_state.h"

namespace vigil::core {

void note_replica_answer(CoordinatorState& state, const Now& now, Request& request,
                         const NodeId& from) {
  if (from == state.context.self()) return;
  for (ReplicaProgress& replica : request.replicas) {
    if (replica.node != from) continue;
    if (replica.judged_silent) return;  // too late to count
    if (replica.permit) {
      // Used once: a duplicated or resent answer must not count as another trial's
      // success (the simulator found it: partition-heal seed 3).
      const CircuitBreaker::Permit permit = *replica.permit;
      replica.permit.reset();
      state.context.router.handle_success(now.monotonic, from, permit);
      return;
    }
  }
  state.context.router.record_success(from);
}

void note_silent_replicas(CoordinatorState& state, const Now& now, Request& request) {
  if (request.resends != 0) return;  // only the first retry judges
  for (ReplicaProgress& replica : request.replicas) {
    if (replica.node == state.context.self() || replica.settled() || replica.unasked) continue;
    replica.judged_silent = true;
    if (replica.permit) {
      state.context.router.handle_failure(now.monotonic, replica.node, *replica.permit);
      replica.permit.reset();
    } else {
      state.context.router.record_failure(now.monotonic, replica.node);
    }
  }
}

}  // namespace vigil::core
