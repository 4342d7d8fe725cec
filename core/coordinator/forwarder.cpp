// Forwarding a client request from a node that is not a replica of its key (Dynamo 4.5:
// "the node that receives the request ... forwards it to the first among the top N nodes
// in the preference list"; Riak's put FSM forwards to a vnode owner the same way).
//
// Theory of operation. The request goes as a CoordinateRequest, under this node's request
// id, to the first node of the preference list that the router (core/routing/router.h)
// finds usable: healthy by the failure detector's last verdict, and with a circuit
// breaker that admits it (a node whose breaker is open is passed over and counted,
// routes_short_circuited). If no CoordinateReply comes within replication_timeout, then
// a backoff of the retry policy (routing.retry_policy: exponential with jitter from the
// node's generator, core/routing/retry_backoff.h), it goes to the next usable node of the
// list (wrapping), at most retry_policy.max_retries more times. The silence counts as a
// failure of that node's breaker; a reply, whatever it says, as a success (an unavailable
// from a coordinator means it tried its replicas; trying another would only repeat that),
// except a refusal (below). The coordinator that answers first is relayed to the client.
// A reply that comes after its attempt was judged silent is relayed but does not count
// as a success: a node too slow to answer within the timeout is what the breaker is for.
//
// Where in the list the first attempt starts is routing.strategy's: token_aware at the
// primary (Dynamo's coordinator choice), round_robin at the next of a rotation over the N
// replicas (spreading the coordination of one hot key's forwards over its replicas).
// When every node of the list has its breaker open, routing.fallback decides: round_robin
// (the default) sends to the next node anyway, without a permit, so the outcome does not
// move its breaker (counted routes_fallback); none answers the client `unavailable` at
// once (forwards_short_circuited) instead of waiting out request_timeout on nodes known to
// fail: Hystrix's fail-fast. A retry under `none` with every breaker open sends nothing,
// and the deadline answers.
//
// A retry to a coordinator that already coordinated the request is answered from its
// memory (admission.cpp), not coordinated twice. After request_timeout the client gets
// `timeout`: no coordinator answered, so the outcome is unknown. A reply that arrives later
// matches no request and is counted and dropped.
// A plain put/del under set_context: coordinator is forwarded the same way, from a replica
// too, to the key's first healthy preference-list node (admission.cpp orders the targets
// from it and leaves this node out); a retry reaching the next node makes that node a
// failover coordinator, whose write may become a sibling of the first one's. Such a
// coordinator that refuses (failed_precondition: its storage failed) counts as a failure
// of its breaker, and the next node is tried at once: the refusal is an answer, not a
// silence to back off from.

#include <optional>
#include <string>
#include <utility>

#include "core/assert.h"
#include "core/coordinator/coordinator_state.h"
#include "core/routing/retry_backoff.h"

namespace vigil::core {

namespace {

void send_to(CoordinatorState& state, Request& request, const NodeId& target) {
  CoordinateRequest message;
  message.request_id = request.id;
  message.consistency = request.consistency;
  message.key = request.key;
  message.is_write = request.op != ClientOp::get;
  message.value = request.value;
  message.expires_at_us = request.expires_at_us;
  message.increment = request.increment;
  message.context = request.context;
  message.context_from_coordinator = request.context_from_coordinator;
  state.context.send(target, std::move(message));
  state.context.counters.add("forwards_sent");
}

// Sends the next attempt to the first usable target after the last one tried (for the
// first attempt: where routing.strategy starts). When every target's breaker refuses,
// routing.fallback decides: round_robin sends to the next target anyway, without a permit;
// none sends nothing and returns false.
bool send_next(CoordinatorState& state, const Now& now, Request& request) {
  VIGIL_ASSERT(!request.targets.empty(), "a forward needs a target");
  Router& router = state.context.router;
  const std::size_t start =
      request.attempts.empty()
          ? router.preference_start(request.targets.size(), state.context.random)
          : request.attempts.back().target_index + 1;
  const std::optional<RouteChoice> choice =
      router.choose_from(now.monotonic, request.targets, start);
  if (choice) {
    request.attempts.push_back(
        ForwardAttempt{choice->node, choice->preference_index, choice->permit, false});
  } else if (router.options().fallback == RouteFallback::round_robin) {
    const std::size_t index = start % request.targets.size();
    state.context.counters.add("routes_fallback");
    request.attempts.push_back(ForwardAttempt{request.targets[index], index, std::nullopt, false});
  } else {
    return false;
  }
  send_to(state, request, request.attempts.back().node);
  return true;
}

// Every attempt not judged yet stayed silent: a failure for its node's breaker.
void judge_silent(CoordinatorState& state, const Now& now, Request& request) {
  for (ForwardAttempt& attempt : request.attempts) {
    if (attempt.judged) continue;
    attempt.judged = true;
    if (attempt.permit) {
      state.context.router.handle_failure(now.monotonic, attempt.node, *attempt.permit);
    }
  }
}

std::string tried_list(const Request& request) {
  std::string text;
  for (const ForwardAttempt& attempt : request.attempts) {
    if (!text.empty()) text += ", ";
    text += attempt.node;
  }
  return text;
}

std::string target_list(const Request& request) {
  std::string text;
  for (const NodeId& target : request.targets) {
    if (!text.empty()) text += ", ";
    text += target;
  }
  return text;
}

// An increment is not idempotent: a silent coordinator may have applied it, and the next
// node would apply it again (a counter then counts it twice; scenarios/counters-partition
// .yaml found it). So a silent increment is sent again to the same coordinator, which
// answers a duplicate from its memory or drops it while the first is in flight
// (admission.cpp): coordinated at most once. When that node is really gone, the increment
// times out (its outcome unknown, as the client must treat it) and the next one goes to
// the next healthy node once the failure detector says so (docs/counters.md).
std::uint32_t resend_increment(CoordinatorState& state, Request& request) {
  const ForwardAttempt last = request.attempts.back();
  send_to(state, request, last.node);
  ForwardAttempt again;
  again.node = last.node;
  again.target_index = last.target_index;
  request.attempts.push_back(std::move(again));
  state.context.counters.add("forward_retries");
  state.context.counters.add("forward_retries_silence");
  return 1;
}

class ForwardFlow final : public RequestFlow {
 public:
  std::uint32_t start(CoordinatorState& state, const Now& now, Request& request) const override {
    if (send_next(state, now, request)) return 1;
    state.context.counters.add("forwards_short_circuited");
    request.reply_code = Code::unavailable;
    const std::string message =
        "every coordinator's circuit breaker is open (" + target_list(request) + "); not forwarded";
    answer(state, now, request.requester, request.op, error(Code::unavailable, message), {}, 0,
           request.needed);
    finish(state, request);
    return 0;
  }
  std::uint32_t resend(CoordinatorState& state, const Now& now, Request& request) const override {
    judge_silent(state, now, request);
    // A refusal may already have moved the forward on (on_coordinate_reply) and used the
    // last retry: this timer then has nothing left to send.
    if (request.resends >= retries_max(state.context.options)) return 0;
    if (request.increment) return resend_increment(state, request);
    if (!send_next(state, now, request)) return 0;
    state.context.counters.add("forward_retries");
    state.context.counters.add("forward_retries_silence");
    return 1;
  }
  // A silent coordinator is given the time a replica is, then the retry policy's backoff.
  Duration retry_delay(CoordinatorState& state, const Request& request) const override {
    const NodeOptions& options = state.context.options;
    return options.replication_timeout +
           backoff_delay(options.routing.retry, request.resends, state.context.random);
  }
  std::uint32_t retries_max(const NodeOptions& options) const override {
    return options.routing.retry.max_retries;
  }
  void progress(CoordinatorState& /*state*/, const Now& /*now*/,
                Request& /*request*/) const override {}
  void expire(CoordinatorState& state, const Now& now, Request& request) const override {
    judge_silent(state, now, request);
    state.context.counters.add("forward_timeouts");
    request.reply_code = Code::timeout;
    const std::string message =
        "no coordinator answered within " +
        std::to_string(state.context.options.request_timeout.count() / 1000) +
        " ms (forwarded to " + tried_list(request) + " in " +
        std::to_string(request.attempts.size()) + " attempts)";
    answer(state, now, request.requester, request.op, error(Code::timeout, message), {}, 0,
           request.needed);
  }
};

// The attempt to `from` not judged yet, or nullptr.
ForwardAttempt* unjudged_attempt(Request& request, const NodeId& from) {
  for (ForwardAttempt& attempt : request.attempts) {
    if (attempt.node == from && !attempt.judged) return &attempt;
  }
  return nullptr;
}

}  // namespace

const RequestFlow& forward_flow() {
  static const ForwardFlow flow;
  return flow;
}

void on_coordinate_reply(CoordinatorState& state, const Now& now, Request& request,
                         const NodeId& from, const CoordinateReply& reply) {
  bool expected = false;
  for (const ForwardAttempt& attempt : request.attempts) {
    expected = expected || attempt.node == from;
  }
  if (!expected) {
    state.context.counters.add("ignored_unexpected_sender");
    return;
  }
  const bool refused =
      request.context_from_coordinator && reply.status.code == Code::failed_precondition;
  if (ForwardAttempt* attempt = unjudged_attempt(request, from)) {
    attempt->judged = true;
    if (attempt->permit && refused) {
      state.context.router.handle_failure(now.monotonic, from, *attempt->permit);
    } else if (attempt->permit) {
      state.context.router.handle_success(now.monotonic, from, *attempt->permit);
    }
  }
  // A coordinator that refused a coordinator-context write before doing anything (its
  // storage failed) leaves the key to the next node of the list: a failover coordinator.
  if (refused && request.resends < state.context.options.routing.retry.max_retries &&
      request.attempts.size() < request.targets.size() && send_next(state, now, request)) {
    state.context.counters.add("forward_retries");
    state.context.counters.add("forward_retries_refused");
    ++request.resends;
    return;
  }
  request.reply_code = reply.status.code;
  answer(state, now, request.requester, request.op, from_wire(reply.status), reply.state,
         reply.replicas_answered, request.needed, reply.existed);
  finish(state, request);
}

}  // namespace vigil::core
