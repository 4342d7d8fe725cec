// Theory of operation. Boost.Beast's HTTP/1.1 parser reads one request at a time into a
// bounded buffer (header and body limits set on the parser, so an oversized request is
// refused before it is buffered); the answer is built synchronously from the NodeService
// (every call is on the loop thread, so there is nothing to wait for) and written; with
// keep-alive the session reads the next request. A request the parser refuses is answered
// 400 (or 413 for a body over the limit) and that one connection is closed; an idle
// connection is closed by the stream's timer. No request can affect another session.
//
// The token (security.admin_token_file): read once at start(); only its SHA-256 is kept.
// A request that needs it is checked before anything else runs: the SHA-256 of the
// presented bearer token is compared with CRYPTO_memcmp, so the comparison takes the same
// time whatever the token's length or first wrong byte. Mutating endpoints (POST /repair,
// POST /fault) always need it; GET /metrics, /status and /fault only with
// security.admin_token_for_views. A 401 is counted (vigil_admin_requests_unauthorized_total)
// and never says which of missing, malformed or wrong it was.

#include "net/admin_http.h"

#include <chrono>
#include <optional>
#include <string>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "config/cluster_secret.h"
#include "core/assert.h"
#include "net/fault_filter.h"
#include "net/listen.h"
#include "net/status_json.h"
#include "net/tls_stream.h"

namespace vigil::net {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr std::size_t header_bytes_max = 8 * 1024;
constexpr std::size_t body_bytes_max = 8 * 1024;
constexpr std::chrono::seconds idle_timeout{30};

AdminTokenDigest digest_of(std::string_view token) {
  AdminTokenDigest digest{};
  unsigned int length = 0;
  const int ok = EVP_Digest(token.data(), token.size(), digest.data(), &length, EVP_sha256(),
                            nullptr);
  VIGIL_ASSERT(ok == 1 && length == digest.size(), "SHA-256 failed");
  return digest;
}

}  // namespace

class AdminSession : public std::enable_shared_from_this<AdminSession> {
 public:
  AdminSession(Stream stream, NodeService& service, Metrics& metrics, AdminAuth auth,
               core::Duration tls_handshake_timeout, std::function<void()> on_closed)
      : stream_(std::move(stream)),
        idle_timer_(stream_.get_executor()),
        tls_handshake_timeout_(tls_handshake_timeout),
        service_(service),
        metrics_(metrics),
        auth_(auth),
        on_closed_(std::move(on_closed)) {}

  void start() {
    stream_.handshake_within(ssl::stream_base::server, tls_handshake_timeout_,
                             [self = shared_from_this()](const boost::system::error_code& error) {
                               if (self->closed_) return;
                               if (error) {
                                 self->metrics_.tls_handshake_failed("admin");
                                 return self->close();
                               }
                               self->read();
                             });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    idle_timer_.cancel();
    stream_.close();
    if (on_closed_) {
      auto on_closed = std::move(on_closed_);
      on_closed_ = nullptr;
      on_closed();
    }
  }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(header_bytes_max);
    parser_->body_limit(body_bytes_max);
    arm_idle_timer();
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](const boost::system::error_code& error,
                                                 std::size_t) { self->on_read(error); });
  }

  // Closes the session if the read or write now starting has not finished in idle_timeout
  // (the stream has no deadline of its own: plain or TLS, net/tls_stream.h).
  void arm_idle_timer() {
    idle_timer_.expires_after(idle_timeout);
    idle_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
      if (!error) self->close();
    });
  }

  void on_read(const boost::system::error_code& error) {
    if (closed_) return;
    if (error == http::error::end_of_stream || error == beast::error::timeout ||
        error == asio::error::operation_aborted || error == asio::error::connection_reset ||
        error == asio::error::eof || error == ssl::error::stream_truncated) {
      return close();
    }
    if (error) {
      const bool too_large = error == http::error::body_limit;
      return respond(too_large ? http::status::payload_too_large : http::status::bad_request,
                     "text/plain", std::string("bad request: ") + error.message() + "\n", 11,
                     false);
    }
    handle(parser_->get());
  }

  void handle(const http::request<http::string_body>& request) {
    const unsigned version = request.version();
    const bool keep_alive = request.keep_alive();
    const auto method = request.method();
    const std::string_view target(request.target().data(), request.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    const bool is_view = path == "/metrics" || path == "/status";
    const bool mutates = method == http::verb::post;
    const bool known = is_view || path == "/fault" || path == "/repair";
    if (known && auth_.token && (mutates || auth_.for_views) && !authorized(request)) {
      metrics_.admin_unauthorized();
      return respond(http::status::unauthorized, "text/plain",
                     "unauthorized: this endpoint needs `Authorization: Bearer <token>` with "
                     "the token of security.admin_token_file\n",
                     version, keep_alive, false, {}, true);
    }
    if (path == "/fault") return handle_fault(request, version, keep_alive);
    if (!is_view && path != "/repair") {
      return respond(http::status::not_found, "text/plain",
                     "not found: the admin port serves GET /metrics, GET /status and "
                     "POST /repair\n",
                     version, keep_alive);
    }
    if (!is_view) return handle_repair(method, version, keep_alive);
    if (method != http::verb::get && method != http::verb::head) {
      return respond(http::status::method_not_allowed, "text/plain",
                     "method not allowed: " + std::string(path) + " takes GET or HEAD\n",
                     version, keep_alive, false, "GET, HEAD");
    }
    std::string body;
    std::string_view content_type;
    if (path == "/metrics") {
      body = metrics_.exposition(service_);
      content_type = "text/plain; version=0.0.4; charset=utf-8";
    } else {
      body = status_json(service_).dump(2) + "\n";
      content_type = "application/json";
    }
    respond(http::status::ok, content_type, std::move(body), version, keep_alive,
            method == http::verb::head);
  }

  // POST /repair: starts exchanges of every tree with every peer now; 202 (they run after
  // the answer) with the counts as they stand once the request is in.
  void handle_repair(http::verb method, unsigned version, bool keep_alive) {
    if (method != http::verb::post) {
      return respond(http::status::method_not_allowed, "text/plain",
                     "method not allowed: /repair takes POST\n", version, keep_alive, false,
                     "POST");
    }
    service_.request_repair();
    const AntiEntropyView view = service_.anti_entropy();
    const nlohmann::json body = {{"exchanges_completed", view.exchanges_completed},
                                 {"exchanges_pending", view.exchanges_pending}};
    respond(http::status::accepted, "application/json", body.dump() + "\n", version,
            keep_alive);
  }

  // /fault (net/fault_filter.h): 403 unless the node runs with --enable-fault-injection;
  // GET shows the rules and counters, POST replaces the rules with the JSON body's.
  void handle_fault(const http::request<http::string_body>& request, unsigned version,
                    bool keep_alive) {
    FaultFilter* filter = service_.fault_filter();
    if (filter == nullptr) {
      return respond(http::status::forbidden, "text/plain",
                     "fault injection is off: this node was not started with "
                     "`vigil start --enable-fault-injection`\n",
                     version, keep_alive);
    }
    const auto method = request.method();
    if (method == http::verb::post) {
      core::Result<FaultRules> rules = fault_rules_from_json(request.body());
      if (!rules) {
        return respond(http::status::bad_request, "text/plain",
                       rules.status().message() + "\n", version, keep_alive);
      }
      filter->set(std::move(rules).value(), steady_instant());
    } else if (method != http::verb::get) {
      return respond(http::status::method_not_allowed, "text/plain",
                     "method not allowed: /fault takes GET or POST\n", version, keep_alive,
                     false, "GET, POST");
    }
    nlohmann::json body = filter->status_json(steady_instant());
    body["wall_time_us"] = service_.wall_now();
    respond(http::status::ok, "application/json", body.dump() + "\n", version, keep_alive);
  }

  // The request carries `Authorization: Bearer <the token>`.
  bool authorized(const http::request<http::string_body>& request) const {
    const auto field = request.find(http::field::authorization);
    if (field == request.end()) return false;
    const std::string_view value(field->value().data(), field->value().size());
    constexpr std::string_view scheme = "Bearer ";
    if (value.size() <= scheme.size() || value.substr(0, scheme.size()) != scheme) return false;
    const AdminTokenDigest presented = digest_of(value.substr(scheme.size()));
    return CRYPTO_memcmp(presented.data(), auth_.token->data(), presented.size()) == 0;
  }

  void respond(http::status status, std::string_view content_type, std::string body,
               unsigned version, bool keep_alive, bool head_only = false,
               std::string_view allow = {}, bool challenge = false) {
    response_ = {};
    response_.result(status);
    response_.version(version);
    response_.set(http::field::server, "vigil");
    response_.set(http::field::content_type,
                  beast::string_view(content_type.data(), content_type.size()));
    if (!allow.empty()) {
      response_.set(http::field::allow, beast::string_view(allow.data(), allow.size()));
    }
    if (challenge) response_.set(http::field::www_authenticate, "Bearer realm=\"vigil-admin\"");
    response_.keep_alive(keep_alive);
    const std::size_t length = body.size();
    if (!head_only) response_.body() = std::move(body);
    response_.content_length(length);
    keep_alive_ = keep_alive;
    arm_idle_timer();
    http::async_write(stream_, response_,
                      [self = shared_from_this()](const boost::system::error_code& error,
                                                  std::size_t) { self->on_write(error); });
  }

  void on_write(const boost::system::error_code& error) {
    if (closed_) return;
    if (error || !keep_alive_) return close();
    read();
  }

  Stream stream_;
  asio::steady_timer idle_timer_;
  core::Duration tls_handshake_timeout_;
  NodeService& service_;
  Metrics& metrics_;
  AdminAuth auth_;
  std::function<void()> on_closed_;
  beast::flat_buffer buffer_{header_bytes_max + body_bytes_max};
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  bool keep_alive_ = false;
  bool closed_ = false;
};

AdminHttpServer::AdminHttpServer(asio::io_context& io, NodeService& service, Metrics& metrics,
                                 const config::Config& config)
    : io_(io), service_(service), metrics_(metrics), config_(config), acceptor_(io) {}

AdminHttpServer::~AdminHttpServer() { stop(); }

core::Result<asio::ip::tcp::endpoint> AdminHttpServer::start() {
  const config::Config::Security& security = config_.security;
  if (!security.admin_token_file.empty()) {
    core::Result<config::ClusterSecretFile> token =
        config::read_secret_file(security.admin_token_file, "admin token file");
    if (!token.ok()) {
      return core::Status(token.status().code(),
                          "security.admin_token_file: " + token.status().message());
    }
    auth_.token = digest_of(token->secret);
    OPENSSL_cleanse(token->secret.data(), token->secret.size());
    auth_.for_views = security.admin_token_for_views;
  }
  if (config_.security.tls.admin) {
    auto context = make_tls_context(config_.security.tls, TlsContextKind::serve);
    if (!context.ok()) return context.status();
    tls_ = std::move(context).value();
  }
  auto bound = listen_on(io_, acceptor_, config_.node.admin, "the admin port");
  if (!bound.ok()) return bound;
  accept_next();
  return bound;
}

void AdminHttpServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  *alive_ = false;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  auto sessions = sessions_;
  for (auto& [id, weak] : sessions) {
    if (auto session = weak.lock()) session->close();
  }
  sessions_.clear();
}

void AdminHttpServer::accept_next() {
  acceptor_.async_accept([this, alive = alive_](const boost::system::error_code& error,
                                                asio::ip::tcp::socket socket) {
    if (!*alive) return;  // stopped: the acceptor is closed and `this` may be gone
    if (error) {
      if (error != asio::error::operation_aborted) accept_next();
      return;
    }
    if (sessions_.size() >= admin_sessions_max) {
      boost::system::error_code ignored;
      socket.close(ignored);  // scrapers and operators need few connections
      accept_next();
      return;
    }
    const std::uint64_t id = next_session_id_++;
    Stream stream = tls_ ? Stream(std::move(socket), *tls_) : Stream(std::move(socket));
    auto session = std::make_shared<AdminSession>(std::move(stream), service_, metrics_, auth_,
                                                  config_.security.tls.handshake_timeout,
                                                  [this, id] { sessions_.erase(id); });
    sessions_.emplace(id, session);
    session->start();
    accept_next();
  });
}

}  // namespace vigil::net
