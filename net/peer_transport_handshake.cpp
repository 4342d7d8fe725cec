// PeerTransport, the handshake on both sides of a connection (net/peer_handshake.h runs the
// protocol; this file moves its bytes and bounds it in time). Only when the transport has
// cluster secrets.
//
// Outbound: once TCP is up the peer stays `connecting` while the handshake runs; its queue
// waits. Accepted: authenticated() marks it connected and the queued frames go. Refused,
// closed or late: the same path as a failed dial (counted, logged once per outage,
// backoff), so a peer with another secret costs one short exchange per backoff period.
//
// Inbound: read bytes go to the handshake until it decides. Accepted: the connection
// remembers the node id it proved, and bytes after the handshake are frames. Refused: the
// verdict (one byte saying why, so the operator of the other node sees the reason in its
// log) is written and the connection closed; nothing it sent reaches on_envelope. One
// timer bounds the whole exchange, the verdict's write included, so a silent or slow
// peer holds a connection slot for at most handshake_timeout.

#include <fmt/format.h>
#include <openssl/rand.h>

#include <boost/asio/write.hpp>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "core/assert.h"
#include "net/peer_transport_impl.h"

namespace vigil::net {

using boost::system::error_code;
using peer_transport_detail::InboundConnection;
using peer_transport_detail::OutboundConnection;
using peer_transport_detail::Peer;

namespace {

// A fresh nonce per connection from OpenSSL's generator (net/ owns the randomness; the
// handshake itself takes the nonce as an input).
peer_handshake::Nonce fresh_nonce() {
  peer_handshake::Nonce nonce{};
  VIGIL_ASSERT(RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) == 1,
               "RAND_bytes failed: no nonce for a peer handshake");
  return nonce;
}

}  // namespace

// --- outbound ---------------------------------------------------------------------------

void PeerTransport::Impl::start_handshake(Peer& peer) {
  const std::shared_ptr<OutboundConnection> connection = peer.connection;
  PeerHandshake::Options handshake_options;
  handshake_options.role = PeerHandshake::Role::dialer;
  handshake_options.self = options.self;
  handshake_options.secrets = options.cluster_secrets;
  handshake_options.nonce = fresh_nonce();
  handshake_options.expected_peer = peer.id;
  connection->handshake = std::make_unique<PeerHandshake>(std::move(handshake_options));
  const core::NodeId id = peer.id;
  auto self = shared_from_this();
  connection->connect_timer.expires_after(options.handshake_timeout);
  connection->connect_timer.async_wait([self, id, connection](const error_code& error) {
    Peer* p = self->current(id, connection);
    if (error || p == nullptr || !connection->handshake) return;
    ++self->counters.handshake_timeouts;
    ++self->counters.handshakes_failed;
    self->dial_failed(*p, "handshake timed out");
  });
  write_handshake(peer);
  read_handshake(peer);
}

void PeerTransport::Impl::read_handshake(Peer& peer) {
  const std::shared_ptr<OutboundConnection> connection = peer.connection;
  const core::NodeId id = peer.id;
  auto self = shared_from_this();
  connection->stream.async_read_some(
      asio::buffer(connection->sink),
      [self, id, connection](const error_code& error, std::size_t bytes) {
        Peer* p = self->current(id, connection);
        if (p == nullptr || !connection->handshake) return;
        PeerHandshake& handshake = *connection->handshake;
        if (error) {
          handshake.handle_closed();
        } else {
          self->counters.bytes_received += bytes;
          handshake.handle_bytes(std::string_view(connection->sink.data(), bytes));
        }
        if (handshake.state() == PeerHandshake::State::refused) {
          ++self->counters.handshakes_failed;
          self->dial_failed(*p, "handshake: " + handshake.refusal_reason());
          return;
        }
        self->write_handshake(*p);
        if (handshake.state() == PeerHandshake::State::in_progress) {
          self->read_handshake(*p);
          return;
        }
        // Accepted. The acceptor writes nothing after its verdict, so no byte is left over.
        connection->handshake.reset();
        connection->connect_timer.cancel();
        self->log(LogLevel::info, "peer_authenticated", {{"peer", id}},
                  fmt::format("peer {} accepted this node's proof and proved its own", id));
        self->authenticated(*p);
      });
}

void PeerTransport::Impl::write_handshake(Peer& peer) {
  const std::shared_ptr<OutboundConnection> connection = peer.connection;
  if (connection->handshake) connection->handshake_out += connection->handshake->poll_output();
  if (!connection->handshake_writing.empty() || connection->handshake_out.empty()) return;
  connection->handshake_writing = std::exchange(connection->handshake_out, std::string());
  const core::NodeId id = peer.id;
  auto self = shared_from_this();
  asio::async_write(connection->stream, asio::buffer(connection->handshake_writing),
                    [self, id, connection](const error_code& error, std::size_t bytes) {
                      Peer* p = self->current(id, connection);
                      if (p == nullptr) return;
                      connection->handshake_writing.clear();
                      if (error) {
                        if (connection->handshake) ++self->counters.handshakes_failed;
                        self->dial_failed(*p, "handshake: " + error.message());
                        return;
                      }
                      self->counters.bytes_sent += bytes;
                      if (connection->handshake) {
                        self->write_handshake(*p);
                      } else {
                        self->write_next(*p);  // accepted while the proof's write finished
                      }
                    });
}

// --- inbound ----------------------------------------------------------------------------

void PeerTransport::Impl::start_inbound_handshake(
    std::uint64_t id, const std::shared_ptr<InboundConnection>& connection) {
  PeerHandshake::Options handshake_options;
  handshake_options.role = PeerHandshake::Role::acceptor;
  handshake_options.self = options.self;
  handshake_options.secrets = options.cluster_secrets;
  handshake_options.nonce = fresh_nonce();
  connection->handshake = std::make_unique<PeerHandshake>(std::move(handshake_options));
  auto self = shared_from_this();
  connection->handshake_timer.expires_after(options.handshake_timeout);
  connection->handshake_timer.async_wait([self, id, connection](const error_code& error) {
    if (error || !self->inbound_current(id, connection) || !connection->handshake) return;
    const bool deciding = connection->handshake->state() == PeerHandshake::State::in_progress;
    if (deciding) {
      // Counted here; a refusal already decided was counted when it was made.
      ++self->counters.handshake_timeouts;
      ++self->counters.handshakes_refused;
      self->log(LogLevel::warning, "peer_handshake_refused",
                {{"remote", connection->remote}, {"reason", "timed_out"}},
                fmt::format("refusing the peer connection from {}: the handshake did not "
                            "finish in {} ms",
                            connection->remote,
                            core::to_micros(self->options.handshake_timeout) / 1000));
    }
    self->close_inbound(id, deciding ? "handshake timed out" : "handshake refused");
  });
}

std::optional<std::size_t> PeerTransport::Impl::handle_inbound_handshake(
    std::uint64_t id, const std::shared_ptr<InboundConnection>& connection,
    std::string_view bytes) {
  PeerHandshake& handshake = *connection->handshake;
  const std::size_t taken = handshake.handle_bytes(bytes);
  write_inbound_handshake(id, connection);
  switch (handshake.state()) {
    case PeerHandshake::State::in_progress:
      return taken;
    case PeerHandshake::State::refused:
      ++counters.handshakes_refused;
      log(LogLevel::warning, "peer_handshake_refused",
          {{"remote", connection->remote},
           {"reason", peer_handshake::refusal_name(handshake.refusal())}},
          fmt::format("refusing the peer connection from {}: {}", connection->remote,
                      handshake.refusal_reason()));
      // The connection closes once the verdict is written (or at the timer).
      return std::nullopt;
    case PeerHandshake::State::authenticated:
      break;
  }
  connection->peer = handshake.peer_id();
  ++counters.handshakes_accepted;
  log(LogLevel::info, "peer_authenticated", {{"peer", connection->peer}, {"remote", connection->remote}},
      fmt::format("peer connection from {} authenticated as {}", connection->remote,
                  connection->peer));
  // The handshake object goes once its verdict is written (write_inbound_handshake).
  connection->handshake_timer.cancel();
  return taken;
}

void PeerTransport::Impl::write_inbound_handshake(
    std::uint64_t id, const std::shared_ptr<InboundConnection>& connection) {
  if (connection->handshake) connection->handshake_out += connection->handshake->poll_output();
  if (!connection->handshake_writing.empty()) return;
  if (connection->handshake_out.empty()) {
    // Everything written: a refused peer is closed now, an accepted one drops the machine.
    if (connection->handshake &&
        connection->handshake->state() == PeerHandshake::State::refused) {
      close_inbound(id, "handshake refused");
    } else if (connection->handshake &&
               connection->handshake->state() == PeerHandshake::State::authenticated) {
      connection->handshake.reset();
    }
    return;
  }
  connection->handshake_writing = std::exchange(connection->handshake_out, std::string());
  auto self = shared_from_this();
  asio::async_write(connection->stream, asio::buffer(connection->handshake_writing),
                    [self, id, connection](const error_code& error, std::size_t bytes) {
                      if (!self->inbound_current(id, connection)) return;
                      connection->handshake_writing.clear();
                      if (error) {
                        self->close_inbound(id, "handshake write failed: " + error.message());
                        return;
                      }
                      self->counters.bytes_sent += bytes;
                      self->write_inbound_handshake(id, connection);
                    });
}

}  // namespace vigil::net
