// Coordinating a get, with read repair (Dynamo 4.5's read path and 4.7's read repair;
// Riak's get FSM).
//
// Theory of operation.
// 1. The coordinator reads its own state and sends a ReplicaRead to the other N-1
//    replicas. Asking all N (not only R) costs little and lets every read check every
//    replica that answers in time.
// 2. An answer counts towards R when it is ok or not_found (a replica without the key has
//    answered: it holds nothing). A corrupt answer never counts, and neither does an
//    error; the replica is counted out, and when R can no longer be reached the answer is
//    unavailable at once.
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
//    more than once per replica per distinct merge.
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
      replica.corrupt = true;
    } else {
      state.context.counters.add("storage_read_errors");
      replica.error = read.status();
    }
  }
}

std::uint32_t send_reads(CoordinatorState& state, Request& request) {
  std::uint32_t sent = 0;
  for (const ReplicaProgress& replica : request.replicas) {
    if (replica.node == state.context.self() || replica.settled()) continue;
    state.context.send(replica.node, ReplicaRead{request.id, request.key});
    ++sent;
  }
  return sent;
}

void repair_stale(CoordinatorState& state, Request& request) {
  if (!state.context.options.read_repair_enabled || request.state.empty()) return;
  for (ReplicaProgress& replica : request.replicas) {
    if (!replica.answered && !replica.corrupt) continue;
    if (replica.known && *replica.known == request.state) continue;
    if (replica.node == state.context.self()) {
      const Status status = state.replica.merge_into_local(request.key, request.state);
      state.context.counters.add(status.ok() ? Counter::read_repairs_local
                                             : Counter::read_repair_errors);
    } else {
      state.context.send(replica.node, ReplicaWrite{request.id, request.key, request.state});
      state.context.counters.add("read_repairs_sent");
    }
    replica.known = request.state;
  }
}

bool is_success(std::optional<Code> code) {
  return code == Code::ok || code == Code::not_found;
}

void progress_read(CoordinatorState& state, const Now& now, Request& request) {
  if (!request.reply_code) {
    if (request.answered_count() >= request.needed) {
      const bool absent = request.state.empty() || request.state.is_deleted();
      const Status status = absent ? Status(Code::not_found, "") : Status::ok_status();
      answer_request(state, now, request, status, request.state);
    } else if (request.answered_count() + request.pending_count() < request.needed) {
      state.context.counters.add("quorum_failures");
      answer_request(state, now, request, quorum_not_reached(request, "answered"), {});
    }
  }
  if (is_success(request.reply_code)) repair_stale(state, request);
  if (request.reply_code && request.pending_count() == 0) finish(state, request);
}

class ReadFlow final : public RequestFlow {
 public:
  std::uint32_t start(CoordinatorState& state, const Now& /*now*/,
                      Request& request) const override {
    read_locally(state, request);
    const std::uint32_t sent = send_reads(state, request);
    state.context.counters.add("replica_reads_sent", sent);
    return sent;
  }
  std::uint32_t resend(CoordinatorState& state, const Now& /*now*/,
                       Request& request) const override {
    const std::uint32_t sent = send_reads(state, request);
    if (sent > 0) state.context.counters.add("replica_read_resends", sent);
    return sent;
  }
  Duration resend_interval(const NodeOptions& options) const override {
    return options.retry_interval;
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

void on_repair_reply(CoordinatorState& state, Request& /*request*/,
                     const ReplicaWriteReply& reply) {
  state.context.counters.add(reply.status.code == Code::ok ? "read_repairs_acknowledged"
                                                           : "read_repair_refusals");
}

}  // namespace vigil::core
