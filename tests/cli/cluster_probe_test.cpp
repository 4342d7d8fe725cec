// Readiness probes of `vigil cluster up` against a scripted loopback peer: each probe is
// bounded by its timeout, reports what it got, and /status is read the documented way.

#include "cli/cluster_probe.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "cli/cluster_ports.h"

namespace vigil::cli {
namespace {

using std::chrono::milliseconds;

// A listening loopback socket that answers one connection with `reply` (after reading
// `read_first` bytes), or never answers when `reply` is empty.
class ScriptedPeer {
 public:
  ScriptedPeer(std::string reply, std::size_t read_first) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    ::listen(fd_, 4);
    thread_ = std::thread([this, reply = std::move(reply), read_first] {
      const int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      std::string got;
      char buffer[512];
      while (got.size() < read_first) {
        const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        got.append(buffer, static_cast<std::size_t>(n));
      }
      received_ = got;
      if (!reply.empty()) {
        [[maybe_unused]] ssize_t sent = ::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
        ::close(client);
      } else {
        ::recv(client, buffer, sizeof buffer, 0);  // hold it open until the prober leaves
        ::close(client);
      }
    });
  }
  ~ScriptedPeer() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  config::Address address() const { return {"127.0.0.1", port_}; }
  const std::string& received() const { return received_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::string received_;
  std::thread thread_;
};

TEST(ClusterProbe, PingSucceedsOnPongOrNoauthOnly) {
  {
    ScriptedPeer peer("+PONG\r\n", 14);
    EXPECT_TRUE(probe_ping(peer.address(), milliseconds(2000)).ok());
  }
  {
    // A node with security.users serves, but answers PING before AUTH so.
    ScriptedPeer peer("-NOAUTH Authentication required.\r\n", 14);
    EXPECT_TRUE(probe_ping(peer.address(), milliseconds(2000)).ok());
  }
  ScriptedPeer wrong("-ERR loading\r\n", 14);
  const core::Status status = probe_ping(wrong.address(), milliseconds(2000));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), core::Code::unavailable);
  EXPECT_NE(status.message().find("-ERR loading"), std::string::npos) << status.message();
}

TEST(ClusterProbe, PingOfASilentPeerTimesOut) {
  ScriptedPeer silent("", 14);
  const auto start = std::chrono::steady_clock::now();
  const core::Status status = probe_ping(silent.address(), milliseconds(300));
  EXPECT_FALSE(status.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(ClusterProbe, PingOfAClosedPortIsRefused) {
  const core::Result<std::uint32_t> base = choose_base_port(1);
  ASSERT_TRUE(base.ok());
  const core::Status status =
      probe_ping({"127.0.0.1", static_cast<std::uint16_t>(*base)}, milliseconds(1000));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("refused"), std::string::npos) << status.message();
}

TEST(ClusterProbe, HttpGetReturnsTheBodyOf200AndTheStatusLineOtherwise) {
  {
    ScriptedPeer peer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", 4);
    const core::Result<std::string> body = http_get(peer.address(), "/status", milliseconds(2000));
    ASSERT_TRUE(body.ok()) << body.status().to_string();
    EXPECT_EQ(*body, "{}");
    EXPECT_EQ(peer.received().rfind("GET /status HTTP/1.0\r\n", 0), 0u);
  }
  ScriptedPeer missing("HTTP/1.1 404 Not Found\r\n\r\n", 4);
  const core::Result<std::string> body = http_get(missing.address(), "/status", milliseconds(2000));
  ASSERT_FALSE(body.ok());
  EXPECT_NE(body.status().message().find("404 Not Found"), std::string::npos);
}

TEST(ClusterProbe, StatusNeedsEveryMemberAlive) {
  const std::vector<std::string> ids{"n1", "n2", "n3"};
  const std::string all_alive =
      R"({"node": "n1", "members": [{"id": "n1", "state": "alive"},
          {"id": "n2", "state": "alive"}, {"id": "n3", "state": "alive"}]})";
  EXPECT_TRUE(status_shows_all_alive(all_alive, ids).ok());
  const core::Status suspect = status_shows_all_alive(
      R"({"members": [{"id": "n1", "state": "alive"}, {"id": "n2", "state": "suspect"}]})", ids);
  ASSERT_FALSE(suspect.ok());
  EXPECT_EQ(suspect.code(), core::Code::failed_precondition);
  EXPECT_NE(suspect.message().find("n2 suspect, n3 missing"), std::string::npos)
      << suspect.message();
  for (const char* bad : {"", "[]", "{\"members\": 3}", "{\"members\": [{\"id\": \"n1\"}]}"}) {
    EXPECT_EQ(status_shows_all_alive(bad, ids).code(), core::Code::invalid_argument) << bad;
  }
}

TEST(ClusterPorts, ABoundPortIsNotFree) {
  ScriptedPeer peer("", 0);
  EXPECT_FALSE(loopback_port_free(peer.address().port));
}

}  // namespace
}  // namespace vigil::cli
