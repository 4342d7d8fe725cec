// Wiring core/membership/membership.h into the node.
//
// The node owns one Membership (none when options.membership.enabled is false: every peer
// is then up and no membership message is sent). Membership messages go to it and never
// reach the request code; its timer joins the node's (poll_timeout is the earlier of the
// two). Every state change it judges is passed, in order, to the hinted-handoff code
// (on_peer_transition: a target seen alive again gets its hints back soon) and kept for
// take_peer_transitions() (the simulator's checks, the production logs), up to a bound.
//
// Identity: the node's id, its address as gossip carries it (the id when no address is
// configured, as in the simulator), its incarnation (node.h's epoch, so a restarted node's
// gossip replaces its old life everywhere), and an xxhash64 digest of its ring's tokens,
// so members whose configurations built different rings are counted and shown.

#include <string>

#include "core/hash.h"
#include "core/node/node_state.h"

namespace vigil::core::node_detail {

namespace {

// Transitions kept for take_peer_transitions() when nobody takes them; beyond, the oldest
// go first (counted as peer_transitions_dropped).
constexpr std::size_t peer_transitions_max = 10000;

void put_u64(std::string& out, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
}

void take_transitions(NodeState& state, const Now& now) {
  for (const PeerTransition& transition : state.membership->take_transitions()) {
    on_peer_transition(state, now, transition);
    state.peer_transitions.push_back(transition);
  }
  if (state.peer_transitions.size() > peer_transitions_max) {
    const std::size_t excess = state.peer_transitions.size() - peer_transitions_max;
    state.peer_transitions.erase(state.peer_transitions.begin(),
                                 state.peer_transitions.begin() +
                                     static_cast<std::ptrdiff_t>(excess));
    state.counters.add("peer_transitions_dropped", excess);
  }
}

}  // namespace

std::uint64_t ring_digest(const Ring& ring) {
  std::string bytes;
  for (const auto& [node, tokens] : ring.all_tokens()) {
    put_u64(bytes, node.size());
    bytes += node;
    put_u64(bytes, tokens.size());
    for (const Token token : tokens) put_u64(bytes, token);
  }
  return xxhash64(bytes);
}

void start_membership(NodeState& state) {
  if (!state.options.membership.enabled) return;
  MembershipIdentity identity;
  identity.self = state.self();
  identity.address = state.options.address.empty() ? state.self() : state.options.address;
  identity.incarnation = state.incarnation == 0 ? 1 : state.incarnation;
  identity.ring_digest = ring_digest(state.ring);
  state.membership = std::make_unique<Membership>(state.options.membership, identity,
                                                  state.options.seeds, state.ring.nodes(),
                                                  state.random, state.counters);
}

bool on_membership_message(NodeState& state, const Now& now, const Envelope& envelope) {
  const Message& message = envelope.message;
  const bool is_membership = std::holds_alternative<Gossip>(message) ||
                             std::holds_alternative<Ping>(message) ||
                             std::holds_alternative<PingAck>(message) ||
                             std::holds_alternative<PingRequest>(message);
  if (!is_membership) return false;
  if (!state.membership) {
    state.counters.add("ignored_membership_disabled");
    return true;
  }
  state.membership->handle_message(now.monotonic, envelope.from, message, state.outbox);
  take_transitions(state, now);
  return true;
}

void fire_membership_timers(NodeState& state, const Now& now) {
  if (!state.membership) return;
  const std::optional<Instant> due = state.membership->next_timeout();
  if (!due || *due > now.monotonic) return;
  state.membership->handle_timeout(now.monotonic, state.outbox);
  take_transitions(state, now);
}

std::optional<Instant> membership_next_timeout(const NodeState& state) {
  if (!state.membership) return std::nullopt;
  return state.membership->next_timeout();
}

bool peer_is_up(const NodeState& state, const NodeId& peer) {
  return !state.membership || state.membership->state_of(peer) == PeerState::alive;
}

}  // namespace vigil::core::node_detail
