// The node's router fed with health (core/routing/router.h): the decision issue 16 leaves
// to the node, written down.
//
// Theory of operation. A node already runs a failure detector (gossip, phi accrual, SWIM
// probes: core/membership/); a second, independent prober would only add traffic and a
// second opinion to reconcile. So a node's health check reads the detector: every
// load_balancing.health_check_interval the router asks for every peer's health and the
// node answers alive -> healthy, suspect or failed -> unhealthy.
//
// The two directions are not symmetric on purpose. A peer the detector judges suspect or
// failed is marked unhealthy at once (a verdict against a peer only ever makes the router
// more careful). A peer judged alive again is routed to only from the next health check:
// a flapping peer, alive one second and suspect the next, is kept out of forward and
// fallback choices for up to an interval, the hold-down BGP's route-flap damping and
// Finagle's failure accrual "markDeadFor" use. The interval is therefore the longest a
// recovered peer waits before taking forwards again. The check's timer is armed only while
// some peer is marked unhealthy: verdicts against a peer arrive with the transitions, so
// with every peer healthy a check could change nothing (and an idle node keeps no timer).
// A check that was due while nothing was armed runs at once when one is: it re-reads the
// detector, which the marking peer's verdict already agrees with.
//
// Health is advice and breakers are law in the coordinator's choice
// (Router::choose_from): with every candidate unhealthy, one whose breaker admits is
// still tried, because a detector that wrongly suspects everyone (this node partitioned
// from the detector's gossip, say) must not make the node refuse what it could serve.

#include "core/node/node_parts.h"

namespace vigil::core {

void NodeParts::note_transition_for_routing(const PeerTransition& transition) {
  if (transition.to != PeerState::alive) context.router.handle_health(transition.peer, false);
}

std::optional<Instant> NodeParts::health_check_timeout() const {
  // The instant only matters for breaker states, which this does not read.
  for (const RouteStatus& route : context.router.status(Instant{})) {
    if (!route.healthy) return context.router.poll_timeout();
  }
  return std::nullopt;
}

void NodeParts::check_health(const Now& now) {
  context.router.handle_timeout(now.monotonic);
  const std::vector<NodeId> probes = context.router.take_health_probes();
  if (probes.empty()) return;
  context.counters.add("health_checks");
  for (const NodeId& peer : probes) context.router.handle_health(peer, context.peer_is_up(peer));
}

}  // namespace vigil::core
