#pragma once
// Internal to core/node/: the parts core::Node is composed of (core/node/node.cpp has the
// theory of operation), so the dispatcher's sources (node.cpp, node_failure.cpp) share
// them. Not a contract: core/node/node.h is.

#include <cstdint>
#include <utility>

#include "core/antientropy/anti_entropy.h"
#include "core/coordinator/coordinator.h"
#include "core/handoff/handoff.h"
#include "core/node/node_context.h"
#include "core/node/node_membership.h"
#include "core/replica/replica.h"
#include "core/scan/scanner.h"
#include "core/tombstones/tombstone_collector.h"

namespace vigil::core {

// Constructed in this order: the context (options checked, epoch taken), the replica, the
// anti-entropy trees (loaded or rebuilt from storage, then told of every key write), the
// handoff (arms its first check), the coordinator, the membership (needs the incarnation),
// the tombstone collector (a key-state listener after the trees), the scanner.
struct NodeParts {
  NodeParts(NodeOptions options, Ring ring, NodeStorage& storage, std::uint64_t seed)
      : context(std::move(options), std::move(ring), storage, seed),
        replica(context),
        antientropy(context, replica),
        handoff(context, replica),
        coordinator(context, replica),
        membership(context),
        tombstones(context),
        scanner(context) {}

  NodeContext context;
  Replica replica;
  AntiEntropy antientropy;
  Handoff handoff;
  Coordinator coordinator;
  NodeMembership membership;
  TombstoneCollector tombstones;
  Scanner scanner;  // SCAN, KEYS and DBSIZE (core/scan/scanner.h)

  // Hands every transition the membership judged to the handoff and anti-entropy, in order.
  void pass_transitions(const Now& now) {
    for (const PeerTransition& transition : membership.take_judged()) {
      note_transition_for_routing(transition);
      handoff.handle_peer_transition(now, transition);
      antientropy.handle_peer_transition(now, transition);
    }
  }
  // The end of every input: hints that expired undelivered make anti-entropy compare with
  // their targets at once, tombstones written become the collector's candidates, and
  // suspect tree leaves are rebuilt. (The trees' journal is staged once per commit:
  // Node::stage_for_commit.)
  void end_input(const Now& now) {
    for (const NodeId& target : handoff.take_expired_targets()) {
      antientropy.handle_hint_expired(now, target);
    }
    antientropy.set_client_load(coordinator.requests_in_flight());
    tombstones.end_input(now);
    antientropy.end_input();
  }

  void route(const Now& now, const NodeId& from, const Message& message);
  // node_routing.cpp: the router's health, from the failure detector's verdicts.
  void note_transition_for_routing(const PeerTransition& transition);
  void check_health(const Now& now);
  // The health check's instant, while a check could change something (some peer is marked
  // unhealthy); nullopt otherwise, so an idle node has no timer.
  std::optional<Instant> health_check_timeout() const;
};

}  // namespace vigil::core
