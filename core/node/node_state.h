#pragma once
// Internal to core/node/, core/coordinator/, core/replica/ and core/handoff/: the state
// behind core::Node and the functions that act on it, one
// idea per source file. Not a public contract: only core::Node is.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/node/node.h"
#include "core/random.h"

namespace vigil::core::node_detail {

// Request ids: (incarnation << sequence_bits) | sequence (see node.h).
inline constexpr unsigned sequence_bits = 40;
inline constexpr std::uint64_t incarnation_max = (std::uint64_t{1} << (64 - sequence_bits)) - 1;
inline constexpr std::uint64_t sequence_max = (std::uint64_t{1} << sequence_bits) - 1;
inline constexpr const char* incarnation_meta_name = "node.incarnation";

// The fixed timer table of a request (quinn-proto's timer.rs shape): at most one of each.
enum class TimerKind : std::uint8_t { retry = 0, deadline = 1 };

struct TimerEntry {
  Instant at;
  RequestId id = 0;
  TimerKind kind = TimerKind::retry;
  friend bool operator<(const TimerEntry& a, const TimerEntry& b) {
    if (a.at != b.at) return a.at < b.at;
    if (a.id != b.id) return a.id < b.id;
    return a.kind < b.kind;
  }
};

enum class RequestKind : std::uint8_t {
  forward,  // relaying a client request to a coordinator on the preference list
  read,     // coordinating a get
  write,    // coordinating a put or a delete
};

// Who waits for the answer: a client of this node, or a node that forwarded to us.
struct Requester {
  bool is_client = true;
  RequestId client_id = 0;        // is_client
  NodeId peer;                    // !is_client
  RequestId peer_request_id = 0;  // !is_client
};

// One replica of a coordinated request, in preference-list order (this node included).
struct ReplicaProgress {
  NodeId node;
  // write: acknowledged the state durable; read: answered ok or not_found (counts to R).
  bool answered = false;
  // read: answered corruption (never counts; read repair rewrites it).
  bool corrupt = false;
  // Answered an error other than corruption: counted out of the quorum.
  std::optional<Status> error;
  // read: what it holds as far as this request knows (its answer, then what repair sent).
  std::optional<SiblingSet> known;
  // write whose local state was corrupt: this replica's state was merged back in.
  bool read_back = false;
  // write (sloppy quorum, hints.cpp): the fallbacks sent a HintWrite for this replica, in
  // the order tried, and whether one of them acknowledged the hint durable. The ack sets
  // `answered` too when hints count toward W (never at Consistency::all).
  std::vector<NodeId> fallbacks;
  bool hinted = false;

  bool settled() const { return answered || corrupt || error.has_value(); }
};

struct Request {
  RequestId id = 0;
  RequestKind kind = RequestKind::read;
  Requester requester;
  ClientOp op = ClientOp::get;
  Consistency consistency = Consistency::quorum;
  Key key;
  std::optional<Value> value;             // put value (forward and write); nullopt deletes
  VectorClock context;                    // the client's causal context (forward and write)
  std::uint32_t needed = 0;               // R or W
  std::vector<ReplicaProgress> replicas;  // read/write: the preference list
  std::vector<NodeId> targets;            // forward: the preference list
  SiblingSet state;           // write: the state written here; read: the merge of the answers
  std::uint32_t resends = 0;  // retries done (forward: attempts after the first)
  Instant deadline;
  std::optional<Instant> retry_at;
  std::optional<Code> reply_code;  // set once the requester was answered
  bool repair_local = false;       // write: the local state was corrupt when written

  std::uint32_t answered_count() const;
  std::uint32_t pending_count() const;  // not settled
};

// The answer sent to a forwarding peer, kept so a duplicated or retried CoordinateRequest
// is answered again instead of being coordinated twice (which would mint a second dot).
struct RememberedReply {
  CoordinateReply reply;
  Instant forget_at;
};

using PeerRequestKey = std::pair<NodeId, RequestId>;

// What the holder of hints keeps in memory (hints.cpp); the hints themselves are in storage.
struct HintDeliveryInFlight {
  StoredHint hint;  // as sent (attempts are recorded in it when the delivery fails)
  Instant timeout_at;
};
struct HintTarget {
  std::uint64_t held = 0;             // hints stored for it (as loaded and kept since)
  std::optional<Instant> next_round;  // when to send it hints next (nullopt: not scheduled)
  std::uint32_t in_flight = 0;        // deliveries sent and not answered
};
struct HintState {
  bool loaded = false;  // `targets` and `next_id` were built from storage
  std::uint64_t next_id = 1;
  std::map<NodeId, HintTarget> targets;
  std::map<std::uint64_t, HintDeliveryInFlight> in_flight;  // by hint id
  std::optional<Instant> check_at;  // the periodic check (armed while hints are held)
};

struct NodeState {
  NodeState(NodeOptions options_in, Ring ring_in, NodeStorage& storage_in, std::uint64_t seed);

  NodeOptions options;
  Ring ring;
  NodeStorage& storage;
  Random random;  // the node's only randomness (actor names; no retry jitter)
  NodeCounters counters;
  std::optional<Status> storage_failure;  // sticky once a commit failed

  std::uint64_t incarnation = 0;  // of this life: the high bits of our request ids
  std::uint64_t next_sequence = 1;
  std::uint64_t epoch_max = 0;            // the largest epoch stored in meta (>= incarnation)
  NodeId actor;                           // the name new dots carry: "<id>.<epoch>" (node.h)
  std::map<RequestId, Request> requests;  // in flight, by our id
  std::map<RequestId, RequestId> client_requests;     // client id -> our id, until answered
  std::map<PeerRequestKey, RequestId> peer_requests;  // in flight for a peer -> our id
  std::map<PeerRequestKey, RememberedReply> remembered;
  std::deque<std::pair<Instant, PeerRequestKey>> remembered_order;  // by forget_at
  std::set<TimerEntry> timers;

  std::vector<Envelope> outbox;
  std::vector<ClientReply> replies;

  // --- membership (node_membership.cpp; the membership helper adds fields here) ---
  std::unique_ptr<Membership> membership;  // null when options.membership.enabled is false
  std::vector<PeerTransition> peer_transitions;  // judged, not yet taken (bounded)

  // --- hinted handoff (hints.cpp; the hints helper adds fields here) ---
  HintState hints;

  const NodeId& self() const { return options.id; }
};

// --- node.cpp: shared plumbing ---
// Takes a fresh actor epoch (staged in meta) so no new dot can repeat one minted before.
void renew_actor(NodeState& state);
RequestId next_request_id(NodeState& state);
QuorumCounts quorum_for(const NodeOptions& options, Consistency consistency);
void send(NodeState& state, const NodeId& to, Message message);
void add_version_counters(NodeCounters& counters, const VersionCounters& version_counters);
WireStatus to_wire(const Status& status);
Status from_wire(const WireStatus& status);
// Answers `requester` (a client reply, or a CoordinateReply remembered for the peer).
// `state` carries the values and context of reads and the written state of writes.
void answer(NodeState& state, const Now& now, const Requester& requester, ClientOp op,
            const Status& status, const SiblingSet& key_state, std::uint32_t answered,
            std::uint32_t needed);
// Answers the request's requester once. REQUIRES: not yet answered.
void answer_request(NodeState& state, const Now& now, Request& request, const Status& status,
                    const SiblingSet& key_state);
void forget_expired(NodeState& state, const Now& now);
// unavailable: "quorum not reached: K of Q replicas <verb> (N replicas)", then every
// replica's refusal ("; n2: io_error: disk full").
Status quorum_not_reached(const Request& request, const char* verb);
// invalid_argument unless 1 <= key size <= key_size_bytes_max.
Status check_key(const NodeOptions& options, const Key& key);

// --- node_timers.cpp ---
void arm_deadline(NodeState& state, Request& request, Instant at);
void arm_retry(NodeState& state, Request& request, std::optional<Instant> at);
// Removes the request, its timers and its peer index entry. Invalidates `request`.
void finish(NodeState& state, Request& request);
void fire_timers(NodeState& state, const Now& now);

// --- coordinator.cpp: admission of client and peer requests ---
void admit_client_request(NodeState& state, const Now& now, ClientRequest request);
void admit_peer_request(NodeState& state, const Now& now, const NodeId& from,
                        const CoordinateRequest& request);

// --- coordinator_write.cpp ---
void start_write(NodeState& state, const Now& now, Request request);
void on_write_reply(NodeState& state, const Now& now, Request& request, const NodeId& from,
                    const ReplicaWriteReply& reply);
void on_write_read_back(NodeState& state, const Now& now, Request& request, const NodeId& from,
                        const ReplicaReadReply& reply);
void retry_write(NodeState& state, const Now& now, Request& request);
void expire_write(NodeState& state, const Now& now, Request& request);

// --- coordinator_read.cpp ---
void start_read(NodeState& state, const Now& now, Request request);
void on_read_reply(NodeState& state, const Now& now, Request& request, const NodeId& from,
                   const ReplicaReadReply& reply);
void on_repair_reply(NodeState& state, Request& request, const ReplicaWriteReply& reply);
void retry_read(NodeState& state, const Now& now, Request& request);
void expire_read(NodeState& state, const Now& now, Request& request);

// --- forwarder.cpp ---
void start_forward(NodeState& state, const Now& now, Request request);
void on_coordinate_reply(NodeState& state, const Now& now, Request& request, const NodeId& from,
                         const CoordinateReply& reply);
void retry_forward(NodeState& state, const Now& now, Request& request);
void expire_forward(NodeState& state, const Now& now, Request& request);

// --- replica.cpp ---
// Reads the local state of `key`, merges `incoming` in and stages the result when it
// changed. A corrupt local record is replaced by the merge (counted). Errors: the
// storage's read or write error; failed_precondition after a storage failure.
Status merge_into_local(NodeState& state, const Key& key, const SiblingSet& incoming);
void on_replica_write(NodeState& state, const NodeId& from, const ReplicaWrite& message);
void on_replica_read(NodeState& state, const NodeId& from, const ReplicaRead& message);

// --- node_membership.cpp (membership helper owns it): wiring core/membership/membership.h in ---
// The peer is neither suspect nor failed in this node's view (always true with
// membership disabled). The coordinator picks hint fallbacks with it.
bool peer_is_up(const NodeState& state, const NodeId& peer);
// Builds the Membership (called by the constructor once the incarnation is known).
void start_membership(NodeState& state);
// Gossip, Ping, PingAck and PingRequest: handled here (true); false for any other message.
bool on_membership_message(NodeState& state, const Now& now, const Envelope& envelope);
void fire_membership_timers(NodeState& state, const Now& now);
std::optional<Instant> membership_next_timeout(const NodeState& state);
// xxhash64 over every node's id and tokens, in order: equal rings, equal digests.
std::uint64_t ring_digest(const Ring& ring);

// --- hints.cpp (hints helper owns it): sloppy quorum and hinted handoff ---
// Called by the membership wiring for every transition it takes, after the membership
// state changed: a target seen alive again has its hints replayed soon.
void on_peer_transition(NodeState& state, const Now& now, const PeerTransition& transition);
// Arms the first check when storage holds hints (called by the constructor).
void start_hints(NodeState& state);
// The earliest hint timer (check, replay round, delivery timeout); nullopt when none.
std::optional<Instant> hints_next_timeout(const NodeState& state);
void fire_hint_timers(NodeState& state, const Now& now);
void on_hint_write(NodeState& state, const Now& now, const NodeId& from, const HintWrite& message);
void on_hint_delivery(NodeState& state, const NodeId& from, const HintDelivery& message);
void on_hint_delivery_reply(NodeState& state, const Now& now, const NodeId& from,
                            const HintDeliveryReply& message);
// Sloppy quorum (the coordinator's side): sends a HintWrite for every replica of `request`
// that is unsettled, not hinted yet and (when `only_down`) not up, to the next fallback past
// the preference list. Returns how many were sent.
std::uint32_t send_hints(NodeState& state, Request& request, bool only_down);
// The replica whose fallback `from` is, or nullptr.
ReplicaProgress* replica_of_fallback(Request& request, const NodeId& from);
// Whether a hint acknowledged for this request counts toward its W.
bool hints_count_toward_write(const NodeState& state, const Request& request);

// --- node_failure.cpp ---
void fail_storage(NodeState& state, const Now& now, const Status& status);

// --- node_invariants.cpp ---
void check_node_invariants(const NodeState& state);

}  // namespace vigil::core::node_detail
