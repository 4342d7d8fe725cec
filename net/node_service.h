#pragma once
// What the client port (net/resp_server.h) and the admin port (net/admin_http.h) need from
// a running node. net/node_runtime.h implements it over core::Node; the ports depend only
// on this seam, so each is tested against a small fake of it and the runtime against real
// ports. Every call happens on the node's one event-loop thread (Asio io_context, one
// thread per process): nothing here locks.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/node/client.h"
#include "config/config.h"
#include "core/membership/membership.h"
#include "core/node/node.h"
#include "core/ring/ring.h"
#include "core/time.h"
#include "net/counter_snapshot.h"
#include "net/histogram.h"

namespace vigil::net {

class FaultFilter;

// The state of this node's connection to one peer (the peer transport's view).
enum class PeerConnectionState : std::uint8_t { disconnected, connecting, connected, backoff };
std::string_view peer_connection_state_name(PeerConnectionState state);

struct PeerConnectionStatus {
  core::NodeId peer;
  std::string address;  // "host:port" dialed
  PeerConnectionState state = PeerConnectionState::disconnected;
  std::uint64_t queued_bytes = 0;
};

// Store commit figures (group commit): one observation per commit.
struct StoreStats {
  Histogram commit_latency_seconds;  // per commit() call
  Histogram batch_size{Histogram::size_bounds()};  // inputs covered by one commit
  std::uint64_t commits = 0;
  std::uint64_t commit_failures = 0;
};

// The node's anti-entropy as /status shows it (core::Node's views, taken together on the
// loop thread). `now` is the monotonic instant they were taken at, so that a reader can
// tell how long ago each tree's last exchange was.
struct AntiEntropyView {
  std::uint64_t exchanges_completed = 0;  // finished since start, whatever their outcome
  std::uint64_t exchanges_pending = 0;    // running or queued
  std::vector<core::TreeStatus> trees;
  core::Instant now{};
};

// The ring as VRING reports it (net/client_commands_ring.cpp, docs/client-protocol.md).
// `version` grows by one with every change of the ring this node makes its own: the ring is
// built once from node.seeds at start (version 1) until membership changes exist (issue 14).
// `digest` is the ring digest gossip carries (core/node/node_membership.h): two nodes with
// the same digest hold the same tokens, whatever their versions.
struct RingView {
  std::uint64_t version = 0;
  std::uint64_t digest = 0;
  std::uint32_t replicas = 0;  // quorum_settings.N: the length of a preference list
  core::Ring ring;
};

class NodeService {
 public:
  virtual ~NodeService() = default;

  // Hands a client request to the node. The service assigns request.id (callers leave it
  // 0). `done` is called exactly once on the loop thread: with the node's reply, after the
  // commit covering it (rule 3), or with an `unavailable` reply when the node is shutting
  // down. Never called from inside submit() itself.
  virtual void submit(core::ClientRequest request,
                      std::function<void(const core::ClientReply&)> done) = 0;

  virtual const config::Config& config() const = 0;
  // Every counter of core/counters.h plus the runtime's own (net/counter_snapshot.h).
  virtual CounterSnapshot counters() const = 0;
  virtual std::vector<core::PeerStatus> members() const = 0;
  // Every peer's health and circuit breaker as the node's router sees them (core::Node::routes).
  virtual std::vector<core::RouteStatus> routes() const = 0;
  virtual std::map<core::NodeId, double> ring_ownership() const = 0;  // fraction per node
  virtual RingView ring_view() const = 0;
  virtual std::vector<PeerConnectionStatus> peer_connections() const = 0;
  virtual const StoreStats& store_stats() const = 0;
  virtual core::WallMicros wall_now() const = 0;
  virtual AntiEntropyView anti_entropy() const = 0;
  // Tombstones the node's collector knows it holds (core::Node::tombstones_held).
  virtual std::uint64_t tombstones_held() const = 0;
  // Hints this node holds for other nodes (core::Node::hints_pending): the hinted-handoff
  // backlog that docs/alerts.yaml watches.
  virtual std::uint64_t hints_pending() const = 0;
  // Starts an exchange of every tree with every peer now (POST /repair, `vigil cluster
  // repair`): one input to the node, flushed as any other. Ignored once shutting down.
  virtual void request_repair() = 0;
  // The node's fault filter (net/fault_filter.h), or nullptr: there is one only when the
  // node runs with --enable-fault-injection, and the admin port's /fault refuses without it.
  virtual FaultFilter* fault_filter() { return nullptr; }
};

}  // namespace vigil::net
