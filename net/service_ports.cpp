// ServicePorts: the client and admin servers started together and stopped together. The
// client port stops first at shutdown, so no request arrives while the node drains.

#include "net/service_ports.h"

#include <utility>

namespace vigil::net {

core::Result<std::unique_ptr<ServicePorts>> ServicePorts::start(boost::asio::io_context& io,
                                                                NodeService& service,
                                                                bool any_port) {
  config::Config config = service.config();
  if (any_port) {
    config.node.client.port = 0;
    config.node.admin.port = 0;
  }
  std::unique_ptr<ServicePorts> ports(new ServicePorts());
  ports->resp_ = std::make_unique<RespServer>(io, service, ports->metrics_, config);
  ports->admin_ = std::make_unique<AdminHttpServer>(io, service, ports->metrics_, config);
  core::Result<boost::asio::ip::tcp::endpoint> client = ports->resp_->start();
  if (!client.ok()) return client.status();
  ports->client_endpoint_ = *client;
  core::Result<boost::asio::ip::tcp::endpoint> admin = ports->admin_->start();
  if (!admin.ok()) {
    ports->resp_->stop();
    return admin.status();
  }
  ports->admin_endpoint_ = *admin;
  return ports;
}

ServicePorts::~ServicePorts() {
  stop();
}

void ServicePorts::stop() {
  if (stopped_) return;
  stopped_ = true;
  resp_->stop();
  admin_->stop();
}

}  // namespace vigil::net
