#pragma once
// PeerTransport: node-to-node frames (core/wire/codec.h) over TCP, on the node's one loop thread.
//
// Shape: each node dials its own outbound connection to every peer it sends to and only
// writes on it; frames from a peer arrive on the peer's outbound connection, which this node
// accepted on node.listen and only reads. Two one-way connections per pair of nodes: no
// tie-breaking between simultaneous dials, and a connection's failure affects one
// direction only.
//
// Contract:
// - send() never blocks and never fails loudly: the frame is queued for its peer (dialing
//   on demand) or dropped and counted. Dropped: no address known for the peer
//   (frames_dropped_no_address), the peer's queue would exceed send_queue_bytes_max
//   (frames_dropped_queue_full: a dead or slow peer never grows memory), the envelope does
//   not encode (frames_dropped_unencodable), or the frames being written when a connection
//   broke (frames_dropped_disconnect). The node's retries cover every drop.
// - A connection that fails (refused, reset, connect_timeout) is redialed after an
//   exponential backoff: initial * factor^k, capped at max, each delay drawn uniformly
//   from [delay/2, delay] with a generator seeded from options.seed (equal jitter, so
//   nodes that lost a peer together do not redial in lockstep). A success resets k.
// - Inbound bytes are untrusted: a frame that fails frame_size (bad magic, version, type,
//   length over core::frame_size_bytes_max) or decode_frame (checksum, malformed payload)
//   closes that one connection, is logged and counted (frames_bad); the transport goes
//   on. Memory held per inbound connection grows only with bytes actually received, up to
//   one frame (<= frame_size_bytes_max). At most inbound_connections_max are open; one
//   more is closed at once (inbound_refused).
// - Envelopes arrive at `on_envelope` in the order their peer sent them on one connection.
//   Without a cluster secret the transport does not check `from` (core::Node does).
// - With cluster_secrets (security.cluster_secret_file), every connection first runs the
//   mutual handshake of net/peer_handshake.h, bounded by handshake_timeout. The dialer
//   writes frames only once the acceptor has accepted it; the acceptor reads frames only
//   from a dialer that proved it holds a secret, and hands on only those whose `from` is
//   the node id it proved (others are dropped: frames_dropped_wrong_sender). A refused or
//   timed-out inbound connection is closed and counted (handshakes_refused), so nothing
//   from a node without the secret ever reaches on_envelope; an outbound handshake that
//   fails (handshakes_failed) goes through backoff like a failed dial.
//
// Lifetime: close() (also run by the destructor) stops everything; handlers still queued
// in the io_context after it do nothing, and no callback runs after close().

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/wire/messages.h"
#include "core/node/node.h"
#include "core/status.h"
#include "core/time.h"
#include "net/fault_filter.h"
#include "net/node_service.h"
#include "net/peer_handshake.h"

namespace vigil::net {

struct PeerTransportOptions {
  core::NodeId self;                                         // for log lines
  std::uint64_t send_queue_bytes_max = 64ULL * 1024 * 1024;  // per peer, frames in flight too
  core::Duration backoff_initial = std::chrono::milliseconds(100);
  core::Duration backoff_max = std::chrono::seconds(1);
  double backoff_factor = 2.0;
  // A dial that has not connected by then fails (a black-holed address would otherwise
  // hold the connection in `connecting` for the OS's minutes).
  core::Duration connect_timeout = std::chrono::seconds(2);
  std::size_t inbound_connections_max = 1024;
  std::uint64_t seed = 0;  // the backoff jitter's generator
  // The secrets peers must prove they hold, the current one first (0..2); none: no
  // handshake, as before peer authentication existed.
  std::vector<peer_handshake::Secret> cluster_secrets;
  core::Duration handshake_timeout = std::chrono::seconds(2);
  // security.tls.peer (net/tls_stream.h): contexts for dialing and accepting, both set or
  // both null (plain TCP). A connection whose TLS handshake fails or does not finish in
  // tls_handshake_timeout is closed and counted (tls_handshakes_failed when dialing,
  // tls_handshakes_refused when accepting) before any byte of the HMAC handshake.
  std::shared_ptr<boost::asio::ssl::context> tls_dial;
  std::shared_ptr<boost::asio::ssl::context> tls_accept;
  core::Duration tls_handshake_timeout = std::chrono::seconds(5);
  // Fault injection (net/fault_filter.h): asked about every frame sent and received.
  // nullptr (always, unless the node runs with --enable-fault-injection): no filter.
  std::shared_ptr<FaultFilter> fault_filter;
};

// What the transport did, as counters (NodeService::counters() exports them with the
// `peer_` prefix: peer_frames_sent, ...).
struct PeerTransportCounters {
  std::uint64_t frames_sent = 0;  // written whole to a socket
  std::uint64_t writes = 0;       // gathered writes that carried them (frames_sent / writes)
  std::uint64_t frames_received = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t frames_dropped_queue_full = 0;
  std::uint64_t frames_dropped_no_address = 0;
  std::uint64_t frames_dropped_unencodable = 0;
  std::uint64_t frames_dropped_disconnect = 0;
  std::uint64_t frames_bad = 0;  // checksum/size/malformed: connection closed
  std::uint64_t connects = 0;    // outbound connections established
  std::uint64_t connect_failures = 0;
  std::uint64_t disconnects = 0;  // established outbound connections lost
  std::uint64_t inbound_accepted = 0;
  std::uint64_t inbound_closed = 0;
  std::uint64_t inbound_refused = 0;  // over inbound_connections_max
  std::uint64_t handshakes_accepted = 0;  // inbound peers that proved the secret
  std::uint64_t handshakes_refused = 0;   // inbound connections refused by the handshake
  std::uint64_t handshakes_failed = 0;    // outbound handshakes that did not succeed
  std::uint64_t handshake_timeouts = 0;   // either side: not finished in handshake_timeout
  std::uint64_t frames_dropped_wrong_sender = 0;  // `from` is not the authenticated node
  std::uint64_t tls_handshakes_failed = 0;   // dialed: the acceptor's TLS did not verify, ...
  std::uint64_t tls_handshakes_refused = 0;  // accepted: no TLS, no or a bad certificate, ...

  // Adds every counter as "peer_<name>" to `counters`.
  void add_to(CounterSnapshot& counters) const;
};

class PeerTransport {
 public:
  using EnvelopeHandler = std::function<void(core::Envelope)>;

  PeerTransport(boost::asio::io_context& io, PeerTransportOptions options,
                EnvelopeHandler on_envelope);
  ~PeerTransport();
  PeerTransport(const PeerTransport&) = delete;
  PeerTransport& operator=(const PeerTransport&) = delete;

  // Binds `address` (port 0: the OS picks one; a DNS name is resolved here, once) and
  // starts accepting. Returns the bound address. io_error naming the address when it
  // cannot be resolved or bound. REQUIRES: called at most once.
  core::Result<config::Address> listen(const config::Address& address);
  // Where `peer` listens. A changed address drops the current connection (its unsent
  // frames stay queued) and dials the new one at once.
  void set_peer_address(const core::NodeId& peer, const config::Address& address);
  bool knows_peer(const core::NodeId& peer) const;

  // Encodes `envelope` and queues it for envelope.to (see the contract above).
  void send(const core::Envelope& envelope);

  // Stops accepting new inbound connections; open ones go on.
  void stop_accepting();
  // Closes every connection and the acceptor; queued frames are dropped. Idempotent.
  void close();

  // One row per peer with an address, ordered by id.
  std::vector<PeerConnectionStatus> connections() const;
  const PeerTransportCounters& counters() const;
  std::size_t inbound_connection_count() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace vigil::net
