#pragma once
// core::Node: one Vigil node as a pure, event-driven state machine (sans-I/O, in the shape
// of quinn-proto's Connection and TigerBeetle's replica). It never reads a clock, touches
// a socket or file, or draws randomness of its own: time arrives with every input, the
// generator is seeded by the environment, messages arrive and leave as values, and durable
// state is read and staged through NodeStorage.
//
// Driving a node (both sim/ and net/ do exactly this):
//   0. construct it; the constructor stages one meta write (its incarnation, see below),
//      which the first commit makes durable;
//   1. call one handle_*() with the current time;
//   2. (after one or more inputs) call stage_for_commit(), then commit the storage when
//      the node staged something (Store::has_uncommitted()): a store with a sticky error
//      fails every commit, even an empty one, and a node that staged nothing has nothing
//      to withdraw;
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

#include "core/antientropy/anti_entropy.h"
#include "core/membership/membership.h"
#include "core/node/client.h"
#include "core/counters.h"
#include "core/node/node_storage.h"
#include "core/node/options.h"
#include "core/ring/ring.h"
#include "core/routing/router.h"
#include "core/status.h"
#include "core/time.h"
#include "core/versions/version.h"
#include "core/wire/messages.h"

namespace vigil::core {

struct NodeParts;  // core/node/node.cpp: the parts a node is composed of

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
  // Pipelined commit (core/node/node_driver.h): messages and replies the driver took and
  // held for a commit that then failed are given back, in front of what the node produced
  // since, so that the next handle_storage_failure() withdraws them with the rest.
  void give_back(std::vector<Envelope> messages, std::vector<ClientReply> replies);
  // Stages what the node owes the storage for every input since the last commit (the
  // anti-entropy trees' journal row, a snapshot when due), so that it joins the commit
  // that makes those inputs' writes durable. The driver calls it just before it begins a
  // commit; called once per batch, not per input, it writes one journal row per commit.
  void stage_for_commit();
  // True once if the node staged a new actor identity since the last call (the driver
  // then lets nothing of this batch leave before its commit).
  bool take_identity_staged();

  // When handle_timeout() must next be called; nullopt when no timer is armed.
  std::optional<Instant> poll_timeout() const;
  std::vector<Envelope> take_messages();
  std::vector<ClientReply> take_replies();

  const NodeCounters& counters() const;

  // Membership: this node's view of every member (self included, by id) at `now`, and the
  // peer state changes it judged since the last call (for the simulator's checks and the
  // production logs). Empty when options.membership.enabled is false.
  std::vector<PeerStatus> members(Instant now) const;
  // The router's view of every peer at `now` (by id): health and circuit breaker state
  // (core/routing/router.h; /status shows it).
  std::vector<RouteStatus> routes(Instant now) const;
  std::vector<PeerTransition> take_peer_transitions();
  // Hints this node holds for other nodes (from storage; 0 when storage cannot tell).
  std::uint64_t hints_pending() const;
  // Anti-entropy (core/antientropy/anti_entropy.h): exchange every tree with every peer
  // now (`vigil cluster repair`); the trees and their last exchanges (/status); the
  // exchanges finished since start, and those running or queued.
  void request_anti_entropy(const Now& now);
  std::vector<TreeStatus> anti_entropy_status() const;
  std::uint64_t anti_entropy_exchanges_completed() const;
  std::size_t anti_entropy_exchanges_pending() const;
  // Tombstones the collector knows this node holds (core/tombstones/tombstone_collector.h).
  std::size_t tombstones_held() const;
  // Asserts the node's invariants (run by the simulator after every input).
  void check_invariants() const;

 private:
  std::unique_ptr<NodeParts> parts_;
};

}  // namespace vigil::core
