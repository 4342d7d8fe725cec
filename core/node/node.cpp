// core::Node: entry points and the plumbing its parts share.
//
// Theory of operation (Dynamo section 4.5; Riak's riak_kv_get_fsm and riak_kv_put_fsm).
// - Any node takes any client request. A node on the key's preference list (the first N
//   distinct nodes clockwise from the key's token) coordinates it; any other node forwards
//   it to the first node of the list and, when that one stays silent for
//   replication_timeout, to the next (forwarder.cpp).
// - A write is applied to the coordinator's own state first (SiblingSet::write mints the
//   dot), staged, and the whole resulting state goes to the other N-1 replicas, which
//   merge it (coordinator_write.cpp). The coordinator's staged write counts as one
//   acknowledgement because of the driving protocol in node.h: nothing the node produces
//   leaves before the commit that covers its staged writes, so the ok can never precede
//   durability anywhere. The client is answered ok only with W durable acknowledgements.
// - A read asks all N replicas (the local one directly) and answers once R of them
//   answered, with the merge of what they returned (coordinator_read.cpp). Replicas whose
//   answer differs from the merge are sent the merge (read repair), including ones that
//   answer after the client got its reply, until the request's deadline.
// - Replicas merge and answer (replica.cpp). Merging is idempotent, so duplicated and
//   retried messages are harmless; a reply is matched to its request by our request id
//   and the sender, and anything that matches nothing is counted and dropped.
// - Every request has a deadline (request_timeout) and a retry timer (node_timers.cpp);
//   a request that cannot reach its quorum by its deadline, or can no longer reach it
//   because replicas refused, is answered `unavailable` naming the counts. A request is
//   forgotten when it is answered and nothing more can come of it, or at its deadline.
// - All containers are ordered maps and sets keyed by values, so a node's behaviour is a
//   function of its inputs and seed.

#include "core/node/node.h"

#include <string>
#include <utility>

#include "core/assert.h"
#include "core/node/node_state.h"

namespace vigil::core {

namespace node_detail {

namespace {

void check_options(const NodeOptions& options, const Ring& ring) {
  VIGIL_ASSERT(is_valid_node_id(options.id), "invalid node id '" + options.id + "'");
  VIGIL_ASSERT(ring.contains(options.id), "node " + options.id + " is not in the ring");
  VIGIL_ASSERT(options.replicas >= 1, "replicas (N) must be at least 1");
  for (const QuorumCounts& counts : {options.one, options.quorum, options.all}) {
    VIGIL_ASSERT(counts.read >= 1 && counts.read <= options.replicas, "R must be in 1..N");
    VIGIL_ASSERT(counts.write >= 1 && counts.write <= options.replicas, "W must be in 1..N");
  }
  VIGIL_ASSERT(options.request_timeout > Duration::zero(), "request_timeout must be > 0");
  VIGIL_ASSERT(options.replication_timeout > Duration::zero(), "replication_timeout must be > 0");
  VIGIL_ASSERT(options.retry_interval > Duration::zero(), "retry_interval must be > 0");
  VIGIL_ASSERT(
      options.key_size_bytes_max >= 1 && options.key_size_bytes_max <= core::key_size_bytes_max,
      "key_size_bytes_max out of range");
  VIGIL_ASSERT(options.value_size_bytes_max <= core::value_size_bytes_max,
               "value_size_bytes_max out of range");
  VIGIL_ASSERT(options.requests_in_flight_max >= 1, "requests_in_flight_max must be >= 1");
}

// A decimal count; nullopt when the text is anything else.
std::optional<std::uint64_t> parse_count(const std::string& text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

// The stored epoch; when it cannot be read, one drawn from the seeded generator, so a
// reuse of an earlier life's ids and dots is left to chance (2^-24), not to certainty.
std::uint64_t stored_epoch(NodeStorage& storage, Random& random, NodeCounters& counters) {
  auto stored = storage.read_meta(incarnation_meta_name);
  if (stored.ok() && !stored->has_value()) return 0;
  if (stored.ok()) {
    if (auto parsed = parse_count(**stored); parsed && *parsed < incarnation_max) return *parsed;
  }
  counters.add("storage_corruption");
  return random.uniform(incarnation_max);
}

// "<id>.<epoch>.<6 hex digits>", a valid node id (the id is shortened when all would not
// fit). The epoch keeps names distinct while storage keeps its word; the random part, from
// the seeded generator, keeps them distinct by chance (2^-24) when a lying disk dropped the
// epoch's own commit, because each life of a node gets its own seed.
NodeId actor_name(const NodeId& id, std::uint64_t epoch, Random& random) {
  static constexpr char hex_digits[] = "0123456789abcdef";
  std::string tag;
  std::uint64_t bits = random.next_u64();
  for (int i = 0; i < 6; ++i, bits >>= 4) tag += hex_digits[bits & 0xf];
  const std::string suffix = "." + std::to_string(epoch) + "." + tag;
  constexpr std::size_t node_id_size_max = 64;
  return id.substr(0, node_id_size_max - suffix.size()) + suffix;
}

}  // namespace

NodeState::NodeState(NodeOptions options_in, Ring ring_in, NodeStorage& storage_in,
                     std::uint64_t seed)
    : options(std::move(options_in)), ring(std::move(ring_in)), storage(storage_in), random(seed) {
  check_options(options, ring);
  epoch_max = stored_epoch(storage, random, counters);
  renew_actor(*this);
  incarnation = epoch_max;
  start_hints(*this);
  start_membership(*this);
}

void renew_actor(NodeState& state) {
  state.epoch_max = state.epoch_max + 1 >= incarnation_max ? 1 : state.epoch_max + 1;
  state.actor = actor_name(state.self(), state.epoch_max, state.random);
  const std::string text = std::to_string(state.epoch_max);
  if (!state.storage.write_meta(incarnation_meta_name, text).ok()) {
    state.counters.add("storage_write_errors");
  }
}

std::uint32_t Request::answered_count() const {
  std::uint32_t count = 0;
  for (const ReplicaProgress& replica : replicas) count += replica.answered ? 1 : 0;
  return count;
}

std::uint32_t Request::pending_count() const {
  std::uint32_t count = 0;
  for (const ReplicaProgress& replica : replicas) count += replica.settled() ? 0 : 1;
  return count;
}

RequestId next_request_id(NodeState& state) {
  VIGIL_ASSERT(state.next_sequence <= sequence_max, "request sequence exhausted");
  return (state.incarnation << sequence_bits) | state.next_sequence++;
}

QuorumCounts quorum_for(const NodeOptions& options, Consistency consistency) {
  switch (consistency) {
    case Consistency::one: return options.one;
    case Consistency::quorum: return options.quorum;
    case Consistency::all: return options.all;
  }
  VIGIL_ASSERT(false, "consistency level not validated");
  return options.quorum;
}

void send(NodeState& state, const NodeId& to, Message message) {
  state.outbox.push_back(Envelope{state.self(), to, std::move(message)});
}

void add_version_counters(NodeCounters& counters, const VersionCounters& version_counters) {
  if (version_counters.siblings_dropped > 0) {
    counters.add("siblings_dropped", version_counters.siblings_dropped);
  }
  if (version_counters.dot_conflicts > 0) {
    counters.add("dot_conflicts", version_counters.dot_conflicts);
  }
  if (version_counters.clock_entries_pruned > 0) {
    counters.add("clock_entries_pruned", version_counters.clock_entries_pruned);
  }
}

WireStatus to_wire(const Status& status) {
  return WireStatus{status.code(), status.message()};
}

Status from_wire(const WireStatus& status) {
  if (status.code == Code::ok) return Status::ok_status();
  return Status(status.code, status.message);
}

namespace {

bool is_success(Code code) {
  return code == Code::ok || code == Code::not_found;
}

std::vector<Value> live_values(const SiblingSet& key_state) {
  std::vector<Value> values;
  for (const Version& version : key_state.versions()) {
    if (version.value) values.push_back(*version.value);
  }
  return values;
}

void remember(NodeState& state, const Now& now, const PeerRequestKey& key, CoordinateReply reply) {
  const Instant forget_at = now.monotonic + state.options.request_timeout;
  state.remembered.insert_or_assign(key, RememberedReply{std::move(reply), forget_at});
  state.remembered_order.emplace_back(forget_at, key);
  // Bounded like requests: past the bound the oldest memories go first.
  while (state.remembered.size() > state.options.requests_in_flight_max &&
         !state.remembered_order.empty()) {
    state.remembered.erase(state.remembered_order.front().second);
    state.remembered_order.pop_front();
  }
}

}  // namespace

void answer(NodeState& state, const Now& now, const Requester& requester, ClientOp op,
            const Status& status, const SiblingSet& key_state, std::uint32_t answered,
            std::uint32_t needed) {
  const bool success = is_success(status.code());
  if (!requester.is_client) {
    CoordinateReply reply{requester.peer_request_id, to_wire(status),
                          success ? key_state : SiblingSet{}, answered};
    remember(state, now, PeerRequestKey{requester.peer, requester.peer_request_id}, reply);
    send(state, requester.peer, std::move(reply));
    return;
  }
  ClientReply reply;
  reply.id = requester.client_id;
  reply.status = status;
  if (success) {
    if (op == ClientOp::get) reply.values = live_values(key_state);
    reply.context = key_state.context();
  }
  reply.replicas_answered = answered;
  reply.replicas_needed = needed;
  state.counters.add(success ? "replies_ok" : "replies_failed");
  state.counters.add(reply_code_counter(status.code()));
  state.client_requests.erase(requester.client_id);
  state.replies.push_back(std::move(reply));
}

void answer_request(NodeState& state, const Now& now, Request& request, const Status& status,
                    const SiblingSet& key_state) {
  VIGIL_ASSERT(!request.reply_code.has_value(), "request answered twice");
  request.reply_code = status.code();
  answer(state, now, request.requester, request.op, status, key_state, request.answered_count(),
         request.needed);
}

Status quorum_not_reached(const Request& request, const char* verb) {
  std::string message = "quorum not reached: " + std::to_string(request.answered_count()) + " of " +
                        std::to_string(request.needed) + " replicas " + verb + " (" +
                        std::to_string(request.replicas.size()) + " replicas)";
  for (const ReplicaProgress& replica : request.replicas) {
    if (replica.error) message += "; " + replica.node + ": " + replica.error->to_string();
    if (replica.corrupt) message += "; " + replica.node + ": corruption";
  }
  return error(Code::unavailable, std::move(message));
}

Status check_key(const NodeOptions& options, const Key& key) {
  if (key.empty() || key.size() > options.key_size_bytes_max) {
    return error(Code::invalid_argument,
                 "key size " + std::to_string(key.size()) + " bytes is outside 1.." +
                     std::to_string(options.key_size_bytes_max) + " (key_size_bytes_max)");
  }
  return Status::ok_status();
}

void forget_expired(NodeState& state, const Now& now) {
  while (!state.remembered_order.empty() && state.remembered_order.front().first <= now.monotonic) {
    const auto& [forget_at, key] = state.remembered_order.front();
    auto it = state.remembered.find(key);
    if (it != state.remembered.end() && it->second.forget_at <= forget_at) {
      state.remembered.erase(it);
    }
    state.remembered_order.pop_front();
  }
}

namespace {

// Replies are matched by our request id; the request's kind says what a reply may be.
template <typename Reply>
Request* find_request(NodeState& state, const Reply& reply) {
  auto it = state.requests.find(reply.request_id);
  if (it == state.requests.end()) {
    state.counters.add("ignored_unknown_request");
    return nullptr;
  }
  return &it->second;
}

void dispatch(NodeState& state, const Now& now, const NodeId& from, const Message& message) {
  if (const auto* write = std::get_if<ReplicaWrite>(&message)) {
    on_replica_write(state, from, *write);
  } else if (const auto* read = std::get_if<ReplicaRead>(&message)) {
    on_replica_read(state, from, *read);
  } else if (const auto* coordinate = std::get_if<CoordinateRequest>(&message)) {
    admit_peer_request(state, now, from, *coordinate);
  } else if (const auto* write_reply = std::get_if<ReplicaWriteReply>(&message)) {
    Request* request = find_request(state, *write_reply);
    if (request == nullptr) return;
    if (request->kind == RequestKind::write) {
      on_write_reply(state, now, *request, from, *write_reply);
    } else if (request->kind == RequestKind::read) {
      on_repair_reply(state, *request, *write_reply);
    } else {
      state.counters.add("ignored_wrong_kind");
    }
  } else if (const auto* read_reply = std::get_if<ReplicaReadReply>(&message)) {
    Request* request = find_request(state, *read_reply);
    if (request == nullptr) return;
    if (request->kind == RequestKind::read) {
      on_read_reply(state, now, *request, from, *read_reply);
    } else if (request->kind == RequestKind::write) {
      on_write_read_back(state, now, *request, from, *read_reply);
    } else {
      state.counters.add("ignored_wrong_kind");
    }
  } else if (const auto* hint_write = std::get_if<HintWrite>(&message)) {
    on_hint_write(state, now, from, *hint_write);
  } else if (const auto* hint_delivery = std::get_if<HintDelivery>(&message)) {
    on_hint_delivery(state, from, *hint_delivery);
  } else if (const auto* hint_reply = std::get_if<HintDeliveryReply>(&message)) {
    on_hint_delivery_reply(state, now, from, *hint_reply);
  } else if (const auto* coordinate_reply = std::get_if<CoordinateReply>(&message)) {
    Request* request = find_request(state, *coordinate_reply);
    if (request == nullptr) return;
    if (request->kind == RequestKind::forward) {
      on_coordinate_reply(state, now, *request, from, *coordinate_reply);
    } else {
      state.counters.add("ignored_wrong_kind");
    }
  }
}

}  // namespace

}  // namespace node_detail

using node_detail::NodeState;

Node::Node(NodeOptions options, Ring ring, NodeStorage& storage, std::uint64_t seed)
    : state_(std::make_unique<NodeState>(std::move(options), std::move(ring), storage, seed)) {}

Node::~Node() = default;

const NodeId& Node::id() const {
  return state_->self();
}

void Node::handle_client_request(const Now& now, ClientRequest request) {
  node_detail::forget_expired(*state_, now);
  node_detail::admit_client_request(*state_, now, std::move(request));
}

void Node::handle_message(const Now& now, Envelope envelope) {
  node_detail::forget_expired(*state_, now);
  if (envelope.to != state_->self()) {
    state_->counters.add("ignored_misaddressed");
    return;
  }
  if (!state_->ring.contains(envelope.from)) {
    state_->counters.add("ignored_unknown_sender");
    return;
  }
  if (node_detail::on_membership_message(*state_, now, envelope)) return;
  node_detail::dispatch(*state_, now, envelope.from, envelope.message);
}

void Node::handle_timeout(const Now& now) {
  node_detail::forget_expired(*state_, now);
  node_detail::fire_timers(*state_, now);
  node_detail::fire_hint_timers(*state_, now);
  node_detail::fire_membership_timers(*state_, now);
}

void Node::handle_storage_failure(const Now& now, const Status& status) {
  node_detail::fail_storage(*state_, now, status);
}

std::optional<Instant> Node::poll_timeout() const {
  std::optional<Instant> next;
  if (!state_->timers.empty()) next = state_->timers.begin()->at;
  const std::optional<Instant> hints = node_detail::hints_next_timeout(*state_);
  if (hints && (!next || *hints < *next)) next = hints;
  const std::optional<Instant> membership = node_detail::membership_next_timeout(*state_);
  if (membership && (!next || *membership < *next)) next = membership;
  return next;
}

std::vector<Envelope> Node::take_messages() {
  return std::exchange(state_->outbox, {});
}

std::vector<ClientReply> Node::take_replies() {
  return std::exchange(state_->replies, {});
}

const NodeCounters& Node::counters() const {
  return state_->counters;
}

void Node::check_invariants() const {
  node_detail::check_node_invariants(*state_);
  if (state_->membership) state_->membership->check_invariants();
}

std::vector<PeerStatus> Node::members(Instant now) const {
  if (!state_->membership) return {};
  return state_->membership->view(now);
}

std::vector<PeerTransition> Node::take_peer_transitions() {
  return std::exchange(state_->peer_transitions, {});
}

}  // namespace vigil::core
