// Forwarding a client request from a node that is not a replica of its key (Dynamo 4.5:
// "the node that receives the request ... forwards it to the first among the top N nodes
// in the preference list"; Riak's put FSM forwards to a vnode owner the same way).
//
// Theory of operation. The request goes to the first node of the preference list as a
// CoordinateRequest under this node's request id. If no CoordinateReply comes within
// replication_timeout it goes to the next node of the list (wrapping), at most
// max_retries more times; the coordinator that answers first is relayed to the client,
// whatever it says (an unavailable from a coordinator means it tried its replicas; trying
// another would only repeat that). A retry to a coordinator that already coordinated the
// request is answered from its memory (coordinator.cpp), not coordinated twice. After
// request_timeout the client gets `timeout`: no coordinator answered, so the outcome is
// unknown. A reply that arrives later matches no request and is counted and dropped.

#include <string>
#include <utility>

#include "core/node/node_state.h"

namespace vigil::core::node_detail {

namespace {

void send_attempt(NodeState& state, Request& request) {
  VIGIL_ASSERT(!request.targets.empty(), "a forward needs a target");
  const NodeId& target = request.targets[request.resends % request.targets.size()];
  CoordinateRequest message;
  message.request_id = request.id;
  message.consistency = request.consistency;
  message.key = request.key;
  message.is_write = request.op != ClientOp::get;
  message.value = request.value;
  message.context = request.context;
  send(state, target, std::move(message));
  state.counters.add("forwards_sent");
}

std::string tried_list(const Request& request) {
  std::string text;
  const std::size_t attempts = request.resends + std::size_t{1};
  for (std::size_t i = 0; i < attempts && i < request.targets.size(); ++i) {
    if (!text.empty()) text += ", ";
    text += request.targets[i];
  }
  return text;
}

}  // namespace

void start_forward(NodeState& state, const Now& now, Request request_in) {
  auto [it, inserted] = state.requests.emplace(request_in.id, std::move(request_in));
  VIGIL_ASSERT(inserted, "request id reused");
  Request& request = it->second;
  arm_deadline(state, request, now.monotonic + state.options.request_timeout);
  send_attempt(state, request);
  if (state.options.max_retries > 0) {
    arm_retry(state, request, now.monotonic + state.options.replication_timeout);
  }
}

void on_coordinate_reply(NodeState& state, const Now& now, Request& request, const NodeId& from,
                         const CoordinateReply& reply) {
  bool expected = false;
  for (const NodeId& target : request.targets) expected = expected || target == from;
  if (!expected) {
    state.counters.add("ignored_unexpected_sender");
    return;
  }
  request.reply_code = reply.status.code;
  answer(state, now, request.requester, request.op, from_wire(reply.status), reply.state,
         reply.replicas_answered, request.needed);
  finish(state, request);
}

void retry_forward(NodeState& state, const Now& now, Request& request) {
  ++request.resends;
  state.counters.add("forward_retries");
  send_attempt(state, request);
  if (request.resends < state.options.max_retries) {
    arm_retry(state, request, now.monotonic + state.options.replication_timeout);
  }
}

void expire_forward(NodeState& state, const Now& now, Request& request) {
  state.counters.add("forward_timeouts");
  request.reply_code = Code::timeout;
  const std::string message = "no coordinator answered within " +
                              std::to_string(state.options.request_timeout.count() / 1000) +
                              " ms (forwarded to " + tried_list(request) + " in " +
                              std::to_string(request.resends + 1) + " attempts)";
  answer(state, now, request.requester, request.op, error(Code::timeout, message), {}, 0,
         request.needed);
  finish(state, request);
}

}  // namespace vigil::core::node_detail
