// The coordinator's invariants, asserted after every input by the simulator (TigerBeetle's
// invariants()). Each one is a promise some other file makes; a failure here is our bug.

#include <string>

#include "core/assert.h"
#include "core/coordinator/coordinator_state.h"

namespace vigil::core {

namespace {

void check_timers(const CoordinatorState& state, const Request& request) {
  VIGIL_ASSERT(state.timers.contains(TimerEntry{request.deadline, request.id, TimerKind::deadline}),
               "request " + std::to_string(request.id) + " has no deadline timer");
  if (request.retry_at) {
    VIGIL_ASSERT(state.timers.contains(TimerEntry{*request.retry_at, request.id, TimerKind::retry}),
                 "request " + std::to_string(request.id) + " lost its retry timer");
  }
}

void check_coordinated(const CoordinatorState& state, const Request& request) {
  VIGIL_ASSERT(request.replicas.size() <= state.context.options.replicas,
               "request " + std::to_string(request.id) + " has more replicas than N");
  VIGIL_ASSERT(request.answered_count() <= request.replicas.size(),
               "request " + std::to_string(request.id) + " has more answers than replicas");
  VIGIL_ASSERT(request.needed >= 1 && request.needed <= state.context.options.replicas,
               "request " + std::to_string(request.id) + " needs a quorum outside 1..N");
  bool self_listed = false;
  for (const ReplicaProgress& replica : request.replicas) {
    self_listed = self_listed || replica.node == state.context.self();
  }
  VIGIL_ASSERT(self_listed,
               "request " + std::to_string(request.id) + " is coordinated off its preference list");
  if (request.reply_code == Code::ok || request.reply_code == Code::not_found) {
    // Answers only grow, so a quorum met at the answer is met still.
    VIGIL_ASSERT(request.answered_count() >= request.needed,
                 "request " + std::to_string(request.id) + " was answered ok without its quorum");
  }
  if (request.kind == RequestKind::write) {
    VIGIL_ASSERT(!state.context.storage_failure, "a write is in flight after a storage failure");
    VIGIL_ASSERT(!request.state.empty(),
                 "write " + std::to_string(request.id) + " has no written state");
  }
}

void check_requester(const CoordinatorState& state, const Request& request) {
  const Requester& requester = request.requester;
  if (requester.is_client) {
    auto it = state.client_requests.find(requester.client_id);
    if (request.reply_code) {
      VIGIL_ASSERT(it == state.client_requests.end() || it->second != request.id,
                   "answered client request still indexed");
    } else {
      VIGIL_ASSERT(it != state.client_requests.end() && it->second == request.id,
                   "unanswered client request not indexed");
    }
  } else {
    auto it = state.peer_requests.find(PeerRequestKey{requester.peer, requester.peer_request_id});
    VIGIL_ASSERT(it != state.peer_requests.end() && it->second == request.id,
                 "peer request not indexed");
    VIGIL_ASSERT(request.kind != RequestKind::forward, "a peer's request is never forwarded");
  }
}

}  // namespace

void check_coordinator_invariants(const CoordinatorState& state) {
  VIGIL_ASSERT(state.repairing <= state.requests.size(), "more repairing reads than requests");
  VIGIL_ASSERT(requests_holding_slots(state) <= state.context.options.requests_in_flight_max,
               "requests in flight over requests_in_flight_max");
  VIGIL_ASSERT(state.repairing <= repairing_max(state.context.options),
               "reads repairing over their bound (read_repair.max_tasks)");
  VIGIL_ASSERT(state.repair_budget.in_flight.size() <=
                   state.context.options.read_repair.max_in_flight,
               "read repairs in flight over max_concurrent_repairs");
  VIGIL_ASSERT(state.repair_budget.tokens <=
                   state.context.options.read_repair.bandwidth_bytes_per_second,
               "repair bucket over one second's worth");
  std::size_t timers = 0;
  std::size_t repairing = 0;
  for (const auto& [id, request] : state.requests) {
    repairing += request.repairing ? 1 : 0;
    VIGIL_ASSERT(!request.repairing || (request.kind == RequestKind::read && request.reply_code),
                 "request " + std::to_string(id) + " is repairing but not an answered read");
    VIGIL_ASSERT(id == request.id, "request stored under another id");
    VIGIL_ASSERT(id >> sequence_bits == state.context.incarnation,
                 "request id of another incarnation");
    check_timers(state, request);
    timers += 1 + (request.retry_at ? 1 : 0);
    check_requester(state, request);
    if (request.kind == RequestKind::forward) {
      VIGIL_ASSERT(!request.reply_code, "an answered forward is still in flight");
      VIGIL_ASSERT(request.resends <= state.context.options.max_retries,
                   "forward retried too often");
    } else {
      check_coordinated(state, request);
      VIGIL_ASSERT(request.resends <= state.context.options.max_retries,
                   "replicas retried too often");
    }
  }
  VIGIL_ASSERT(timers == state.timers.size(), "a timer outlived its request");
  VIGIL_ASSERT(repairing == state.repairing, "repairing count does not match the requests");
  for (const auto& [client_id, id] : state.client_requests) {
    auto it = state.requests.find(id);
    VIGIL_ASSERT(it != state.requests.end() && !it->second.reply_code,
                 "client request " + std::to_string(client_id) + " indexed but not in flight");
  }
  for (const auto& [key, id] : state.peer_requests) {
    VIGIL_ASSERT(state.requests.contains(id), "peer request indexed but not in flight");
  }
  VIGIL_ASSERT(state.remembered.size() <= state.context.options.requests_in_flight_max,
               "remembered replies over their bound");
}

}  // namespace vigil::core
