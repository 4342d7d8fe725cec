// The exposition gathers three sources into one Prometheus text: the client port's own
// figures (kept here), the node's counters and views (NodeService), and the store's
// commit figures. Names follow Prometheus' conventions (base units, `_total` for counters,
// a `vigil_` prefix, one family per meaning with labels for the dimensions); node counters
// keep core/counters.h's names under `vigil_node_<name>_total`, every one of them, zeros
// included, with its declared meaning as HELP, so a counter added to the node appears
// without touching this file. docs/client-protocol.md lists every family.

#include "net/metrics.h"

#include <array>
#include <string>

#include "net/build_info.h"
#include "net/prometheus_text.h"

namespace vigil::net {

namespace {

// noauth, wrongpass and noperm count the client port's refusals (docs/security.md).
constexpr std::array<std::string_view, 13> error_kinds = {
    "internal",    "invalid_context", "noauth",          "noperm",      "refused",
    "syntax",      "timeout",         "too_large",       "unavailable", "unknown_command",
    "unsupported", "wrong_arity",     "wrongpass"};

constexpr std::array<PeerConnectionState, 4> connection_states = {
    PeerConnectionState::disconnected, PeerConnectionState::connecting,
    PeerConnectionState::connected, PeerConnectionState::backoff};

constexpr std::array<core::BreakerState, 3> breaker_states = {
    core::BreakerState::closed, core::BreakerState::open, core::BreakerState::half_open};
constexpr std::array<core::PeerState, 3> member_states = {
    core::PeerState::alive, core::PeerState::suspect, core::PeerState::failed};

void client_families(PrometheusText& text, const Metrics& metrics) {
  text.family("vigil_client_requests_total", "counter",
              "Client commands answered, by command and consistency level (none: answered "
              "by the port itself).");
  for (const auto& [labels, histogram] : metrics.commands()) {
    text.sample("vigil_client_requests_total",
                {{"command", labels.first}, {"consistency", labels.second}},
                static_cast<double>(histogram.count()));
  }
  text.family("vigil_client_request_duration_seconds", "histogram",
              "Client command latency from the request parsed to its reply ready.");
  for (const auto& [labels, histogram] : metrics.commands()) {
    text.histogram("vigil_client_request_duration_seconds",
                   {{"command", labels.first}, {"consistency", labels.second}}, histogram);
  }
  text.family("vigil_client_errors_total", "counter", "Client error replies, by kind.");
  for (const auto& [kind, count] : metrics.errors()) {
    text.sample("vigil_client_errors_total", {{"kind", kind}}, static_cast<double>(count));
  }
  const std::array<std::tuple<std::string_view, std::string_view, std::string_view, std::uint64_t>,
                   10>
      scalars = {{
          {"vigil_client_connections", "gauge", "Open client connections.",
           metrics.connections_open()},
          {"vigil_client_connections_accepted_total", "counter", "Client connections accepted.",
           metrics.connections_accepted()},
          {"vigil_client_connections_refused_total", "counter",
           "Client connections refused at limits.client_connections_max.",
           metrics.connections_refused()},
          {"vigil_client_protocol_errors_total", "counter",
           "Client connections closed for a malformed request.", metrics.protocol_errors()},
          {"vigil_client_output_limit_closes_total", "counter",
           "Client connections closed with too many unsent reply bytes.",
           metrics.output_limit_closes()},
          {"vigil_client_get_siblings_resolved_total", "counter",
           "GET/MGET of a key with siblings answered with one of them.",
           metrics.get_siblings_resolved_count()},
          {"vigil_client_commands_ordered_waits_total", "counter",
           "Commands that waited for an earlier command of their connection on the same key.",
           metrics.commands_ordered_waits()},
          {"vigil_client_reply_writes_total", "counter",
           "Writes to client sockets (replies completed in one loop turn share one).",
           metrics.reply_writes()},
          {"vigil_client_replies_written_total", "counter",
           "Replies handed to those writes.", metrics.replies_written()},
          {"vigil_admin_requests_unauthorized_total", "counter",
           "Admin requests refused 401: no or a wrong bearer token.",
           metrics.admin_unauthorized_count()},
      }};
  for (const auto& [name, type, help, value] : scalars) {
    text.family(name, type, help);
    text.sample(name, {}, static_cast<double>(value));
  }
  text.family("vigil_tls_handshakes_failed_total", "counter",
              "TLS handshakes that failed on the client or admin port (docs/security.md).");
  for (const std::string_view port : {"client", "admin"}) {
    text.sample("vigil_tls_handshakes_failed_total", {{"port", std::string(port)}},
                static_cast<double>(metrics.tls_handshake_failures(port)));
  }
}

void node_families(PrometheusText& text, const NodeService& service) {
  text.family("vigil_node_info", "gauge", "This node's id (value 1).");
  text.sample("vigil_node_info", {{"node", service.config().node.id}}, 1);
  const BuildInfo build = build_info();
  text.family("vigil_build_info", "gauge",
              "The binary's version, git commit and build type (value 1).");
  text.sample("vigil_build_info",
              {{"version", std::string(build.version)},
               {"git_commit", std::string(build.git_commit)},
               {"build_type", std::string(build.build_type)}},
              1);
  for (const auto& [name, meaning, value] : service.counters().samples) {
    const std::string family = "vigil_node_" + sanitize_metric_name(name) + "_total";
    text.family(family, "counter",
                meaning.empty() ? "Node counter " + name + "." : std::string(meaning));
    text.sample(family, {}, static_cast<double>(value));
  }
  text.family("vigil_node_tombstones_held", "gauge",
              "Tombstones the collector knows this node holds (docs/deletes.md).");
  text.sample("vigil_node_tombstones_held", {}, static_cast<double>(service.tombstones_held()));
  text.family("vigil_node_hints_pending", "gauge",
              "Hints this node holds for other nodes, not yet delivered (hinted handoff).");
  text.sample("vigil_node_hints_pending", {}, static_cast<double>(service.hints_pending()));
}

void peer_families(PrometheusText& text, const NodeService& service) {
  const auto connections = service.peer_connections();
  text.family("vigil_peer_connection_state", "gauge",
              "1 for the state of this node's connection to each peer, 0 for the others.");
  for (const PeerConnectionStatus& peer : connections) {
    for (PeerConnectionState state : connection_states) {
      text.sample("vigil_peer_connection_state",
                  {{"peer", peer.peer},
                   {"address", peer.address},
                   {"state", std::string(peer_connection_state_name(state))}},
                  peer.state == state ? 1 : 0);
    }
  }
  text.family("vigil_peer_send_queue_bytes", "gauge", "Bytes queued to send to each peer.");
  for (const PeerConnectionStatus& peer : connections) {
    text.sample("vigil_peer_send_queue_bytes", {{"peer", peer.peer}},
                static_cast<double>(peer.queued_bytes));
  }
  const auto members = service.members();
  text.family("vigil_member_state", "gauge",
              "1 for each member's state as this node judges it, 0 for the others.");
  for (const core::PeerStatus& member : members) {
    for (core::PeerState state : member_states) {
      text.sample("vigil_member_state",
                  {{"member", member.id}, {"state", std::string(core::peer_state_name(state))}},
                  member.state == state ? 1 : 0);
    }
  }
  text.family("vigil_member_phi", "gauge", "Phi accrual suspicion of each member.");
  for (const core::PeerStatus& member : members) {
    text.sample("vigil_member_phi", {{"member", member.id}}, member.phi);
  }
  text.family("vigil_member_heartbeat", "gauge", "Latest heartbeat known of each member.");
  for (const core::PeerStatus& member : members) {
    text.sample("vigil_member_heartbeat", {{"member", member.id}},
                static_cast<double>(member.heartbeat));
  }
  text.family("vigil_member_incarnation", "gauge", "Latest incarnation known of each member.");
  for (const core::PeerStatus& member : members) {
    text.sample("vigil_member_incarnation", {{"member", member.id}},
                static_cast<double>(member.incarnation));
  }
  // Breaker openings, short-circuited requests and retries by cause are counters of
  // core/counters.h (vigil_node_breaker_openings_total, ..._routes_short_circuited_total,
  // ..._forward_retries_silence_total, ..._forward_retries_refused_total); this is the state.
  text.family("vigil_peer_breaker_state", "gauge",
              "1 for the circuit breaker state of each peer (core/routing), 0 for the others.");
  for (const core::RouteStatus& route : service.routes()) {
    for (core::BreakerState state : breaker_states) {
      text.sample("vigil_peer_breaker_state",
                  {{"peer", route.node}, {"state", std::string(core::breaker_state_name(state))}},
                  route.breaker == state ? 1 : 0);
    }
  }
  text.family("vigil_ring_ownership_ratio", "gauge", "Fraction of the ring each node owns.");
  for (const auto& [node, fraction] : service.ring_ownership()) {
    text.sample("vigil_ring_ownership_ratio", {{"node", node}}, fraction);
  }
}

void store_families(PrometheusText& text, const NodeService& service) {
  const StoreStats& store = service.store_stats();
  text.family("vigil_store_commit_duration_seconds", "histogram",
              "Duration of each store commit (group commit).");
  text.histogram("vigil_store_commit_duration_seconds", {}, store.commit_latency_seconds);
  text.family("vigil_store_commit_batch_size", "histogram", "Inputs covered by one commit.");
  text.histogram("vigil_store_commit_batch_size", {}, store.batch_size);
  text.family("vigil_store_commits_total", "counter", "Store commits.");
  text.sample("vigil_store_commits_total", {}, static_cast<double>(store.commits));
  text.family("vigil_store_commit_failures_total", "counter", "Store commits that failed.");
  text.sample("vigil_store_commit_failures_total", {}, static_cast<double>(store.commit_failures));
}

}  // namespace

Metrics::Metrics() {
  for (std::string_view kind : error_kinds) errors_[std::string(kind)] = 0;
}

void Metrics::record_command(std::string_view command, std::string_view consistency,
                             double seconds) {
  auto key = std::make_pair(std::string(command), std::string(consistency));
  auto it = commands_.find(key);
  if (it == commands_.end()) it = commands_.emplace(std::move(key), Histogram{}).first;
  it->second.observe(seconds);
}

void Metrics::record_error(std::string_view kind) { ++errors_[std::string(kind)]; }

std::uint64_t Metrics::commands_total() const {
  std::uint64_t total = 0;
  for (const auto& [labels, histogram] : commands_) total += histogram.count();
  return total;
}

std::uint64_t Metrics::errors_total() const {
  std::uint64_t total = 0;
  for (const auto& [kind, count] : errors_) total += count;
  return total;
}

std::string Metrics::exposition(const NodeService& service) const {
  PrometheusText text;
  client_families(text, *this);
  node_families(text, service);
  peer_families(text, service);
  store_families(text, service);
  return text.take();
}

}  // namespace vigil::net
