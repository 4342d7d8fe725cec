// core::Coordinator's seam: the inputs that reach the requests in flight.
//
// Theory of operation. Replies are matched by our request id, and the request's kind says
// what a reply may be: a ReplicaWriteReply is a write's acknowledgement (or a hint's, from
// a fallback) or a read's repair acknowledgement (matched first against the repairs in
// flight, which outlive their read: read_repair.cpp); a ReplicaReadReply is a read's answer
// or a write's read-back; a CoordinateReply answers a forward. Anything that matches no
// request in flight, or not its kind, is counted and dropped: duplicates, late replies
// and replies from a previous life of this node all end here. After a failed commit every
// read and write coordinated here depends on local state whose durability is unknown, so
// each fails at once; forwards touch no storage and go on.

#include "core/coordinator/coordinator.h"

#include <utility>
#include <vector>

#include "core/coordinator/coordinator_state.h"

namespace vigil::core {

namespace {

template <typename Reply>
Request* find_request(CoordinatorState& state, const Reply& reply) {
  auto it = state.requests.find(reply.request_id);
  if (it == state.requests.end()) {
    state.context.counters.add("ignored_unknown_request");
    return nullptr;
  }
  return &it->second;
}

}  // namespace

Coordinator::Coordinator(NodeContext& context, Replica& replica)
    : state_(std::make_unique<CoordinatorState>(context, replica)) {}

Coordinator::~Coordinator() = default;

void Coordinator::forget_expired(const Now& now) {
  core::forget_expired(*state_, now);
}

void Coordinator::handle_client_request(const Now& now, ClientRequest request) {
  admit_client_request(*state_, now, std::move(request));
}

void Coordinator::handle_coordinate_request(const Now& now, const NodeId& from,
                                            const CoordinateRequest& message) {
  admit_peer_request(*state_, now, from, message);
}

void Coordinator::handle_replica_write_reply(const Now& now, const NodeId& from,
                                             const ReplicaWriteReply& reply) {
  // A read repair's answer, matched by (read, replica) even after the read finished, so
  // that its budget slot is released.
  if (on_repair_reply(*state_, from, reply)) return;
  Request* request = find_request(*state_, reply);
  if (request == nullptr) return;
  if (request->kind == RequestKind::write) {
    on_write_reply(*state_, now, *request, from, reply);
  } else if (request->kind == RequestKind::read) {
    // A repair answered after its slot timed out.
    state_->context.counters.add(reply.status.code == Code::ok ? "read_repairs_acknowledged"
                                                                : "read_repair_refusals");
  } else {
    state_->context.counters.add("ignored_wrong_kind");
  }
}

void Coordinator::handle_replica_read_reply(const Now& now, const NodeId& from,
                                            const ReplicaReadReply& reply) {
  Request* request = find_request(*state_, reply);
  if (request == nullptr) return;
  if (request->kind == RequestKind::read) {
    on_read_reply(*state_, now, *request, from, reply);
  } else if (request->kind == RequestKind::write) {
    on_write_read_back(*state_, now, *request, from, reply);
  } else {
    state_->context.counters.add("ignored_wrong_kind");
  }
}

void Coordinator::handle_coordinate_reply(const Now& now, const NodeId& from,
                                          const CoordinateReply& reply) {
  Request* request = find_request(*state_, reply);
  if (request == nullptr) return;
  if (request->kind == RequestKind::forward) {
    on_coordinate_reply(*state_, now, *request, from, reply);
  } else {
    state_->context.counters.add("ignored_wrong_kind");
  }
}

void Coordinator::handle_timeout(const Now& now) {
  fire_timers(*state_, now);
}

std::optional<Instant> Coordinator::poll_timeout() const {
  if (state_->timers.empty()) return std::nullopt;
  return state_->timers.begin()->at;
}

void Coordinator::handle_withdrawn_reply(const NodeId& peer, const CoordinateReply& replacement) {
  const PeerRequestKey key{peer, replacement.request_id};
  if (auto it = state_->remembered.find(key); it != state_->remembered.end()) {
    it->second.reply = replacement;
  }
}

void Coordinator::handle_storage_failure(const Now& now, const Status& unknown) {
  CoordinatorState& state = *state_;
  std::vector<RequestId> coordinated;
  for (const auto& [id, request] : state.requests) {
    if (request.kind != RequestKind::forward) coordinated.push_back(id);
  }
  for (RequestId id : coordinated) {
    Request& request = state.requests.at(id);
    if (!request.reply_code) {
      const Code code = request.kind == RequestKind::write ? Code::io_error : Code::unavailable;
      answer_request(state, now, request, Status(code, unknown.message()), {});
    }
    finish(state, request);
  }
}

std::size_t Coordinator::requests_in_flight() const {
  return requests_holding_slots(*state_);
}

void Coordinator::check_invariants() const {
  check_coordinator_invariants(*state_);
}

}  // namespace vigil::core
