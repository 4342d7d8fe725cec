// Answering a request's requester, once: a client of this node gets a ClientReply, a peer
// that forwarded the request gets a CoordinateReply, which is also remembered.
//
// Theory of operation. A forwarder retries a silent coordinator and the network may
// duplicate, so the answer to a peer is kept for request_timeout (by (peer, its request
// id)): a duplicate that arrives after the answer gets the same answer again instead of
// being coordinated twice (admission.cpp). Memories are bounded like requests: past
// requests_in_flight_max the oldest go first. They are forgotten in the order they were
// made, at every input (core/node/node.cpp calls forget_expired). Success (ok or
// not_found) carries the state: a get's live values and context, a write's new context.

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/assert.h"
#include "core/coordinator/coordinator_state.h"
#include "core/versions/counter_state.h"

namespace vigil::core {

namespace {

bool is_success(Code code) {
  return code == Code::ok || code == Code::not_found;
}

// A read's values in read order (SiblingSet::live_at), with every counter sibling merged
// into one value, the counter's total, in the place of the latest of them
// (core/versions/counter_state.h): a plain GET then answers the counter's total whenever
// the latest live sibling is a counter.
std::vector<Value> read_values(const std::vector<const Version*>& live) {
  std::vector<Value> values;
  values.reserve(live.size());
  const std::optional<PnCounter> counter = merged_counter(live);
  const Version* latest_counter = nullptr;
  for (const Version* version : live) {
    if (version->kind == ValueKind::counter) latest_counter = version;
  }
  for (const Version* version : live) {
    if (version->kind != ValueKind::counter) {
      values.push_back(*version->value);
    } else if (version == latest_counter) {
      values.push_back(counter_text(counter->value()));
    }
  }
  return values;
}

// An increment's answer: the total of the counter the coordinator wrote (the state it
// answers holds just that version; expiry plays no part in what the write made).
Value incremented_value(const SiblingSet& written) {
  PnCounter total;
  for (const Version& version : written.versions()) {
    if (version.kind != ValueKind::counter) continue;
    auto counter = decode_pn_counter(*version.value);
    VIGIL_ASSERT(counter.ok(), "a written counter does not decode");
    total.merge(*counter);
  }
  return counter_text(total.value());
}

void remember(CoordinatorState& state, const Now& now, const PeerRequestKey& key,
              CoordinateReply reply) {
  const Instant forget_at = now.monotonic + state.context.options.request_timeout;
  state.remembered.insert_or_assign(key, RememberedReply{std::move(reply), forget_at});
  state.remembered_order.emplace_back(forget_at, key);
  // Bounded like requests: past the bound the oldest memories go first.
  while (state.remembered.size() > state.context.options.requests_in_flight_max &&
         !state.remembered_order.empty()) {
    state.remembered.erase(state.remembered_order.front().second);
    state.remembered_order.pop_front();
  }
}

}  // namespace

QuorumCounts quorum_for(const NodeOptions& options, Consistency consistency) {
  switch (consistency) {
    case Consistency::one: return options.one;
    case Consistency::quorum: return options.quorum;
    case Consistency::all: return options.all;
    case Consistency::default_level: return options.default_level;
  }
  VIGIL_ASSERT(false, "consistency level not validated");
  return options.quorum;
}

void answer(CoordinatorState& state, const Now& now, const Requester& requester, ClientOp op,
            const Status& status, const SiblingSet& key_state, std::uint32_t answered,
            std::uint32_t needed, bool existed) {
  const bool success = is_success(status.code());
  existed = existed && success;
  if (!requester.is_client) {
    CoordinateReply reply{requester.peer_request_id, to_wire(status),
                          success ? key_state : SiblingSet{}, answered, existed};
    remember(state, now, PeerRequestKey{requester.peer, requester.peer_request_id}, reply);
    state.context.send(requester.peer, std::move(reply));
    return;
  }
  ClientReply reply;
  reply.id = requester.client_id;
  reply.status = status;
  if (success) {
    if (op == ClientOp::get) {
      const std::vector<const Version*> live = key_state.live_at(now.wall_us);
      reply.values = read_values(live);
      if (!live.empty()) reply.expires_at_us = live.back()->expires_at_us;
      reply.deleted_siblings = static_cast<std::uint32_t>(key_state.size() - live.size());
      // Expired at this node even if the coordinator (another clock) still saw it live.
      if (live.empty()) reply.status = Status(Code::not_found, "");
    } else if (op == ClientOp::incr) {
      reply.values.push_back(incremented_value(key_state));
    }
    reply.context = key_state.context();
  }
  reply.replicas_answered = answered;
  reply.replicas_needed = needed;
  reply.existed = existed;
  state.context.counters.add(success ? "replies_ok" : "replies_failed");
  state.context.counters.add(reply_code_counter(reply.status.code()));
  state.client_requests.erase(requester.client_id);
  state.context.replies.push_back(std::move(reply));
}

void answer_request(CoordinatorState& state, const Now& now, Request& request, const Status& status,
                    const SiblingSet& key_state) {
  VIGIL_ASSERT(!request.reply_code.has_value(), "request answered twice");
  request.reply_code = status.code();
  answer(state, now, request.requester, request.op, status, key_state, request.answered_count(),
         request.needed, request.existed);
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

void forget_expired(CoordinatorState& state, const Now& now) {
  while (!state.remembered_order.empty() && state.remembered_order.front().first <= now.monotonic) {
    const auto& [forget_at, key] = state.remembered_order.front();
    auto it = state.remembered.find(key);
    if (it != state.remembered.end() && it->second.forget_at <= forget_at) {
      state.remembered.erase(it);
    }
    state.remembered_order.pop_front();
  }
}

}  // namespace vigil::core
