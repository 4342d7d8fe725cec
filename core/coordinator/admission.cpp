// Admission: what happens to a request before any replica is asked.
//
// Theory of operation. A client request is checked first (sizes, enum values), then
// against the node's bounds (requests in flight; writes after a storage failure), and only
// then routed: coordinated here when this node is on the key's preference list, forwarded
// otherwise. Refusals are answered at once and counted by reason, so an overloaded or
// damaged node says why instead of timing out.
//
// A CoordinateRequest from a peer is a client request that another node forwarded. It is
// coordinated at most once per (peer, peer's request id): the forwarder retries a silent
// coordinator, and the network may duplicate; coordinating a write twice would mint two
// dots and leave two equal siblings. A duplicate that arrives while the first is in flight
// is dropped (the answer will come); one that arrives after the answer gets the same
// answer again (remembered for request_timeout). Peer ids are unique across the peer's
// restarts (node.h), so a memory is never mistaken for a new request. A node that is not a
// replica of the key refuses rather than re-forwarding, so a request never loops.
//
// A plain put/del (no client context) under set_context: coordinator takes its context
// from the coordinating replica's own state, so it must be coordinated where the previous
// plain writes of the key were: on the key's first healthy preference-list node (the
// first that is this node or up in its view). Any other node, replica or not, forwards it
// there, with the rest of the list after it (this node left out) for the forwarder's
// retries. A peer's CoordinateRequest says so itself (context_from_coordinator) and is
// coordinated by whichever replica it reaches: forwarding again could loop.

#include <algorithm>
#include <chrono>
#include <limits>
#include <string>
#include <utility>

#include "core/assert.h"
#include "core/coordinator/coordinator_state.h"
#include "core/wire/codec.h"

namespace vigil::core {

namespace {

bool is_write(ClientOp op) {
  return op == ClientOp::put || op == ClientOp::del || op == ClientOp::incr;
}

// invalid_argument naming what is wrong, or ok.
Status check_request(const NodeOptions& options, ClientOp op, Consistency consistency,
                     const Key& key, const std::optional<Value>& value,
                     const VectorClock& context) {
  if (static_cast<unsigned>(op) > static_cast<unsigned>(ClientOp::del) && op != ClientOp::incr) {
    return error(Code::invalid_argument, "unknown operation");
  }
  if (static_cast<unsigned>(consistency) > static_cast<unsigned>(Consistency::default_level)) {
    return error(Code::invalid_argument, "unknown consistency level");
  }
  if (Status status = check_key(options, key); !status.ok()) return status;
  if (value && value->size() > options.value_size_bytes_max) {
    return error(Code::invalid_argument,
                 "value size " + std::to_string(value->size()) + " bytes is over " +
                     std::to_string(options.value_size_bytes_max) + " (value_size_bytes_max)");
  }
  if (context.size() > clock_entries_max) {
    return error(Code::invalid_argument, "causal context has " + std::to_string(context.size()) +
                                             " entries, over clock_entries_max " +
                                             std::to_string(clock_entries_max));
  }
  return Status::ok_status();
}

// Refusals for a request that passed check_request; ok when it may go ahead.
Status check_admission(CoordinatorState& state, ClientOp op) {
  if (requests_holding_slots(state) >= state.context.options.requests_in_flight_max) {
    state.context.counters.add("refused_in_flight_max");
    return error(Code::resource_exhausted,
                 "requests in flight at requests_in_flight_max (" +
                     std::to_string(state.context.options.requests_in_flight_max) + ")");
  }
  if (is_write(op) && state.context.storage_failure) {
    state.context.counters.add("refused_storage_failed");
    return error(Code::failed_precondition,
                 "node " + state.context.self() + " refuses writes after a storage failure (" +
                     state.context.storage_failure->to_string() + "); restart it");
  }
  return Status::ok_status();
}

bool contains(const std::vector<NodeId>& nodes, const NodeId& node) {
  for (const NodeId& candidate : nodes) {
    if (candidate == node) return true;
  }
  return false;
}

// A put's expiry as an absolute wall time, from this node's clock for a relative one
// (docs/expiry.md); 0: never. Saturates instead of overflowing, and a relative expiry of
// zero or less is already past (the value is written expired, and reads as absent).
WallMicros absolute_expiry(const Now& now, const ClientRequest& client) {
  if (!client.expires_in) return client.expires_at_us;
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(*client.expires_in);
  const WallMicros in = micros.count();
  if (in <= 0) return std::max<WallMicros>(1, now.wall_us);
  if (now.wall_us > std::numeric_limits<WallMicros>::max() - in) {
    return std::numeric_limits<WallMicros>::max();
  }
  return std::max<WallMicros>(1, now.wall_us + in);
}

// Builds the request record shared by every route.
Request new_request(CoordinatorState& state, const Requester& requester, ClientOp op,
                    Consistency consistency, Key key, std::optional<Value> value,
                    WallMicros expires_at_us, VectorClock context, bool context_from_coordinator,
                    std::optional<std::int64_t> increment) {
  Request request;
  request.id = next_request_id(state);
  request.requester = requester;
  request.op = op;
  request.consistency = consistency;
  request.key = std::move(key);
  request.value = std::move(value);
  request.expires_at_us = request.value ? expires_at_us : 0;
  request.context = std::move(context);
  request.context_from_coordinator = context_from_coordinator;
  request.increment = op == ClientOp::incr ? increment : std::nullopt;
  const QuorumCounts counts = quorum_for(state.context.options, consistency);
  request.needed = op == ClientOp::get ? counts.read : counts.write;
  return request;
}

void coordinate(CoordinatorState& state, const Now& now, Request request,
                const std::vector<NodeId>& preference_list) {
  for (const NodeId& node : preference_list) {
    ReplicaProgress replica;
    replica.node = node;
    request.replicas.push_back(std::move(replica));
  }
  request.kind = request.op == ClientOp::get ? RequestKind::read : RequestKind::write;
  start_request(state, now, std::move(request));
}

std::vector<NodeId> preference_list_of(const CoordinatorState& state, const Key& key) {
  return state.context.ring.preference_list(token_of_key(key), state.context.options.replicas);
}

// The preference list from its first healthy node on (wrapping), this node left out: the
// forward targets of a write that must be coordinated there. Empty when that node is us.
std::vector<NodeId> from_first_healthy(const CoordinatorState& state,
                                       const std::vector<NodeId>& list) {
  std::size_t first = 0;
  while (first < list.size() && list[first] != state.context.self() &&
         !state.context.peer_is_up(list[first])) {
    ++first;
  }
  if (first == list.size()) first = 0;  // none up: the list's own order
  std::vector<NodeId> targets;
  if (list[first] == state.context.self()) return targets;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const NodeId& node = list[(first + i) % list.size()];
    if (node != state.context.self()) targets.push_back(node);
  }
  return targets;
}

}  // namespace

void admit_client_request(CoordinatorState& state, const Now& now, ClientRequest client) {
  VIGIL_ASSERT(!state.client_requests.contains(client.id),
               "client request id " + std::to_string(client.id) + " is already in flight");
  state.context.counters.add(request_counter(client.op));
  std::optional<Value> value;
  if (client.op == ClientOp::put) value = std::move(client.value);
  const VectorClock context = client.context.value_or(VectorClock{});
  const WallMicros expires_at_us = value ? absolute_expiry(now, client) : 0;
  Requester requester;
  requester.client_id = client.id;
  Status status = check_request(state.context.options, client.op, client.consistency, client.key,
                                value, context);
  if (status.ok() && client.expires_at_us < 0) {
    status = error(Code::invalid_argument, "expiry before the Unix epoch");
  }
  if (!status.ok()) {
    state.context.counters.add("refused_invalid_argument");
    answer(state, now, requester, client.op, status, {}, 0, 0);
    return;
  }
  if (status = check_admission(state, client.op); !status.ok()) {
    answer(state, now, requester, client.op, status, {}, 0, 0);
    return;
  }
  // An increment always takes the coordinating replica's own state (its counter entry must
  // be the latest), whatever set_context says: core/versions/pn_counter.h.
  const bool from_coordinator =
      client.op == ClientOp::incr ||
      (is_write(client.op) && !client.context &&
       state.context.options.set_context == SetContext::coordinator);
  std::optional<std::int64_t> increment;
  if (client.op == ClientOp::incr) increment = client.delta;
  Request request = new_request(state, requester, client.op, client.consistency,
                                std::move(client.key), std::move(value), expires_at_us, context,
                                from_coordinator, increment);
  state.client_requests.emplace(client.id, request.id);
  std::vector<NodeId> list = preference_list_of(state, request.key);
  if (from_coordinator) {
    std::vector<NodeId> targets = from_first_healthy(state, list);
    if (targets.empty()) {
      coordinate(state, now, std::move(request), list);
    } else {
      state.context.counters.add("writes_forwarded_to_coordinator");
      request.kind = RequestKind::forward;
      request.targets = std::move(targets);
      start_request(state, now, std::move(request));
    }
  } else if (contains(list, state.context.self())) {
    coordinate(state, now, std::move(request), list);
  } else {
    request.kind = RequestKind::forward;
    request.targets = std::move(list);
    start_request(state, now, std::move(request));
  }
}

void admit_peer_request(CoordinatorState& state, const Now& now, const NodeId& from,
                        const CoordinateRequest& message) {
  const PeerRequestKey key{from, message.request_id};
  if (auto it = state.remembered.find(key); it != state.remembered.end()) {
    state.context.counters.add("coordinate_replies_resent");
    state.context.send(from, it->second.reply);
    return;
  }
  if (state.peer_requests.contains(key)) {
    state.context.counters.add("ignored_duplicate");
    return;
  }
  state.context.counters.add("requests_from_peers");
  const ClientOp op = !message.is_write ? ClientOp::get
                     : message.increment ? ClientOp::incr
                     : message.value     ? ClientOp::put
                                         : ClientOp::del;
  Requester requester;
  requester.is_client = false;
  requester.peer = from;
  requester.peer_request_id = message.request_id;
  const std::optional<Value> value = message.is_write ? message.value : std::nullopt;
  Status status = check_request(state.context.options, op, message.consistency, message.key, value,
                                message.context);
  if (!status.ok()) {
    state.context.counters.add("refused_invalid_argument");
    answer(state, now, requester, op, status, {}, 0, 0);
    return;
  }
  if (status = check_admission(state, op); !status.ok()) {
    answer(state, now, requester, op, status, {}, 0, 0);
    return;
  }
  std::vector<NodeId> list = preference_list_of(state, message.key);
  if (!contains(list, state.context.self())) {
    state.context.counters.add("refused_not_replica");
    answer(
        state, now, requester, op,
        error(Code::unavailable, "node " + state.context.self() + " is not a replica of the key"),
        {}, 0, 0);
    return;
  }
  Request request = new_request(state, requester, op, message.consistency, message.key, value,
                                message.expires_at_us, message.context,
                                message.is_write && message.context_from_coordinator,
                                message.increment);
  state.peer_requests.emplace(key, request.id);
  coordinate(state, now, std::move(request), list);
}

}  // namespace vigil::core
