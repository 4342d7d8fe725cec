#pragma once
// Readiness probes of `vigil cluster up`: does a node answer PING on its client port, and
// what does its admin port's GET /status say. Each call is bounded by its timeout.

#include <chrono>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/status.h"

namespace vigil::cli {

inline constexpr std::size_t probe_response_bytes_max = 4 * 1024 * 1024;

// How a probe reaches a port (security.tls of the node it probes): plain TCP, or TLS that
// verifies the server's certificate against ca_file (the system's CAs when empty) and the
// address it dials (an IP against the certificate's IP SAN, a name against its DNS SAN).
struct TlsTarget {
  bool on = false;
  std::string ca_file;
  friend bool operator==(const TlsTarget&, const TlsTarget&) = default;
};

// Sends the RESP array PING and expects "+PONG\r\n". unavailable with the reason (refused,
// timed out, or the unexpected reply) otherwise.
core::Status probe_ping(const config::Address& address, std::chrono::milliseconds timeout,
                        const TlsTarget& tls = {});

// GET `path` over HTTP/1.0; the body when the status is 200. unavailable with the reason
// otherwise (the response is read to EOF: HTTP/1.0 closes the connection after it).
// A non-empty `bearer_token` is sent as `Authorization: Bearer <token>` (net/admin_http.h).
core::Result<std::string> http_get(const config::Address& address, const std::string& path,
                                   std::chrono::milliseconds timeout,
                                   const std::string& bearer_token = "",
                                   const TlsTarget& tls = {});

// `method` `path` over HTTP/1.0 with `body` (empty by default); the response body when its
// status is `expected_status`, unavailable with the status line or the reason otherwise.
core::Result<std::string> http_request(const config::Address& address, const std::string& method,
                                       const std::string& path, int expected_status,
                                       std::chrono::milliseconds timeout,
                                       const std::string& body = "",
                                       const std::string& bearer_token = "",
                                       const TlsTarget& tls = {});

// From a /status body (docs/client-protocol.md, "GET /status"): ok when `members` lists every
// one of `ids` in state "alive"; failed_precondition naming those that are not (or are
// missing), invalid_argument when the body is not the expected JSON.
core::Status status_shows_all_alive(const std::string& body, const std::vector<std::string>& ids);

}  // namespace vigil::cli
