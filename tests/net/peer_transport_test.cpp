// PeerTransport over real loopback sockets, two (or three) transports in one io_context:
// frames arrive in order; a garbage, corrupted or oversized frame closes only its own
// connection and is counted; a dead peer's queue stays within its bound with the excess
// counted; a peer that comes back on the same port gets what was queued for it. Every
// port is chosen by the OS (port 0) and every wait is bounded.

#include "net/peer_transport.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/wire/codec.h"

namespace vigil::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr auto wait_max = std::chrono::seconds(10);

// Runs the loop until `done` holds or wait_max passes; returns whether it holds.
bool run_until(asio::io_context& io, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + wait_max;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.restart();
    io.run_for(std::chrono::milliseconds(5));
  }
  return true;
}

void run_for(asio::io_context& io, std::chrono::milliseconds duration) {
  io.restart();
  io.run_for(duration);
}

core::Envelope read_request(const std::string& from, const std::string& to,
                            std::uint64_t request_id) {
  return core::Envelope{from, to,
                        core::ReplicaRead{request_id, "key-" + std::to_string(request_id)}};
}

std::uint64_t request_id_of(const core::Envelope& envelope) {
  return std::get<core::ReplicaRead>(envelope.message).request_id;
}

// One transport and what it received.
struct Endpoint {
  Endpoint(asio::io_context& io, const std::string& id, PeerTransportOptions options = {}) {
    options.self = id;
    options.seed = 7;
    transport = std::make_unique<PeerTransport>(
        io, options, [this](core::Envelope envelope) { received.push_back(std::move(envelope)); });
  }
  config::Address listen(std::uint16_t port = 0) {
    core::Result<config::Address> bound = transport->listen(config::Address{"127.0.0.1", port});
    EXPECT_TRUE(bound.ok()) << bound.status().to_string();
    return bound.ok() ? *bound : config::Address{};
  }
  std::unique_ptr<PeerTransport> transport;
  std::vector<core::Envelope> received;
};

const PeerConnectionStatus* status_of(const PeerTransport& transport, const std::string& peer) {
  static std::vector<PeerConnectionStatus> rows;
  rows = transport.connections();
  for (const PeerConnectionStatus& row : rows) {
    if (row.peer == peer) return &row;
  }
  return nullptr;
}

// A port nothing listens on: bound by the OS, then released.
std::uint16_t closed_port(asio::io_context& io) {
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const std::uint16_t port = acceptor.local_endpoint().port();
  acceptor.close();
  return port;
}

TEST(PeerTransport, FramesArriveInOrder) {
  asio::io_context io;
  Endpoint a(io, "n1");
  Endpoint b(io, "n2");
  a.listen();
  const config::Address b_address = b.listen();
  a.transport->set_peer_address("n2", b_address);
  constexpr std::uint64_t count = 500;
  for (std::uint64_t i = 1; i <= count; ++i) a.transport->send(read_request("n1", "n2", i));
  ASSERT_TRUE(run_until(io, [&] { return b.received.size() == count; }));
  for (std::uint64_t i = 0; i < count; ++i) {
    EXPECT_EQ(request_id_of(b.received[i]), i + 1);
    EXPECT_EQ(b.received[i].from, "n1");
    EXPECT_EQ(b.received[i].to, "n2");
  }
  EXPECT_EQ(b.received[0], read_request("n1", "n2", 1));
  EXPECT_EQ(a.transport->counters().frames_sent, count);
  EXPECT_EQ(b.transport->counters().frames_received, count);
  EXPECT_EQ(a.transport->counters().connects, 1U);
  const PeerConnectionStatus* row = status_of(*a.transport, "n2");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->state, PeerConnectionState::connected);
  EXPECT_EQ(row->queued_bytes, 0U);
}

// Frames sent to a connected peer in one loop turn leave in one gathered write, not the
// first alone and the rest after it.
TEST(PeerTransport, FramesOfOneTurnShareOneWrite) {
  asio::io_context io;
  Endpoint a(io, "n1");
  Endpoint b(io, "n2");
  a.listen();
  a.transport->set_peer_address("n2", b.listen());
  a.transport->send(read_request("n1", "n2", 1));
  ASSERT_TRUE(run_until(io, [&] { return b.received.size() == 1; }));
  const std::uint64_t writes_before = a.transport->counters().writes;
  for (std::uint64_t i = 2; i <= 11; ++i) a.transport->send(read_request("n1", "n2", i));
  ASSERT_TRUE(run_until(io, [&] { return b.received.size() == 11; }));
  EXPECT_EQ(a.transport->counters().writes - writes_before, 1U);
  EXPECT_EQ(a.transport->counters().frames_sent, 11U);
  EXPECT_EQ(request_id_of(b.received[10]), 11U);
}

TEST(PeerTransport, UnknownPeerIsDroppedAndCounted) {
  asio::io_context io;
  Endpoint a(io, "n1");
  a.transport->send(read_request("n1", "n9", 1));
  EXPECT_EQ(a.transport->counters().frames_dropped_no_address, 1U);
  EXPECT_FALSE(a.transport->knows_peer("n9"));
}

// Sends `bytes` on a raw connection to `address` and waits until the transport closes it.
bool closed_after_sending(asio::io_context& io, const config::Address& address,
                          const std::string& bytes) {
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address(address.host), address.port));
  asio::write(socket, asio::buffer(bytes));
  bool closed = false;
  std::array<char, 16> sink{};
  socket.async_read_some(asio::buffer(sink), [&](const boost::system::error_code& error,
                                                 std::size_t) { closed = bool(error); });
  return run_until(io, [&] { return closed; });
}

TEST(PeerTransport, BadFramesCloseOnlyTheirConnection) {
  asio::io_context io;
  Endpoint a(io, "n1");
  Endpoint b(io, "n2");
  const config::Address b_address = b.listen();
  a.transport->set_peer_address("n2", b_address);
  a.transport->send(read_request("n1", "n2", 1));
  ASSERT_TRUE(run_until(io, [&] { return b.received.size() == 1; }));

  // Garbage: a bad magic.
  EXPECT_TRUE(closed_after_sending(io, b_address, std::string(64, 'x')));
  EXPECT_EQ(b.transport->counters().frames_bad, 1U);

  // A valid frame with one payload byte flipped: the checksum catches it.
  std::string frame = core::encode_frame(read_request("n3", "n2", 5)).value();
  frame[frame.size() - 1] = static_cast<char>(frame[frame.size() - 1] ^ 0x01);
  EXPECT_TRUE(closed_after_sending(io, b_address, frame));
  EXPECT_EQ(b.transport->counters().frames_bad, 2U);

  // A header announcing more than frame_size_bytes_max: refused before any allocation.
  std::string header = core::encode_frame(read_request("n3", "n2", 6)).value().substr(0, 16);
  header[4] = header[5] = header[6] = header[7] = static_cast<char>(0xff);
  EXPECT_TRUE(closed_after_sending(io, b_address, header));
  EXPECT_EQ(b.transport->counters().frames_bad, 3U);
  EXPECT_TRUE(b.received.size() == 1);  // none of them was delivered

  // n1's own connection was untouched: it still delivers, without reconnecting.
  a.transport->send(read_request("n1", "n2", 2));
  ASSERT_TRUE(run_until(io, [&] { return b.received.size() == 2; }));
  EXPECT_EQ(request_id_of(b.received[1]), 2U);
  EXPECT_EQ(a.transport->counters().connects, 1U);
  EXPECT_EQ(a.transport->counters().disconnects, 0U);
  EXPECT_EQ(b.transport->inbound_connection_count(), 1U);
}

TEST(PeerTransport, DeadPeerQueueStaysBoundedAndCountsDrops) {
  asio::io_context io;
  PeerTransportOptions options;
  options.send_queue_bytes_max = 4096;
  options.backoff_initial = std::chrono::milliseconds(5);
  options.backoff_max = std::chrono::milliseconds(20);
  Endpoint a(io, "n1", options);
  a.transport->set_peer_address("n2", config::Address{"127.0.0.1", closed_port(io)});
  const std::size_t frame_bytes = core::encode_frame(read_request("n1", "n2", 1000)).value().size();
  constexpr std::uint64_t count = 1000;
  for (std::uint64_t i = 1; i <= count; ++i) {
    a.transport->send(read_request("n1", "n2", 1000 + i % 9));  // same size every time
  }
  run_for(io, std::chrono::milliseconds(200));  // several failed dials and backoffs
  const PeerTransportCounters& counters = a.transport->counters();
  const PeerConnectionStatus* row = status_of(*a.transport, "n2");
  ASSERT_NE(row, nullptr);
  EXPECT_LE(row->queued_bytes, options.send_queue_bytes_max);
  const std::uint64_t queued_frames = row->queued_bytes / frame_bytes;
  EXPECT_EQ(queued_frames, options.send_queue_bytes_max / frame_bytes);
  EXPECT_EQ(counters.frames_dropped_queue_full + queued_frames, count);
  EXPECT_GE(counters.connect_failures, 2U);
  EXPECT_EQ(counters.connects, 0U);
  EXPECT_NE(row->state, PeerConnectionState::connected);
}

TEST(PeerTransport, ReconnectsWhenThePeerComesBack) {
  asio::io_context io;
  PeerTransportOptions options;
  options.backoff_initial = std::chrono::milliseconds(5);
  options.backoff_max = std::chrono::milliseconds(50);
  Endpoint a(io, "n1", options);
  auto b = std::make_unique<Endpoint>(io, "n2");
  const config::Address b_address = b->listen();
  a.transport->set_peer_address("n2", b_address);
  a.transport->send(read_request("n1", "n2", 1));
  ASSERT_TRUE(run_until(io, [&] { return b->received.size() == 1; }));

  b.reset();  // the peer goes away
  ASSERT_TRUE(run_until(io, [&] { return a.transport->counters().disconnects == 1; }));
  for (std::uint64_t i = 2; i <= 50; ++i) a.transport->send(read_request("n1", "n2", i));
  ASSERT_TRUE(run_until(io, [&] { return a.transport->counters().connect_failures >= 1; }));

  Endpoint b2(io, "n2");  // back, on the same port
  b2.listen(b_address.port);
  ASSERT_TRUE(run_until(io, [&] { return b2.received.size() == 49; }));
  for (std::uint64_t i = 0; i < 49; ++i) EXPECT_EQ(request_id_of(b2.received[i]), i + 2);
  EXPECT_EQ(a.transport->counters().connects, 2U);
  EXPECT_EQ(status_of(*a.transport, "n2")->state, PeerConnectionState::connected);
}

TEST(PeerTransport, NewAddressRedialsAtOnce) {
  asio::io_context io;
  Endpoint a(io, "n1");
  Endpoint b(io, "n2");
  const config::Address b_address = b.listen();
  a.transport->set_peer_address("n2", config::Address{"127.0.0.1", closed_port(io)});
  a.transport->send(read_request("n1", "n2", 1));
  ASSERT_TRUE(run_until(io, [&] { return a.transport->counters().connect_failures >= 1; }));
  a.transport->set_peer_address("n2", b_address);
  ASSERT_TRUE(run_until(io, [&] { return b.received.size() == 1; }));
  EXPECT_EQ(request_id_of(b.received[0]), 1U);
}

TEST(PeerTransport, CloseStopsDeliveryAndIsIdempotent) {
  asio::io_context io;
  Endpoint a(io, "n1");
  Endpoint b(io, "n2");
  const config::Address b_address = b.listen();
  a.transport->set_peer_address("n2", b_address);
  a.transport->send(read_request("n1", "n2", 1));
  ASSERT_TRUE(run_until(io, [&] { return b.received.size() == 1; }));
  b.transport->close();
  b.transport->close();
  a.transport->send(read_request("n1", "n2", 2));
  run_for(io, std::chrono::milliseconds(100));
  EXPECT_EQ(b.received.size(), 1U);
}

}  // namespace
}  // namespace vigil::net

namespace vigil::net {
namespace {

// The fault filter (net/fault_filter.h) in the transport: a cut direction drops every frame
// (sent and received), the other direction still carries them, duplication sends twice,
// and clearing the rules restores delivery on the same connections.
TEST(PeerTransport, FaultFilterDropsCutDirectionsOnly) {
  asio::io_context io;
  auto a_filter = std::make_shared<FaultFilter>(1);
  auto b_filter = std::make_shared<FaultFilter>(2);
  PeerTransportOptions a_options;
  a_options.fault_filter = a_filter;
  PeerTransportOptions b_options;
  b_options.fault_filter = b_filter;
  Endpoint a(io, "n1", a_options);
  Endpoint b(io, "n2", b_options);
  const config::Address a_address = a.listen();
  const config::Address b_address = b.listen();
  a.transport->set_peer_address("n2", b_address);
  b.transport->set_peer_address("n1", a_address);

  // One-way cut n1 -> n2, as vigil chaos writes it: n1 drops what it sends to n2, n2 drops
  // what arrives from n1 (so frames already on their way are dropped too).
  FaultRules a_rules;
  a_rules.drop_to = {"n2"};
  a_filter->set(a_rules, steady_instant());
  FaultRules b_rules;
  b_rules.drop_from = {"n1"};
  b_filter->set(b_rules, steady_instant());
  for (std::uint64_t i = 1; i <= 20; ++i) a.transport->send(read_request("n1", "n2", i));
  for (std::uint64_t i = 1; i <= 20; ++i) b.transport->send(read_request("n2", "n1", i));
  ASSERT_TRUE(run_until(io, [&] { return a.received.size() == 20; }));
  run_for(io, std::chrono::milliseconds(50));
  EXPECT_TRUE(b.received.empty());
  EXPECT_EQ(a_filter->counters().frames_dropped_out, 20U);
  EXPECT_EQ(a.transport->counters().frames_sent, 0U);

  // A frame that left before the cut on n2's side is dropped on arrival.
  a_filter->set(FaultRules{}, steady_instant());
  a.transport->send(read_request("n1", "n2", 99));
  ASSERT_TRUE(run_until(io, [&] { return b_filter->counters().frames_dropped_in == 1; }));
  EXPECT_TRUE(b.received.empty());

  // Healed, with every frame duplicated: each arrives twice, in order.
  b_filter->set(FaultRules{}, steady_instant());
  FaultRules duplicating;
  duplicating.duplicate = 1.0;
  a_filter->set(duplicating, steady_instant());
  a.transport->send(read_request("n1", "n2", 100));
  ASSERT_TRUE(run_until(io, [&] { return b.received.size() == 2; }));
  EXPECT_EQ(request_id_of(b.received[0]), 100U);
  EXPECT_EQ(request_id_of(b.received[1]), 100U);
  EXPECT_EQ(a_filter->counters().frames_duplicated, 1U);
}

// delay_to_us holds frames before they are queued, in order: a later frame with a shorter
// delay still arrives after the earlier ones.
TEST(PeerTransport, FaultFilterDelayHoldsFramesInOrder) {
  asio::io_context io;
  auto filter = std::make_shared<FaultFilter>(1);
  PeerTransportOptions options;
  options.fault_filter = filter;
  Endpoint a(io, "n1", options);
  Endpoint b(io, "n2");
  a.listen();
  a.transport->set_peer_address("n2", b.listen());
  FaultRules rules;
  rules.delay_to_us = {{"n2", 150'000}};
  filter->set(rules, steady_instant());
  const auto sent = std::chrono::steady_clock::now();
  a.transport->send(read_request("n1", "n2", 1));
  rules.delay_to_us = {{"n2", 10'000}};
  filter->set(rules, steady_instant());
  a.transport->send(read_request("n1", "n2", 2));
  run_for(io, std::chrono::milliseconds(60));
  EXPECT_TRUE(b.received.empty());  // the second waits behind the first
  ASSERT_TRUE(run_until(io, [&] { return b.received.size() == 2; }));
  EXPECT_GE(std::chrono::steady_clock::now() - sent, std::chrono::milliseconds(150));
  EXPECT_EQ(request_id_of(b.received[0]), 1U);
  EXPECT_EQ(request_id_of(b.received[1]), 2U);
  EXPECT_EQ(filter->counters().frames_delayed, 2U);
}

}  // namespace
}  // namespace vigil::net
