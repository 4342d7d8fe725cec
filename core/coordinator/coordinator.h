#pragma once
// The coordinator part of a node: the requests it has in flight (reads and writes it
// coordinates, requests it forwards), their admission, their timers, and the replies it
// remembers for forwarding peers. Every request lives the same life (request_lifecycle.cpp:
// start, retry, expire, finish); what each kind sends and answers is its flow
// (coordinator_read.cpp, coordinator_write.cpp, forwarder.cpp). Output goes to the node's
// shared outbox and reply queue (core/node/node_context.h). Internal to core/node/ and its
// parts; the contract is core::Node (core/node/node.h).

#include <memory>
#include <optional>

#include "core/node/node_context.h"

namespace vigil::core {

class Replica;
struct CoordinatorState;

class Coordinator {
 public:
  // `context` and `replica` outlive the coordinator.
  Coordinator(NodeContext& context, Replica& replica);
  ~Coordinator();
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  // Forgets the replies remembered for peers past their time (called at every input).
  void forget_expired(const Now& now);

  // A client's request: refused, coordinated here, or forwarded (core/node/node.h).
  void handle_client_request(const Now& now, ClientRequest request);
  // A request a peer forwarded: coordinated at most once per (peer, its request id).
  void handle_coordinate_request(const Now& now, const NodeId& from,
                                 const CoordinateRequest& message);
  // Replies to our requests; one that matches no request in flight is counted and dropped.
  void handle_replica_write_reply(const Now& now, const NodeId& from,
                                  const ReplicaWriteReply& reply);
  void handle_replica_read_reply(const Now& now, const NodeId& from, const ReplicaReadReply& reply);
  void handle_coordinate_reply(const Now& now, const NodeId& from, const CoordinateReply& reply);

  // Fires every request timer due at now.monotonic (retries and deadlines).
  void handle_timeout(const Now& now);
  // The earliest request timer; nullopt when no request is in flight.
  std::optional<Instant> poll_timeout() const;

  // A CoordinateReply to `peer` was withdrawn after a failed commit and replaced by
  // `replacement`: a duplicate of its request is answered with the replacement from now on.
  void handle_withdrawn_reply(const NodeId& peer, const CoordinateReply& replacement);
  // After a failed commit (the node already withdrew its outbox): every read and write
  // coordinated here fails now with `unknown`'s message (writes io_error, reads
  // unavailable); forwards go on.
  void handle_storage_failure(const Now& now, const Status& unknown);

  // Requests coordinated or forwarded here that hold a slot (the client path's load).
  std::size_t requests_in_flight() const;

  void check_invariants() const;

 private:
  std::unique_ptr<CoordinatorState> state_;
};

}  // namespace vigil::core
