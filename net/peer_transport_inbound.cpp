// PeerTransport, the inbound side: listening, accepting peer connections, reading them and
// cutting the bytes into frames (the shared state is in peer_transport_impl.h).
//
// Inbound: every accepted connection is read into a buffer; whole frames are cut with
// frame_size() (which validates the header before trusting its length) and decoded with
// decode_frame() (checksum, then payload). The first bad frame closes the connection: the
// stream cannot be resynchronised after it, and a peer that sent it is broken or hostile.

#include <fmt/format.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "core/wire/codec.h"
#include "net/peer_transport_impl.h"

namespace vigil::net {

using boost::system::error_code;
using peer_transport_detail::InboundConnection;

namespace {

constexpr auto accept_retry_delay = std::chrono::milliseconds(100);

std::string describe(const tcp::endpoint& endpoint) {
  return config::format_address(config::Address{endpoint.address().to_string(), endpoint.port()});
}

}  // namespace

core::Result<config::Address> PeerTransport::Impl::listen(const config::Address& address) {
  const std::string where = config::format_address(address);
  error_code error;
  tcp::resolver resolver(io);
  const auto results = resolver.resolve(address.host, std::to_string(address.port), error);
  if (error || results.empty()) {
    return core::error(core::Code::io_error, "cannot resolve the listen address " + where + ": " +
                                                 (error ? error.message() : "no address"));
  }
  const tcp::endpoint endpoint = results.begin()->endpoint();
  acceptor.open(endpoint.protocol(), error);
  if (!error) acceptor.set_option(tcp::acceptor::reuse_address(true), error);
  if (!error) acceptor.bind(endpoint, error);
  if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    error_code ignored;
    acceptor.close(ignored);
    return core::error(core::Code::io_error, "cannot listen on " + where + ": " + error.message());
  }
  const tcp::endpoint bound = acceptor.local_endpoint(error);
  accepting = true;
  accept_next();
  return config::Address{bound.address().to_string(), bound.port()};
}

void PeerTransport::Impl::accept_next() {
  auto self = shared_from_this();
  acceptor.async_accept([self](const error_code& error, tcp::socket socket) {
    if (self->closed || !self->accepting) return;
    if (error) {
      // EMFILE and the like: wait a little instead of spinning on the failing accept.
      self->log(LogLevel::error, "peer_accept_failed", {{"error", error.message()}},
                "accepting a peer connection failed: " + error.message());
      self->accept_retry_timer.expires_after(accept_retry_delay);
      self->accept_retry_timer.async_wait([self](const error_code& e) {
        if (!e && !self->closed && self->accepting) self->accept_next();
      });
      return;
    }
    self->accepted(std::move(socket));
    self->accept_next();
  });
}

void PeerTransport::Impl::accepted(tcp::socket socket) {
  error_code error;
  const tcp::endpoint remote = socket.remote_endpoint(error);
  const std::string remote_text = error ? "(unknown)" : describe(remote);
  if (inbound.size() >= options.inbound_connections_max) {
    ++counters.inbound_refused;
    log(LogLevel::warning, "peer_connection_refused",
        {{"remote", remote_text}, {"open", inbound.size()}},
        fmt::format("refusing a peer connection from {}: {} open (inbound_connections_max)",
                    remote_text, inbound.size()));
    socket.close(error);
    return;
  }
  Stream stream = options.tls_accept ? Stream(std::move(socket), *options.tls_accept)
                                     : Stream(std::move(socket));
  auto connection = std::make_shared<InboundConnection>(std::move(stream));
  connection->remote = remote_text;
  const std::uint64_t id = next_inbound_id++;
  inbound.emplace(id, connection);
  ++counters.inbound_accepted;
  log(LogLevel::info, "peer_connection_accepted", {{"remote", connection->remote}},
      "accepted a peer connection from " + connection->remote);
  auto self = shared_from_this();
  connection->stream.handshake_within(
      ssl::stream_base::server, options.tls_handshake_timeout,
      [self, id, connection](const error_code& tls_error) {
        if (!self->inbound_current(id, connection)) return;
        if (tls_error) {
          // Not TLS, no certificate, one the CA did not sign, or too slow: nothing it
          // sent reached the HMAC handshake or a frame.
          ++self->counters.tls_handshakes_refused;
          self->log(LogLevel::warning, "peer_tls_refused",
                    {{"remote", connection->remote}, {"reason", tls_error.message()}},
                    fmt::format("refusing the peer connection from {}: TLS handshake: {}",
                                connection->remote, tls_error.message()));
          self->close_inbound(id, "TLS handshake: " + tls_error.message());
          return;
        }
        self->start_inbound(id, connection);
      });
}

void PeerTransport::Impl::start_inbound(std::uint64_t id,
                                        const std::shared_ptr<InboundConnection>& connection) {
  if (!options.cluster_secrets.empty()) start_inbound_handshake(id, connection);
  read_inbound(id, connection);
}

bool PeerTransport::Impl::inbound_current(std::uint64_t id,
                                          const std::shared_ptr<InboundConnection>& connection) {
  if (closed) return false;
  const auto it = inbound.find(id);
  return it != inbound.end() && it->second == connection;
}

void PeerTransport::Impl::read_inbound(std::uint64_t id,
                                       const std::shared_ptr<InboundConnection>& connection) {
  auto self = shared_from_this();
  connection->stream.async_read_some(asio::buffer(connection->chunk), [self, id, connection](
                                                                          const error_code& error,
                                                                          std::size_t bytes) {
    if (!self->inbound_current(id, connection)) return;
    if (error) {
      if (connection->handshake &&
          connection->handshake->state() == PeerHandshake::State::in_progress) {
        ++self->counters.handshakes_refused;  // it left before proving anything
      }
      self->close_inbound(id, error == asio::error::eof ? "closed by the peer" : error.message());
      return;
    }
    self->counters.bytes_received += bytes;
    std::string_view received(connection->chunk.data(), bytes);
    if (connection->handshake &&
        connection->handshake->state() == PeerHandshake::State::in_progress) {
      // The handshake takes its bytes first; the dialer's first frames may follow them.
      const std::optional<std::size_t> taken =
          self->handle_inbound_handshake(id, connection, received);
      if (!taken) return;  // refused: the verdict is written, then the connection closed
      received.remove_prefix(*taken);
    }
    connection->buffer.append(received);
    if (self->cut_frames(id, connection)) self->read_inbound(id, connection);
  });
}

// Delivers every whole frame in the buffer. False when the connection was closed (a bad
// frame, or the transport closed by the handler).
bool PeerTransport::Impl::cut_frames(std::uint64_t id,
                                     const std::shared_ptr<InboundConnection>& connection) {
  std::string& buffer = connection->buffer;
  while (buffer.size() - connection->consumed >= core::frame_header_bytes) {
    const std::string_view rest = std::string_view(buffer).substr(connection->consumed);
    const core::Result<std::size_t> size = core::frame_size(rest);
    if (!size.ok()) return bad_frame(id, size.status(), rest);
    if (rest.size() < *size) break;
    core::Result<core::Envelope> envelope = core::decode_frame(rest.substr(0, *size));
    if (!envelope.ok()) return bad_frame(id, envelope.status(), rest);
    connection->consumed += *size;
    ++counters.frames_received;
    // An authenticated peer speaks only for itself: a frame claiming another sender is a
    // bug or a forgery, dropped (the connection stays: its other frames are genuine).
    if (!connection->peer.empty() && envelope->from != connection->peer) {
      ++counters.frames_dropped_wrong_sender;
      if (!connection->wrong_sender_logged) {
        connection->wrong_sender_logged = true;
        log(LogLevel::warning, "peer_frame_wrong_sender",
            {{"peer", connection->peer}, {"from", envelope->from}, {"remote", connection->remote}},
            fmt::format("dropping frames from {} claiming to be from {}: the connection "
                        "authenticated as {} (logged once per connection)",
                        connection->remote, envelope->from, connection->peer));
      }
      continue;
    }
    // A fault filter's drop (net/fault_filter.h) leaves the connection up, as a firewall's.
    if (options.fault_filter && options.fault_filter->drop_inbound(envelope->from)) continue;
    on_envelope(std::move(envelope).value());
    if (!inbound_current(id, connection)) return false;
  }
  buffer.erase(0, connection->consumed);
  connection->consumed = 0;
  return true;
}

bool PeerTransport::Impl::bad_frame(std::uint64_t id, const core::Status& status,
                                    std::string_view rest) {
  ++counters.frames_bad;
  if (rest.substr(0, 3) == "VHS") {
    // peer_handshake.h's magic: the dialer authenticates, this node has no secret.
    close_inbound(id,
                  "the peer began a handshake but this node has no "
                  "security.cluster_secret_file (configure the same secret on every node)");
    return false;
  }
  close_inbound(id, "bad frame: " + status.to_string());
  return false;
}

void PeerTransport::Impl::close_inbound(std::uint64_t id, const std::string& reason) {
  const auto it = inbound.find(id);
  if (it == inbound.end()) return;
  it->second->stream.close();
  it->second->handshake_timer.cancel();
  log(LogLevel::info, "peer_connection_closed", {{"remote", it->second->remote}, {"reason", reason}},
      fmt::format("peer connection from {} closed: {}", it->second->remote, reason));
  inbound.erase(it);
  ++counters.inbound_closed;
}

void PeerTransport::Impl::stop_accepting() {
  accepting = false;
  error_code ignored;
  acceptor.close(ignored);
  accept_retry_timer.cancel();
}

}  // namespace vigil::net
