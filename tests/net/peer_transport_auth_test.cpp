// PeerTransport with cluster secrets (net/peer_handshake.h) over real loopback sockets: the
// same secret delivers; another secret, no secret, silence or a forged sender delivers
// nothing and is counted. Ports are the OS's (port 0); every wait is bounded.

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/wire/codec.h"
#include "net/peer_handshake.h"
#include "net/peer_transport.h"

namespace vigil::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

const std::string secret = "0123456789abcdef0123456789abcdef";
const std::string wrong = "this is not the cluster's secret";

bool run_until(asio::io_context& io, const std::function<bool()>& done,
               std::chrono::milliseconds wait_max = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + wait_max;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.restart();
    io.run_for(std::chrono::milliseconds(5));
  }
  return true;
}

core::Envelope read_request(const std::string& from, const std::string& to, std::uint64_t id) {
  return core::Envelope{from, to, core::ReplicaRead{id, "key-" + std::to_string(id)}};
}

core::Envelope forged_write(const std::string& from, const std::string& to) {
  core::ReplicaWrite write;
  write.request_id = 99;
  write.key = "forged";
  return core::Envelope{from, to, write};
}

struct Endpoint {
  Endpoint(asio::io_context& io, const std::string& id, std::vector<std::string> secrets,
           core::Duration handshake_timeout = std::chrono::seconds(2)) {
    PeerTransportOptions options;
    options.self = id;
    options.seed = 7;
    options.backoff_initial = std::chrono::milliseconds(20);
    options.backoff_max = std::chrono::milliseconds(50);
    options.handshake_timeout = handshake_timeout;
    for (std::string& text : secrets) {
      options.cluster_secrets.push_back(peer_handshake::make_secret(std::move(text)));
    }
    transport = std::make_unique<PeerTransport>(
        io, options, [this](core::Envelope envelope) { received.push_back(std::move(envelope)); });
    address = transport->listen(config::Address{"127.0.0.1", 0}).value();
  }
  const PeerTransportCounters& counters() const { return transport->counters(); }
  std::unique_ptr<PeerTransport> transport;
  config::Address address;
  std::vector<core::Envelope> received;
};

TEST(PeerTransportAuth, SameSecretDeliversAfterTheHandshake) {
  asio::io_context io;
  Endpoint a(io, "n1", {secret});
  Endpoint b(io, "n2", {secret});
  a.transport->set_peer_address("n2", b.address);
  for (std::uint64_t i = 1; i <= 50; ++i) a.transport->send(read_request("n1", "n2", i));
  ASSERT_TRUE(run_until(io, [&] { return b.received.size() == 50; }));
  EXPECT_EQ(std::get<core::ReplicaRead>(b.received.back().message).request_id, 50U);
  EXPECT_EQ(b.counters().handshakes_accepted, 1U);
  EXPECT_EQ(b.counters().handshakes_refused, 0U);
  EXPECT_EQ(a.counters().handshakes_failed, 0U);
  EXPECT_EQ(a.counters().connects, 1U);
}

TEST(PeerTransportAuth, WrongSecretIsRefusedAndNothingArrives) {
  asio::io_context io;
  Endpoint intruder(io, "n4", {wrong});
  Endpoint b(io, "n2", {secret});
  intruder.transport->set_peer_address("n2", b.address);
  intruder.transport->send(forged_write("n4", "n2"));
  ASSERT_TRUE(run_until(io, [&] {
    return b.counters().handshakes_refused >= 2 && intruder.counters().handshakes_failed >= 2;
  }));
  EXPECT_TRUE(b.received.empty());
  EXPECT_EQ(b.counters().handshakes_accepted, 0U);
  EXPECT_EQ(b.counters().frames_received, 0U);
  EXPECT_EQ(intruder.counters().connects, 0U);  // never counted as connected
  EXPECT_EQ(intruder.counters().frames_sent, 0U);
}

TEST(PeerTransportAuth, APeerWithoutASecretIsRefusedEitherWay) {
  asio::io_context io;
  Endpoint plain(io, "n4", {});
  Endpoint b(io, "n2", {secret});
  plain.transport->set_peer_address("n2", b.address);
  plain.transport->send(forged_write("n4", "n2"));
  ASSERT_TRUE(run_until(io, [&] { return b.counters().handshakes_refused >= 1; }));
  EXPECT_TRUE(b.received.empty());

  // A node with the secret dialing one without: that one closes on the hello (a bad frame
  // for it), and the dialer counts a failed handshake.
  b.transport->set_peer_address("n4", plain.address);
  b.transport->send(read_request("n2", "n4", 1));
  ASSERT_TRUE(run_until(io, [&] { return b.counters().handshakes_failed >= 1; }));
  EXPECT_TRUE(plain.received.empty());
  EXPECT_GE(plain.counters().frames_bad, 1U);
}

TEST(PeerTransportAuth, SilentConnectionIsClosedAtTheTimeout) {
  asio::io_context io;
  Endpoint b(io, "n2", {secret}, std::chrono::milliseconds(100));
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address(b.address.host), b.address.port));
  bool closed = false;
  std::array<char, 64> sink{};
  socket.async_read_some(asio::buffer(sink), [&](const boost::system::error_code& error,
                                                 std::size_t) { closed = bool(error); });
  ASSERT_TRUE(run_until(io, [&] { return closed; }));
  EXPECT_EQ(b.counters().handshake_timeouts, 1U);
  EXPECT_EQ(b.counters().handshakes_refused, 1U);
  EXPECT_EQ(b.transport->inbound_connection_count(), 0U);
}

// A member (it holds the secret) authenticates as n3, then sends a frame claiming to be
// from n1: dropped and counted; its own frames still arrive.
TEST(PeerTransportAuth, FramesClaimingAnotherSenderAreDropped) {
  asio::io_context io;
  Endpoint b(io, "n2", {secret});
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address(b.address.host), b.address.port));
  peer_handshake::Nonce nonce{};
  nonce.fill(42);
  PeerHandshake dialer(
      {PeerHandshake::Role::dialer, "n3", {peer_handshake::make_secret(secret)}, nonce, "n2"});
  std::array<char, 256> chunk{};
  while (dialer.state() == PeerHandshake::State::in_progress) {
    asio::write(socket, asio::buffer(dialer.poll_output()));
    std::size_t got = 0;
    bool done = false;
    socket.async_read_some(asio::buffer(chunk), [&](const boost::system::error_code& error,
                                                    std::size_t bytes) {
      got = error ? 0 : bytes;
      done = true;
    });
    ASSERT_TRUE(run_until(io, [&] { return done; }));
    if (got == 0) dialer.handle_closed();
    dialer.handle_bytes(std::string_view(chunk.data(), got));
  }
  ASSERT_EQ(dialer.state(), PeerHandshake::State::authenticated) << dialer.refusal_reason();
  asio::write(socket, asio::buffer(core::encode_frame(forged_write("n1", "n2")).value() +
                                   core::encode_frame(read_request("n3", "n2", 7)).value()));
  ASSERT_TRUE(run_until(io, [&] { return b.received.size() == 1; }));
  EXPECT_EQ(b.received[0].from, "n3");
  EXPECT_EQ(b.counters().frames_dropped_wrong_sender, 1U);
  EXPECT_EQ(b.counters().handshakes_accepted, 1U);
}

}  // namespace
}  // namespace vigil::net
