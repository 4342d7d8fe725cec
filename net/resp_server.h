#pragma once
// The client port: Redis protocol (RESP2) over TCP on node.client. One acceptor, one
// RespConnection per client (net/resp_connection.h), commands in net/client_commands.h.
//
// Bounds (rule 4): at most limits.client_connections_max connections (one more is answered
// "-ERR max number of clients reached" and closed, counted in Metrics); per connection,
// the request parser's bounds (net/resp_parser.h), a bound on pipelined requests awaiting
// their replies (reading pauses at it) and on unsent reply bytes (the connection is
// closed past it, counted).
//
// Runs on the node's one loop thread; the NodeService and Metrics outlive the server.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "config/config.h"
#include "core/status.h"
#include "net/client_commands.h"
#include "net/metrics.h"
#include "net/node_service.h"
#include "net/tls_stream.h"

namespace vigil::net {

namespace asio = boost::asio;

class RespConnection;

class RespServer {
 public:
  // `config` is copied (the client address, limits and timing are read from it).
  RespServer(asio::io_context& io, NodeService& service, Metrics& metrics,
             const config::Config& config);
  ~RespServer();
  RespServer(const RespServer&) = delete;
  RespServer& operator=(const RespServer&) = delete;

  // Binds config.node.client (port 0 picks a free port; a DNS name is resolved here, once)
  // and starts accepting. Returns the bound endpoint; io_error naming the address when
  // it cannot be bound. With security.tls.client, every connection is TLS (the
  // certificate files are read here: invalid_argument naming the key when they cannot be
  // used). REQUIRES: called once.
  core::Result<asio::ip::tcp::endpoint> start();
  // Stops accepting and closes every connection (replies still owed are dropped: the
  // clients see the connection close). Idempotent. Replies the NodeService delivers
  // later are discarded.
  void stop();

  std::size_t connection_count() const;
  // PBKDF2 runs of AUTH so far (net/client_auth.h); 0 before start().
  std::uint64_t kdf_runs() const;

 private:
  void accept_next();
  void on_accept(const boost::system::error_code& error, asio::ip::tcp::socket socket);

  asio::io_context& io_;
  NodeService& service_;
  Metrics& metrics_;
  config::Config config_;
  asio::ip::tcp::acceptor acceptor_;
  // Open connections by id; shared with each connection's close hook, which may run after
  // the server is gone (a reply delivered late keeps its connection alive until then).
  struct Registry {
    std::map<std::uint64_t, std::weak_ptr<RespConnection>> connections;
    std::uint64_t next_id = 1;
  };
  std::shared_ptr<Registry> registry_;
  std::shared_ptr<CommandEnvironment> environment_;  // set by start()
  std::shared_ptr<ssl::context> tls_;  // security.tls.client; null: plain TCP
  bool stopped_ = false;
};

}  // namespace vigil::net
