// Wiring core/membership/membership.h into the node.
//
// The node owns one Membership (none when options.membership.enabled is false: every peer
// is then up and no membership message is sent). Membership messages go to it and never
// reach the other parts; its timer joins the node's (poll_timeout is the earliest of the
// parts'); it writes to the node's shared outbox. Every state change it judges is passed,
// in order, by core::Node to the hinted-handoff part (a target seen alive again gets its
// hints back soon) and kept for take_peer_transitions() (the simulator's checks, the
// production logs), up to a bound.
//
// Identity: the node's id, its address as gossip carries it (the id when no address is
// configured, as in the simulator), its incarnation (node.h's epoch, so a restarted node's
// gossip replaces its old life everywhere), and an xxhash64 digest of its ring's tokens,
// so members whose configurations built different rings are counted and shown.

#include "core/node/node_membership.h"

#include <string>
#include <utility>

#include "core/hash.h"

namespace vigil::core {

namespace {

// Transitions kept for take_peer_transitions() when nobody takes them; beyond, the oldest
// go first (counted as peer_transitions_dropped).
constexpr std::size_t peer_transitions_max = 10000;

void put_u64(std::string& out, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
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

NodeMembership::NodeMembership(NodeContext& context) : context_(context) {
  if (!context.options.membership.enabled) return;
  MembershipIdentity identity;
  identity.self = context.self();
  identity.address = context.options.address.empty() ? context.self() : context.options.address;
  identity.incarnation = context.incarnation == 0 ? 1 : context.incarnation;
  identity.ring_digest = ring_digest(context.ring);
  membership_ = std::make_unique<Membership>(
      context.options.membership, identity, context.options.seeds, context.ring.nodes(),
      context.random, context.counters, context.outbox);
  context.membership = membership_.get();
}

bool NodeMembership::handle_message(const Now& now, const NodeId& from, const Message& message) {
  const bool is_membership = std::holds_alternative<Gossip>(message) ||
                             std::holds_alternative<Ping>(message) ||
                             std::holds_alternative<PingAck>(message) ||
                             std::holds_alternative<PingRequest>(message);
  if (!is_membership) return false;
  if (!membership_) {
    context_.counters.add("ignored_membership_disabled");
    return true;
  }
  membership_->handle_message(now.monotonic, from, message);
  judged_ = membership_->take_transitions();
  return true;
}

void NodeMembership::handle_timeout(const Now& now) {
  if (!membership_) return;
  const std::optional<Instant> due = membership_->poll_timeout();
  if (!due || *due > now.monotonic) return;
  membership_->handle_timeout(now.monotonic);
  judged_ = membership_->take_transitions();
}

std::optional<Instant> NodeMembership::poll_timeout() const {
  if (!membership_) return std::nullopt;
  return membership_->poll_timeout();
}

std::vector<PeerTransition> NodeMembership::take_judged() {
  std::vector<PeerTransition> judged = std::exchange(judged_, {});
  peer_transitions_.insert(peer_transitions_.end(), judged.begin(), judged.end());
  if (peer_transitions_.size() > peer_transitions_max) {
    const std::size_t excess = peer_transitions_.size() - peer_transitions_max;
    peer_transitions_.erase(peer_transitions_.begin(),
                            peer_transitions_.begin() + static_cast<std::ptrdiff_t>(excess));
    context_.counters.add("peer_transitions_dropped", excess);
  }
  return judged;
}

std::vector<PeerStatus> NodeMembership::members(Instant now) const {
  if (!membership_) return {};
  return membership_->view(now);
}

std::vector<PeerTransition> NodeMembership::take_peer_transitions() {
  return std::exchange(peer_transitions_, {});
}

void NodeMembership::check_invariants() const {
  if (membership_) membership_->check_invariants();
}

}  // namespace vigil::core
