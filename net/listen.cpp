// A port that cannot be bound is a configuration or deployment error the operator must
// see: the error names the port's role and the address, and nothing is left half open.

#include "net/listen.h"

#include <string>

#include <boost/asio/ip/address.hpp>

namespace vigil::net {

namespace asio = boost::asio;

namespace {

// The endpoint for `address`: an IP literal as is, a name resolved once.
core::Result<asio::ip::tcp::endpoint> resolve(asio::io_context& io,
                                              const config::Address& address) {
  boost::system::error_code error;
  const auto ip = asio::ip::make_address(address.host, error);
  if (!error) return asio::ip::tcp::endpoint(ip, address.port);
  asio::ip::tcp::resolver resolver(io);
  auto results = resolver.resolve(address.host, std::to_string(address.port), error);
  if (error || results.empty()) {
    return core::error(core::Code::io_error, "cannot resolve " + config::format_address(address) +
                                                 ": " + error.message());
  }
  return results.begin()->endpoint();
}

}  // namespace

core::Result<asio::ip::tcp::endpoint> listen_on(asio::io_context& io,
                                                asio::ip::tcp::acceptor& acceptor,
                                                const config::Address& address,
                                                std::string_view what) {
  auto endpoint = resolve(io, address);
  if (!endpoint.ok()) return endpoint.status();
  boost::system::error_code error;
  acceptor.open(endpoint->protocol(), error);
  if (!error) acceptor.set_option(asio::socket_base::reuse_address(true), error);
  if (!error) acceptor.bind(*endpoint, error);
  if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    return core::error(core::Code::io_error, "cannot listen on " + std::string(what) + " " +
                                                 config::format_address(address) + ": " +
                                                 error.message());
  }
  return acceptor.local_endpoint();
}

}  // namespace vigil::net
