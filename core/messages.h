#pragma once
// Node-to-node messages: plain structs; core/ passes these, never bytes. core/codec.h turns
// them into versioned, checksummed frames. Adding a message: add the struct, add it to
// Message (append only: the variant index is the wire type), add its encode/decode in
// codec.cpp, and a round-trip generator in tests/core/codec_test.cpp.
//
// Protocol (Dynamo section 4.5, Riak's put FSM): a client request reaches any node. If the
// node is not on the key's preference list it forwards the request to one that is
// (CoordinateRequest). The coordinating replica applies a write to its own state (making
// the new dot), commits it, then sends the whole resulting SiblingSet to the other
// replicas (ReplicaWrite), which merge it, commit, and acknowledge. Reads ask every
// replica for its SiblingSet (ReplicaRead) and merge the answers.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "core/status.h"
#include "core/types.h"
#include "core/version.h"

namespace vigil::core {

using RequestId = std::uint64_t;

// Per-request consistency (seed section 1.2). `eventual` is an alias of one, `strong` of all.
enum class Consistency : std::uint8_t { one = 0, quorum = 1, all = 2 };

// A Status as it travels: code and a bounded message.
struct WireStatus {
  Code code = Code::ok;
  std::string message;
  friend bool operator==(const WireStatus&, const WireStatus&) = default;
};

// "Merge this state for `key`, make it durable, then acknowledge."
struct ReplicaWrite {
  RequestId request_id = 0;
  Key key;
  SiblingSet state;
  friend bool operator==(const ReplicaWrite&, const ReplicaWrite&) = default;
};

struct ReplicaWriteReply {
  RequestId request_id = 0;
  WireStatus status;
  friend bool operator==(const ReplicaWriteReply&, const ReplicaWriteReply&) = default;
};

struct ReplicaRead {
  RequestId request_id = 0;
  Key key;
  friend bool operator==(const ReplicaRead&, const ReplicaRead&) = default;
};

// status not_found with an empty state when the replica has nothing for the key.
struct ReplicaReadReply {
  RequestId request_id = 0;
  WireStatus status;
  SiblingSet state;
  friend bool operator==(const ReplicaReadReply&, const ReplicaReadReply&) = default;
};

// A client request forwarded by a node that is not a replica of the key.
struct CoordinateRequest {
  RequestId request_id = 0;
  Consistency consistency = Consistency::quorum;
  Key key;
  bool is_write = false;            // false: a read
  std::optional<Value> value;       // writes: nullopt deletes
  VectorClock context;              // writes: the client's causal context (may be empty)
  friend bool operator==(const CoordinateRequest&, const CoordinateRequest&) = default;
};

struct CoordinateReply {
  RequestId request_id = 0;
  WireStatus status;
  SiblingSet state;                 // reads: the merged state; writes: the state written
  std::uint32_t replicas_answered = 0;
  friend bool operator==(const CoordinateReply&, const CoordinateReply&) = default;
};

// Append only: the index is the message type on the wire.
using Message = std::variant<ReplicaWrite, ReplicaWriteReply, ReplicaRead, ReplicaReadReply,
                             CoordinateRequest, CoordinateReply>;

// A message with its addresses, as it crosses the network.
struct Envelope {
  NodeId from;
  NodeId to;
  Message message;
  friend bool operator==(const Envelope&, const Envelope&) = default;
};

}  // namespace vigil::core
