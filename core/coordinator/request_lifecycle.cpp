// The life of every request, written once: start, retry, expire, finish, and the timer
// table that drives it. What a kind sends and answers at each step is its flow
// (coordinator_state.h's RequestFlow: coordinator_read.cpp, coordinator_write.cpp,
// forwarder.cpp).
//
// Theory of operation. A request is inserted with its deadline armed at request_timeout;
// its flow sends the first attempt, and when that sent anything (and retries are allowed)
// the retry timer is armed after the flow's retry delay (replication_timeout for reads and
// writes; for forwards replication_timeout plus the retry policy's backoff); then the flow
// judges what is already known (a read's local answer may meet R = 1). Each retry asks the
// flow to send again to whoever still owes an answer; when it sent something, it counts as
// a resend and, below the flow's retries_max, the next one is armed after its retry delay.
// At the deadline the flow answers a requester still waiting, and the request is finished.
// A flow finishes a request earlier when nothing more can come of it.
//
// The timer table (quinn-proto's timer.rs, TigerBeetle's Timeout): every request has a
// fixed table of timers, at most one of each kind (retry, deadline), recorded both in the
// request and in one ordered set, so poll_timeout() is the set's first entry and firing is
// a walk from the front. A timer is removed from the set before it acts, so an action that
// re-arms it (a retry scheduling the next) never sees its own stale entry. The order of
// the set, (time, id, kind), is a total order on values: timers due together fire in the
// same order on every run. Replica retries carry no jitter: each request's schedule is
// fixed by its start time, and different requests start at different times. Forward
// retries do (core/routing/retry_backoff.h), drawn from the node's seeded generator.

#include <utility>
#include <vector>

#include "core/assert.h"
#include "core/coordinator/coordinator_state.h"

namespace vigil::core {

namespace {

const RequestFlow& flow_of(RequestKind kind) {
  switch (kind) {
    case RequestKind::forward: return forward_flow();
    case RequestKind::read: return read_flow();
    case RequestKind::write: return write_flow();
  }
  VIGIL_ASSERT(false, "unknown request kind");
  return read_flow();
}

void arm_deadline(CoordinatorState& state, Request& request, Instant at) {
  state.timers.erase(TimerEntry{request.deadline, request.id, TimerKind::deadline});
  request.deadline = at;
  state.timers.insert(TimerEntry{at, request.id, TimerKind::deadline});
}

void arm_retry(CoordinatorState& state, Request& request, std::optional<Instant> at) {
  if (request.retry_at) {
    state.timers.erase(TimerEntry{*request.retry_at, request.id, TimerKind::retry});
  }
  request.retry_at = at;
  if (at) state.timers.insert(TimerEntry{*at, request.id, TimerKind::retry});
}

void fire_retry(CoordinatorState& state, const Now& now, Request& request) {
  request.retry_at.reset();
  const RequestFlow& flow = flow_of(request.kind);
  if (flow.resend(state, now, request) == 0) return;
  ++request.resends;
  if (request.resends < flow.retries_max(state.context.options)) {
    arm_retry(state, request, now.monotonic + flow.retry_delay(state, request));
  }
}

void fire_deadline(CoordinatorState& state, const Now& now, Request& request) {
  flow_of(request.kind).expire(state, now, request);
  finish(state, request);
}

}  // namespace

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

std::uint32_t Request::owed_count() const {
  std::uint32_t count = 0;
  for (const ReplicaProgress& replica : replicas) {
    count += replica.settled() || replica.unasked ? 0 : 1;
  }
  return count;
}

RequestId next_request_id(CoordinatorState& state) {
  VIGIL_ASSERT(state.next_sequence <= sequence_max, "request sequence exhausted");
  return (state.context.incarnation << sequence_bits) | state.next_sequence++;
}

void start_request(CoordinatorState& state, const Now& now, Request request_in) {
  const RequestId id = request_in.id;
  auto [it, inserted] = state.requests.emplace(id, std::move(request_in));
  VIGIL_ASSERT(inserted, "request id reused");
  Request& request = it->second;
  const NodeOptions& options = state.context.options;
  const RequestFlow& flow = flow_of(request.kind);
  arm_deadline(state, request, now.monotonic + options.request_timeout);
  const std::uint32_t sent = flow.start(state, now, request);
  if (!state.requests.contains(id)) return;  // ended at its start
  if (sent > 0 && flow.retries_max(options) > 0) {
    arm_retry(state, request, now.monotonic + flow.retry_delay(state, request));
  }
  flow.progress(state, now, request);
}

void finish(CoordinatorState& state, Request& request) {
  const RequestId id = request.id;
  state.timers.erase(TimerEntry{request.deadline, id, TimerKind::deadline});
  if (request.retry_at) state.timers.erase(TimerEntry{*request.retry_at, id, TimerKind::retry});
  if (!request.requester.is_client) {
    state.peer_requests.erase(
        PeerRequestKey{request.requester.peer, request.requester.peer_request_id});
  }
  VIGIL_ASSERT(request.reply_code.has_value(), "request finished without an answer");
  if (request.repairing) {
    VIGIL_ASSERT(state.repairing > 0, "repairing count underflow");
    --state.repairing;
  }
  state.requests.erase(id);
}

void fire_timers(CoordinatorState& state, const Now& now) {
  // Each firing removes its entry and only arms entries later than now (durations are
  // > 0), so this loop ends.
  while (!state.timers.empty() && state.timers.begin()->at <= now.monotonic) {
    const TimerEntry entry = *state.timers.begin();
    state.timers.erase(state.timers.begin());
    auto it = state.requests.find(entry.id);
    VIGIL_ASSERT(it != state.requests.end(), "a timer outlived its request");
    if (entry.kind == TimerKind::retry) {
      fire_retry(state, now, it->second);
    } else {
      fire_deadline(state, now, it->second);
    }
  }
}

}  // namespace vigil::core
