// Coordinating a put or a delete (Dynamo 4.5's write path; Riak's put FSM with
// coordinator-side versioning: the coordinator mints the dot, replicas only merge).
//
// Theory of operation.
// 1. The coordinator reads its own state of the key, applies the write to it
//    (SiblingSet::write: a new dot, superseding what the client's context covers) and
//    stages it. That staged write is the first acknowledgement: it is committed before
//    anything produced after it leaves the node (node.h's driving protocol).
// 2. The whole new state goes to the other N-1 replicas as a ReplicaWrite; each merges it
//    and acknowledges once its merge is committed. Sending the whole state rather than the
//    new version keeps every replica's state a join of whole states, which is what makes
//    the set's context sound (core/versions/version.h).
// 3. The client is answered ok, with the new state's context, as soon as W replicas
//    (this one included) acknowledged: never before. Replicas still silent after
//    replication_timeout are sent the write again, then every retry_interval, up to
//    max_retries times; the request lives on after the answer to finish replicating,
//    until every replica acknowledged or its deadline.
// 4. When W can no longer be reached (replicas refused) or the deadline passes first, the
//    answer is unavailable with the counts. The write may still have reached some
//    replicas: "unavailable" tells the client the outcome is unknown, as Dynamo does.
// A corrupt local state is not silently replaced: the write goes on from an empty state
// under a fresh actor name (so its dot cannot repeat one the lost record held), and the
// other replicas are also asked for their state, which is merged back in as it arrives (a
// small read repair of ourselves).
// A write that would exceed siblings_max is refused whole (resource_exhausted).
// Sloppy quorum (hints_fallback.cpp): replicas judged down when the write starts, and
// replicas still silent at the first retry, are also covered by a hint on a fallback node
// past the preference list; the hint's acknowledgement counts toward W when the settings
// say so (never at `all`).

#include <utility>

#include "core/assert.h"
#include "core/coordinator/coordinator_state.h"
#include "core/replica/replica.h"
#include "core/versions/counter_state.h"

namespace vigil::core {

namespace {

ReplicaProgress& self_replica(CoordinatorState& state, Request& request) {
  for (ReplicaProgress& replica : request.replicas) {
    if (replica.node == state.context.self()) return replica;
  }
  VIGIL_ASSERT(false, "the coordinator is not on its own preference list");
  return request.replicas.front();
}

ReplicaProgress* replica_of(Request& request, const NodeId& node) {
  for (ReplicaProgress& replica : request.replicas) {
    if (replica.node == node) return &replica;
  }
  return nullptr;
}

// Step 1: the coordinator's own write. ok, or the reason the write cannot go ahead.
Status write_locally(CoordinatorState& state, const Now& now, Request& request) {
  SiblingSet current;
  auto read = state.context.storage.read_key(request.key);
  if (!read.ok()) {
    if (read.status().code() != Code::corruption) {
      state.context.counters.add("storage_read_errors");
      return error(read.status().code(), "reading the local state: " + read.status().message());
    }
    state.context.counters.add("storage_corruption");
    request.repair_local = true;
    // What this node minted for the key is unknown now: a dot from the old actor could
    // repeat one the other replicas hold (and merge would keep only one of the two).
    state.context.renew_actor();
  } else if (read->has_value()) {
    current = std::move(**read);
  }
  // A plain put/del under set_context: coordinator supersedes everything this replica
  // holds (Riak's coordinating vnode); it committed every write it acknowledged, so
  // sequential writes through it supersede each other.
  const VectorClock context =
      request.context_from_coordinator ? current.context() : request.context;
  request.existed =
      request.context_from_coordinator && !current.empty() && !current.is_dead_at(now.wall_us);
  const SiblingSet before = current;  // for the anti-entropy trees (stage_key)
  std::optional<Value> value = request.value;
  WallMicros expires_at_us = request.expires_at_us;
  ValueKind kind = ValueKind::bytes;
  std::optional<Dot> fresh;
  if (request.increment) {  // INCRBY: the new counter state (core/versions/counter_state.h)
    fresh = current.next_dot(state.context.actor, context, state.context.dots_minted);
    if (!fresh) return error(Code::invalid_argument, "dot counter would overflow");
    auto counter = increment_counter(current, *fresh, *request.increment, now.wall_us);
    if (!counter.ok()) {
      state.context.counters.add("increments_refused");
      return counter.status();
    }
    value = std::move(counter->value);
    expires_at_us = counter->expires_at_us;
    kind = ValueKind::counter;
  }
  VersionCounters version_counters;
  auto dot = current.write(state.context.actor, context, std::move(value), now.wall_us,
                           state.context.options.conflict_mode,
                           state.context.options.sibling_limits, version_counters,
                           state.context.dots_minted, expires_at_us, kind);
  VIGIL_ASSERT(!dot.ok() || !fresh || *dot == *fresh, "an increment's entry names another dot");
  add_version_counters(state.context.counters, version_counters);
  if (!dot.ok()) {
    if (dot.status().code() == Code::resource_exhausted) {
      state.context.counters.add("sibling_refusals");
    }
    return dot.status();
  }
  state.context.dots_minted = std::max(state.context.dots_minted, dot->counter);
  if (Status written = state.context.stage_key(request.key, &before, request.repair_local, current);
      !written.ok()) {
    state.context.counters.add("storage_write_errors");
    return written;
  }
  self_replica(state, request).answered = true;
  request.state = std::move(current);
  return Status::ok_status();
}

bool wants_read_back(const Request& request, const ReplicaProgress& replica) {
  return request.repair_local && !replica.read_back && !replica.error;
}

// Sends the write (and, after a corrupt local read, a read-back) to every replica still
// owing one. Returns how many replicas were sent something.
std::uint32_t send_to_pending(CoordinatorState& state, Request& request, const NodeId& self) {
  std::uint32_t sent = 0;
  for (ReplicaProgress& replica : request.replicas) {
    if (replica.node == self) continue;
    bool any = false;
    if (!replica.settled()) {
      state.context.send(replica.node, ReplicaWrite{request.id, request.key, request.state});
      any = true;
    }
    if (wants_read_back(request, replica)) {
      state.context.send(replica.node, ReplicaRead{request.id, request.key});
      any = true;
    }
    sent += any ? 1 : 0;
  }
  return sent;
}

bool read_backs_done(const Request& request, const NodeId& self) {
  for (const ReplicaProgress& replica : request.replicas) {
    if (replica.node != self && wants_read_back(request, replica)) return false;
  }
  return true;
}

// Answers when W is reached or out of reach; forgets the request when nothing is owed.
void progress_write(CoordinatorState& state, const Now& now, Request& request) {
  if (!request.reply_code) {
    const bool planted = state.context.options.planted_bug == PlantedBug::ack_after_w_minus_1;
    if (request.answered_count() + (planted ? 1 : 0) >= request.needed) {
      answer_request(state, now, request, Status::ok_status(), request.state);
    } else if (request.answered_count() + request.pending_count() < request.needed) {
      state.context.counters.add("quorum_failures");
      answer_request(state, now, request, quorum_not_reached(request, "acknowledged"), {});
    }
  }
  if (request.reply_code && request.pending_count() == 0 &&
      read_backs_done(request, state.context.self())) {
    finish(state, request);
  }
}

// A fallback's answer to a HintWrite for `replica`.
void on_hint_write_reply(CoordinatorState& state, const Now& now, Request& request,
                         ReplicaProgress& replica, const ReplicaWriteReply& reply) {
  if (replica.hinted) {
    state.context.counters.add("ignored_duplicate");
    return;
  }
  if (reply.status.code != Code::ok) {
    state.context.counters.add("hint_write_refusals");  // the next retry tries another fallback
    return;
  }
  replica.hinted = true;
  state.context.counters.add("hint_writes_acknowledged");
  if (hints_count_toward_write(state.context.options, request) && !replica.answered) {
    replica.answered = true;
    replica.error.reset();
    state.context.counters.add("hint_acks_counted");
  }
  progress_write(state, now, request);
}

class WriteFlow final : public RequestFlow {
 public:
  std::uint32_t start(CoordinatorState& state, const Now& now, Request& request) const override {
    if (Status status = write_locally(state, now, request); !status.ok()) {
      answer_request(state, now, request, status, {});
      finish(state, request);
      return 0;
    }
    const std::uint32_t sent = send_to_pending(state, request, state.context.self());
    state.context.counters.add("replica_writes_sent", sent);
    send_hints(state, now, request, /*only_down=*/true);
    return sent;
  }
  std::uint32_t resend(CoordinatorState& state, const Now& now, Request& request) const override {
    note_silent_replicas(state, now, request);
    const std::uint32_t sent = send_to_pending(state, request, state.context.self());
    if (sent == 0) return 0;
    send_hints(state, now, request, /*only_down=*/false);
    state.context.counters.add("replica_write_resends", sent);
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
    progress_write(state, now, request);
  }
  void expire(CoordinatorState& state, const Now& now, Request& request) const override {
    if (!request.reply_code) {
      state.context.counters.add("quorum_failures");
      answer_request(state, now, request, quorum_not_reached(request, "acknowledged"), {});
    } else if (request.pending_count() > 0) {
      state.context.counters.add("replication_incomplete");
    }
  }
};

}  // namespace

const RequestFlow& write_flow() {
  static const WriteFlow flow;
  return flow;
}

void on_write_reply(CoordinatorState& state, const Now& now, Request& request, const NodeId& from,
                    const ReplicaWriteReply& reply) {
  note_replica_answer(state, now, request, from);
  ReplicaProgress* replica = replica_of(request, from);
  if (replica == nullptr) {
    if (ReplicaProgress* hinted = replica_of_fallback(request, from)) {
      on_hint_write_reply(state, now, request, *hinted, reply);
      return;
    }
    state.context.counters.add("ignored_unexpected_sender");
    return;
  }
  if (replica->answered) {
    state.context.counters.add("ignored_duplicate");
    return;
  }
  Status status = from_wire(reply.status);
  if (status.ok()) {
    replica->answered = true;
    replica->error.reset();
  } else {
    state.context.counters.add("replica_write_refusals");
    replica->error = std::move(status);
  }
  progress_write(state, now, request);
}

void on_write_read_back(CoordinatorState& state, const Now& now, Request& request,
                        const NodeId& from, const ReplicaReadReply& reply) {
  ReplicaProgress* replica = replica_of(request, from);
  if (!request.repair_local || replica == nullptr || from == state.context.self()) {
    state.context.counters.add(replica == nullptr ? "ignored_unexpected_sender"
                                                  : "ignored_wrong_kind");
    return;
  }
  if (replica->read_back) {
    state.context.counters.add("ignored_duplicate");
    return;
  }
  replica->read_back = true;  // whatever it says, it has said it
  if (reply.status.code == Code::ok) {
    if (state.replica.merge_into_local(request.key, reply.state).ok()) {
      state.context.counters.add("read_backs_merged");
    }
  }
  progress_write(state, now, request);
}

}  // namespace vigil::core
