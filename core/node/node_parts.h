#pragma once
// Internal to core/node/: the parts core::Node is composed of (core/node/node.cpp has the
// theory of operation), so the dispatcher's sources (node.cpp, node_failure.cpp) share
// them. Not a contract: core/node/node.h is.

#include <cstdint>
#include <utility>

#include "core/coordinator/coordinator.h"
#include "core/handoff/handoff.h"
#include "core/node/node_context.h"
#include "core/node/node_membership.h"
#include "core/replica/replica.h"

namespace vigil::core {

// Constructed in this order: the context (options checked, epoch taken), the replica, the
// handoff (arms its first check), the coordinator, the membership (needs the incarnation).
struct NodeParts {
  NodeParts(NodeOptions options, Ring ring, NodeStorage& storage, std::uint64_t seed)
      : context(std::move(options), std::move(ring), storage, seed),
        replica(context),
        handoff(context, replica),
        coordinator(context, replica),
        membership(context) {}

  NodeContext context;
  Replica replica;
  Handoff handoff;
  Coordinator coordinator;
  NodeMembership membership;

  // Hands every transition the membership judged to the handoff, in order.
  void pass_transitions(const Now& now) {
    for (const PeerTransition& transition : membership.take_judged()) {
      handoff.handle_peer_transition(now, transition);
    }
  }

  void route(const Now& now, const NodeId& from, const Message& message);
};

}  // namespace vigil::core
