#pragma once
// Internal to PeerTransport (net/peer_transport*.cpp); include it nowhere else.
// net/peer_transport.h is the contract. This header holds the implementation state the
// transport's sources share: the per-peer outbound state, the inbound connections, and
// PeerTransport::Impl with its members.
//
// The transport is split by side:
//   peer_transport.cpp           the public wrapper, counters, close()
//   peer_transport_outbound.cpp  dialing, per-peer send queues, writes, reconnect backoff
//   peer_transport_inbound.cpp   listening, accepting, reading and cutting frames
//   peer_transport_handshake.cpp the peer handshake on both sides (net/peer_handshake.h)

#include <array>
#include <chrono>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/random.h"
#include "net/log.h"
#include "net/peer_transport.h"
#include "net/tls_stream.h"

namespace vigil::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace peer_transport_detail {

constexpr std::size_t read_chunk_bytes = 64 * 1024;

// One dialed TCP connection to a peer: the stream (TLS with security.tls.peer, whose
// handshake runs once TCP is up) and what is being written on it.
struct OutboundConnection {
  OutboundConnection(asio::io_context& io, ssl::context* tls)
      : stream(tls ? Stream(tcp::socket(io), *tls) : Stream(tcp::socket(io))),
        resolver(io),
        connect_timer(io) {}
  Stream stream;
  tcp::resolver resolver;
  asio::steady_timer connect_timer;
  bool connected = false;  // TCP is up (the handshake may still run)
  // While authenticating (cluster secrets configured): the handshake and its writes.
  std::unique_ptr<PeerHandshake> handshake;
  std::string handshake_out;      // produced, not yet being written
  std::string handshake_writing;  // being written
  std::vector<std::string> writing;  // the frames of the write in progress
  std::uint64_t writing_bytes = 0;
  std::array<char, 256> sink{};  // reads only detect the peer closing
};

struct Peer {
  explicit Peer(asio::io_context& io) : backoff_timer(io), delay_timer(io) {}
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
  bool write_posted = false;  // a write_next() is posted to the end of this loop turn
  // Frames a fault filter holds back (net/fault_filter.h), with when each is due; FIFO,
  // due times never decreasing. Counted in queued_bytes.
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> delayed;
  asio::steady_timer delay_timer;
  bool delay_armed = false;
};

struct InboundConnection {
  explicit InboundConnection(Stream s)
      : stream(std::move(s)), handshake_timer(stream.get_executor()), chunk(read_chunk_bytes) {}
  Stream stream;  // TLS with security.tls.peer
  asio::steady_timer handshake_timer;
  std::unique_ptr<PeerHandshake> handshake;  // while authenticating, and after a refusal
  std::string handshake_out;
  std::string handshake_writing;
  core::NodeId peer;  // the authenticated node id; empty without cluster secrets
  bool wrong_sender_logged = false;
  std::string remote;
  std::string buffer;  // received bytes not yet cut into frames, from `consumed` on
  std::size_t consumed = 0;
  std::vector<char> chunk;
};

}  // namespace peer_transport_detail

struct PeerTransport::Impl : std::enable_shared_from_this<Impl> {
  using OutboundConnection = peer_transport_detail::OutboundConnection;
  using Peer = peer_transport_detail::Peer;
  using InboundConnection = peer_transport_detail::InboundConnection;

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

  void log(LogLevel level, std::string_view event, const nlohmann::ordered_json& fields,
           std::string_view message) const {
    log_event(options.self, level, event, fields, message);
  }

  // --- outbound (peer_transport_outbound.cpp) --------------------------------------------

  // The peer `id` while `connection` is still its current one; nullptr for a stale handler.
  Peer* current(const core::NodeId& id, const std::shared_ptr<OutboundConnection>& connection);
  void send(const core::Envelope& envelope);
  void dial(Peer& peer);
  void connected(Peer& peer);
  // TLS is up (or not used): the cluster-secret handshake, or straight to authenticated().
  void secure(Peer& peer);
  void dial_failed(Peer& peer, const std::string& reason);
  // The connection may carry frames: TCP is up and, with secrets, the handshake passed.
  void authenticated(Peer& peer);
  // Outbound handshake (peer_transport_handshake.cpp).
  void start_handshake(Peer& peer);
  void read_handshake(Peer& peer);
  void write_handshake(Peer& peer);
  // Closes the peer's connection; what was being written on it is dropped and counted.
  void drop_connection(Peer& peer);
  void connection_lost(Peer& peer, const std::string& reason);
  core::Duration backoff_delay(std::uint32_t failures);
  void enter_backoff(Peer& peer);
  void write_next(Peer& peer);
  // Appends a frame to the peer's queue and gets it going (dial, or a write).
  void enqueue(Peer& peer, std::string frame);
  // Holds a frame until `delay` has passed (a fault filter's delay_to_us).
  void hold(Peer& peer, std::string frame, core::Duration delay);
  void arm_delay(Peer& peer);
  // write_next() at the end of this loop turn, once (frames sent in the turn share it).
  void post_write(Peer& peer);
  void read_sink(Peer& peer);
  void set_peer_address(const core::NodeId& id, const config::Address& address);

  // --- inbound (peer_transport_inbound.cpp) ----------------------------------------------

  core::Result<config::Address> listen(const config::Address& address);
  void accept_next();
  void accepted(tcp::socket socket);
  // The accepted connection's TLS handshake passed (or TLS is off): the secret's, then frames.
  void start_inbound(std::uint64_t id, const std::shared_ptr<InboundConnection>& connection);
  bool inbound_current(std::uint64_t id, const std::shared_ptr<InboundConnection>& connection);
  void read_inbound(std::uint64_t id, const std::shared_ptr<InboundConnection>& connection);
  // Delivers every whole frame in the buffer. False when the connection was closed (a bad
  // frame, or the transport closed by the handler).
  bool cut_frames(std::uint64_t id, const std::shared_ptr<InboundConnection>& connection);
  bool bad_frame(std::uint64_t id, const core::Status& status, std::string_view rest);
  // Inbound handshake (peer_transport_handshake.cpp). handle_inbound_handshake takes the
  // bytes just read and returns how many were the handshake's (the rest are frames), or
  // nullopt when it refused the peer: the caller stops reading.
  void start_inbound_handshake(std::uint64_t id,
                               const std::shared_ptr<InboundConnection>& connection);
  std::optional<std::size_t> handle_inbound_handshake(std::uint64_t id,
                                const std::shared_ptr<InboundConnection>& connection,
                                std::string_view bytes);
  void write_inbound_handshake(std::uint64_t id,
                               const std::shared_ptr<InboundConnection>& connection);
  void close_inbound(std::uint64_t id, const std::string& reason);
  void stop_accepting();

  // --- lifetime (peer_transport.cpp) -----------------------------------------------------

  void close();
};

}  // namespace vigil::net
