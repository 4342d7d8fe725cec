#pragma once
// RESP over TLS for vigil::Client (ClientOptions::tls; docs/client-library.md, "TLS").
//
// Why not hiredis_ssl: Debian 12 ships hiredis 0.14, whose libhiredis-dev has no
// hiredis_ssl (it arrived with hiredis 1.0), and 0.14's redisContext reads and writes its
// socket itself, with no hook for another transport. So a TLS connection is a non-blocking
// socket with OpenSSL (libssl, which the node already links) over it, and hiredis does only
// the RESP parts: redisFormatCommandArgv writes a command and a redisReader parses the
// replies into the same redisReply objects a plain connection returns. Every step waits in
// poll() under a deadline: connect and handshake under connect_timeout, each command under
// its own timeout.

#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "client/client.h"

struct redisReply;
struct redisReader;

namespace vigil::client {

// One SSL_CTX per Client, built from ClientTlsOptions: the CA, the optional client
// certificate, TLS 1.2 as the floor. Connections share it (SSL_CTX is thread-safe for
// SSL_new). Throws ClientError(invalid_argument) naming the file that cannot be loaded.
class TlsContext {
 public:
  explicit TlsContext(const ClientTlsOptions& options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  SSL_CTX* get() const { return context_; }
  const ClientTlsOptions& options() const { return options_; }

 private:
  ClientTlsOptions options_;
  SSL_CTX* context_ = nullptr;
};

class TlsLink {
 public:
  // Connects to host:port and completes the TLS handshake, verifying the node's certificate
  // against the CA and (with verify_server_name) the name: server_name when set, else
  // `host` (an IP against the certificate's IP SAN, a name against its DNS SAN). Throws
  // ClientError(connection) with the reason (refused, timed out, certificate verify failed).
  TlsLink(const std::string& host, int port, const TlsContext& context,
          std::chrono::milliseconds connect_timeout);
  ~TlsLink();
  TlsLink(const TlsLink&) = delete;
  TlsLink& operator=(const TlsLink&) = delete;

  // Sends one command and reads one reply within `timeout`. Throws ClientError: timeout,
  // connection (the connection broke or closed), protocol (a reply that does not parse).
  // After a throw the link is unusable: the caller closes it.
  redisReply* call(const std::vector<std::string>& arguments, std::chrono::milliseconds timeout);

 private:
  using Clock = std::chrono::steady_clock;
  void handshake(const std::string& host, const TlsContext& context, Clock::time_point deadline);
  // Waits until the socket is ready for `events`; false at the deadline.
  bool wait(short events, Clock::time_point deadline) const;
  [[noreturn]] void fail(ErrorCode code, const std::string& why) const;

  std::string address_;  // host:port, for messages
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  redisReader* reader_ = nullptr;
};

}  // namespace vigil::client
