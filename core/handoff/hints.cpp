// Hinted handoff, the holder's and the target's sides (Dynamo 4.6; seed section 2.1;
// Cassandra's HintsService for the pacing and the per-target bookkeeping).
//
// Theory of operation.
// - Storing. A HintWrite from a coordinator is kept as a StoredHint (target, key, the whole
//   state, created/expires wall times, attempts) in the node's hint table, staged like any
//   write; the ReplicaWriteReply that acknowledges it leaves only after the commit covering
//   it (node.h's driving protocol), so an acknowledged hint is durable. A target already
//   holding hints.per_target_max hints here has the new one refused (resource_exhausted,
//   counted as hints_refused_backlog): the coordinator then tries another fallback or
//   counts the replica as not answered. Hint ids are (incarnation << 40) | sequence, raised
//   past any id found in storage, so ids never repeat across restarts and a late delivery
//   reply from an earlier life can never erase a newer hint.
// - Delivering. Per target, deliveries go out in rounds: HintDelivery{hint id, key, state}
//   in id order, at most hints.replay_in_flight_max in flight, the next sent as each is
//   answered (a returning node is not flooded). The target merges the state
//   (merge_into_local: idempotent, so a hint delivered twice is harmless), and answers
//   HintDeliveryReply after its commit; on ok the holder erases the hint. A delivery not
//   answered ok within replication_timeout is a failed attempt: the attempt is stored in
//   the hint and the hint is dropped (and counted) at max_attempts. A refusal pauses the
//   target's rounds for retry_interval; a timeout does not (one lost message must not stall
//   a healthy target's hints for retry_interval): the hint goes again at the target's next
//   round, the next answered delivery or the next check. Only timeouts_before_pause
//   timeouts in a row, with no delivery answered between them, pause the target: it is
//   probably down before the failure detector says so.
// - Stalls. Hints not delivered while their target is up are watched (hint_stalls.cpp)
//   and counted as hints_stalled_target_up.
// - When. A round starts for every target that is up and not pausing at each check
//   (every check_interval, armed only while hints are held), and at once when the failure
//   detector sees the target alive again (handle_peer_transition), whatever pause was set.
//   Hints past their expiry (the holder's wall clock against expires_us) are dropped and
//   counted at each check and whenever a round meets one.
// - Damage. A hint whose record is corrupt is found (hint pages fail as a whole; a binary
//   search over hints_after locates the first bad id), erased and counted, so one bad
//   record cannot stop every delivery.
// - After a storage failure the holder does nothing more: it can neither erase delivered
//   hints nor record attempts; the restarted node resumes from what is durable.

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "core/handoff/handoff.h"
#include "core/handoff/handoff_state.h"
#include "core/replica/replica.h"

namespace vigil::core {

namespace {

// Deliveries to one target timed out in a row (none answered in between) that pause its
// rounds like a refusal. One loss (1% of messages under the seed's defaults) must not
// stop a healthy target's hints; a target silent to three deliveries in a row is probably
// down before the failure detector says so, and retrying it at every round would only
// spend the hints' attempts.
constexpr std::uint32_t timeouts_before_pause = 3;

void drop_hint(HandoffState& state, const StoredHint& hint, const char* counter) {
  state.context.counters.add(counter);
  if (!state.context.storage.erase_hint(hint.id).ok())
    state.context.counters.add("storage_write_errors");
  auto it = state.targets.find(hint.target);
  if (it != state.targets.end() && it->second.held > 0) --it->second.held;
}

bool ensure_loaded(HandoffState& state) {
  return state.loaded || reload(state, nullptr, nullptr);
}

bool any_held(const HandoffState& state) {
  for (const auto& [target, bookkeeping] : state.targets) {
    if (bookkeeping.held > 0) return true;
  }
  return false;
}

void arm_check(HandoffState& state, const Now& now) {
  if (!state.check_at) {
    state.check_at = now.monotonic + state.context.options.hints.check_interval;
  }
}

// Sends deliveries to `target` until replay_in_flight_max are in flight or none is left.
void send_round(HandoffState& state, const Now& now, const NodeId& target) {
  HintTarget& bookkeeping = state.targets[target];
  const std::uint32_t in_flight_max = state.context.options.hints.replay_in_flight_max;
  if (bookkeeping.in_flight >= in_flight_max || bookkeeping.held == 0) return;
  // The hints in flight are among the first in_flight_max and are not sent again.
  auto hints = state.context.storage.hints_for(
      target, in_flight_max, [&state](std::uint64_t id) { return state.in_flight.contains(id); });
  if (!hints.ok()) {
    // A corrupt record (or an unreadable store): the next check rescans and cleans up.
    state.context.counters.add(hints.status().code() == Code::corruption
                                   ? Counter::hint_rounds_corrupt
                                   : Counter::storage_read_errors);
    state.loaded = false;
    arm_check(state, now);
    return;
  }
  for (const StoredHint& hint : *hints) {
    if (bookkeeping.in_flight >= in_flight_max) break;
    if (expired(hint, now)) {
      drop_hint(state, hint, "hints_expired");
      state.expired_targets.insert(hint.target);
      continue;
    }
    state.context.send(target, HintDelivery{hint.id, hint.key, hint.state});
    state.context.counters.add("hint_deliveries_sent");
    if (state.context.options.planted_bug == PlantedBug::hint_erased_before_ack) {
      drop_hint(state, hint, "hints_delivered");  // planted (options.h): never in production
      continue;
    }
    state.in_flight.emplace(
        hint.id,
        HintDeliveryInFlight{hint, now.monotonic + state.context.options.replication_timeout});
    ++bookkeeping.in_flight;
  }
}

// A delivery that was refused or timed out: one attempt more, or dropped at max_attempts.
// A refusal, or the timeouts_before_pause-th timeout in a row, pauses the target's rounds
// for retry_interval; a lone timeout does not: the hint is sent again at the target's next
// round (the next answered delivery, or the next check) and the others keep flowing.
void delivery_failed(HandoffState& state, const Now& now, std::uint64_t id, bool refused) {
  auto it = state.in_flight.find(id);
  if (it == state.in_flight.end()) return;
  StoredHint hint = std::move(it->second.hint);
  state.in_flight.erase(it);
  HintTarget& bookkeeping = state.targets[hint.target];
  if (bookkeeping.in_flight > 0) --bookkeeping.in_flight;
  state.context.counters.add("hint_delivery_failures");
  hint.attempts += 1;
  if (hint.attempts >= state.context.options.hints.max_attempts) {
    drop_hint(state, hint, "hints_dropped_max_attempts");
  } else if (!state.context.storage.write_hint(hint).ok()) {
    state.context.counters.add("storage_write_errors");
  }
  if (!refused) ++bookkeeping.timeouts_in_a_row;
  const bool pause = refused || bookkeeping.timeouts_in_a_row >= timeouts_before_pause;
  if (pause && !bookkeeping.next_round) {
    state.context.counters.add("hint_target_pauses");
    bookkeeping.next_round = now.monotonic + state.context.options.hints.retry_interval;
  }
}

// The periodic check: drops expired hints, recounts, and starts a round for every target
// that is up and not pausing.
void run_check(HandoffState& state, const Now& now) {
  state.check_at.reset();
  std::vector<StoredHint> expired_hints;
  if (!reload(state, &now, &expired_hints)) {
    arm_check(state, now);
    return;
  }
  for (const StoredHint& hint : expired_hints) {
    state.context.counters.add("hints_expired");
    state.expired_targets.insert(hint.target);
    if (!state.context.storage.erase_hint(hint.id).ok())
      state.context.counters.add("storage_write_errors");
  }
  watch_stalls(state, now);
  for (auto& [target, bookkeeping] : state.targets) {
    if (bookkeeping.held > 0 && !bookkeeping.next_round && state.context.peer_is_up(target)) {
      send_round(state, now, target);
    }
  }
  if (any_held(state)) arm_check(state, now);
}

Status store_hint(HandoffState& state, const Now& now, const HintWrite& message) {
  if (state.context.storage_failure) {
    return error(Code::failed_precondition, "node " + state.context.self() +
                                                " refuses hints after a storage failure (" +
                                                state.context.storage_failure->to_string() + ")");
  }
  if (!ensure_loaded(state)) return error(Code::io_error, "cannot read the hint table");
  HintTarget& bookkeeping = state.targets[message.target];
  if (bookkeeping.held >= state.context.options.hints.per_target_max) {
    state.context.counters.add("hints_refused_backlog");
    return error(Code::resource_exhausted, "node " + state.context.self() + " holds " +
                                               std::to_string(bookkeeping.held) + " hints for " +
                                               message.target + " (hints_per_target_max)");
  }
  StoredHint hint;
  hint.id = state.next_id++;
  hint.target = message.target;
  hint.key = message.key;
  hint.state = message.state;
  hint.created_us = now.wall_us;
  hint.expires_us = now.wall_us + to_micros(state.context.options.hints.expiry);
  if (Status written = state.context.storage.write_hint(hint); !written.ok()) {
    state.context.counters.add("storage_write_errors");
    return written;
  }
  ++bookkeeping.held;
  state.context.counters.add("hints_stored");
  arm_check(state, now);
  return Status::ok_status();
}

}  // namespace

Handoff::Handoff(NodeContext& context, Replica& replica)
    : state_(std::make_unique<HandoffState>(context, replica)) {
  auto count = context.storage.hint_count();
  if (count.ok() && *count > 0) state_->check_at = Instant{};  // due at the first input
}

Handoff::~Handoff() = default;

std::uint64_t Handoff::hints_pending() const {
  auto count = state_->context.storage.hint_count();
  return count.ok() ? *count : 0;
}

std::uint64_t Handoff::hints_stalled() const {
  return core::hints_stalled(*state_);
}

std::vector<NodeId> Handoff::take_expired_targets() {
  std::vector<NodeId> targets(state_->expired_targets.begin(), state_->expired_targets.end());
  state_->expired_targets.clear();
  return targets;
}

std::optional<Instant> Handoff::poll_timeout() const {
  const HandoffState& state = *state_;
  if (state.context.storage_failure) return std::nullopt;
  std::optional<Instant> next = state.check_at;
  auto consider = [&](Instant at) {
    if (!next || at < *next) next = at;
  };
  for (const auto& [target, bookkeeping] : state.targets) {
    if (bookkeeping.next_round) consider(*bookkeeping.next_round);
  }
  for (const auto& [id, delivery] : state.in_flight) consider(delivery.timeout_at);
  return next;
}

void Handoff::handle_timeout(const Now& now) {
  HandoffState& state = *state_;
  if (state.context.storage_failure) return;
  std::vector<std::uint64_t> timed_out;
  for (const auto& [id, delivery] : state.in_flight) {
    if (delivery.timeout_at <= now.monotonic) timed_out.push_back(id);
  }
  for (std::uint64_t id : timed_out) {
    state.context.counters.add("hint_delivery_timeouts");
    delivery_failed(state, now, id, /*refused=*/false);
  }
  if (state.check_at && *state.check_at <= now.monotonic) run_check(state, now);
  std::vector<NodeId> due;
  for (auto& [target, bookkeeping] : state.targets) {
    if (bookkeeping.next_round && *bookkeeping.next_round <= now.monotonic) {
      bookkeeping.next_round.reset();
      due.push_back(target);
    }
  }
  for (const NodeId& target : due) {
    if (state.context.peer_is_up(target)) send_round(state, now, target);
  }
}

void Handoff::handle_peer_transition(const Now& now, const PeerTransition& transition) {
  HandoffState& state = *state_;
  if (transition.from == PeerState::alive && transition.to != PeerState::alive) {
    forget_stall(state, transition.peer);
  }
  if (transition.to != PeerState::alive || transition.from == PeerState::alive) return;
  if (state.context.storage_failure || !ensure_loaded(state)) return;
  auto it = state.targets.find(transition.peer);
  if (it == state.targets.end() || it->second.held == 0) return;
  state.context.counters.add("hint_replays_on_recovery");
  it->second.next_round.reset();  // a pause after failed attempts ends: it is back
  it->second.timeouts_in_a_row = 0;
  send_round(state, now, transition.peer);
}

void Handoff::handle_hint_write(const Now& now, const NodeId& from, const HintWrite& message) {
  HandoffState& state = *state_;
  Status status = check_key(state.context.options, message.key);
  if (status.ok() && !state.context.ring.contains(message.target)) {
    status = error(Code::invalid_argument, "hint for " + message.target + ", not in the ring");
  }
  if (status.ok() && message.target == state.context.self()) {
    // We are the replica after all (the coordinator thought us down): merge it.
    status = state.replica.merge_into_local(message.key, message.state);
    state.context.counters.add("hint_writes_for_self");
  } else if (status.ok()) {
    status = store_hint(state, now, message);
  }
  if (!status.ok()) state.context.counters.add("hint_write_errors");
  state.context.send(from, ReplicaWriteReply{message.request_id, to_wire(status)});
}

void Handoff::handle_hint_delivery(const NodeId& from, const HintDelivery& message) {
  HandoffState& state = *state_;
  Status status = check_key(state.context.options, message.key);
  if (status.ok()) status = state.replica.merge_into_local(message.key, message.state);
  state.context.counters.add(status.ok() ? "hint_deliveries_received" : "hint_delivery_errors");
  state.context.send(from, HintDeliveryReply{message.hint_id, to_wire(status)});
}

void Handoff::handle_hint_delivery_reply(const Now& now, const NodeId& from,
                                         const HintDeliveryReply& message) {
  HandoffState& state = *state_;
  auto it = state.in_flight.find(message.hint_id);
  if (it == state.in_flight.end() || it->second.hint.target != from) {
    state.context.counters.add("ignored_unknown_hint");
    return;
  }
  if (message.status.code != Code::ok) {
    state.context.counters.add("hint_delivery_refusals");
    delivery_failed(state, now, message.hint_id, /*refused=*/true);
    return;
  }
  const StoredHint hint = std::move(it->second.hint);
  state.in_flight.erase(it);
  HintTarget& bookkeeping = state.targets[hint.target];
  if (bookkeeping.in_flight > 0) --bookkeeping.in_flight;
  bookkeeping.timeouts_in_a_row = 0;
  drop_hint(state, hint, "hints_delivered");
  if (!bookkeeping.next_round && !state.context.storage_failure)
    send_round(state, now, hint.target);
}

}  // namespace vigil::core
