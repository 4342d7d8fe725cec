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
//   the hint, the hint is dropped (and counted) at max_attempts, and the target's rounds
//   pause for retry_interval.
// - When. A round starts for every target that is up and not pausing at each check
//   (every check_interval, armed only while hints are held), and at once when the failure
//   detector sees the target alive again (on_peer_transition), whatever pause was set.
//   Hints past their expiry (the holder's wall clock against expires_us) are dropped and
//   counted at each check and whenever a round meets one.
// - Damage. A hint whose record is corrupt is found (hint pages fail as a whole; a binary
//   search over hints_after locates the first bad id), erased and counted, so one bad
//   record cannot stop every delivery.
// - After a storage failure the holder does nothing more: it can neither erase delivered
//   hints nor record attempts; the restarted node resumes from what is durable.

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "core/node/node_state.h"

namespace vigil::core::node_detail {

namespace {

constexpr std::size_t hint_page_size = 256;

std::uint64_t first_id_of_life(const NodeState& state) {
  return (state.incarnation << sequence_bits) | 1;
}

// The id of a corrupt hint, given that hints_after(after_id, page) fails with corruption:
// the smallest x > after_id whose page does not fail. The pages after x-1 and after x differ
// only when the first hint after x-1 is x itself, and removing it removed the damage.
std::optional<std::uint64_t> locate_corrupt(NodeStorage& storage, std::uint64_t after_id,
                                            std::size_t page) {
  std::uint64_t low = after_id;                                    // its page fails
  std::uint64_t high = std::numeric_limits<std::uint64_t>::max();  // nothing after: no fail
  while (high - low > 1) {
    const std::uint64_t middle = low + (high - low) / 2;
    auto hints = storage.hints_after(middle, page);
    if (!hints.ok() && hints.status().code() != Code::corruption) return std::nullopt;
    (hints.ok() ? high : low) = middle;
  }
  return high;
}

// Walks every stored hint, erasing corrupt ones (counted as hints_corrupt), and calls
// `visit` for each intact one. False when storage refused a read or an erase.
template <typename Visit>
bool for_each_hint(NodeState& state, Visit&& visit) {
  std::uint64_t after = 0;
  while (true) {
    auto page = state.storage.hints_after(after, hint_page_size);
    if (!page.ok()) {
      std::optional<std::uint64_t> bad;
      if (page.status().code() == Code::corruption) {
        bad = locate_corrupt(state.storage, after, hint_page_size);
      }
      if (bad && state.storage.erase_hint(*bad).ok()) {
        state.counters.add("hints_corrupt");
        continue;  // the same page again, one bad record fewer
      }
      state.counters.add("storage_read_errors");
      return false;
    }
    for (const StoredHint& hint : *page) visit(hint);
    if (page->size() < hint_page_size) return true;
    after = page->back().id;
  }
}

bool expired(const StoredHint& hint, const Now& now) {
  return now.wall_us >= hint.expires_us;
}

void drop_hint(NodeState& state, const StoredHint& hint, const char* counter) {
  state.counters.add(counter);
  if (!state.storage.erase_hint(hint.id).ok()) state.counters.add("storage_write_errors");
  auto it = state.hints.targets.find(hint.target);
  if (it != state.hints.targets.end() && it->second.held > 0) --it->second.held;
}

// Builds the per-target counts and the next id from storage (once per life, at every
// check, and after a corrupt hint was met). With `now`, also collects the hints past their
// expiry (not counted as held). False when storage cannot be read.
bool reload(NodeState& state, const Now* now, std::vector<StoredHint>* expired_hints) {
  for (auto& [target, bookkeeping] : state.hints.targets) bookkeeping.held = 0;
  std::uint64_t max_id = 0;
  const bool ok = for_each_hint(state, [&](const StoredHint& hint) {
    max_id = std::max(max_id, hint.id);
    if (now != nullptr && expired(hint, *now) && !state.hints.in_flight.contains(hint.id)) {
      expired_hints->push_back(hint);
    } else {
      ++state.hints.targets[hint.target].held;
    }
  });
  if (!ok) return false;
  state.hints.next_id =
      std::max<std::uint64_t>({state.hints.next_id, first_id_of_life(state), max_id + 1});
  state.hints.loaded = true;
  return true;
}

bool ensure_loaded(NodeState& state) {
  return state.hints.loaded || reload(state, nullptr, nullptr);
}

bool any_held(const NodeState& state) {
  for (const auto& [target, bookkeeping] : state.hints.targets) {
    if (bookkeeping.held > 0) return true;
  }
  return false;
}

void arm_check(NodeState& state, const Now& now) {
  if (!state.hints.check_at) {
    state.hints.check_at = now.monotonic + state.options.hints.check_interval;
  }
}

// Sends deliveries to `target` until replay_in_flight_max are in flight or none is left.
void send_round(NodeState& state, const Now& now, const NodeId& target) {
  HintTarget& bookkeeping = state.hints.targets[target];
  const std::uint32_t in_flight_max = state.options.hints.replay_in_flight_max;
  if (bookkeeping.in_flight >= in_flight_max || bookkeeping.held == 0) return;
  auto hints = state.storage.hints_for(target, in_flight_max);
  if (!hints.ok()) {
    // A corrupt record (or an unreadable store): the next check rescans and cleans up.
    state.counters.add(hints.status().code() == Code::corruption ? Counter::hint_rounds_corrupt
                                                                 : Counter::storage_read_errors);
    state.hints.loaded = false;
    arm_check(state, now);
    return;
  }
  for (const StoredHint& hint : *hints) {
    if (bookkeeping.in_flight >= in_flight_max) break;
    if (state.hints.in_flight.contains(hint.id)) continue;
    if (expired(hint, now)) {
      drop_hint(state, hint, "hints_expired");
      continue;
    }
    send(state, target, HintDelivery{hint.id, hint.key, hint.state});
    state.counters.add("hint_deliveries_sent");
    state.hints.in_flight.emplace(
        hint.id, HintDeliveryInFlight{hint, now.monotonic + state.options.replication_timeout});
    ++bookkeeping.in_flight;
  }
}

// A delivery that was refused or timed out: one attempt more, or dropped at max_attempts;
// the target's rounds pause for retry_interval.
void delivery_failed(NodeState& state, const Now& now, std::uint64_t id) {
  auto it = state.hints.in_flight.find(id);
  if (it == state.hints.in_flight.end()) return;
  StoredHint hint = std::move(it->second.hint);
  state.hints.in_flight.erase(it);
  HintTarget& bookkeeping = state.hints.targets[hint.target];
  if (bookkeeping.in_flight > 0) --bookkeeping.in_flight;
  state.counters.add("hint_delivery_failures");
  hint.attempts += 1;
  if (hint.attempts >= state.options.hints.max_attempts) {
    drop_hint(state, hint, "hints_dropped_max_attempts");
  } else if (!state.storage.write_hint(hint).ok()) {
    state.counters.add("storage_write_errors");
  }
  if (!bookkeeping.next_round) {
    bookkeeping.next_round = now.monotonic + state.options.hints.retry_interval;
  }
}

// The periodic check: drops expired hints, recounts, and starts a round for every target
// that is up and not pausing.
void run_check(NodeState& state, const Now& now) {
  state.hints.check_at.reset();
  std::vector<StoredHint> expired_hints;
  if (!reload(state, &now, &expired_hints)) {
    arm_check(state, now);
    return;
  }
  for (const StoredHint& hint : expired_hints) {
    state.counters.add("hints_expired");
    if (!state.storage.erase_hint(hint.id).ok()) state.counters.add("storage_write_errors");
  }
  for (auto& [target, bookkeeping] : state.hints.targets) {
    if (bookkeeping.held > 0 && !bookkeeping.next_round && peer_is_up(state, target)) {
      send_round(state, now, target);
    }
  }
  if (any_held(state)) arm_check(state, now);
}

Status store_hint(NodeState& state, const Now& now, const HintWrite& message) {
  if (state.storage_failure) {
    return error(Code::failed_precondition, "node " + state.self() +
                                                " refuses hints after a storage failure (" +
                                                state.storage_failure->to_string() + ")");
  }
  if (!ensure_loaded(state)) return error(Code::io_error, "cannot read the hint table");
  HintTarget& bookkeeping = state.hints.targets[message.target];
  if (bookkeeping.held >= state.options.hints.per_target_max) {
    state.counters.add("hints_refused_backlog");
    return error(Code::resource_exhausted,
                 "node " + state.self() + " holds " + std::to_string(bookkeeping.held) +
                     " hints for " + message.target + " (hints_per_target_max)");
  }
  StoredHint hint;
  hint.id = state.hints.next_id++;
  hint.target = message.target;
  hint.key = message.key;
  hint.state = message.state;
  hint.created_us = now.wall_us;
  hint.expires_us = now.wall_us + to_micros(state.options.hints.expiry);
  if (Status written = state.storage.write_hint(hint); !written.ok()) {
    state.counters.add("storage_write_errors");
    return written;
  }
  ++bookkeeping.held;
  state.counters.add("hints_stored");
  arm_check(state, now);
  return Status::ok_status();
}

}  // namespace

void start_hints(NodeState& state) {
  auto count = state.storage.hint_count();
  if (count.ok() && *count > 0) state.hints.check_at = Instant{};  // due at the first input
}

std::optional<Instant> hints_next_timeout(const NodeState& state) {
  if (state.storage_failure) return std::nullopt;
  std::optional<Instant> next = state.hints.check_at;
  auto consider = [&](Instant at) {
    if (!next || at < *next) next = at;
  };
  for (const auto& [target, bookkeeping] : state.hints.targets) {
    if (bookkeeping.next_round) consider(*bookkeeping.next_round);
  }
  for (const auto& [id, delivery] : state.hints.in_flight) consider(delivery.timeout_at);
  return next;
}

void fire_hint_timers(NodeState& state, const Now& now) {
  if (state.storage_failure) return;
  std::vector<std::uint64_t> timed_out;
  for (const auto& [id, delivery] : state.hints.in_flight) {
    if (delivery.timeout_at <= now.monotonic) timed_out.push_back(id);
  }
  for (std::uint64_t id : timed_out) {
    state.counters.add("hint_delivery_timeouts");
    delivery_failed(state, now, id);
  }
  if (state.hints.check_at && *state.hints.check_at <= now.monotonic) run_check(state, now);
  std::vector<NodeId> due;
  for (auto& [target, bookkeeping] : state.hints.targets) {
    if (bookkeeping.next_round && *bookkeeping.next_round <= now.monotonic) {
      bookkeeping.next_round.reset();
      due.push_back(target);
    }
  }
  for (const NodeId& target : due) {
    if (peer_is_up(state, target)) send_round(state, now, target);
  }
}

void on_peer_transition(NodeState& state, const Now& now, const PeerTransition& transition) {
  if (transition.to != PeerState::alive || transition.from == PeerState::alive) return;
  if (state.storage_failure || !ensure_loaded(state)) return;
  auto it = state.hints.targets.find(transition.peer);
  if (it == state.hints.targets.end() || it->second.held == 0) return;
  state.counters.add("hint_replays_on_recovery");
  it->second.next_round.reset();  // a pause after failed attempts ends: it is back
  send_round(state, now, transition.peer);
}

void on_hint_write(NodeState& state, const Now& now, const NodeId& from,
                   const HintWrite& message) {
  Status status = check_key(state.options, message.key);
  if (status.ok() && !state.ring.contains(message.target)) {
    status = error(Code::invalid_argument, "hint for " + message.target + ", not in the ring");
  }
  if (status.ok() && message.target == state.self()) {
    // We are the replica after all (the coordinator thought us down): merge it.
    status = merge_into_local(state, message.key, message.state);
    state.counters.add("hint_writes_for_self");
  } else if (status.ok()) {
    status = store_hint(state, now, message);
  }
  if (!status.ok()) state.counters.add("hint_write_errors");
  send(state, from, ReplicaWriteReply{message.request_id, to_wire(status)});
}

void on_hint_delivery(NodeState& state, const NodeId& from, const HintDelivery& message) {
  Status status = check_key(state.options, message.key);
  if (status.ok()) status = merge_into_local(state, message.key, message.state);
  state.counters.add(status.ok() ? "hint_deliveries_received" : "hint_delivery_errors");
  send(state, from, HintDeliveryReply{message.hint_id, to_wire(status)});
}

void on_hint_delivery_reply(NodeState& state, const Now& now, const NodeId& from,
                            const HintDeliveryReply& message) {
  auto it = state.hints.in_flight.find(message.hint_id);
  if (it == state.hints.in_flight.end() || it->second.hint.target != from) {
    state.counters.add("ignored_unknown_hint");
    return;
  }
  if (message.status.code != Code::ok) {
    state.counters.add("hint_delivery_refusals");
    delivery_failed(state, now, message.hint_id);
    return;
  }
  const StoredHint hint = std::move(it->second.hint);
  state.hints.in_flight.erase(it);
  HintTarget& bookkeeping = state.hints.targets[hint.target];
  if (bookkeeping.in_flight > 0) --bookkeeping.in_flight;
  drop_hint(state, hint, "hints_delivered");
  if (!bookkeeping.next_round && !state.storage_failure) send_round(state, now, hint.target);
}

}  // namespace vigil::core::node_detail

namespace vigil::core {

std::uint64_t Node::hints_pending() const {
  auto count = state_->storage.hint_count();
  return count.ok() ? *count : 0;
}

}  // namespace vigil::core
