// VRING: the ring as this node knows it, for token-aware clients (client/, Cassandra's
// system.peers and Redis Cluster's CLUSTER SHARDS play the same part).
//
// A client computes a key's preference list itself from the tokens (core::Ring, the same
// code the node runs), so the reply carries every token, not ranges: 128 tokens per node
// by default, a few kilobytes for a small cluster, asked for once and then every refresh
// interval. `version` lets a client keep the newer of two replies once rings change
// (issue 14); `digest` tells two equal rings apart from two different ones.
//
// Client addresses: a node knows only its own client address (node.client); gossip carries
// node-to-node addresses, not client ones. Other members are listed with an empty address,
// and a client learns their addresses by asking each of its seeds (client/ does).

#include <fmt/format.h>

#include "config/config.h"
#include "net/client_command_table.h"
#include "net/resp_reply.h"

namespace vigil::net::commands {

void handle_vring(const ResponderPtr& responder, ClientSession&, Arguments&) {
  const RingView view = responder->environment().service.ring_view();
  const config::Config& config = responder->environment().config;
  const std::map<core::NodeId, std::vector<core::Token>> tokens = view.ring.all_tokens();
  // The port bound, which differs from node.client's when that asked for any port (0).
  config::Address bound = config.node.client;
  bound.port = responder->environment().port;
  const std::string own_address = config::format_address(bound);
  std::string out;
  resp::append_array_header(out, 10);
  resp::append_bulk(out, "version");
  resp::append_integer(out, static_cast<std::int64_t>(view.version));
  resp::append_bulk(out, "digest");
  resp::append_bulk(out, fmt::format("{:016x}", view.digest));
  resp::append_bulk(out, "self");
  resp::append_bulk(out, config.node.id);
  resp::append_bulk(out, "replicas");
  resp::append_integer(out, view.replicas);
  resp::append_bulk(out, "members");
  resp::append_array_header(out, tokens.size());
  for (const auto& [node, node_tokens] : tokens) {
    resp::append_array_header(out, 3);
    resp::append_bulk(out, node);
    resp::append_bulk(out, node == config.node.id ? own_address : std::string());
    resp::append_array_header(out, node_tokens.size());
    // Decimal strings: a token is an unsigned 64-bit value, RESP2 integers are signed.
    for (const core::Token token : node_tokens) resp::append_bulk(out, std::to_string(token));
  }
  responder->send(std::move(out));
}

}  // namespace vigil::net::commands
