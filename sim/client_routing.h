#pragma once
// The simulator's clients routing with the core router (workload.routing; issue 16): each
// workload client has its own core::Router over the cluster's ring, with the cluster's
// routing and load_balancing settings and a strategy of its own, so token awareness and
// circuit breakers are tested and measured under the scenario's faults. Without
// workload.routing the clients keep their uniform draw and nothing here runs.
//
// What feeds a client's breakers and health (client_routing.cpp has the reasons):
// - a reply within replication_timeout is a success; a client timeout, a refused or reset
//   connection, or a reply slower than replication_timeout (a slow call) is a failure;
// - a refused or reset connection also marks the node unhealthy until the next health check
//   (passive health checking: the next request after the check is the probe).
//
// Hops: a call to a node on its key's preference list is coordinated there (one hop); any
// other is forwarded (two). Counted as client_calls_to_replica / client_calls_forwarded.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/counters.h"
#include "core/node/client.h"
#include "core/random.h"
#include "core/ring/ring.h"
#include "core/routing/router.h"

namespace vigil::sim {

class ClientRouting {
 public:
  struct Route {
    std::uint32_t node = 0;  // index in the cluster
    core::CircuitBreaker::Permit permit;
  };

  // `ids`: the cluster's nodes by index. `slow_call`: a reply slower than this is a failure.
  ClientRouting(const core::RoutingOptions& options, const core::Ring& ring, std::uint32_t replicas,
                const std::vector<core::NodeId>& ids, std::uint32_t clients, std::uint64_t seed,
                core::Duration slow_call);
  ~ClientRouting();

  // Where client `client` sends its call on `key` now; nullopt when no node is usable.
  std::optional<Route> pick(std::uint32_t client, const core::Key& key, std::int64_t now_us);
  // What came of a call sent by pick()'s route, invoked at `invoked_us`.
  void outcome(std::uint32_t client, const Route& route,
               const std::optional<core::ClientReply>& reply, std::int64_t invoked_us,
               std::int64_t now_us);
  // Every non-zero routing counter of every client, summed, as client_<name>.
  void add_counters(std::map<std::string, std::uint64_t>& counters) const;

 private:
  struct PerClient;

  core::NodeCounters counters_;
  core::Ring ring_;
  std::uint32_t replicas_;
  std::vector<core::NodeId> ids_;
  std::map<core::NodeId, std::uint32_t> index_of_;
  core::Duration slow_call_;
  std::vector<std::unique_ptr<PerClient>> clients_;
  std::uint64_t calls_to_replica_ = 0;
  std::uint64_t calls_forwarded_ = 0;
  std::uint64_t calls_unrouted_ = 0;
  std::uint64_t slow_calls_ = 0;
};

}  // namespace vigil::sim
