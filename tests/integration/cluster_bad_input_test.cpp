// Untrusted client input against a real node: malformed RESP gets a protocol error and
// closes only that connection; keys and values over the configured limits get errors and
// the connection goes on. Other clients are served throughout.
//
// The malformed bytes are written with a plain socket: no client library sends them, and
// that is the point. Every well-formed exchange uses hiredis.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "tests/integration/cluster_fixture.h"

namespace vigil::integration {
namespace {

using ClusterBadInput = ClusterTest;

// Sends `bytes` to node `port` and returns everything the node writes back until it
// closes the connection (or 5s pass: then `closed` is false).
struct RawExchange {
  std::string received;
  bool closed = false;
};
RawExchange raw_exchange(int port, const std::string& bytes) {
  RawExchange result;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return result;
  }
  const timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  [[maybe_unused]] ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  char buffer[4096];
  while (true) {
    const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
    if (got > 0) {
      result.received.append(buffer, static_cast<std::size_t>(got));
      continue;
    }
    result.closed = got == 0 || (got < 0 && errno == ECONNRESET);
    break;
  }
  ::close(fd);
  return result;
}

TEST_F(ClusterBadInput, MalformedRespClosesOnlyThatConnection) {
  Redis bystander = connect(0);
  ASSERT_EQ(text(command(bystander.get(), {"SET", "bystander", "still here"})), "+OK");
  const int port = cluster_nodes()[0].client_port;
  for (const std::string& garbage :
       {std::string("*2\r\n$3\r\nGET\r\n$abc\r\n"),      // a length that is not a number
        std::string("*1\r\n$4\r\nPINGXX\r\n"),            // a bulk longer than announced
        std::string("*1\r\n:5\r\n"),                      // an integer where a bulk belongs
        std::string("*1\r\n$99999999999\r\n"),            // a bulk beyond every limit
        std::string("*999999999\r\n")}) {                 // an array beyond every limit
    const RawExchange exchange = raw_exchange(port, garbage);
    const std::string shown = testing::PrintToString(garbage.substr(0, 40));
    EXPECT_TRUE(exchange.closed) << "connection left open after " << shown;
    EXPECT_EQ(exchange.received.rfind("-ERR Protocol error", 0), 0u)
        << shown << " got " << testing::PrintToString(exchange.received);
    // The other client's connection is untouched and served.
    EXPECT_EQ(text(command(bystander.get(), {"GET", "bystander"})), "still here");
  }
  // Inline commands (what telnet users type) are not malformed: they work.
  const RawExchange inline_ping = raw_exchange(port, "PING\r\nQUIT\r\n");
  EXPECT_EQ(inline_ping.received, "+PONG\r\n+OK\r\n");
}

TEST_F(ClusterBadInput, OversizedKeysAndValuesGetErrorsAndTheConnectionGoesOn) {
  Redis client = connect(1);
  const std::string too_big_value(test_value_bytes_max + 1, 'v');
  const std::string reply = text(command(client.get(), {"SET", "big", too_big_value}));
  EXPECT_EQ(reply.rfind("-ERR value is", 0), 0u) << reply.substr(0, 200);
  EXPECT_NE(reply.find("limits.value_bytes_max"), std::string::npos) << reply.substr(0, 200);
  // At the limit it is accepted and read back whole.
  const std::string at_limit(test_value_bytes_max, 'w');
  EXPECT_EQ(text(command(client.get(), {"SET", "big", at_limit})), "+OK");
  EXPECT_EQ(text(command(client.get(), {"GET", "big"})), at_limit);

  const std::string too_big_key(64 * 1024 + 1, 'k');
  const std::string key_reply = text(command(client.get(), {"SET", too_big_key, "v"}));
  EXPECT_EQ(key_reply.rfind("-ERR", 0), 0u) << key_reply.substr(0, 200);
  EXPECT_EQ(text(command(client.get(), {"GET", ""})).rfind("-ERR", 0), 0u);
  EXPECT_EQ(text(command(client.get(), {"GET"})),
            "-ERR wrong number of arguments for 'get' command");
  EXPECT_EQ(text(command(client.get(), {"PING"})), "+PONG");
  EXPECT_EQ(text(command(connect(2).get(), {"GET", "big"})), at_limit);
}

}  // namespace
}  // namespace vigil::integration
