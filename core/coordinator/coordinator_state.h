#pragma once
// Internal to core/coordinator/: the state behind core::Coordinator and the functions that
// act on it, one idea per source file. Not a contract: coordinator.h is.

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "core/coordinator/coordinator.h"
#include "core/node/node_context.h"

namespace vigil::core {

class Replica;

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
  // write (sloppy quorum, hints_fallback.cpp): the fallbacks sent a HintWrite for this
  // replica, in the order tried, and whether one of them acknowledged the hint durable. The
  // ack sets `answered` too when hints count toward W (never at Consistency::all).
  std::vector<NodeId> fallbacks;
  bool hinted = false;
  // read: not asked (yet): read_repair.probability did not pick this read for all N, and
  // no failure or silence has made it needed. Still counted as pending (it can be asked).
  bool unasked = false;
  // read: the merge whose repair of this replica was dropped by the budget (read_repair.cpp);
  // that merge is not offered to it again, a later, different merge is.
  std::optional<SiblingSet> repair_dropped;

  // Still silent at the request's first retry: counted once as a failure of its breaker,
  // and a later answer is too late to count as a success (peer_outcomes.cpp).
  bool judged_silent = false;
  // read: the breaker permit it was asked with, when its breaker was asked first
  // (coordinator_read.cpp's ask_for_quorum); its outcome goes back with it.
  std::optional<CircuitBreaker::Permit> permit;

  bool settled() const { return answered || corrupt || error.has_value(); }
};

// forward: one attempt, the coordinator it went to and the breaker permit it went with
// (core/routing/circuit_breaker.h; none when routing.fallback sent it past open breakers).
// `judged`: its outcome was handed to the router (a reply, a refusal, or silence until the
// next retry or the deadline); judged once.
struct ForwardAttempt {
  NodeId node;
  std::size_t target_index = 0;  // in Request::targets
  std::optional<CircuitBreaker::Permit> permit;
  bool judged = false;
};

struct Request {
  RequestId id = 0;
  RequestKind kind = RequestKind::read;
  Requester requester;
  ClientOp op = ClientOp::get;
  Consistency consistency = Consistency::quorum;
  Key key;
  std::optional<Value> value;             // put value (forward and write); nullopt deletes
  WallMicros expires_at_us = 0;           // put: the value's expiry (0: never)
  std::optional<std::int64_t> increment;  // incr: the delta (forward and write; no value)
  VectorClock context;                    // the client's causal context (forward and write)
  // forward and write: a plain put/del under set_context: coordinator; the coordinating
  // replica writes with its own state's context instead of `context` (which is empty).
  bool context_from_coordinator = false;
  bool existed = false;  // write with context_from_coordinator: a live value was there before
  std::uint32_t needed = 0;               // R or W
  std::vector<ReplicaProgress> replicas;  // read/write: the preference list
  std::vector<NodeId> targets;            // forward: the preference list
  std::vector<ForwardAttempt> attempts;   // forward: the attempts sent, in order
  SiblingSet state;           // write: the state written here; read: the merge of the answers
  std::uint32_t resends = 0;  // retries done (forward: attempts after the first)
  Instant deadline;
  std::optional<Instant> retry_at;
  std::optional<Code> reply_code;  // set once the requester was answered
  bool repair_local = false;       // write: the local state was corrupt when written
  // read answered and kept only for read repair: counted in CoordinatorState::repairing,
  // not against requests_in_flight_max.
  bool repairing = false;

  std::uint32_t answered_count() const;
  std::uint32_t pending_count() const;  // not settled (unasked read replicas included)
  std::uint32_t owed_count() const;     // asked and not settled: answers still to come
};

// The answer sent to a forwarding peer, kept so a duplicated or retried CoordinateRequest
// is answered again instead of being coordinated twice (which would mint a second dot).
struct RememberedReply {
  CoordinateReply reply;
  Instant forget_at;
};

using PeerRequestKey = std::pair<NodeId, RequestId>;

struct CoordinatorState;

// Read repair's budget on this node (read_repair.cpp): the repair ReplicaWrites in flight,
// by (read id, replica) -> when they stop counting (replication_timeout after the send),
// and a token bucket of bytes.
struct RepairBudget {
  std::multimap<std::pair<RequestId, NodeId>, Instant> in_flight;
  std::uint64_t tokens = 0;            // bytes that may be sent now
  std::optional<Instant> refilled_at;  // nullopt: never used, the bucket starts full
};

// What one kind of request does at each step of the life request_lifecycle.cpp gives every
// request. The flows are stateless; the request and the coordinator's state are passed in.
class RequestFlow {
 public:
  virtual ~RequestFlow() = default;
  // The first attempt: returns how many peers were sent something (0: nothing to retry).
  // May answer and finish the request (the write whose local write failed).
  virtual std::uint32_t start(CoordinatorState& state, const Now& now, Request& request) const = 0;
  // A retry, the request.resends + 1-th: sends again to whoever still owes an answer;
  // returns how many (0: nothing owed, no further retry).
  virtual std::uint32_t resend(CoordinatorState& state, const Now& now, Request& request) const = 0;
  // The wait before the next retry (request.resends retries done so far).
  virtual Duration retry_delay(CoordinatorState& state, const Request& request) const = 0;
  // The most retries one request of this kind makes.
  virtual std::uint32_t retries_max(const NodeOptions& options) const = 0;
  // After the start: answers when the answers so far decide, finishes when nothing is owed.
  virtual void progress(CoordinatorState& state, const Now& now, Request& request) const = 0;
  // At the deadline: answers the requester if it was not answered (then it is finished).
  virtual void expire(CoordinatorState& state, const Now& now, Request& request) const = 0;
};

const RequestFlow& read_flow();     // coordinator_read.cpp
const RequestFlow& write_flow();    // coordinator_write.cpp
const RequestFlow& forward_flow();  // forwarder.cpp

struct CoordinatorState {
  CoordinatorState(NodeContext& context_in, Replica& replica_in)
      : context(context_in), replica(replica_in) {}

  NodeContext& context;
  Replica& replica;
  std::uint64_t next_sequence = 1;
  std::map<RequestId, Request> requests;              // in flight, by our id
  std::map<RequestId, RequestId> client_requests;     // client id -> our id, until answered
  std::map<PeerRequestKey, RequestId> peer_requests;  // in flight for a peer -> our id
  std::map<PeerRequestKey, RememberedReply> remembered;
  std::deque<std::pair<Instant, PeerRequestKey>> remembered_order;  // by forget_at
  std::set<TimerEntry> timers;
  // Answered reads kept for read repair (Request::repairing): bounded by
  // requests_in_flight_max on their own, and not counted against it by admission.
  std::size_t repairing = 0;
  RepairBudget repair_budget;
};

// The bound on answered reads repairing: read_repair.max_tasks (max_repair_threads), never
// above requests_in_flight_max.
inline std::size_t repairing_max(const NodeOptions& options) {
  return std::min<std::size_t>(options.requests_in_flight_max, options.read_repair.max_tasks);
}

// Requests that hold a requests_in_flight_max slot: all but the answered reads repairing.
inline std::size_t requests_holding_slots(const CoordinatorState& state) {
  return state.requests.size() - state.repairing;
}

// --- request_lifecycle.cpp: the life of every request, written once ---
RequestId next_request_id(CoordinatorState& state);
// Inserts the request, arms its deadline, lets its flow send the first attempt, arms the
// first retry when something was sent, and lets the flow judge what came back at once.
void start_request(CoordinatorState& state, const Now& now, Request request);
// Removes the request, its timers and its peer index entry. Invalidates `request`.
void finish(CoordinatorState& state, Request& request);
void fire_timers(CoordinatorState& state, const Now& now);

// --- answer.cpp: answering requesters, remembering answers for peers ---
QuorumCounts quorum_for(const NodeOptions& options, Consistency consistency);
// Answers `requester` (a client reply, or a CoordinateReply remembered for the peer).
// `key_state` carries the values and context of reads and the written state of writes.
// `existed`: ClientReply::existed (a delete with the coordinator's context).
void answer(CoordinatorState& state, const Now& now, const Requester& requester, ClientOp op,
            const Status& status, const SiblingSet& key_state, std::uint32_t answered,
            std::uint32_t needed, bool existed = false);
// Answers the request's requester once. REQUIRES: not yet answered.
void answer_request(CoordinatorState& state, const Now& now, Request& request, const Status& status,
                    const SiblingSet& key_state);
void forget_expired(CoordinatorState& state, const Now& now);
// unavailable: "quorum not reached: K of Q replicas <verb> (N replicas)", then every
// replica's refusal ("; n2: io_error: disk full").
Status quorum_not_reached(const Request& request, const char* verb);

// --- admission.cpp: admission of client and peer requests ---
void admit_client_request(CoordinatorState& state, const Now& now, ClientRequest request);
void admit_peer_request(CoordinatorState& state, const Now& now, const NodeId& from,
                        const CoordinateRequest& request);

// --- the flows' reply handlers ---
void on_write_reply(CoordinatorState& state, const Now& now, Request& request, const NodeId& from,
                    const ReplicaWriteReply& reply);
void on_write_read_back(CoordinatorState& state, const Now& now, Request& request,
                        const NodeId& from, const ReplicaReadReply& reply);
void on_read_reply(CoordinatorState& state, const Now& now, Request& request, const NodeId& from,
                   const ReplicaReadReply& reply);
void on_coordinate_reply(CoordinatorState& state, const Now& now, Request& request,
                         const NodeId& from, const CoordinateReply& reply);

// --- read_repair.cpp: read repair under its budget (theory there) ---
// Repairs every replica of an answered read whose known state differs from the merge,
// missing before stale as repair_priority ranks them, while the budget allows.
void repair_stale(CoordinatorState& state, const Now& now, Request& request);
// A ReplicaWriteReply from `from` for read `id`: releases that repair's budget slot and
// counts the answer. False when no repair of that read to that replica is in flight.
bool on_repair_reply(CoordinatorState& state, const NodeId& from, const ReplicaWriteReply& reply);

// --- hints_fallback.cpp: sloppy quorum, the coordinator's side of hinted handoff ---
// Sends a HintWrite for every replica of `request` that is unsettled, not hinted yet and
// (when `only_down`) not up or behind an open breaker, to the next fallback past the
// preference list whose breaker is not open. Returns how many were sent.
std::uint32_t send_hints(CoordinatorState& state, const Now& now, Request& request,
                         bool only_down);
// The replica whose fallback `from` is, or nullptr.
ReplicaProgress* replica_of_fallback(Request& request, const NodeId& from);
// Whether a hint acknowledged for this request counts toward its W.
bool hints_count_toward_write(const NodeOptions& options, const Request& request);

// --- peer_outcomes.cpp: replica traffic feeds the peers' circuit breakers ---
// A replica answered (whatever it said). Its read permit, if any, is used up: a duplicated
// answer is not a second success.
void note_replica_answer(CoordinatorState& state, const Now& now, Request& request,
                         const NodeId& from);
// The first retry of `request` is due: every asked replica still silent is one failure.
void note_silent_replicas(CoordinatorState& state, const Now& now, Request& request);

// --- coordinator_invariants.cpp ---
void check_coordinator_invariants(const CoordinatorState& state);

}  // namespace vigil::core
