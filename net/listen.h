#pragma once
// Binding a listening socket for the node's ports (client, admin).

#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "config/config.h"
#include "core/status.h"

namespace vigil::net {

// Opens, binds (SO_REUSEADDR) and listens on `address` (an IP literal, or a name resolved
// here, once; port 0 picks a free port). Returns the bound endpoint; io_error naming
// `what` and the address when any step fails (the acceptor is left closed).
core::Result<boost::asio::ip::tcp::endpoint> listen_on(boost::asio::io_context& io,
                                                       boost::asio::ip::tcp::acceptor& acceptor,
                                                       const config::Address& address,
                                                       std::string_view what);

}  // namespace vigil::net
