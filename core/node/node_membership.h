#pragma once
// The node's membership part: core/membership/membership.h wired into the node (none when
// options.membership.enabled is false: every peer is then up and no membership message is
// sent), and the transitions it judged, kept for Node::take_peer_transitions(). Internal
// to core/node/; the contract is core::Node (core/node/node.h).

#include <memory>
#include <optional>
#include <vector>

#include "core/membership/membership.h"
#include "core/node/node_context.h"

namespace vigil::core {

class NodeMembership {
 public:
  // Builds the Membership (after the context knows its incarnation) and points
  // context.membership at it. `context` outlives it.
  explicit NodeMembership(NodeContext& context);
  NodeMembership(const NodeMembership&) = delete;
  NodeMembership& operator=(const NodeMembership&) = delete;

  // Gossip, Ping, PingAck and PingRequest: handled here (true); false for any other message.
  bool handle_message(const Now& now, const NodeId& from, const Message& message);
  // Runs the membership's timers when one is due.
  void handle_timeout(const Now& now);
  std::optional<Instant> poll_timeout() const;
  // The transitions judged by the last handle_*, in order (also kept for
  // take_peer_transitions, up to a bound).
  std::vector<PeerTransition> take_judged();

  std::vector<PeerStatus> members(Instant now) const;
  std::vector<PeerTransition> take_peer_transitions();
  void check_invariants() const;

 private:
  NodeContext& context_;
  std::unique_ptr<Membership> membership_;        // null when disabled
  std::vector<PeerTransition> judged_;            // by the last input, not yet taken
  std::vector<PeerTransition> peer_transitions_;  // judged, not yet taken (bounded)
};

// xxhash64 over every node's id and tokens, in order: equal rings, equal digests.
std::uint64_t ring_digest(const Ring& ring);

}  // namespace vigil::core
