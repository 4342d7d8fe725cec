// Coordinating a get, with read repair (Dynamo 4.5's read path and 4.7's read repair;
// Riak's get FSM; Cassandra's read_repair_chance).
//
// Theory of operation.
// 1. The coordinator reads its own state. With read_repair.probability (drawn from the
//    node's seeded generator) the read asks all other N-1 replicas, so it checks every
//    replica that answers in time; otherwise it asks only as many as R still needs, in
//    preference-list order, those up in this node's view first. The others stay
//    `unasked`: they count as pending (they can still be asked) but are owed nothing.
// 2. An answer counts towards R when it is ok or not_found (a replica without the key has
//    answered: it holds nothing). A corrupt answer never counts, and neither does an
//    error; the replica is counted out and, so that availability does not depend on the
//    draw, the next unasked replica is asked in its place. When R can no longer be
//    reached the answer is unavailable at once. At each retry the silent replicas are
//    asked again and every unasked replica is asked too.
// 3. When R answers are in, the client gets the merge of every answer so far
//    (SiblingSet::merge: a join, so the order of answers does not matter): the live values
//    (one per sibling) and the merged context, or not_found when the merge is empty or
//    holds only tombstones (the context still comes back, so a write after a delete
//    supersedes the tombstone).
// 4. Read repair: every replica whose last known state differs from the merge, whether it
//    answered before the client's answer or after (until the deadline), and every replica
//    that answered corruption, is sent the merge as a ReplicaWrite (the local replica is
//    merged directly). The stale replica merges, so a repair never loses what the
//    replica gained meanwhile. Repairs are sent only for reads that met R, and never
//    more than once per replica per distinct merge; the node's repair budget
//    (read_repair.throttling, repair_priority) may drop them (read_repair.cpp).
// 5. Once answered, a read that still waits for answers (to repair them) no longer holds
//    a requests_in_flight_max slot: it moves to the `repairing` count, bounded on its
//    own by read_repair.max_repair_threads (and requests_in_flight_max). When that is
//    full the read is finished at once (counted read_repair_waits_dropped): the replicas
//    that already answered were repaired; the late ones are not waited for.
// Silent replicas get the read again after replication_timeout, then every
// retry_interval, up to max_retries times.

#include <utility>

#include "core/coordinator/coordinator_state.h"
#include "core/replica/replica.h"

namespace vigil::core {

namespace {

ReplicaProgress* replica_of(Request& request, const NodeId& node) {
  for (ReplicaProgress& replica : request.replicas) {
    if (replica.node == node) return &replica;
  }
  return nullptr;
}

void take_answer(CoordinatorState& state, Request& request, ReplicaProgress& replica,
                 SiblingSet answer) {
  replica.answered = true;
  VersionCounters version_counters;
  request.state.merge(answer, state.context.options.conflict_mode,
                      state.context.options.sibling_limits, version_counters);
  add_version_counters(state.context.counters, version_counters);
  replica.known = std::move(answer);
}

void read_locally(CoordinatorState& state, Request& request) {
  for (ReplicaProgress& replica : request.replicas) {
    if (replica.node != state.context.self()) continue;
    auto read = state.context.storage.read_key(request.key);
    if (read.ok()) {
      take_answer(state, request, replica, read->value_or(SiblingSet{}));
    } else if (read.status().code() == Code::corruption) {
      state.context.counters.add("storage_corruption");
      state.context.note_corrupt(request.key);
      replica.corrupt = true;
    } else {
      state.context.counters.add("storage_read_errors");
      replica.error = read.status();
    }
  }
}

void send_read(CoordinatorState& state, Request& request, ReplicaProgress& replica) {
  replica.unasked = false;
  state.context.send(replica.node, ReplicaRead{request.id, request.key});
}

// Every unsettled peer replica, asked or not (the first attempt for all N, and retries).
std::uint32_t send_reads(CoordinatorState& state, Request& request) {
  std::uint32_t sent = 0;
  for (ReplicaProgress& replica : request.replicas) {
    if (replica.node == state.context.self() || replica.settled()) continue;
    if (replica.unasked) state.context.counters.add("read_replicas_added");
    send_read(state, request, replica);
    ++sent;
  }
  return sent;
}

// Asks unasked replicas until the answers plus those owed can reach R: the ones up in
// this node's view and whose circuit breaker is not open first (a replica behind an open
// breaker is one that kept reads waiting: core/routing/), in preference-list order.
// Returns how many were asked.
std::uint32_t ask_for_quorum(CoordinatorState& state, const Now& now, Request& request) {
  std::uint32_t sent = 0;
  Router& router = state.context.router;
  const auto preferred = [&](const NodeId& node) {
    return node == state.context.self() ||
           (state.context.peer_is_up(node) && router.usable(now.monotonic, node));
  };
  for (const bool want_preferred : {true, false}) {
    for (ReplicaProgress& replica : request.replicas) {
      if (request.answered_count() + request.owed_count() >= request.needed) return sent;
      if (!replica.unasked || preferred(replica.node) != want_preferred) continue;
      // A half-open breaker admits this read as one of its trials.
      if (want_preferred && replica.node != state.context.self()) {
        replica.permit = router.admit(now.monotonic, replica.node);
      }
      send_read(state, request, replica);
      ++sent;
    }
  }
  return sent;
}

bool is_success(std::optional<Code> code) {
  return code == Code::ok || code == Code::not_found;
}

// Keeps an answered read only while answers it could repair are owed, outside the
// requests_in_flight_max slots (theory, step 5).
void keep_or_finish(CoordinatorState& state, Request& request) {
  // A failed read repairs nothing: nothing to wait for.
  if (request.owed_count() == 0 || !is_success(request.reply_code)) {
    finish(state, request);
    return;
  }
  if (request.repairing) return;
  if (state.repairing >= repairing_max(state.context.options)) {
    state.context.counters.add("read_repair_waits_dropped");
    finish(state, request);
    return;
  }
  request.repairing = true;
  ++state.repairing;
}

void progress_read(CoordinatorState& state, const Now& now, Request& request) {
  if (!request.reply_code) {
    if (const std::uint32_t added = ask_for_quorum(state, now, request); added > 0) {
      state.context.counters.add("read_replicas_added", added);
      state.context.counters.add("replica_reads_sent", added);
    }
  }
  if (!request.reply_code) {
    if (request.answered_count() >= request.needed) {
      const bool absent = request.state.empty() || request.state.is_dead_at(now.wall_us);
      const Status status = absent ? Status(Code::not_found, "") : Status::ok_status();
      answer_request(state, now, request, status, request.state);
    } else if (request.answered_count() + request.pending_count() < request.needed) {
      state.context.counters.add("quorum_failures");
      answer_request(state, now, request, quorum_not_reached(request, "answered"), {});
    }
  }
  if (is_success(request.reply_code)) repair_stale(state, now, request);
  if (request.reply_code) keep_or_finish(state, request);
}

class ReadFlow final : public RequestFlow {
 public:
  std::uint32_t start(CoordinatorState& state, const Now& now, Request& request) const override {
    read_locally(state, request);
    const double probability = state.context.options.read_repair_enabled
                                   ? state.context.options.read_repair_probability
                                   : 0.0;
    std::uint32_t sent = 0;
    if (state.context.random.chance(probability)) {
      state.context.counters.add("reads_all_replicas");
      sent = send_reads(state, request);
    } else {
      state.context.counters.add("reads_quorum_only");
      for (ReplicaProgress& replica : request.replicas) {
        if (replica.node != state.context.self() && !replica.settled()) replica.unasked = true;
      }
      sent = ask_for_quorum(state, now, request);
    }
    state.context.counters.add("replica_reads_sent", sent);
    return sent;
  }
  std::uint32_t resend(CoordinatorState& state, const Now& now, Request& request) const override {
    note_silent_replicas(state, now, request);
    const std::uint32_t sent = send_reads(state, request);
    if (sent > 0) state.context.counters.add("replica_read_resends", sent);
    return sent;
  }
  // A silent replica is given replication_timeout, then asked again every retry_interval.
  Duration retry_delay(CoordinatorState& state, const Request& request) const override {
    const NodeOptions& options = state.context.options;
    return request.resends == 0 ? options.replication_timeout : options.retry_interval;
  }
  std::uint32_t retries_max(const NodeOptions& options) const override {
    return options.max_retries;
  }
  void progress(CoordinatorState& state, const Now& now, Request& request) const override {
    progress_read(state, now, request);
  }
  void expire(CoordinatorState& state, const Now& now, Request& request) const override {
    if (!request.reply_code) {
      state.context.counters.add("quorum_failures");
      answer_request(state, now, request, quorum_not_reached(request, "answered"), {});
    }
  }
};

}  // namespace

const RequestFlow& read_flow() {
  static const ReadFlow flow;
  return flow;
}

void on_read_reply(CoordinatorState& state, const Now& now, Request& request, const NodeId& from,
                   const ReplicaReadReply& reply) {
  note_replica_answer(state, now, request, from);
  ReplicaProgress* replica = replica_of(request, from);
  if (replica == nullptr) {
    state.context.counters.add("ignored_unexpected_sender");
    return;
  }
  if (replica->settled()) {
    state.context.counters.add("ignored_duplicate");
    return;
  }
  const Code code = reply.status.code;
  if (code == Code::ok || code == Code::not_found) {
    take_answer(state, request, *replica, code == Code::ok ? reply.state : SiblingSet{});
  } else if (code == Code::corruption) {
    state.context.counters.add("replica_read_corruption");
    replica->corrupt = true;
  } else {
    state.context.counters.add("replica_read_refusals");
    replica->error = from_wire(reply.status);
  }
  progress_read(state, now, request);
}

}  // namespace vigil::core
