// The simulator's clients routing with core::Router (client_routing.h has the contract).
//
// Theory of operation. A real client (Cassandra's drivers, Finagle's clients) cannot read
// a node's failure detector; it learns from its own calls. So a client's breakers count
// what its calls saw: a reply is a success, no reply in time a failure, and so is a reply
// slower than replication_timeout, Resilience4j's "slow call" rule: a node that answers
// after seconds is, to the client, as bad as one that does not (the clog scenario's
// point), and Hystrix counts its own command timeouts as failures for the same reason.
// replication_timeout is the yardstick because it is how long the cluster itself gives one
// hop before it goes round a node.
//
// Health is passive: a refused or reset connection (the node is down) marks the node
// unhealthy, and every health check (load_balancing.health_check_interval) marks every
// node healthy again, so the next call there is the probe. Between checks a down node
// costs its clients nothing.
//
// Determinism: each client has its own router and a generator derived from the run's seed
// and its index, used only by the random strategy; calls happen in the fibers' order,
// which the simulator fixes.

#include "sim/client_routing.h"

#include <algorithm>
#include <utility>

#include "core/assert.h"

namespace vigil::sim {

struct ClientRouting::PerClient {
  PerClient(const core::RoutingOptions& options, core::NodeCounters& counters,
            const core::Ring& ring, std::uint32_t replicas, std::uint64_t seed)
      : router(options, counters, core::Instant{}), random(seed) {
    router.handle_ring(ring, replicas);
  }
  core::Router router;
  core::Random random;
};

ClientRouting::ClientRouting(const core::RoutingOptions& options, const core::Ring& ring,
                             std::uint32_t replicas, const std::vector<core::NodeId>& ids,
                             std::uint32_t clients, std::uint64_t seed, core::Duration slow_call)
    : ring_(ring), replicas_(replicas), ids_(ids), slow_call_(slow_call) {
  for (std::uint32_t i = 0; i < ids_.size(); ++i) index_of_.emplace(ids_[i], i);
  core::Random seeds(seed);
  for (std::uint32_t client = 0; client < clients; ++client) {
    clients_.push_back(
        std::make_unique<PerClient>(options, counters_, ring_, replicas_, seeds.next_u64()));
  }
}

ClientRouting::~ClientRouting() = default;

std::optional<ClientRouting::Route> ClientRouting::pick(std::uint32_t client, const core::Key& key,
                                                        std::int64_t now_us) {
  VIGIL_ASSERT(client < clients_.size(), "a route for an unknown client");
  PerClient& state = *clients_[client];
  const core::Instant now = core::instant_from_micros(now_us);
  state.router.handle_timeout(now);
  for (const core::NodeId& node : state.router.take_health_probes()) {
    state.router.handle_health(node, true);  // passive: the next call is the probe
  }
  const std::optional<core::RouteChoice> choice = state.router.route(now, key, state.random);
  if (!choice) {
    ++calls_unrouted_;
    return std::nullopt;
  }
  const std::vector<core::NodeId> list = ring_.preference_list(core::token_of_key(key), replicas_);
  const bool on_list = std::find(list.begin(), list.end(), choice->node) != list.end();
  ++(on_list ? calls_to_replica_ : calls_forwarded_);
  return Route{index_of_.at(choice->node), choice->permit};
}

void ClientRouting::outcome(std::uint32_t client, const Route& route,
                            const std::optional<core::ClientReply>& reply, std::int64_t invoked_us,
                            std::int64_t now_us) {
  PerClient& state = *clients_[client];
  const core::Instant now = core::instant_from_micros(now_us);
  const core::NodeId& node = ids_[route.node];
  const bool slow = now_us - invoked_us > core::to_micros(slow_call_);
  const bool connection_lost = reply && reply->status.code() == core::Code::unavailable &&
                               reply->status.message().rfind("connection ", 0) == 0;
  if (connection_lost) state.router.handle_health(node, false);
  if (!reply || connection_lost || slow) {
    slow_calls_ += reply && slow ? 1 : 0;
    state.router.handle_failure(now, node, route.permit);
  } else {
    state.router.handle_success(now, node, route.permit);
  }
}

void ClientRouting::add_counters(std::map<std::string, std::uint64_t>& counters) const {
  for (const core::NodeCounters::Entry entry : counters_) {
    if (entry.value > 0) counters["client_" + std::string(entry.name)] += entry.value;
  }
  counters["client_calls_to_replica"] += calls_to_replica_;
  counters["client_calls_forwarded"] += calls_forwarded_;
  if (calls_unrouted_ > 0) counters["client_calls_unrouted"] += calls_unrouted_;
  if (slow_calls_ > 0) counters["client_slow_calls"] += slow_calls_;
}

}  // namespace vigil::sim
