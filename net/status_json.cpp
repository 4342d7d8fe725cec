// /status is for people and scripts (vigil cluster status, tests): one document with the
// node's identity, its build (net/build_info.h), its view of the ring and the membership,
// each peer's health and circuit breaker (`routes`), and its peer connections.
// Member rows keep core::PeerStatus' fields and names.

#include "net/status_json.h"

#include <fmt/format.h>

#include <chrono>
#include <string>

#include "net/build_info.h"

namespace vigil::net {

nlohmann::json status_json(const NodeService& service) {
  const config::Config& config = service.config();
  nlohmann::json status;
  status["node"] = {{"id", config.node.id},
                    {"listen", config::format_address(config.node.listen)},
                    {"client", config::format_address(config.node.client)},
                    {"admin", config::format_address(config.node.admin)}};
  const BuildInfo build = build_info();
  status["build"] = {{"version", build.version},
                     {"git_commit", build.git_commit},
                     {"build_type", build.build_type}};
  status["wall_time_us"] = service.wall_now();
  nlohmann::json ownership = nlohmann::json::object();
  for (const auto& [node, fraction] : service.ring_ownership()) ownership[node] = fraction;
  status["ring"] = {{"replicas", config.quorum_settings.n}, {"ownership", ownership}};
  nlohmann::json members = nlohmann::json::array();
  for (const core::PeerStatus& member : service.members()) {
    members.push_back({{"id", member.id},
                       {"address", member.address},
                       {"state", std::string(core::peer_state_name(member.state))},
                       {"phi", member.phi},
                       {"incarnation", member.incarnation},
                       {"heartbeat", member.heartbeat},
                       {"silence_seconds",
                        std::chrono::duration<double>(member.silence).count()},
                       {"probe_failures", member.probe_failures},
                       {"ring_mismatch", member.ring_mismatch},
                       {"self", member.is_self}});
  }
  status["members"] = std::move(members);
  // The router's view (core/routing/router.h): what forwards and hint fallbacks avoid.
  nlohmann::json routes = nlohmann::json::array();
  for (const core::RouteStatus& route : service.routes()) {
    routes.push_back({{"peer", route.node},
                      {"healthy", route.healthy},
                      {"breaker", std::string(core::breaker_state_name(route.breaker))},
                      {"consecutive_failures", route.consecutive_failures}});
  }
  status["routes"] = std::move(routes);
  nlohmann::json connections = nlohmann::json::array();
  for (const PeerConnectionStatus& peer : service.peer_connections()) {
    connections.push_back({{"peer", peer.peer},
                           {"address", peer.address},
                           {"state", std::string(peer_connection_state_name(peer.state))},
                           {"queued_bytes", peer.queued_bytes}});
  }
  status["peer_connections"] = std::move(connections);
  const StoreStats& store = service.store_stats();
  status["store"] = {{"commits", store.commits}, {"commit_failures", store.commit_failures}};
  nlohmann::json counters = nlohmann::json::object();
  for (const auto& [name, meaning, value] : service.counters().samples) counters[name] = value;
  status["counters"] = std::move(counters);
  status["anti_entropy"] = anti_entropy_json(service.anti_entropy());
  return status;
}

nlohmann::json anti_entropy_json(const AntiEntropyView& view) {
  nlohmann::json trees = nlohmann::json::array();
  for (const core::TreeStatus& tree : view.trees) {
    nlohmann::json peers = nlohmann::json::array();
    for (const core::TreeStatus::Peer& peer : tree.peers) {
      nlohmann::json ago = nullptr;
      if (peer.last_exchange) {
        ago = std::chrono::duration<double>(view.now - *peer.last_exchange).count();
      }
      peers.push_back(
          {{"peer", peer.peer}, {"last_exchange_seconds_ago", ago}, {"outcome", peer.outcome}});
    }
    // Hex, not a number: a JSON reader may hold numbers as doubles (53 bits).
    trees.push_back({{"replicas", tree.replicas},
                     {"root_hash", fmt::format("{:016x}", tree.root_hash)},
                     {"keys", tree.keys},
                     {"peers", std::move(peers)}});
  }
  return {{"exchanges_completed", view.exchanges_completed},
          {"exchanges_pending", view.exchanges_pending},
          {"trees", std::move(trees)}};
}

}  // namespace vigil::net
