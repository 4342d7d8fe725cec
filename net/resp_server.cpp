// Theory of operation. One acceptor on the node's loop; each accepted socket becomes a
// RespConnection registered by id (an ordered map: stop() closes them in a fixed order).
// A connection past limits.client_connections_max is still accepted, so that the client
// gets Redis' "-ERR max number of clients reached" rather than a hanging connect, then
// closed, and counted. The command environment is shared with the connections and the
// node's reply callbacks; stop() marks it dead, so a reply delivered after stop() touches
// nothing.

#include "net/resp_server.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/write.hpp>

#include "net/listen.h"
#include "net/resp_connection.h"

namespace vigil::net {

namespace {

constexpr std::string_view max_clients_reply = "-ERR max number of clients reached\r\n";

}  // namespace

RespServer::RespServer(asio::io_context& io, NodeService& service, Metrics& metrics,
                       const config::Config& config)
    : io_(io),
      service_(service),
      metrics_(metrics),
      config_(config),
      acceptor_(io),
      registry_(std::make_shared<Registry>()) {}

RespServer::~RespServer() { stop(); }

core::Result<asio::ip::tcp::endpoint> RespServer::start() {
  if (config_.security.tls.client) {
    auto context = make_tls_context(config_.security.tls, TlsContextKind::serve);
    if (!context.ok()) return context.status();
    tls_ = std::move(context).value();
  }
  auto bound = listen_on(io_, acceptor_, config_.node.client, "the client port");
  if (!bound.ok()) return bound;
  environment_ = std::make_shared<CommandEnvironment>(CommandEnvironment{
      service_, metrics_, config_, std::chrono::steady_clock::now(), bound->port(), true, {}});
  accept_next();
  return bound;
}

std::uint64_t RespServer::kdf_runs() const {
  return environment_ ? environment_->passwords.kdf_runs() : 0;
}

void RespServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  // Close in id order; each close removes itself from the registry (and the gauge).
  auto connections = registry_->connections;
  for (auto& [id, weak] : connections) {
    if (auto connection = weak.lock()) connection->close();
  }
  registry_->connections.clear();
  if (environment_) environment_->alive = false;
}

std::size_t RespServer::connection_count() const { return registry_->connections.size(); }

void RespServer::accept_next() {
  acceptor_.async_accept([this, alive = environment_](const boost::system::error_code& error,
                                                      asio::ip::tcp::socket socket) {
    if (!alive->alive) return;  // stopped (the acceptor is closed; `this` may be gone)
    on_accept(error, std::move(socket));
  });
}

void RespServer::on_accept(const boost::system::error_code& error, asio::ip::tcp::socket socket) {
  if (error) {
    // A transient failure (EMFILE, ECONNABORTED) must not stop the port: try the next.
    if (error != asio::error::operation_aborted) accept_next();
    return;
  }
  if (registry_->connections.size() >= config_.limits.client_connections_max) {
    metrics_.connection_refused();
    if (tls_) {
      // The error text would reach a TLS client as garbage: close without it.
      boost::system::error_code ignored;
      socket.close(ignored);
      accept_next();
      return;
    }
    auto refused = std::make_shared<asio::ip::tcp::socket>(std::move(socket));
    asio::async_write(*refused, asio::buffer(max_clients_reply),
                      [refused](const boost::system::error_code&, std::size_t) {
                        boost::system::error_code ignored;
                        refused->shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
                        refused->close(ignored);
                      });
    accept_next();
    return;
  }
  boost::system::error_code ignored;
  socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  const std::uint64_t id = registry_->next_id++;
  std::weak_ptr<Registry> registry = registry_;
  std::shared_ptr<CommandEnvironment> environment = environment_;
  Stream stream = tls_ ? Stream(std::move(socket), *tls_) : Stream(std::move(socket));
  auto connection = std::make_shared<RespConnection>(
      std::move(stream), environment_, connection_limits(config_), id,
      [registry, environment, id] {
        if (auto alive_registry = registry.lock()) alive_registry->connections.erase(id);
        if (environment->alive) environment->metrics.connection_closed();
      });
  registry_->connections.emplace(id, connection);
  metrics_.connection_opened();
  connection->start();
  accept_next();
}

}  // namespace vigil::net
