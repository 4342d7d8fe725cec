#pragma once
// Node-to-node messages: plain structs; core/ passes these, never bytes. core/wire/codec.h turns
// them into versioned, checksummed frames. Adding a message: add the struct, add it to
// Message (append only: the variant index is the wire type), add its encode/decode in
// codec_detail.h and one of the codec_*_messages.cpp, its name in codec.cpp, and a
// round-trip generator in tests/core/codec_test.cpp.
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
#include <vector>

#include "core/status.h"
#include "core/types.h"
#include "core/versions/version.h"

namespace vigil::core {

using RequestId = std::uint64_t;

// Per-request consistency (seed section 1.2). `eventual` is an alias of one, `strong` of all.
// default_level: the level a client connection starts with until it names one
// (CONSISTENCY); its R and W are quorum_settings.R/W (NodeOptions::default_level).
enum class Consistency : std::uint8_t { one = 0, quorum = 1, all = 2, default_level = 3 };

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
  // writes: the coordinator takes its own state's context instead (a plain SET/DEL under
  // set_context: coordinator); `context` is then empty.
  bool context_from_coordinator = false;
  WallMicros expires_at_us = 0;     // puts: the value's expiry (Version::expires_at_us)
  // An INCRBY's delta (ClientOp::incr; docs/counters.md): a write without a value, always
  // with context_from_coordinator, that the coordinator applies to its own counter entry.
  std::optional<std::int64_t> increment = std::nullopt;
  friend bool operator==(const CoordinateRequest&, const CoordinateRequest&) = default;
};

struct CoordinateReply {
  RequestId request_id = 0;
  WireStatus status;
  SiblingSet state;                 // reads: the merged state; writes: the state written
  std::uint32_t replicas_answered = 0;
  bool existed = false;             // ClientReply::existed
  friend bool operator==(const CoordinateReply&, const CoordinateReply&) = default;
};

// ---- Membership: gossip and SWIM probes (core/membership/membership.h has the protocol) ----

// One member as gossip carries it (Cassandra's EndpointState, cut to what Vigil uses).
// Newer information wins: (incarnation, heartbeat) compared lexicographically. A restarted
// node comes back with a higher incarnation (its node.incarnation epoch), so its heartbeat
// starting again from 1 still replaces the old life's. Liveness verdicts (alive/suspect/
// failed) are not gossiped: every node judges each peer for itself with its own phi
// accrual detector (Cassandra), so there is no rumor of death to refute.
struct MemberInfo {
  NodeId id;
  std::string address;            // node-to-node "host:port" (the sim uses the id)
  std::uint64_t incarnation = 0;  // >= 1
  std::uint64_t heartbeat = 0;    // raised by the member itself every gossip interval
  // xxhash64 of the member's ring (every node's tokens): nodes whose rings differ are
  // counted and shown; the ring is built from configuration, not changed by gossip.
  std::uint64_t ring_digest = 0;
  friend bool operator==(const MemberInfo&, const MemberInfo&) = default;
};

// Push-pull gossip: the sender's whole view; a receiver merges it and, unless is_reply,
// answers with its own view (so one exchange updates both sides).
struct Gossip {
  std::vector<MemberInfo> members;  // at most core::members_max (codec.h)
  bool is_reply = false;
  friend bool operator==(const Gossip&, const Gossip&) = default;
};

// SWIM probe (Das et al. 2002). Direct: origin -> target with requester empty. Indirect:
// a helper asked by PingRequest sends Ping{probe_id, requester = origin} to the target.
struct Ping {
  std::uint64_t probe_id = 0;
  NodeId requester;  // empty for a direct probe
  friend bool operator==(const Ping&, const Ping&) = default;
};

// The target's answer, sent to whoever sent the Ping. A helper receiving an ack whose
// requester is another node relays it to that requester unchanged (stateless relay).
struct PingAck {
  std::uint64_t probe_id = 0;
  NodeId requester;  // copied from the Ping
  NodeId target;     // the node that answered
  friend bool operator==(const PingAck&, const PingAck&) = default;
};

// "Probe `target` for me": sent by an origin whose direct probe got no ack in probe_timeout
// to gossip_protocol.indirect_probes other nodes.
struct PingRequest {
  std::uint64_t probe_id = 0;
  NodeId target;
  friend bool operator==(const PingRequest&, const PingRequest&) = default;
};

// ---- Hinted handoff (Dynamo 4.6; seed section 2.1) ----

// Coordinator -> a fallback node past the preference list: "keep this state for `target`
// (a replica of `key` that is down), durably, and hand it over when it returns". Answered
// with a ReplicaWriteReply of the same request_id once the hint is committed.
struct HintWrite {
  RequestId request_id = 0;
  NodeId target;
  Key key;
  SiblingSet state;
  friend bool operator==(const HintWrite&, const HintWrite&) = default;
};

// Hint holder -> target: merge `state` for `key`, commit, then answer. Delivering the same
// hint twice is harmless: merge is idempotent.
struct HintDelivery {
  std::uint64_t hint_id = 0;  // the holder's hint id
  Key key;
  SiblingSet state;
  friend bool operator==(const HintDelivery&, const HintDelivery&) = default;
};

struct HintDeliveryReply {
  std::uint64_t hint_id = 0;
  WireStatus status;
  friend bool operator==(const HintDeliveryReply&, const HintDeliveryReply&) = default;
};

// ---- Anti-entropy (Dynamo 4.7; Riak's tictac AAE; seed section 2.2; docs/anti-entropy.md) ----
// Each node keeps one tictac tree per replica set it belongs to: the keys whose preference
// list is exactly that set of nodes (Riak's IndexN). A tree is named on the wire by the
// set (its node ids, sorted) and its depth, so two nodes with different rings or depths
// refuse to compare (failed_precondition) rather than repair the wrong keys. Level 0 is
// the root; level `depth` holds the 2^depth leaf segments (segment = the top `depth` bits
// of the key's ring token). A node's hash is the XOR of its keys' state hashes, its count
// the number of keys under it.
struct AeTreeNode {
  std::uint64_t hash = 0;
  std::uint64_t count = 0;
  friend bool operator==(const AeTreeNode&, const AeTreeNode&) = default;
};

// Initiator -> peer: "send me the 2^levels_down descendants of each of these nodes".
struct AeTreeRequest {
  RequestId exchange_id = 0;
  std::vector<NodeId> replicas;  // the tree: its replica set, sorted
  std::uint32_t depth = 0;
  std::uint32_t level = 0;        // of `indices`
  std::uint32_t levels_down = 0;  // level + levels_down <= depth
  std::vector<std::uint64_t> indices;
  friend bool operator==(const AeTreeRequest&, const AeTreeRequest&) = default;
};

// The descendants, index by index, each index's 2^levels_down nodes left to right.
struct AeTreeReply {
  RequestId exchange_id = 0;
  WireStatus status;
  std::vector<AeTreeNode> nodes;
  friend bool operator==(const AeTreeReply&, const AeTreeReply&) = default;
};

// Initiator -> peer: "list the keys of this tree under node `index` at `level`, with their
// state hashes, in ring order after `after` (empty: from the start)".
struct AeKeysRequest {
  RequestId exchange_id = 0;
  std::vector<NodeId> replicas;
  std::uint32_t depth = 0;
  std::uint32_t level = 0;
  std::uint64_t index = 0;
  Key after;
  friend bool operator==(const AeKeysRequest&, const AeKeysRequest&) = default;
};

struct AeKeyHash {
  Key key;
  std::uint64_t hash = 0;
  friend bool operator==(const AeKeyHash&, const AeKeyHash&) = default;
};

struct AeKeysReply {
  RequestId exchange_id = 0;
  WireStatus status;
  std::vector<AeKeyHash> keys;  // in ring order
  bool more = false;            // the page was full: ask again after the last key
  friend bool operator==(const AeKeysReply&, const AeKeysReply&) = default;
};

// A key's whole state as repair ships it (empty: the sender holds nothing for it).
struct AeKeyState {
  Key key;
  SiblingSet state;
  friend bool operator==(const AeKeyState&, const AeKeyState&) = default;
};

// Initiator -> peer: "merge `push` into your states, then answer with your state of each
// key in `pull`". Merging is idempotent, so a repeated or crossed sync is harmless.
struct AeSync {
  RequestId exchange_id = 0;  // this batch's own id (the reply is matched by it), not the exchange's
  std::vector<AeKeyState> push;
  std::vector<Key> pull;
  friend bool operator==(const AeSync&, const AeSync&) = default;
};

// Sent after the commit that covers the pushed merges (an acknowledgement).
struct AeSyncReply {
  RequestId exchange_id = 0;
  WireStatus status;
  std::vector<AeKeyState> states;  // one per pulled key, in the order asked
  friend bool operator==(const AeSyncReply&, const AeSyncReply&) = default;
};

// Tombstone collection (core/tombstones/, docs/deletes.md; Riak's reaper): one key's
// deleted state, named by its key_state_hash (core/antientropy/key_hash.h).
struct TombstoneEntry {
  Key key;
  std::uint64_t state_hash = 0;
  friend bool operator==(const TombstoneEntry&, const TombstoneEntry&) = default;
};

// Collector -> every other replica of the keys: "do you hold exactly these states?"
struct TombstoneQuery {
  RequestId round_id = 0;
  std::vector<TombstoneEntry> entries;
  friend bool operator==(const TombstoneQuery&, const TombstoneQuery&) = default;
};

// Sent after the commit that covers the states it vouches for (held by the driver, rule 3:
// a replica must not vouch for a tombstone it could still lose).
struct TombstoneQueryReply {
  RequestId round_id = 0;
  std::vector<std::uint8_t> holds;  // one per entry, in the order asked: 1 = same state
  friend bool operator==(const TombstoneQueryReply&, const TombstoneQueryReply&) = default;
};

// Collector -> the replicas that all vouched: "drop each key whose state still hashes so"
// (condition (c): a key written since is kept). No reply: a replica that misses it keeps
// its tombstone, anti-entropy copies it back to the others, and a later round collects it.
struct TombstoneReap {
  std::vector<TombstoneEntry> entries;
  friend bool operator==(const TombstoneReap&, const TombstoneReap&) = default;
};

// ---- Enumeration: SCAN, KEYS and DBSIZE (core/scan/, docs/client-protocol.md) ----

// Coordinator -> a replica of every token in [first_token, last_token]: "list your live keys
// with first_token <= token <= last_token in (token, key) order". The replica stops after
// keys_max live keys (or key_scan_records_max records examined, tombstones included) but
// only at the end of a 2^16-token cursor bucket (core/scan/scan_cursor.h), so a page never
// splits the keys of one bucket: the cursor, which names only a bucket, then resumes
// without a repeat or a gap.
struct KeyScan {
  RequestId request_id = 0;
  Token first_token = 0;
  Token last_token = 0;  // >= first_token: a scan never wraps past 2^64-1
  std::uint32_t keys_max = 0;
  friend bool operator==(const KeyScan&, const KeyScan&) = default;
};

// `keys`: live keys in (token, key) order. complete: the whole span was walked; otherwise
// every token <= covered_through was, and covered_through ends a cursor bucket.
struct KeyScanReply {
  RequestId request_id = 0;
  WireStatus status;
  std::vector<Key> keys;
  bool complete = false;
  Token covered_through = 0;
  friend bool operator==(const KeyScanReply&, const KeyScanReply&) = default;
};

// Coordinator -> every node: "how many keys do you store?" (DBSIZE's estimate).
struct KeyCount {
  RequestId request_id = 0;
  friend bool operator==(const KeyCount&, const KeyCount&) = default;
};

// The records in the replica's store (tombstones included: the store counts records).
struct KeyCountReply {
  RequestId request_id = 0;
  WireStatus status;
  std::uint64_t count = 0;
  friend bool operator==(const KeyCountReply&, const KeyCountReply&) = default;
};

// Append only: the index is the message type on the wire.
using Message = std::variant<ReplicaWrite, ReplicaWriteReply, ReplicaRead, ReplicaReadReply,
                             CoordinateRequest, CoordinateReply, Gossip, Ping, PingAck,
                             PingRequest, HintWrite, HintDelivery, HintDeliveryReply,
                             AeTreeRequest, AeTreeReply, AeKeysRequest, AeKeysReply, AeSync,
                             AeSyncReply, TombstoneQuery, TombstoneQueryReply, TombstoneReap,
                             KeyScan, KeyScanReply, KeyCount, KeyCountReply>;

// A message with its addresses, as it crosses the network.
struct Envelope {
  NodeId from;
  NodeId to;
  Message message;
  friend bool operator==(const Envelope&, const Envelope&) = default;
};

}  // namespace vigil::core
