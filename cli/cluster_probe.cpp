// Readiness probes of `vigil cluster up` (cli/cluster_probe.h).
//
// Why hand-written rather than hiredis and Beast: the probe sends one fixed request and
// compares one fixed reply ("*1\r\n$4\r\nPING\r\n" -> "+PONG\r\n", or NOAUTH), and reads one HTTP/1.0
// response to EOF. That is not a protocol client, and the `vigil` binary should not link a
// test-only client library (hiredis is for the tests). The real protocol code is net/'s;
// the integration tests exercise it through hiredis and redis-cli. A non-blocking socket
// and poll() keep every step bounded by the caller's timeout.

#include "cli/cluster_probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

namespace vigil::cli {
namespace {

using Clock = std::chrono::steady_clock;

core::Status unavailable(const config::Address& address, const std::string& why) {
  return core::error(core::Code::unavailable, config::format_address(address) + ": " + why);
}

int remaining_ms(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(left);
}

// A socket for the whole of one probe, closed on every path.
class Connection {
 public:
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }

  core::Status connect(const config::Address& address, Clock::time_point deadline) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(address.port);
    if (::getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found) != 0 || !found) {
      return unavailable(address, "cannot resolve host");
    }
    fd_ = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) {
      ::freeaddrinfo(found);
      return unavailable(address, std::string("socket: ") + std::strerror(errno));
    }
    const int rc = ::connect(fd_, found->ai_addr, found->ai_addrlen);
    ::freeaddrinfo(found);
    if (rc != 0 && errno != EINPROGRESS) {
      return unavailable(address, std::string("connect: ") + std::strerror(errno));
    }
    if (!wait(POLLOUT, deadline)) return unavailable(address, "connect timed out");
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) return unavailable(address, std::string("connect: ") + std::strerror(error));
    return core::Status::ok_status();
  }

  core::Status send_all(const config::Address& address, const std::string& data,
                        Clock::time_point deadline) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t put = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (put > 0) {
        sent += static_cast<std::size_t>(put);
      } else if (put < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (!wait(POLLOUT, deadline)) return unavailable(address, "send timed out");
      } else {
        return unavailable(address, std::string("send: ") + std::strerror(errno));
      }
    }
    return core::Status::ok_status();
  }

  // Reads until `done(text)` or EOF or the deadline; false on error or deadline.
  template <typename Done>
  bool receive(std::string& text, Clock::time_point deadline, Done done) {
    char buffer[4096];
    while (!done(text)) {
      const ssize_t got = ::recv(fd_, buffer, sizeof buffer, 0);
      if (got > 0) {
        text.append(buffer, static_cast<std::size_t>(got));
        if (text.size() > probe_response_bytes_max) return false;
      } else if (got == 0) {
        return true;
      } else if (errno == EAGAIN || errno == EINTR) {
        if (!wait(POLLIN, deadline)) return false;
      } else {
        return false;
      }
    }
    return true;
  }

 private:
  bool wait(short events, Clock::time_point deadline) {
    pollfd entry{fd_, events, 0};
    while (true) {
      const int ready = ::poll(&entry, 1, remaining_ms(deadline));
      if (ready > 0) return true;
      if (ready == 0 || errno != EINTR) return false;
    }
  }

  int fd_ = -1;
};

}  // namespace

core::Status probe_ping(const config::Address& address, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  Connection connection;
  core::Status status = connection.connect(address, deadline);
  if (!status.ok()) return status;
  status = connection.send_all(address, "*1\r\n$4\r\nPING\r\n", deadline);
  if (!status.ok()) return status;
  std::string reply;
  const bool complete = connection.receive(reply, deadline, [](const std::string& text) {
    return text.find("\r\n") != std::string::npos;
  });
  // A node with security.users answers PING before AUTH with NOAUTH, as Redis does: it is
  // serving all the same (docs/security.md).
  if (reply == "+PONG\r\n" || reply.starts_with("-NOAUTH ")) return core::Status::ok_status();
  if (!complete && reply.empty()) return unavailable(address, "no reply to PING");
  return unavailable(address, "PING answered \"" + reply.substr(0, 200) + "\"");
}

core::Result<std::string> http_get(const config::Address& address, const std::string& path,
                                   std::chrono::milliseconds timeout,
                                   const std::string& bearer_token) {
  return http_request(address, "GET", path, 200, timeout, "", bearer_token);
}

core::Result<std::string> http_request(const config::Address& address, const std::string& method,
                                       const std::string& path, int expected_status,
                                       std::chrono::milliseconds timeout,
                                       const std::string& body,
                                       const std::string& bearer_token) {
  const auto deadline = Clock::now() + timeout;
  const std::string what = method + " " + path;
  Connection connection;
  core::Status status = connection.connect(address, deadline);
  if (!status.ok()) return status;
  status = connection.send_all(address,
                               what + " HTTP/1.0\r\nHost: " + config::format_address(address) +
                                   "\r\nContent-Length: " + std::to_string(body.size()) +
                                   (bearer_token.empty()
                                        ? std::string()
                                        : "\r\nAuthorization: Bearer " + bearer_token) +
                                   "\r\n\r\n" + body,
                               deadline);
  if (!status.ok()) return status;
  std::string response;
  if (!connection.receive(response, deadline, [](const std::string&) { return false; })) {
    return unavailable(address, what + ": no complete response in time");
  }
  const std::size_t head_end = response.find("\r\n\r\n");
  if (head_end == std::string::npos) return unavailable(address, what + ": malformed response");
  const std::string status_line = response.substr(0, response.find("\r\n"));
  // "HTTP/1.x 200 OK"
  const std::string expected = " " + std::to_string(expected_status);
  if (status_line.size() < 12 || status_line.compare(0, 5, "HTTP/") != 0 ||
      status_line.compare(8, 4, expected) != 0) {
    return unavailable(address, what + ": " + status_line);
  }
  return response.substr(head_end + 4);
}

core::Status status_shows_all_alive(const std::string& body,
                                    const std::vector<std::string>& ids) {
  const nlohmann::json document = nlohmann::json::parse(body, nullptr, false);
  if (document.is_discarded() || !document.is_object() || !document.contains("members") ||
      !document["members"].is_array()) {
    return core::error(core::Code::invalid_argument,
                       "/status is not {\"members\": [...], ...}: " + body.substr(0, 200));
  }
  std::map<std::string, std::string> states;
  for (const nlohmann::json& member : document["members"]) {
    if (!member.is_object() || !member.contains("id") || !member["id"].is_string() ||
        !member.contains("state") || !member["state"].is_string()) {
      return core::error(core::Code::invalid_argument,
                         "/status member without \"id\" and \"state\": " + member.dump());
    }
    states[member["id"].get<std::string>()] = member["state"].get<std::string>();
  }
  std::string not_alive;
  for (const std::string& id : ids) {
    const auto found = states.find(id);
    const std::string state = found == states.end() ? "missing" : found->second;
    if (state != "alive") not_alive += (not_alive.empty() ? "" : ", ") + id + " " + state;
  }
  if (not_alive.empty()) return core::Status::ok_status();
  return core::error(core::Code::failed_precondition, "members not alive: " + not_alive);
}

}  // namespace vigil::cli
