#pragma once
// core::Node: one Vigil node as a pure, event-driven state machine (sans-I/O, in the shape
// of quinn-proto's Connection and TigerBeetle's replica). It never reads a clock, touches
// a socket or file, or draws randomness of its own: time arrives with every input, the
// generator is seeded by the environment, messages arrive and leave as values, and durable
// state is read and staged through NodeStorage.
//
// Driving a node: core::NodeDriver (core/node/node_driver.h) does it, for sim/, net/ and
// the tests alike; nothing else calls the handle_*() and take_*() below in a loop. The
// protocol it owns:
//   0. construct it; the constructor stages one meta write (its incarnation, see below),
//      which the first commit makes durable;
//   1. call one handle_*() with the current time;
//   2. (after one or more inputs) commit the storage when the node staged something
//      (Store::has_uncommitted()): a store with a sticky error fails every commit, even
//      an empty one, and a node that staged nothing has nothing to withdraw;
//   3. if the commit succeeded, drain take_messages() and send them, then drain
//      take_replies() and answer the clients. If it failed, call handle_storage_failure()
//      first: it withdraws everything produced since the last good commit (nothing of it
//      may leave) and puts failure answers in its place; then drain and send as usual;
//   4. arm one timer for poll_timeout() and call handle_timeout() when it passes.
// Steps 2-3 are what makes "durable before acknowledged" hold for every acknowledgement
// the node sends, to a client or to a coordinating peer.
//
// What the node does (core/node/node.cpp has the theory of operation): a client request for a
// key whose preference list holds this node is coordinated here (Dynamo 4.5, Riak's get
// and put FSMs); otherwise it is forwarded to a node of the list (CoordinateRequest), the
// next one on each retry. The node is also a replica: it merges ReplicaWrites into its
// state and answers ReplicaReads.
//
// Epochs. A counter in the node's meta storage ("node.incarnation") is raised by each
// constructor and staged. It serves twice:
// - request ids on the wire are (incarnation << 40) | sequence, so a restarted node never
//   reuses an id and a stale reply is never taken for the answer to a new request;
// - the dots this node mints carry the actor name "<id>.<epoch>.<6 hex digits from the
//   node's seeded generator>", not the bare id (Riak's vnode ids and key epochs). A node
//   that lost a commit (a lying disk) or found a key's record corrupt no longer knows the
//   last counter it used; under a fresh actor name its next dot cannot repeat one the
//   other replicas hold, which merge would resolve by keeping only one of the two writes.
//   The epoch is raised again when a write finds its local record corrupt. The random
//   digits cover the one case the epoch cannot: a lying disk that dropped the epoch's own
//   commit. Cost: one clock entry per node life (and per corrupt record met), bounded by
//   pruning.
//
// Peer input is never trusted: messages from unknown nodes, misaddressed messages,
// replies to unknown or finished requests, duplicates and reordering are counted
// (`ignored_*` counters) and dropped; bad fields are answered with an error.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/counters.h"
#include "core/node/client.h"
#include "core/membership/membership.h"
#include "core/wire/messages.h"
#include "core/node/node_storage.h"
#include "core/ring/ring.h"
#include "core/status.h"
#include "core/time.h"
#include "core/versions/version.h"

namespace vigil::core {

// The two clocks an input arrives with (see time.h).
struct Now {
  Instant monotonic;
  WallMicros wall_us = 0;
};

// R and W of one consistency level.
struct QuorumCounts {
  std::uint32_t read = 2;   // R
  std::uint32_t write = 2;  // W
};

// What a node needs from the configuration (config/node_options.h maps a Config onto this).
// Constructor REQUIRES (asserted): 1 <= every read/write count <= replicas; every duration
// > 0; key_size_bytes_max in 1..core::key_size_bytes_max; value_size_bytes_max <=
// core::value_size_bytes_max; requests_in_flight_max >= 1.
struct NodeOptions {
  NodeId id;
  std::uint32_t replicas = 3;  // N
  QuorumCounts one{1, 1};      // also `eventual`
  QuorumCounts quorum{2, 2};
  QuorumCounts all{3, 3};  // also `strong`
  Duration request_timeout = std::chrono::seconds(5);
  // A replica (or forwarded-to coordinator) silent this long is sent the request again;
  // further resends follow every retry_interval, at most max_retries in all.
  Duration replication_timeout = std::chrono::seconds(2);
  Duration retry_interval = std::chrono::milliseconds(100);
  std::uint32_t max_retries = 3;
  ConflictMode conflict_mode = ConflictMode::siblings;
  SiblingLimits sibling_limits;
  // Stale replicas seen by a read (in its quorum or answering later, until the request's
  // deadline) are always sent the merged state. The probability is Cassandra's
  // read_repair_chance: the chance of asking replicas beyond the quorum. This node always
  // asks all N, so every read is already checked against every replica that answers: the
  // probability is accepted and reported but changes nothing.
  bool read_repair_enabled = true;
  double read_repair_probability = 0.1;
  std::size_t key_size_bytes_max = 1024;
  std::size_t value_size_bytes_max = 1024 * 1024;
  // Bound on requests this node coordinates or forwards at once (client and peer);
  // refusals are resource_exhausted and counted.
  std::size_t requests_in_flight_max = 10000;

  // Membership and failure detection (core/membership/membership.h). `address` is this node's
  // node-to-node address as gossip carries it; `seeds` the (id, address) pairs it gossips
  // with first (the simulator uses ids as addresses).
  std::string address;
  std::vector<std::pair<NodeId, std::string>> seeds;
  MembershipOptions membership;

  // Hinted handoff (Dynamo 4.6; seed section 2.1; docs/failure-detection.md).
  struct Hints {
    bool enabled = true;  // false: a down replica just does not answer (no sloppy quorum)
    // Whether a hint's acknowledgement counts toward W (Dynamo's sloppy quorum). Never for
    // Consistency::all: `all` means every replica of the preference list has it durable.
    bool count_toward_write_quorum = true;
    Duration check_interval = std::chrono::minutes(1);
    Duration retry_interval = std::chrono::minutes(5);
    std::uint32_t max_attempts = 5;
    Duration expiry = std::chrono::hours(24);  // every hint's ttl
    // Pacing of replay to a returning node: at most this many deliveries in flight per
    // target; the next goes when one is answered (a returning node is not flooded).
    std::uint32_t replay_in_flight_max = 16;
    // Bound on hints kept for one target; a hint over it is refused (the coordinator
    // counts the replica as not answered) and counted as hints_refused_backlog.
    std::uint32_t per_target_max = 100000;
  };
  Hints hints;
};

namespace node_detail {
struct NodeState;
}

class Node {
 public:
  // REQUIRES: options.id is in `ring`; options as listed at NodeOptions; `storage`
  // outlives the node. Reads and raises the incarnation in `storage`'s meta (staged).
  Node(NodeOptions options, Ring ring, NodeStorage& storage, std::uint64_t seed);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const NodeId& id() const;

  // REQUIRES: request.id is not the id of another client request still in flight here
  // (one not yet answered in take_replies()).
  // Every client request gets exactly one ClientReply, at the latest request_timeout
  // after it arrived.
  void handle_client_request(const Now& now, ClientRequest request);
  void handle_message(const Now& now, Envelope envelope);
  // Fires every timer whose deadline is <= now.monotonic.
  void handle_timeout(const Now& now);
  // A commit failed: durable state is unknown. Withdraws the replies and messages produced
  // since the last good commit (client replies among them are replaced by io_error
  // replies, acknowledgements to peers by error answers), fails every in-flight read and
  // write this node coordinates, and from now on refuses writes with failed_precondition
  // (reads are still served; forwarding goes on), until restarted.
  void handle_storage_failure(const Now& now, const Status& status);

  // When handle_timeout() must next be called; nullopt when no timer is armed.
  std::optional<Instant> poll_timeout() const;
  std::vector<Envelope> take_messages();
  std::vector<ClientReply> take_replies();

  // Every counter of core/counters.h (the one list of names and meanings).
  const NodeCounters& counters() const;

  // Membership: this node's view of every member (self included, by id) at `now`, and the
  // peer state changes it judged since the last call (for the simulator's checks and the
  // production logs). Empty when options.membership.enabled is false.
  std::vector<PeerStatus> members(Instant now) const;
  std::vector<PeerTransition> take_peer_transitions();
  // Hints this node holds for other nodes (from storage; 0 when storage cannot tell).
  std::uint64_t hints_pending() const;
  // Asserts the node's invariants (run by the simulator after every input).
  void check_invariants() const;

 private:
  std::unique_ptr<node_detail::NodeState> state_;
};

}  // namespace vigil::core
