#pragma once
// The ports a running node serves besides the peer port: the client port (RESP2,
// net/resp_server.h) and the admin port (HTTP, net/admin_http.h), with the Metrics they
// share, as one RuntimePort that a NodeRuntime owns and stops first at shutdown.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "core/status.h"
#include "net/admin_http.h"
#include "net/metrics.h"
#include "net/node_runtime.h"
#include "net/resp_server.h"

namespace vigil::net {

class ServicePorts final : public RuntimePort {
 public:
  // Binds node.client and node.admin of service.config() (port 0 for both when
  // `any_port`: tests) and starts accepting. io_error naming the address when either
  // cannot be bound (nothing is left listening then). `service` outlives the ports.
  static core::Result<std::unique_ptr<ServicePorts>> start(boost::asio::io_context& io,
                                                           NodeService& service,
                                                           bool any_port = false);
  ~ServicePorts() override;
  void stop() override;

  const boost::asio::ip::tcp::endpoint& client_endpoint() const { return client_endpoint_; }
  const boost::asio::ip::tcp::endpoint& admin_endpoint() const { return admin_endpoint_; }

 private:
  ServicePorts() = default;

  Metrics metrics_;  // before the servers: they hold a reference to it
  std::unique_ptr<RespServer> resp_;
  std::unique_ptr<AdminHttpServer> admin_;
  boost::asio::ip::tcp::endpoint client_endpoint_;
  boost::asio::ip::tcp::endpoint admin_endpoint_;
  bool stopped_ = false;
};

}  // namespace vigil::net
