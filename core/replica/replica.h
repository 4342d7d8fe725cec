#pragma once
// The replica part of a node: what it does with the ReplicaWrites and ReplicaReads it is
// sent, and the one operation every other part uses to change a key's local state
// (merge_into_local: the coordinator's read repair and read-back, the handoff's hints).
// It keeps no state of its own: the key states are in storage. Internal to core/node/ and
// its parts; the contract is core::Node (core/node/node.h).

#include "core/node/node_context.h"

namespace vigil::core {

class Replica {
 public:
  explicit Replica(NodeContext& context) : context_(context) {}
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;

  // Merges the state and answers ReplicaWriteReply (ok once the commit covers the merge).
  void handle_replica_write(const NodeId& from, const ReplicaWrite& message);
  // Answers ReplicaReadReply with the local state (not_found, corruption, or an error).
  void handle_replica_read(const NodeId& from, const ReplicaRead& message);

  // Reads the local state of `key`, merges `incoming` in and stages the result when it
  // changed. A corrupt local record is replaced by the merge (counted). Errors: the
  // storage's read or write error; failed_precondition after a storage failure.
  Status merge_into_local(const Key& key, const SiblingSet& incoming);

 private:
  NodeContext& context_;
};

}  // namespace vigil::core
