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

#include "core/node/node_state.h"

namespace vigil::core::node_detail {

namespace {

ReplicaProgress* replica_of(Request& request, const NodeId& node) {
  for (ReplicaProgress& replica : request.replicas) {
    if (replica.node == node) return &replica;
  }
  return nullptr;
}

void take_answer(NodeState& state, Request& request, ReplicaProgress& replica, SiblingSet answer) {
  replica.answered = true;
  VersionCounters version_counters;
  request.state.merge(answer, state.options.conflict_mode, state.options.sibling_limits,
                      version_counters);
  add_version_counters(state.counters, version_counters);
  replica.known = std::move(answer);
}

void read_locally(NodeState& state, Request& request) {
  for (ReplicaProgress& replica : request.replicas) {
    if (replica.node != state.self()) continue;
    auto read = state.storage.read_key(request.key);
    if (read.ok()) {
      take_answer(state, request, replica, read->value_or(SiblingSet{}));
    } else if (read.status().code() == Code::corruption) {
      state.counters.add("storage_corruption");
      replica.corrupt = true;
    } else {
      state.counters.add("storage_read_errors");
      replica.error = read.status();
    }
  }
}

std::uint32_t send_reads(NodeState& state, Request& request) {
  std::uint32_t sent = 0;
  for (const ReplicaProgress& replica : request.replicas) {
    if (replica.node == state.self() || replica.settled()) continue;
    send(state, replica.node, ReplicaRead{request.id, request.key});
    ++sent;
  }
  return sent;
}

void repair_stale(NodeState& state, Request& request) {
  if (!state.options.read_repair_enabled || request.state.empty()) return;
  for (ReplicaProgress& replica : request.replicas) {
    if (!replica.answered && !replica.corrupt) continue;
    if (replica.known && *replica.known == request.state) continue;
    if (replica.node == state.self()) {
      const Status status = merge_into_local(state, request.key, request.state);
      state.counters.add(status.ok() ? Counter::read_repairs_local : Counter::read_repair_errors);
    } else {
      send(state, replica.node, ReplicaWrite{request.id, request.key, request.state});
      state.counters.add("read_repairs_sent");
    }
    replica.known = request.state;
  }
}

bool is_success(std::optional<Code> code) {
  return code == Code::ok || code == Code::not_found;
}

void progress_read(NodeState& state, const Now& now, Request& request) {
  if (!request.reply_code) {
    if (request.answered_count() >= request.needed) {
      const bool absent = request.state.empty() || request.state.is_deleted();
      const Status status = absent ? Status(Code::not_found, "") : Status::ok_status();
      answer_request(state, now, request, status, request.state);
    } else if (request.answered_count() + request.pending_count() < request.needed) {
      state.counters.add("quorum_failures");
      answer_request(state, now, request, quorum_not_reached(request, "answered"), {});
    }
  }
  if (is_success(request.reply_code)) repair_stale(state, request);
  if (request.reply_code && request.pending_count() == 0) finish(state, request);
}

}  // namespace

void start_read(NodeState& state, const Now& now, Request request_in) {
  auto [it, inserted] = state.requests.emplace(request_in.id, std::move(request_in));
  VIGIL_ASSERT(inserted, "request id reused");
  Request& request = it->second;
  arm_deadline(state, request, now.monotonic + state.options.request_timeout);
  read_locally(state, request);
  const std::uint32_t sent = send_reads(state, request);
  state.counters.add("replica_reads_sent", sent);
  if (sent > 0 && state.options.max_retries > 0) {
    arm_retry(state, request, now.monotonic + state.options.replication_timeout);
  }
  progress_read(state, now, request);
}

void on_read_reply(NodeState& state, const Now& now, Request& request, const NodeId& from,
                   const ReplicaReadReply& reply) {
  ReplicaProgress* replica = replica_of(request, from);
  if (replica == nullptr) {
    state.counters.add("ignored_unexpected_sender");
    return;
  }
  if (replica->settled()) {
    state.counters.add("ignored_duplicate");
    return;
  }
  const Code code = reply.status.code;
  if (code == Code::ok || code == Code::not_found) {
    take_answer(state, request, *replica, code == Code::ok ? reply.state : SiblingSet{});
  } else if (code == Code::corruption) {
    state.counters.add("replica_read_corruption");
    replica->corrupt = true;
  } else {
    state.counters.add("replica_read_refusals");
    replica->error = from_wire(reply.status);
  }
  progress_read(state, now, request);
}

void on_repair_reply(NodeState& state, Request& /*request*/, const ReplicaWriteReply& reply) {
  state.counters.add(reply.status.code == Code::ok ? "read_repairs_acknowledged"
                                                   : "read_repair_refusals");
}

void retry_read(NodeState& state, const Now& now, Request& request) {
  const std::uint32_t sent = send_reads(state, request);
  if (sent == 0) return;
  ++request.resends;
  state.counters.add("replica_read_resends", sent);
  if (request.resends < state.options.max_retries) {
    arm_retry(state, request, now.monotonic + state.options.retry_interval);
  }
}

void expire_read(NodeState& state, const Now& now, Request& request) {
  if (!request.reply_code) {
    state.counters.add("quorum_failures");
    answer_request(state, now, request, quorum_not_reached(request, "answered"), {});
  }
  finish(state, request);
}

}  // namespace vigil::core::node_detail
