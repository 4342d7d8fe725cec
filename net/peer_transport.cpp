// PeerTransport: theory of operation.
//
// Outbound (one per peer this node sends to): a queue of encoded frames and at most one TCP
// connection. send() appends to the queue (bounded in bytes, frames in flight included)
// and dials on demand; a connected peer has at most one async_write in progress, which
// gathers up to write_batch_frames_max queued frames into one system call (Nagle is off:
// the batch, not the kernel, coalesces). The write side of a connection is never read by
// the peer's application, so we read from it only to learn promptly that it closed.
// Failures go through backoff (header) and redial while frames wait; a peer with nothing
// queued stays disconnected until the next send. Like Cassandra's OutboundConnection, a
// queue outlives its connections: what was queued but not yet written survives a
// reconnect; what was being written when the connection broke is dropped and counted (it
// may or may not have arrived; the node's retries and duplicate detection cover both).
//
// Inbound: every accepted connection is read into a buffer; whole frames are cut with
// frame_size() (which validates the header before trusting its length) and decoded with
// decode_frame() (checksum, then payload). The first bad frame closes the connection: the
// stream cannot be resynchronised after it, and a peer that sent it is broken or hostile.
//
// Every asynchronous handler holds the Impl alive (shared_from_this) and first checks that
// the transport is open and that the connection it belongs to is still the current one;
// a stale handler (a connection already replaced or dropped) does nothing. Everything runs
// on the io_context's one thread, so there is no locking.

#include "net/peer_transport.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cmath>
#include <deque>
#include <map>
#include <utility>

#include "core/wire/codec.h"
#include "core/random.h"
#include "net/log.h"

namespace vigil::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr std::size_t write_batch_frames_max = 64;
constexpr std::size_t write_batch_bytes_max = 1024 * 1024;
constexpr std::size_t read_chunk_bytes = 64 * 1024;
constexpr auto accept_retry_delay = std::chrono::milliseconds(100);

// One dialed TCP connection to a peer: the socket and what is being written on it.
struct OutboundConnection {
  explicit OutboundConnection(asio::io_context& io) : socket(io), resolver(io), connect_timer(io) {}
  tcp::socket socket;
  tcp::resolver resolver;
  asio::steady_timer connect_timer;
  bool connected = false;
  std::vector<std::string> writing;  // the frames of the write in progress
  std::uint64_t writing_bytes = 0;
  std::array<char, 256> sink{};  // reads only detect the peer closing
};

struct Peer {
  explicit Peer(asio::io_context& io) : backoff_timer(io) {}
  core::NodeId id;
  config::Address address;
  PeerConnectionState state = PeerConnectionState::disconnected;
  std::deque<std::string> queue;
  std::uint64_t queued_bytes = 0;                  // queue and the write in progress
  std::shared_ptr<OutboundConnection> connection;  // while connecting or connected
  asio::steady_timer backoff_timer;
  std::uint64_t backoff_generation = 0;
  std::uint32_t failures = 0;  // consecutive failed dials since the last connection
  bool failure_logged = false;
};

struct InboundConnection {
  explicit InboundConnection(tcp::socket s) : socket(std::move(s)), chunk(read_chunk_bytes) {}
  tcp::socket socket;
  std::string remote;
  std::string buffer;  // received bytes not yet cut into frames, from `consumed` on
  std::size_t consumed = 0;
  std::vector<char> chunk;
};

std::string describe(const tcp::endpoint& endpoint) {
  return config::format_address(config::Address{endpoint.address().to_string(), endpoint.port()});
}

}  // namespace

void PeerTransportCounters::add_to(CounterSnapshot& out) const {
  out.add("peer_frames_sent", "Frames written whole to a peer's socket.", frames_sent);
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
}

struct PeerTransport::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& context, PeerTransportOptions transport_options, EnvelopeHandler handler)
      : io(context),
        options(std::move(transport_options)),
        on_envelope(std::move(handler)),
        random(options.seed),
        acceptor(context),
        accept_retry_timer(context) {}

  asio::io_context& io;
  PeerTransportOptions options;
  EnvelopeHandler on_envelope;
  core::Random random;
  tcp::acceptor acceptor;
  asio::steady_timer accept_retry_timer;
  bool accepting = false;
  bool closed = false;
  std::map<core::NodeId, Peer> peers;
  std::map<std::uint64_t, std::shared_ptr<InboundConnection>> inbound;
  std::uint64_t next_inbound_id = 1;
  PeerTransportCounters counters;

  void log(const std::string& message) const { log_line(options.self, message); }

  // --- outbound -------------------------------------------------------------------------

  Peer* current(const core::NodeId& id, const std::shared_ptr<OutboundConnection>& connection) {
    if (closed) return nullptr;
    const auto it = peers.find(id);
    if (it == peers.end() || it->second.connection != connection) return nullptr;
    return &it->second;
  }

  void send(const core::Envelope& envelope) {
    if (closed) return;
    const auto it = peers.find(envelope.to);
    if (it == peers.end()) {
      ++counters.frames_dropped_no_address;
      return;
    }
    core::Result<std::string> frame = core::encode_frame(envelope);
    if (!frame.ok()) {
      ++counters.frames_dropped_unencodable;
      log(fmt::format("dropping a frame to {}: {}", envelope.to, frame.status().to_string()));
      return;
    }
    Peer& peer = it->second;
    if (peer.queued_bytes + frame->size() > options.send_queue_bytes_max) {
      ++counters.frames_dropped_queue_full;
      return;
    }
    peer.queued_bytes += frame->size();
    peer.queue.push_back(std::move(frame).value());
    if (peer.state == PeerConnectionState::disconnected) {
      dial(peer);
    } else if (peer.state == PeerConnectionState::connected) {
      write_next(peer);
    }
  }

  void dial(Peer& peer) {
    auto connection = std::make_shared<OutboundConnection>(io);
    peer.connection = connection;
    peer.state = PeerConnectionState::connecting;
    const core::NodeId id = peer.id;
    auto self = shared_from_this();
    connection->connect_timer.expires_after(options.connect_timeout);
    connection->connect_timer.async_wait([self, id, connection](const error_code& error) {
      if (error || connection->connected || self->current(id, connection) == nullptr) return;
      // Cancelling makes the pending resolve or connect complete with operation_aborted,
      // whose handler takes the failure path.
      error_code ignored;
      connection->resolver.cancel();
      connection->socket.close(ignored);
    });
    connection->resolver.async_resolve(
        peer.address.host, std::to_string(peer.address.port),
        [self, id, connection](const error_code& error, tcp::resolver::results_type results) {
          Peer* p = self->current(id, connection);
          if (p == nullptr) return;
          if (error) {
            self->dial_failed(*p, error.message());
            return;
          }
          asio::async_connect(connection->socket, results,
                              [self, id, connection](const error_code& e, const tcp::endpoint&) {
                                Peer* q = self->current(id, connection);
                                if (q == nullptr) return;
                                if (e) {
                                  self->dial_failed(*q, e == asio::error::operation_aborted
                                                            ? "connect timed out"
                                                            : e.message());
                                  return;
                                }
                                self->connected(*q);
                              });
        });
  }

  void connected(Peer& peer) {
    OutboundConnection& connection = *peer.connection;
    connection.connected = true;
    connection.connect_timer.cancel();
    error_code ignored;
    connection.socket.set_option(tcp::no_delay(true), ignored);
    peer.state = PeerConnectionState::connected;
    peer.failures = 0;
    peer.failure_logged = false;
    ++counters.connects;
    log(fmt::format("connected to peer {} at {}", peer.id, config::format_address(peer.address)));
    read_sink(peer);
    write_next(peer);
  }

  void dial_failed(Peer& peer, const std::string& reason) {
    ++counters.connect_failures;
    if (!peer.failure_logged) {
      // One line per outage, not one per redial.
      log(fmt::format("cannot connect to peer {} at {}: {} (retrying with backoff)", peer.id,
                      config::format_address(peer.address), reason));
      peer.failure_logged = true;
    }
    drop_connection(peer);
    enter_backoff(peer);
  }

  // Closes the peer's connection; what was being written on it is dropped and counted.
  void drop_connection(Peer& peer) {
    if (!peer.connection) return;
    OutboundConnection& connection = *peer.connection;
    counters.frames_dropped_disconnect += connection.writing.size();
    peer.queued_bytes -= connection.writing_bytes;
    connection.writing.clear();
    connection.writing_bytes = 0;
    error_code ignored;
    connection.connect_timer.cancel();
    connection.resolver.cancel();
    connection.socket.close(ignored);
    peer.connection.reset();
    peer.state = PeerConnectionState::disconnected;
  }

  void connection_lost(Peer& peer, const std::string& reason) {
    ++counters.disconnects;
    log(fmt::format("lost connection to peer {} at {}: {}", peer.id,
                    config::format_address(peer.address), reason));
    drop_connection(peer);
    enter_backoff(peer);
  }

  core::Duration backoff_delay(std::uint32_t failures) {
    const double initial = static_cast<double>(core::to_micros(options.backoff_initial));
    const double max = static_cast<double>(core::to_micros(options.backoff_max));
    const double exponent = static_cast<double>(std::min<std::uint32_t>(failures, 64));
    const double delay = std::min(max, initial * std::pow(options.backoff_factor, exponent));
    const double jittered = delay / 2 + random.uniform_double() * delay / 2;
    return core::Duration{std::max<std::int64_t>(1, static_cast<std::int64_t>(jittered))};
  }

  void enter_backoff(Peer& peer) {
    peer.state = PeerConnectionState::backoff;
    const std::uint64_t generation = ++peer.backoff_generation;
    peer.backoff_timer.expires_after(backoff_delay(peer.failures));
    peer.failures += 1;
    const core::NodeId id = peer.id;
    auto self = shared_from_this();
    peer.backoff_timer.async_wait([self, id, generation](const error_code& error) {
      if (error || self->closed) return;
      const auto it = self->peers.find(id);
      if (it == self->peers.end()) return;
      Peer& p = it->second;
      if (p.backoff_generation != generation || p.state != PeerConnectionState::backoff) return;
      if (p.queue.empty()) {
        p.state = PeerConnectionState::disconnected;  // dial again on the next send
      } else {
        self->dial(p);
      }
    });
  }

  void write_next(Peer& peer) {
    if (peer.state != PeerConnectionState::connected || peer.queue.empty()) return;
    auto connection = peer.connection;
    if (!connection->writing.empty()) return;
    std::vector<asio::const_buffer> buffers;
    while (!peer.queue.empty() && connection->writing.size() < write_batch_frames_max &&
           (connection->writing.empty() ||
            connection->writing_bytes + peer.queue.front().size() <= write_batch_bytes_max)) {
      connection->writing_bytes += peer.queue.front().size();
      connection->writing.push_back(std::move(peer.queue.front()));
      peer.queue.pop_front();
    }
    buffers.reserve(connection->writing.size());
    for (const std::string& frame : connection->writing) buffers.push_back(asio::buffer(frame));
    const core::NodeId id = peer.id;
    auto self = shared_from_this();
    asio::async_write(connection->socket, buffers,
                      [self, id, connection](const error_code& error, std::size_t bytes) {
                        Peer* p = self->current(id, connection);
                        if (p == nullptr) return;
                        if (error) {
                          self->connection_lost(*p, error.message());
                          return;
                        }
                        self->counters.frames_sent += connection->writing.size();
                        self->counters.bytes_sent += bytes;
                        p->queued_bytes -= connection->writing_bytes;
                        connection->writing.clear();
                        connection->writing_bytes = 0;
                        self->write_next(*p);
                      });
  }

  void read_sink(Peer& peer) {
    auto connection = peer.connection;
    const core::NodeId id = peer.id;
    auto self = shared_from_this();
    connection->socket.async_read_some(
        asio::buffer(connection->sink),
        [self, id, connection](const error_code& error, std::size_t) {
          Peer* p = self->current(id, connection);
          if (p == nullptr) return;
          if (error) {
            self->connection_lost(
                *p, error == asio::error::eof ? "closed by the peer" : error.message());
            return;
          }
          self->read_sink(*p);  // the peer never writes here; whatever it sends is ignored
        });
  }

  void set_peer_address(const core::NodeId& id, const config::Address& address) {
    if (closed) return;
    auto [it, inserted] = peers.try_emplace(id, io);
    Peer& peer = it->second;
    if (inserted) {
      peer.id = id;
      peer.address = address;
      return;
    }
    if (peer.address == address) return;
    log(fmt::format("peer {} moves from {} to {}", id, config::format_address(peer.address),
                    config::format_address(address)));
    peer.address = address;
    drop_connection(peer);
    ++peer.backoff_generation;
    peer.backoff_timer.cancel();
    peer.failures = 0;
    peer.failure_logged = false;
    if (!peer.queue.empty()) dial(peer);
  }

  // --- inbound --------------------------------------------------------------------------

  core::Result<config::Address> listen(const config::Address& address) {
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
      return core::error(core::Code::io_error,
                         "cannot listen on " + where + ": " + error.message());
    }
    const tcp::endpoint bound = acceptor.local_endpoint(error);
    accepting = true;
    accept_next();
    return config::Address{bound.address().to_string(), bound.port()};
  }

  void accept_next() {
    auto self = shared_from_this();
    acceptor.async_accept([self](const error_code& error, tcp::socket socket) {
      if (self->closed || !self->accepting) return;
      if (error) {
        // EMFILE and the like: wait a little instead of spinning on the failing accept.
        self->log("accepting a peer connection failed: " + error.message());
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

  void accepted(tcp::socket socket) {
    error_code error;
    const tcp::endpoint remote = socket.remote_endpoint(error);
    const std::string remote_text = error ? "(unknown)" : describe(remote);
    if (inbound.size() >= options.inbound_connections_max) {
      ++counters.inbound_refused;
      log(fmt::format("refusing a peer connection from {}: {} open (inbound_connections_max)",
                      remote_text, inbound.size()));
      socket.close(error);
      return;
    }
    auto connection = std::make_shared<InboundConnection>(std::move(socket));
    connection->remote = remote_text;
    const std::uint64_t id = next_inbound_id++;
    inbound.emplace(id, connection);
    ++counters.inbound_accepted;
    log("accepted a peer connection from " + connection->remote);
    read_inbound(id, connection);
  }

  bool inbound_current(std::uint64_t id, const std::shared_ptr<InboundConnection>& connection) {
    if (closed) return false;
    const auto it = inbound.find(id);
    return it != inbound.end() && it->second == connection;
  }

  void read_inbound(std::uint64_t id, const std::shared_ptr<InboundConnection>& connection) {
    auto self = shared_from_this();
    connection->socket.async_read_some(asio::buffer(connection->chunk), [self, id, connection](
                                                                            const error_code& error,
                                                                            std::size_t bytes) {
      if (!self->inbound_current(id, connection)) return;
      if (error) {
        self->close_inbound(id, error == asio::error::eof ? "closed by the peer" : error.message());
        return;
      }
      self->counters.bytes_received += bytes;
      connection->buffer.append(connection->chunk.data(), bytes);
      if (self->cut_frames(id, connection)) self->read_inbound(id, connection);
    });
  }

  // Delivers every whole frame in the buffer. False when the connection was closed (a bad
  // frame, or the transport closed by the handler).
  bool cut_frames(std::uint64_t id, const std::shared_ptr<InboundConnection>& connection) {
    std::string& buffer = connection->buffer;
    while (buffer.size() - connection->consumed >= core::frame_header_bytes) {
      const std::string_view rest = std::string_view(buffer).substr(connection->consumed);
      const core::Result<std::size_t> size = core::frame_size(rest);
      if (!size.ok()) return bad_frame(id, size.status());
      if (rest.size() < *size) break;
      core::Result<core::Envelope> envelope = core::decode_frame(rest.substr(0, *size));
      if (!envelope.ok()) return bad_frame(id, envelope.status());
      connection->consumed += *size;
      ++counters.frames_received;
      on_envelope(std::move(envelope).value());
      if (!inbound_current(id, connection)) return false;
    }
    buffer.erase(0, connection->consumed);
    connection->consumed = 0;
    return true;
  }

  bool bad_frame(std::uint64_t id, const core::Status& status) {
    ++counters.frames_bad;
    close_inbound(id, "bad frame: " + status.to_string());
    return false;
  }

  void close_inbound(std::uint64_t id, const std::string& reason) {
    const auto it = inbound.find(id);
    if (it == inbound.end()) return;
    error_code ignored;
    it->second->socket.close(ignored);
    log(fmt::format("peer connection from {} closed: {}", it->second->remote, reason));
    inbound.erase(it);
    ++counters.inbound_closed;
  }

  void stop_accepting() {
    accepting = false;
    error_code ignored;
    acceptor.close(ignored);
    accept_retry_timer.cancel();
  }

  void close() {
    if (closed) return;
    stop_accepting();
    closed = true;
    for (auto& [id, peer] : peers) {
      drop_connection(peer);
      peer.backoff_timer.cancel();
      peer.queue.clear();
      peer.queued_bytes = 0;
    }
    for (auto& [id, connection] : inbound) {
      error_code ignored;
      connection->socket.close(ignored);
    }
    inbound.clear();
  }
};

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
