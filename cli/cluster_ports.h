#pragma once
// Choosing free loopback ports for a local cluster when no --base-port is given, so that
// parallel runs (tests under `ctest -j`) do not collide.

#include <cstdint>

#include "core/status.h"

namespace vigil::cli {

// Attempts at a random base port before giving up.
inline constexpr std::uint32_t cluster_port_attempts_max = 200;

// True when a TCP socket can bind 127.0.0.1:port right now (no SO_REUSEADDR, so a port in
// TIME_WAIT counts as taken).
bool loopback_port_free(std::uint16_t port);

// A base port (cli/cluster_layout.h) whose every derived port for `nodes` nodes is free
// now. Candidates are drawn at random below the kernel's ephemeral range
// (/proc/sys/net/ipv4/ip_local_port_range), because an outgoing connection may take any
// free ephemeral port: a node's port there could be taken while that node is down for a
// restart, and it could then not bind it again. A port free now may still be taken before
// the node binds it; the chance is small and `cluster up` then reports the node's bind
// error. resource_exhausted after cluster_port_attempts_max candidates.
core::Result<std::uint32_t> choose_base_port(std::uint32_t nodes);

}  // namespace vigil::cli
