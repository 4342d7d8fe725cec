// The replica side: merging ReplicaWrites, answering ReplicaReads.
//
// Theory of operation (Dynamo 4.5-4.6; Riak's vnode put with coordinator-side versioning).
// A replica never mints versions for a peer: it merges the whole state the coordinator
// sent into its own (SiblingSet::merge is idempotent, commutative and associative), so
// duplicated, reordered and retried ReplicaWrites all converge to the same state, and a
// read repair can never take away what the replica gained meanwhile. The merge is staged;
// the acknowledgement is produced now but leaves only after the commit that covers it
// (node.h's driving protocol), so an ok always means "durable here". A merge that changes
// nothing stages nothing.
//
// A corrupt local record is replaced by the merge with nothing (counted): its contents
// cannot be trusted, the incoming state is durable after the commit, and what else the
// record held is restored by read repair and anti-entropy from the other replicas. After
// a storage failure writes are refused with failed_precondition (the node's durable state
// is unknown) and reads are still served.

#include "core/replica/replica.h"

#include <utility>

namespace vigil::core {

Status Replica::merge_into_local(const Key& key, const SiblingSet& incoming) {
  if (context_.storage_failure) {
    return error(Code::failed_precondition, "node " + context_.self() +
                                                " refuses writes after a storage failure (" +
                                                context_.storage_failure->to_string() + ")");
  }
  SiblingSet current;
  bool stored = false;
  bool corrupt = false;
  auto read = context_.storage.read_key(key);
  if (!read.ok()) {
    if (read.status().code() != Code::corruption) {
      context_.counters.add("storage_read_errors");
      return read.status();
    }
    context_.counters.add("storage_corruption");
    corrupt = true;
  } else if (read->has_value()) {
    current = std::move(**read);
    stored = true;
  }
  SiblingSet merged = current;
  VersionCounters version_counters;
  const bool planted = context_.options.planted_bug == PlantedBug::merge_drops_sibling;
  merged.merge(incoming, planted ? ConflictMode::timestamp : context_.options.conflict_mode,
               context_.options.sibling_limits, version_counters);
  add_version_counters(context_.counters, version_counters);
  if (merged.empty() || (stored && merged == current)) return Status::ok_status();
  if (Status written = context_.stage_key(key, stored ? &current : nullptr, corrupt, merged);
      !written.ok()) {
    context_.counters.add("storage_write_errors");
    return written;
  }
  return Status::ok_status();
}

void Replica::handle_replica_write(const NodeId& from, const ReplicaWrite& message) {
  Status status = check_key(context_.options, message.key);
  if (status.ok()) status = merge_into_local(message.key, message.state);
  context_.counters.add(status.ok() ? "replica_writes_applied" : "replica_write_errors");
  context_.send(from, ReplicaWriteReply{message.request_id, to_wire(status)});
}

void Replica::handle_replica_read(const NodeId& from, const ReplicaRead& message) {
  ReplicaReadReply reply;
  reply.request_id = message.request_id;
  if (Status status = check_key(context_.options, message.key); !status.ok()) {
    reply.status = to_wire(status);
    context_.send(from, std::move(reply));
    return;
  }
  auto read = context_.storage.read_key(message.key);
  if (!read.ok()) {
    const bool corrupt = read.status().code() == Code::corruption;
    context_.counters.add(corrupt ? "storage_corruption" : "storage_read_errors");
    if (corrupt) context_.note_corrupt(message.key);
    reply.status = to_wire(read.status());
  } else if (!read->has_value()) {
    reply.status = WireStatus{Code::not_found, ""};
  } else {
    reply.state = std::move(**read);
  }
  context_.counters.add("replica_reads_served");
  context_.send(from, std::move(reply));
}

}  // namespace vigil::core
