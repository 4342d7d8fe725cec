// PeerTransport, the outbound side: dialing, the per-peer send queues, batched writes and
// reconnect backoff (the shared state is in peer_transport_impl.h).
//
// Outbound (one per peer this node sends to): a queue of encoded frames and at most one TCP
// connection. send() appends to the queue (bounded in bytes, frames in flight included)
// and dials on demand; a connected peer has at most one async_write in progress, which
// gathers up to write_batch_frames_max queued frames into one system call (Nagle is off:
// the batch, not the kernel, coalesces). send() does not write at once: it posts the
// write to the end of the loop turn, so that every frame the node emits for a peer in one
// turn (a batch's outputs) leaves in one gathered write rather than the first alone and
// the rest after it (peer_frames_sent / peer_writes shows the frames per write). The write side of a connection is never read by
// the peer's application, so we read from it only to learn promptly that it closed.
// Failures go through backoff (header) and redial while frames wait; a peer with nothing
// queued stays disconnected until the next send. Like Cassandra's OutboundConnection, a
// queue outlives its connections: what was queued but not yet written survives a
// reconnect; what was being written when the connection broke is dropped and counted (it
// may or may not have arrived; the node's retries and duplicate detection cover both).

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/wire/codec.h"
#include "net/peer_transport_impl.h"

namespace vigil::net {

using boost::system::error_code;
using peer_transport_detail::OutboundConnection;
using peer_transport_detail::Peer;

namespace {

constexpr std::size_t write_batch_frames_max = 64;
constexpr std::size_t write_batch_bytes_max = 1024 * 1024;

}  // namespace

Peer* PeerTransport::Impl::current(const core::NodeId& id,
                                   const std::shared_ptr<OutboundConnection>& connection) {
  if (closed) return nullptr;
  const auto it = peers.find(id);
  if (it == peers.end() || it->second.connection != connection) return nullptr;
  return &it->second;
}

void PeerTransport::Impl::send(const core::Envelope& envelope) {
  if (closed) return;
  const auto it = peers.find(envelope.to);
  if (it == peers.end()) {
    ++counters.frames_dropped_no_address;
    return;
  }
  const FaultFilter::Verdict verdict = options.fault_filter
                                           ? options.fault_filter->outbound(envelope.to)
                                           : FaultFilter::Verdict::deliver;
  if (verdict == FaultFilter::Verdict::drop) return;  // counted by the filter
  core::Result<std::string> frame = core::encode_frame(envelope);
  if (!frame.ok()) {
    ++counters.frames_dropped_unencodable;
    log(LogLevel::error, "peer_frame_dropped",
        {{"peer", envelope.to}, {"error", frame.status().to_string()}},
        fmt::format("dropping a frame to {}: {}", envelope.to, frame.status().to_string()));
    return;
  }
  Peer& peer = it->second;
  if (peer.queued_bytes + frame->size() > options.send_queue_bytes_max) {
    ++counters.frames_dropped_queue_full;
    return;
  }
  peer.queued_bytes += frame->size();
  const core::Duration delay =
      options.fault_filter ? options.fault_filter->delay_to(envelope.to) : core::Duration{0};
  // Held when delayed, and behind frames still held (a shorter new delay never reorders).
  const bool held = delay.count() > 0 || !peer.delayed.empty();
  if (verdict == FaultFilter::Verdict::duplicate &&
      peer.queued_bytes + frame->size() <= options.send_queue_bytes_max) {
    peer.queued_bytes += frame->size();
    if (held) {
      hold(peer, *frame, delay);
    } else {
      peer.queue.push_back(*frame);
    }
  }
  if (held) {
    hold(peer, std::move(frame).value(), delay);
    return;
  }
  enqueue(peer, std::move(frame).value());
}

void PeerTransport::Impl::enqueue(Peer& peer, std::string frame) {
  peer.queue.push_back(std::move(frame));
  if (peer.state == PeerConnectionState::disconnected) {
    dial(peer);
  } else if (peer.state == PeerConnectionState::connected) {
    post_write(peer);
  }
}

void PeerTransport::Impl::hold(Peer& peer, std::string frame, core::Duration delay) {
  auto due = std::chrono::steady_clock::now() +
             std::chrono::duration_cast<std::chrono::steady_clock::duration>(delay);
  if (!peer.delayed.empty()) due = std::max(due, peer.delayed.back().first);
  peer.delayed.emplace_back(due, std::move(frame));
  options.fault_filter->count_delayed();
  arm_delay(peer);
}

void PeerTransport::Impl::arm_delay(Peer& peer) {
  if (peer.delay_armed || peer.delayed.empty()) return;
  peer.delay_armed = true;
  peer.delay_timer.expires_at(peer.delayed.front().first);
  const core::NodeId id = peer.id;
  auto self = shared_from_this();
  peer.delay_timer.async_wait([self, id](const error_code& error) {
    if (error || self->closed) return;
    const auto it = self->peers.find(id);
    if (it == self->peers.end()) return;
    Peer& p = it->second;
    p.delay_armed = false;
    const auto now = std::chrono::steady_clock::now();
    while (!p.delayed.empty() && p.delayed.front().first <= now) {
      std::string frame = std::move(p.delayed.front().second);
      p.delayed.pop_front();
      self->enqueue(p, std::move(frame));
    }
    self->arm_delay(p);
  });
}

void PeerTransport::Impl::post_write(Peer& peer) {
  if (peer.write_posted || !peer.connection || !peer.connection->writing.empty()) return;
  peer.write_posted = true;
  const core::NodeId id = peer.id;
  auto self = shared_from_this();
  asio::post(io, [self, id] {
    if (self->closed) return;
    const auto it = self->peers.find(id);
    if (it == self->peers.end()) return;
    it->second.write_posted = false;
    self->write_next(it->second);
  });
}

void PeerTransport::Impl::dial(Peer& peer) {
  auto connection = std::make_shared<OutboundConnection>(io, options.tls_dial.get());
  peer.connection = connection;
  peer.state = PeerConnectionState::connecting;
  const core::NodeId id = peer.id;
  auto self = shared_from_this();
  connection->connect_timer.expires_after(options.connect_timeout);
  connection->connect_timer.async_wait([self, id, connection](const error_code& error) {
    if (error || connection->connected || self->current(id, connection) == nullptr) return;
    // Cancelling makes the pending resolve or connect complete with operation_aborted,
    // whose handler takes the failure path.
    connection->resolver.cancel();
    connection->stream.close();
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
        asio::async_connect(connection->stream.socket(), results,
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

void PeerTransport::Impl::connected(Peer& peer) {
  OutboundConnection& connection = *peer.connection;
  connection.connected = true;
  connection.connect_timer.cancel();
  error_code ignored;
  connection.stream.socket().set_option(tcp::no_delay(true), ignored);
  if (!connection.stream.is_tls()) return secure(peer);
  // The acceptor must hold a certificate for the address this node dials, not merely one
  // the CA signed (net/tls_stream.cpp).
  if (!expect_peer_name(connection.stream, peer.address.host)) {
    ++counters.tls_handshakes_failed;
    return dial_failed(peer, "TLS: cannot check the peer's name " + peer.address.host);
  }
  const core::NodeId id = peer.id;
  const std::shared_ptr<OutboundConnection> current_connection = peer.connection;
  auto self = shared_from_this();
  connection.stream.handshake_within(
      ssl::stream_base::client, options.tls_handshake_timeout,
      [self, id, current_connection](const error_code& error) {
        Peer* p = self->current(id, current_connection);
        if (p == nullptr) return;
        if (error) {
          ++self->counters.tls_handshakes_failed;
          self->dial_failed(*p, "TLS handshake: " + error.message());
          return;
        }
        self->secure(*p);
      });
}

void PeerTransport::Impl::secure(Peer& peer) {
  if (options.cluster_secrets.empty()) {
    authenticated(peer);
  } else {
    start_handshake(peer);  // calls authenticated() once the peer accepted us
  }
}

void PeerTransport::Impl::authenticated(Peer& peer) {
  peer.state = PeerConnectionState::connected;
  peer.failures = 0;
  peer.failure_logged = false;
  ++counters.connects;
  const std::string address = config::format_address(peer.address);
  log(LogLevel::info, "peer_connected", {{"peer", peer.id}, {"address", address}},
      fmt::format("connected to peer {} at {}", peer.id, address));
  read_sink(peer);
  write_next(peer);
}

void PeerTransport::Impl::dial_failed(Peer& peer, const std::string& reason) {
  ++counters.connect_failures;
  if (!peer.failure_logged) {
    // One line per outage, not one per redial.
    const std::string address = config::format_address(peer.address);
    log(LogLevel::warning, "peer_connect_failed",
        {{"peer", peer.id}, {"address", address}, {"reason", reason}},
        fmt::format("cannot connect to peer {} at {}: {} (retrying with backoff)", peer.id,
                    address, reason));
    peer.failure_logged = true;
  }
  drop_connection(peer);
  enter_backoff(peer);
}

// Closes the peer's connection; what was being written on it is dropped and counted.
void PeerTransport::Impl::drop_connection(Peer& peer) {
  if (!peer.connection) return;
  OutboundConnection& connection = *peer.connection;
  counters.frames_dropped_disconnect += connection.writing.size();
  peer.queued_bytes -= connection.writing_bytes;
  connection.writing.clear();
  connection.writing_bytes = 0;
  connection.handshake.reset();
  connection.connect_timer.cancel();
  connection.resolver.cancel();
  connection.stream.close();
  peer.connection.reset();
  peer.state = PeerConnectionState::disconnected;
}

void PeerTransport::Impl::connection_lost(Peer& peer, const std::string& reason) {
  ++counters.disconnects;
  const std::string address = config::format_address(peer.address);
  log(LogLevel::warning, "peer_connection_lost",
      {{"peer", peer.id}, {"address", address}, {"reason", reason}},
      fmt::format("lost connection to peer {} at {}: {}", peer.id, address, reason));
  drop_connection(peer);
  enter_backoff(peer);
}

core::Duration PeerTransport::Impl::backoff_delay(std::uint32_t failures) {
  const double initial = static_cast<double>(core::to_micros(options.backoff_initial));
  const double max = static_cast<double>(core::to_micros(options.backoff_max));
  const double exponent = static_cast<double>(std::min<std::uint32_t>(failures, 64));
  const double delay = std::min(max, initial * std::pow(options.backoff_factor, exponent));
  const double jittered = delay / 2 + random.uniform_double() * delay / 2;
  return core::Duration{std::max<std::int64_t>(1, static_cast<std::int64_t>(jittered))};
}

void PeerTransport::Impl::enter_backoff(Peer& peer) {
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

void PeerTransport::Impl::write_next(Peer& peer) {
  if (peer.state != PeerConnectionState::connected || peer.queue.empty()) return;
  auto connection = peer.connection;
  if (!connection->writing.empty() || !connection->handshake_writing.empty()) return;
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
  asio::async_write(connection->stream, buffers,
                    [self, id, connection](const error_code& error, std::size_t bytes) {
                      Peer* p = self->current(id, connection);
                      if (p == nullptr) return;
                      if (error) {
                        self->connection_lost(*p, error.message());
                        return;
                      }
                      self->counters.frames_sent += connection->writing.size();
                      self->counters.writes += 1;
                      self->counters.bytes_sent += bytes;
                      p->queued_bytes -= connection->writing_bytes;
                      connection->writing.clear();
                      connection->writing_bytes = 0;
                      self->write_next(*p);
                    });
}

void PeerTransport::Impl::read_sink(Peer& peer) {
  auto connection = peer.connection;
  const core::NodeId id = peer.id;
  auto self = shared_from_this();
  connection->stream.async_read_some(
      asio::buffer(connection->sink), [self, id, connection](const error_code& error, std::size_t) {
        Peer* p = self->current(id, connection);
        if (p == nullptr) return;
        if (error) {
          self->connection_lost(*p,
                                error == asio::error::eof ? "closed by the peer" : error.message());
          return;
        }
        self->read_sink(*p);  // the peer never writes here; whatever it sends is ignored
      });
}

void PeerTransport::Impl::set_peer_address(const core::NodeId& id, const config::Address& address) {
  if (closed) return;
  auto [it, inserted] = peers.try_emplace(id, io);
  Peer& peer = it->second;
  if (inserted) {
    peer.id = id;
    peer.address = address;
    return;
  }
  if (peer.address == address) return;
  const std::string from = config::format_address(peer.address);
  const std::string to = config::format_address(address);
  log(LogLevel::info, "peer_address_changed", {{"peer", id}, {"address", to}, {"previous", from}},
      fmt::format("peer {} moves from {} to {}", id, from, to));
  peer.address = address;
  drop_connection(peer);
  ++peer.backoff_generation;
  peer.backoff_timer.cancel();
  peer.failures = 0;
  peer.failure_logged = false;
  if (!peer.queue.empty()) dial(peer);
}

}  // namespace vigil::net
