#pragma once
// The admin port: HTTP/1.1 (Boost.Beast) on node.admin.
//   GET /metrics  Prometheus text (text/plain; version=0.0.4), net/metrics.h
//   GET /status   JSON: node id, addresses, ring ownership, members, anti-entropy
//                 (net/status_json.h)
//   HEAD of either: the headers only.
//   POST /repair  starts anti-entropy exchanges of every tree with every peer now
//                 (NodeService::request_repair); 202 {"exchanges_completed",
//                 "exchanges_pending"}. A body, if any, is ignored.
//   GET /fault, POST /fault  fault injection (net/fault_filter.h): only on a node started
//                 with --enable-fault-injection; 403 otherwise. POST replaces the rules
//                 with its JSON body's (400 naming what is wrong); both answer the rules,
//                 the filter's counters and the node's wall clock.
//   Another path: 404. Another method: 405, with Allow naming the methods the path takes.
// With security.admin_token_file, every POST (and with security.admin_token_for_views every
// GET/HEAD of /metrics, /status, /fault) needs `Authorization: Bearer <token>`; without it,
// or with another token, the answer is 401 with `WWW-Authenticate: Bearer`, counted in
// vigil_admin_requests_unauthorized_total (docs/security.md). start() reads the token file
// and fails naming it when it is missing or unusable.
// Bounds: a request's header and body are bounded (8 KiB each); a malformed or oversized
// request gets a 400/413 where the parser still can, and only that connection is closed;
// with security.tls.admin the port is HTTPS only (net/tls_stream.h; a failed handshake is
// counted in vigil_tls_handshakes_failed_total{port="admin"});
// an idle connection is closed after 30 s; at most admin_sessions_max connections are
// open (another is closed at once). Keep-alive is honoured.
//
// Runs on the node's one loop thread; the NodeService and Metrics outlive the server.

#include <array>
#include <cstddef>
#include <optional>
#include <map>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "config/config.h"
#include "core/status.h"
#include "net/metrics.h"
#include "net/node_service.h"
#include "net/tls_stream.h"

namespace vigil::net {

namespace asio = boost::asio;

class AdminSession;

using AdminTokenDigest = std::array<unsigned char, 32>;  // SHA-256 of the token
struct AdminAuth {
  std::optional<AdminTokenDigest> token;  // none: no token required
  bool for_views = false;
};

inline constexpr std::size_t admin_sessions_max = 64;

class AdminHttpServer {
 public:
  // `config` is copied (node.admin and node.* addresses are read from it).
  AdminHttpServer(asio::io_context& io, NodeService& service, Metrics& metrics,
                  const config::Config& config);
  ~AdminHttpServer();
  AdminHttpServer(const AdminHttpServer&) = delete;
  AdminHttpServer& operator=(const AdminHttpServer&) = delete;

  // Binds config.node.admin (port 0 picks a free port) and starts accepting. Returns the
  // bound endpoint; io_error naming the address when it cannot be bound.
  // REQUIRES: called once.
  core::Result<asio::ip::tcp::endpoint> start();
  // Stops accepting and closes every session. Idempotent.
  void stop();

 private:
  void accept_next();

  asio::io_context& io_;
  NodeService& service_;
  Metrics& metrics_;
  config::Config config_;
  AdminAuth auth_;
  std::shared_ptr<ssl::context> tls_;  // security.tls.admin; null: plain HTTP
  asio::ip::tcp::acceptor acceptor_;
  std::map<std::uint64_t, std::weak_ptr<AdminSession>> sessions_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // false once stopped
  std::uint64_t next_session_id_ = 1;
  bool stopped_ = false;
};

}  // namespace vigil::net
