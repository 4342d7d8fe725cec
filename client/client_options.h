#pragma once
// ClientOptions checked and mapped onto core's routing options (client_options.cpp).

#include <cstdint>

#include "client/client.h"
#include "client/node_connection.h"
#include "core/routing/routing_options.h"

namespace vigil::client {

// The options as the router takes them (routing.*, load_balancing.* of the seed).
core::RoutingOptions routing_options(const ClientOptions& options);
// `options` when valid; otherwise throws ClientError(invalid_argument) naming the option
// (the router asserts its options: a library refuses them instead).
const ClientOptions& checked(const ClientOptions& options);
// What every connection of the Client uses; with options.tls.enabled, the TLS context is
// built here (throws ClientError(invalid_argument) naming a CA, certificate or key file
// that cannot be loaded).
ConnectionSettings connection_settings(const ClientOptions& options);
// options.random_seed, or one drawn from std::random_device when it is 0.
std::uint64_t seed_of(const ClientOptions& options);

}  // namespace vigil::client
