// PeerTransport: theory of operation.
//
// This file holds the public wrapper around PeerTransport::Impl, the counters' export and
// close(); the outbound side is in peer_transport_outbound.cpp, the inbound side in
// peer_transport_inbound.cpp, the shared state in peer_transport_impl.h.
//
// Every asynchronous handler holds the Impl alive (shared_from_this) and first checks that
// the transport is open and that the connection it belongs to is still the current one;
// a stale handler (a connection already replaced or dropped) does nothing. Everything runs
// on the io_context's one thread, so there is no locking.

#include "net/peer_transport.h"

#include <memory>
#include <utility>
#include <vector>

#include "net/peer_transport_impl.h"

namespace vigil::net {

using boost::system::error_code;

void PeerTransportCounters::add_to(CounterSnapshot& out) const {
  out.add("peer_frames_sent", "Frames written whole to a peer's socket.", frames_sent);
  out.add("peer_writes", "Gathered writes to peers' sockets (frames sent per write: the ratio).",
          writes);
  out.add("peer_frames_received", "Frames received from peers.", frames_received);
  out.add("peer_bytes_sent", "Bytes written to peers.", bytes_sent);
  out.add("peer_bytes_received", "Bytes received from peers.", bytes_received);
  out.add("peer_frames_dropped_queue_full", "Frames dropped: a peer's send queue was full.",
          frames_dropped_queue_full);
  out.add("peer_frames_dropped_no_address", "Frames dropped: no address known for the peer.",
          frames_dropped_no_address);
  out.add("peer_frames_dropped_unencodable", "Frames dropped: the message could not be encoded.",
          frames_dropped_unencodable);
  out.add("peer_frames_dropped_disconnect", "Frames dropped unsent when a connection was lost.",
          frames_dropped_disconnect);
  out.add("peer_frames_bad", "Frames refused (checksum or size): connection closed.", frames_bad);
  out.add("peer_connects", "Outbound peer connections established.", connects);
  out.add("peer_connect_failures", "Outbound peer connection attempts that failed.",
          connect_failures);
  out.add("peer_disconnects", "Established outbound peer connections lost.", disconnects);
  out.add("peer_inbound_accepted", "Inbound peer connections accepted.", inbound_accepted);
  out.add("peer_inbound_closed", "Inbound peer connections closed.", inbound_closed);
  out.add("peer_inbound_refused", "Inbound peer connections refused at their bound.",
          inbound_refused);
  out.add("peer_handshakes_accepted", "Inbound peers that proved they hold the cluster secret.",
          handshakes_accepted);
  out.add("peer_handshakes_refused",
          "Inbound peer connections refused by the handshake (no or wrong secret, bad or "
          "late messages): closed before any frame.",
          handshakes_refused);
  out.add("peer_handshakes_failed",
          "Outbound peer handshakes that failed (refused, or the peer did not prove the secret).",
          handshakes_failed);
  out.add("peer_handshake_timeouts", "Peer handshakes not finished within their timeout.",
          handshake_timeouts);
  out.add("peer_frames_dropped_wrong_sender",
          "Frames dropped: their sender is not the node the connection authenticated as.",
          frames_dropped_wrong_sender);
  out.add("peer_tls_handshakes_failed",
          "Dialed peer connections whose TLS handshake failed (certificate, name, timeout).",
          tls_handshakes_failed);
  out.add("peer_tls_handshakes_refused",
          "Accepted peer connections whose TLS handshake failed (no TLS, no or a bad "
          "certificate, timeout).",
          tls_handshakes_refused);
}

void PeerTransport::Impl::close() {
  if (closed) return;
  stop_accepting();
  closed = true;
  for (auto& [id, peer] : peers) {
    drop_connection(peer);
    peer.backoff_timer.cancel();
    peer.delay_timer.cancel();
    peer.delayed.clear();
    peer.queue.clear();
    peer.queued_bytes = 0;
  }
  for (auto& [id, connection] : inbound) {
    error_code ignored;
    connection->stream.close();
    connection->handshake_timer.cancel();
  }
  inbound.clear();
}

PeerTransport::PeerTransport(asio::io_context& io, PeerTransportOptions options,
                             EnvelopeHandler on_envelope)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(on_envelope))) {}

PeerTransport::~PeerTransport() {
  impl_->close();
}

core::Result<config::Address> PeerTransport::listen(const config::Address& address) {
  return impl_->listen(address);
}

void PeerTransport::set_peer_address(const core::NodeId& peer, const config::Address& address) {
  impl_->set_peer_address(peer, address);
}

bool PeerTransport::knows_peer(const core::NodeId& peer) const {
  return impl_->peers.count(peer) != 0;
}

void PeerTransport::send(const core::Envelope& envelope) {
  impl_->send(envelope);
}

void PeerTransport::stop_accepting() {
  impl_->stop_accepting();
}

void PeerTransport::close() {
  impl_->close();
}

std::vector<PeerConnectionStatus> PeerTransport::connections() const {
  std::vector<PeerConnectionStatus> rows;
  rows.reserve(impl_->peers.size());
  for (const auto& [id, peer] : impl_->peers) {
    rows.push_back(PeerConnectionStatus{id, config::format_address(peer.address), peer.state,
                                        peer.queued_bytes});
  }
  return rows;
}

const PeerTransportCounters& PeerTransport::counters() const {
  return impl_->counters;
}

std::size_t PeerTransport::inbound_connection_count() const {
  return impl_->inbound.size();
}

}  // namespace vigil::net
