// core::Node: the thin dispatcher that composes the node's parts.
//
// The parts, each with its own state and timers, in the handle_*/poll_timeout shape, all
// writing to one shared outbox (core/node/node_context.h):
// - the coordinator (core/coordinator/): requests in flight, reads, writes and forwards;
// - the replica (core/replica/): merging ReplicaWrites, answering ReplicaReads;
// - hinted handoff (core/handoff/): holding hints and replaying them, receiving them;
// - membership (core/membership/, wired in by node_membership.cpp): gossip and probes;
// - anti-entropy (core/antientropy/): tictac trees kept with every key write, exchanges
//   with the other replicas, the background repair pass;
// - the tombstone collector (core/tombstones/): drops tombstones every replica holds.
// - the scanner (core/scan/): SCAN and KEYS pages walking the ring, DBSIZE's estimate.
// - the router (core/routing/, in the shared context): peers' health and circuit breakers,
//   consulted by the coordinator for forwards and hint fallbacks.
// The node routes each input to the part it is for, calls the parts' timers in a fixed
// order (requests, hints, membership, routing health checks, anti-entropy, tombstones,
// scans),
// hands each membership verdict to the router (node_routing.cpp), the handoff and
// anti-entropy, and, when the driver is about to commit, lets the trees stage their
// journal row (stage_for_commit), so it is in the same commit as the writes it describes.
//
// Theory of operation (Dynamo section 4.5; Riak's riak_kv_get_fsm and riak_kv_put_fsm).
// - Any node takes any client request. A node on the key's preference list (the first N
//   distinct nodes clockwise from the key's token) coordinates it; any other node forwards
//   it to the first node of the list and, when that one stays silent for
//   replication_timeout, to the next (core/coordinator/forwarder.cpp).
// - A write is applied to the coordinator's own state first (SiblingSet::write mints the
//   dot), staged, and the whole resulting state goes to the other N-1 replicas, which
//   merge it (coordinator_write.cpp). The coordinator's staged write counts as one
//   acknowledgement because of the driving protocol in node.h: nothing the node produces
//   leaves before the commit that covers its staged writes, so the ok can never precede
//   durability anywhere. The client is answered ok only with W durable acknowledgements.
// - A put/del without a client context under set_context: coordinator is coordinated on
//   the key's first healthy preference-list node, with that node's own state as its
//   context (admission.cpp, coordinator_write.cpp).
// - A read asks the replicas R needs (the local one directly), or all N with
//   read_repair.probability, more when one fails or stays silent, and answers once R of
//   them answered, with the merge of what they returned (coordinator_read.cpp). Replicas
//   whose answer differs from the merge are sent the merge (read repair), including ones
//   that answer after the client got its reply, until the request's deadline; such an
//   answered read no longer holds a requests_in_flight_max slot.
// - Replicas merge and answer (replica.cpp). Merging is idempotent, so duplicated and
//   retried messages are harmless; a reply is matched to its request by our request id
//   and the sender, and anything that matches nothing is counted and dropped.
// - Every request has a deadline (request_timeout) and a retry timer
//   (core/coordinator/request_lifecycle.cpp);
//   a request that cannot reach its quorum by its deadline, or can no longer reach it
//   because replicas refused, is answered `unavailable` naming the counts. A request is
//   forgotten when it is answered and nothing more can come of it, or at its deadline.
// - All containers are ordered maps and sets keyed by values, so a node's behaviour is a
//   function of its inputs and seed.

#include "core/node/node.h"

#include <iterator>
#include <utility>

#include "core/node/node_parts.h"

namespace vigil::core {

void NodeParts::route(const Now& now, const NodeId& from, const Message& message) {
  if (const auto* write = std::get_if<ReplicaWrite>(&message)) {
    replica.handle_replica_write(from, *write);
  } else if (const auto* read = std::get_if<ReplicaRead>(&message)) {
    replica.handle_replica_read(from, *read);
  } else if (const auto* coordinate = std::get_if<CoordinateRequest>(&message)) {
    coordinator.handle_coordinate_request(now, from, *coordinate);
  } else if (const auto* write_reply = std::get_if<ReplicaWriteReply>(&message)) {
    coordinator.handle_replica_write_reply(now, from, *write_reply);
  } else if (const auto* read_reply = std::get_if<ReplicaReadReply>(&message)) {
    coordinator.handle_replica_read_reply(now, from, *read_reply);
  } else if (const auto* hint_write = std::get_if<HintWrite>(&message)) {
    handoff.handle_hint_write(now, from, *hint_write);
  } else if (const auto* hint_delivery = std::get_if<HintDelivery>(&message)) {
    handoff.handle_hint_delivery(from, *hint_delivery);
  } else if (const auto* hint_reply = std::get_if<HintDeliveryReply>(&message)) {
    handoff.handle_hint_delivery_reply(now, from, *hint_reply);
  } else if (const auto* coordinate_reply = std::get_if<CoordinateReply>(&message)) {
    coordinator.handle_coordinate_reply(now, from, *coordinate_reply);
  } else if (!antientropy.handle_message(now, from, message) &&
             !scanner.handle_message(now, from, message)) {
    tombstones.handle_message(now, from, message);
  }
}

Node::Node(NodeOptions options, Ring ring, NodeStorage& storage, std::uint64_t seed)
    : parts_(std::make_unique<NodeParts>(std::move(options), std::move(ring), storage, seed)) {}

Node::~Node() = default;

const NodeId& Node::id() const {
  return parts_->context.self();
}

// Remembered replies expire at every input, whichever part it is for.
void Node::handle_client_request(const Now& now, ClientRequest request) {
  parts_->coordinator.forget_expired(now);
  if (request.op == ClientOp::scan || request.op == ClientOp::key_count) {
    parts_->scanner.handle_client_request(now, request);
  } else {
    parts_->coordinator.handle_client_request(now, std::move(request));
  }
  parts_->end_input(now);
}

void Node::handle_message(const Now& now, Envelope envelope) {
  NodeParts& parts = *parts_;
  parts.coordinator.forget_expired(now);
  if (envelope.to != parts.context.self()) {
    parts.context.counters.add("ignored_misaddressed");
    return;
  }
  if (!parts.context.ring.contains(envelope.from)) {
    parts.context.counters.add("ignored_unknown_sender");
    return;
  }
  if (parts.membership.handle_message(now, envelope.from, envelope.message)) {
    parts.pass_transitions(now);
  } else {
    parts.route(now, envelope.from, envelope.message);
  }
  parts.end_input(now);
}

void Node::stage_for_commit() {
  parts_->antientropy.stage();
}

void Node::handle_timeout(const Now& now) {
  NodeParts& parts = *parts_;
  parts.coordinator.forget_expired(now);
  parts.coordinator.handle_timeout(now);
  parts.handoff.handle_timeout(now);
  parts.membership.handle_timeout(now);
  parts.pass_transitions(now);
  parts.check_health(now);
  parts.antientropy.handle_timeout(now);
  parts.tombstones.handle_timeout(now);
  parts.scanner.handle_timeout(now);
  parts.end_input(now);
}

std::optional<Instant> Node::poll_timeout() const {
  std::optional<Instant> next;
  for (const std::optional<Instant> part :
       {parts_->coordinator.poll_timeout(), parts_->handoff.poll_timeout(),
        parts_->membership.poll_timeout(), parts_->health_check_timeout(),
        parts_->antientropy.poll_timeout(), parts_->tombstones.poll_timeout(),
        parts_->scanner.poll_timeout()}) {
    if (part && (!next || *part < *next)) next = part;
  }
  return next;
}

std::vector<Envelope> Node::take_messages() {
  return parts_->context.outbox.take();
}

std::vector<ClientReply> Node::take_replies() {
  return std::exchange(parts_->context.replies, {});
}

void Node::give_back(std::vector<Envelope> messages, std::vector<ClientReply> replies) {
  NodeContext& context = parts_->context;
  context.outbox.put_back(std::move(messages));
  replies.insert(replies.end(), std::make_move_iterator(context.replies.begin()),
                 std::make_move_iterator(context.replies.end()));
  context.replies = std::move(replies);
}

bool Node::take_identity_staged() {
  return std::exchange(parts_->context.identity_staged, false);
}

const NodeCounters& Node::counters() const {
  return parts_->context.counters;
}

void Node::check_invariants() const {
  parts_->coordinator.check_invariants();
  parts_->membership.check_invariants();
  parts_->antientropy.check_invariants();
  parts_->tombstones.check_invariants();
  parts_->scanner.check_invariants();
}

void Node::request_anti_entropy(const Now& now) {
  parts_->antientropy.request_exchanges(now);
  parts_->end_input(now);
}

std::vector<TreeStatus> Node::anti_entropy_status() const {
  return parts_->antientropy.status();
}

std::uint64_t Node::anti_entropy_exchanges_completed() const {
  return parts_->antientropy.exchanges_completed();
}

std::size_t Node::anti_entropy_exchanges_pending() const {
  return parts_->antientropy.exchanges_pending();
}

std::size_t Node::tombstones_held() const {
  return parts_->tombstones.tombstones_held();
}

std::vector<PeerStatus> Node::members(Instant now) const {
  return parts_->membership.members(now);
}

std::vector<RouteStatus> Node::routes(Instant now) const {
  return parts_->context.router.status(now);
}

std::vector<PeerTransition> Node::take_peer_transitions() {
  return parts_->membership.take_peer_transitions();
}

std::uint64_t Node::hints_pending() const {
  return parts_->handoff.hints_pending();
}

}  // namespace vigil::core
