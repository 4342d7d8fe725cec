// Readiness probes of `vigil cluster up` (cli/cluster_probe.h).
//
// Why hand-written rather than hiredis and Beast: the probe sends one fixed request and
// compares one fixed reply ("*1\r\n$4\r\nPING\r\n" -> "+PONG\r\n", or NOAUTH), and reads one HTTP/1.0
// response to EOF. That is not a protocol client, and the `vigil` binary should not link a
// test-only client library (hiredis is for the tests). The real protocol code is net/'s;
// the integration tests exercise it through hiredis and redis-cli. A non-blocking socket
// and poll() keep every step bounded by the caller's timeout. With TLS (a node with
// security.tls.client or .admin) OpenSSL runs over the same non-blocking socket: each
// SSL_* call that wants to read or write waits in poll() for it, under the same deadline.

#include "cli/cluster_probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
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
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (context_ != nullptr) SSL_CTX_free(context_);
    if (fd_ >= 0) ::close(fd_);
  }

  // The TLS handshake over the connected socket, verifying the server as `tls` says.
  core::Status start_tls(const config::Address& address, const TlsTarget& tls,
                         Clock::time_point deadline) {
    context_ = SSL_CTX_new(TLS_client_method());
    if (context_ == nullptr) return unavailable(address, "TLS: no context");
    SSL_CTX_set_min_proto_version(context_, TLS1_2_VERSION);
    // The node closes without close_notify (net/tls_stream.h): EOF ends a response.
    SSL_CTX_set_options(context_, SSL_OP_IGNORE_UNEXPECTED_EOF);
    const int loaded = tls.ca_file.empty()
                           ? SSL_CTX_set_default_verify_paths(context_)
                           : SSL_CTX_load_verify_locations(context_, tls.ca_file.c_str(), nullptr);
    if (loaded != 1) return unavailable(address, "TLS: cannot load the CA file " + tls.ca_file);
    SSL_CTX_set_verify(context_, SSL_VERIFY_PEER, nullptr);
    ssl_ = SSL_new(context_);
    if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) return unavailable(address, "TLS: no SSL");
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    unsigned char ip[16];
    const bool is_ip = ::inet_pton(AF_INET, address.host.c_str(), ip) == 1 ||
                       ::inet_pton(AF_INET6, address.host.c_str(), ip) == 1;
    if ((is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, address.host.c_str())
               : X509_VERIFY_PARAM_set1_host(param, address.host.c_str(), 0)) != 1) {
      return unavailable(address, "TLS: cannot set the name to verify");
    }
    while (true) {
      const int rc = SSL_connect(ssl_);
      if (rc == 1) return core::Status::ok_status();
      const int why = SSL_get_error(ssl_, rc);
      if (why == SSL_ERROR_WANT_READ || why == SSL_ERROR_WANT_WRITE) {
        if (!wait(why == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
          return unavailable(address, "TLS handshake timed out");
        }
        continue;
      }
      std::string reason = "the connection closed";
      if (const long verified = SSL_get_verify_result(ssl_); verified != X509_V_OK) {
        reason = X509_verify_cert_error_string(verified);
      } else if (const unsigned long queued = ERR_get_error(); queued != 0) {
        const char* text = ERR_reason_error_string(queued);
        if (text != nullptr) reason = text;
      }
      return unavailable(address, "TLS handshake failed: " + reason);
    }
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
      if (ssl_ != nullptr) {
        const int put = SSL_write(ssl_, data.data() + sent, static_cast<int>(data.size() - sent));
        if (put > 0) {
          sent += static_cast<std::size_t>(put);
          continue;
        }
        const int why = SSL_get_error(ssl_, put);
        if (why != SSL_ERROR_WANT_READ && why != SSL_ERROR_WANT_WRITE) {
          return unavailable(address, "TLS send failed");
        }
        if (!wait(why == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
          return unavailable(address, "send timed out");
        }
        continue;
      }
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
      if (ssl_ != nullptr) {
        const int got = SSL_read(ssl_, buffer, sizeof buffer);
        if (got > 0) {
          text.append(buffer, static_cast<std::size_t>(got));
          if (text.size() > probe_response_bytes_max) return false;
          continue;
        }
        const int why = SSL_get_error(ssl_, got);
        if (why == SSL_ERROR_ZERO_RETURN) return true;
        if (why != SSL_ERROR_WANT_READ && why != SSL_ERROR_WANT_WRITE) return false;
        if (!wait(why == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) return false;
        continue;
      }
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
  SSL_CTX* context_ = nullptr;
  SSL* ssl_ = nullptr;
};

// Connects, then starts TLS when `tls` asks for it.
core::Status open(Connection& connection, const config::Address& address, const TlsTarget& tls,
                  Clock::time_point deadline) {
  core::Status status = connection.connect(address, deadline);
  if (status.ok() && tls.on) status = connection.start_tls(address, tls, deadline);
  return status;
}

}  // namespace

core::Status probe_ping(const config::Address& address, std::chrono::milliseconds timeout,
                        const TlsTarget& tls) {
  const auto deadline = Clock::now() + timeout;
  Connection connection;
  core::Status status = open(connection, address, tls, deadline);
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
                                   const std::string& bearer_token, const TlsTarget& tls) {
  return http_request(address, "GET", path, 200, timeout, "", bearer_token, tls);
}

core::Result<std::string> http_request(const config::Address& address, const std::string& method,
                                       const std::string& path, int expected_status,
                                       std::chrono::milliseconds timeout,
                                       const std::string& body,
                                       const std::string& bearer_token,
                                       const TlsTarget& tls) {
  const auto deadline = Clock::now() + timeout;
  const std::string what = method + " " + path;
  Connection connection;
  core::Status status = open(connection, address, tls, deadline);
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
