// The node's timer table: one ordered set of (deadline, request id, kind).
//
// Theory of operation (quinn-proto's timer.rs, TigerBeetle's Timeout): every request has a
// fixed table of timers, at most one of each kind (retry, deadline), recorded both in the
// request and in one ordered set, so poll_timeout() is the set's first entry and firing is
// a walk from the front. A timer is removed from the set before it acts, so an action that
// re-arms it (a retry scheduling the next) never sees its own stale entry. The order of
// the set, (time, id, kind), is a total order on values: timers due together fire in the
// same order on every run. Retries carry no jitter: each request's schedule is fixed by
// its start time, and different requests start at different times.

#include <vector>

#include "core/assert.h"
#include "core/node/node_state.h"

namespace vigil::core::node_detail {

void arm_deadline(NodeState& state, Request& request, Instant at) {
  state.timers.erase(TimerEntry{request.deadline, request.id, TimerKind::deadline});
  request.deadline = at;
  state.timers.insert(TimerEntry{at, request.id, TimerKind::deadline});
}

void arm_retry(NodeState& state, Request& request, std::optional<Instant> at) {
  if (request.retry_at) {
    state.timers.erase(TimerEntry{*request.retry_at, request.id, TimerKind::retry});
  }
  request.retry_at = at;
  if (at) state.timers.insert(TimerEntry{*at, request.id, TimerKind::retry});
}

void finish(NodeState& state, Request& request) {
  const RequestId id = request.id;
  state.timers.erase(TimerEntry{request.deadline, id, TimerKind::deadline});
  if (request.retry_at) state.timers.erase(TimerEntry{*request.retry_at, id, TimerKind::retry});
  if (!request.requester.is_client) {
    state.peer_requests.erase(
        PeerRequestKey{request.requester.peer, request.requester.peer_request_id});
  }
  VIGIL_ASSERT(request.reply_code.has_value(), "request finished without an answer");
  state.requests.erase(id);
}

namespace {

void fire_retry(NodeState& state, const Now& now, Request& request) {
  request.retry_at.reset();
  switch (request.kind) {
    case RequestKind::forward: retry_forward(state, now, request); return;
    case RequestKind::read: retry_read(state, now, request); return;
    case RequestKind::write: retry_write(state, now, request); return;
  }
}

void fire_deadline(NodeState& state, const Now& now, Request& request) {
  switch (request.kind) {
    case RequestKind::forward: expire_forward(state, now, request); return;
    case RequestKind::read: expire_read(state, now, request); return;
    case RequestKind::write: expire_write(state, now, request); return;
  }
}

}  // namespace

void fire_timers(NodeState& state, const Now& now) {
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

}  // namespace vigil::core::node_detail
