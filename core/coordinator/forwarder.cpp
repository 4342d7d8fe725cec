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
// request is answered from its memory (admission.cpp), not coordinated twice. After
// request_timeout the client gets `timeout`: no coordinator answered, so the outcome is
// unknown. A reply that arrives later matches no request and is counted and dropped.
// A plain put/del under set_context: coordinator is forwarded the same way, from a replica
// too, to the key's first healthy preference-list node (admission.cpp orders the targets
// from it and leaves this node out); a retry reaching the next node makes that node a
// failover coordinator, whose write may become a sibling of the first one's.

#include <string>
#include <utility>

#include "core/assert.h"
#include "core/coordinator/coordinator_state.h"

namespace vigil::core {

namespace {

// Attempt `attempt` (0 first) goes to the attempt-th node of the list, wrapping.
void send_attempt(CoordinatorState& state, Request& request, std::uint32_t attempt) {
  VIGIL_ASSERT(!request.targets.empty(), "a forward needs a target");
  const NodeId& target = request.targets[attempt % request.targets.size()];
  CoordinateRequest message;
  message.request_id = request.id;
  message.consistency = request.consistency;
  message.key = request.key;
  message.is_write = request.op != ClientOp::get;
  message.value = request.value;
  message.context = request.context;
  message.context_from_coordinator = request.context_from_coordinator;
  state.context.send(target, std::move(message));
  state.context.counters.add("forwards_sent");
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

class ForwardFlow final : public RequestFlow {
 public:
  std::uint32_t start(CoordinatorState& state, const Now& /*now*/,
                      Request& request) const override {
    send_attempt(state, request, 0);
    return 1;
  }
  std::uint32_t resend(CoordinatorState& state, const Now& /*now*/,
                       Request& request) const override {
    // A refusal may already have moved the forward on (on_coordinate_reply) and used the
    // last retry: this timer then has nothing left to send.
    if (request.resends >= state.context.options.max_retries) return 0;
    state.context.counters.add("forward_retries");
    send_attempt(state, request, request.resends + 1);
    return 1;
  }
  // A silent coordinator is given the same time as the first one.
  Duration resend_interval(const NodeOptions& options) const override {
    return options.replication_timeout;
  }
  void progress(CoordinatorState& /*state*/, const Now& /*now*/,
                Request& /*request*/) const override {}
  void expire(CoordinatorState& state, const Now& now, Request& request) const override {
    state.context.counters.add("forward_timeouts");
    request.reply_code = Code::timeout;
    const std::string message =
        "no coordinator answered within " +
        std::to_string(state.context.options.request_timeout.count() / 1000) +
        " ms (forwarded to " + tried_list(request) + " in " + std::to_string(request.resends + 1) +
        " attempts)";
    answer(state, now, request.requester, request.op, error(Code::timeout, message), {}, 0,
           request.needed);
  }
};

}  // namespace

const RequestFlow& forward_flow() {
  static const ForwardFlow flow;
  return flow;
}

void on_coordinate_reply(CoordinatorState& state, const Now& now, Request& request,
                         const NodeId& from, const CoordinateReply& reply) {
  bool expected = false;
  for (const NodeId& target : request.targets) expected = expected || target == from;
  if (!expected) {
    state.context.counters.add("ignored_unexpected_sender");
    return;
  }
  // A coordinator that refused a coordinator-context write before doing anything (its
  // storage failed) leaves the key to the next node of the list: a failover coordinator.
  if (request.context_from_coordinator && reply.status.code == Code::failed_precondition &&
      request.resends < state.context.options.max_retries &&
      request.resends + std::size_t{1} < request.targets.size()) {
    state.context.counters.add("forward_retries");
    ++request.resends;
    send_attempt(state, request, request.resends);
    return;
  }
  request.reply_code = reply.status.code;
  answer(state, now, request.requester, request.op, from_wire(reply.status), reply.state,
         reply.replicas_answered, request.needed, reply.existed);
  finish(state, request);
}

}  // namespace vigil::core
