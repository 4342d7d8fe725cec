#pragma once
// The router: "which node for this key, now" (issue 16; seed section 3.2), one pure state
// machine used in three places, each with its own instance: inside a node (the
// coordinator's forwards and hint fallbacks, core/coordinator/), in the simulator's client
// fibers (sim/simulation_clients.cpp), and in client libraries.
//
// It knows the nodes (and, for route(), the ring), each node's health and each node's
// circuit breaker (circuit_breaker.h), and answers with a node and a breaker permit; the
// caller hands the request's outcome back with that permit. Retries are the caller's, with
// the delays of retry_backoff.h.
//
// Strategies (routing.strategy):
// - token_aware (Cassandra's TokenAwarePolicy, Dynamo 4.5's preference list): the first
//   node of the key's preference list that is healthy and whose breaker admits it; nodes
//   already tried for this request come after the untried ones. When no ring is known, or
//   no node of the list is usable, the `fallback` strategy picks (round_robin over every
//   usable node, or none: no route).
// - round_robin: the next usable node after the last one picked, in id order.
// - random: a usable node drawn from the caller's generator (the simulator's baseline).
//
// Health (load_balancing.health_check_interval): every interval, handle_timeout() asks for
// the health of every node (take_health_probes(), in id order); the caller answers with
// handle_health(). What a probe is belongs to the caller: a node answers from its failure
// detector's verdicts (core/node/node_routing.cpp), a simulated client from its own
// requests. Between checks a node keeps the health it last reported, except that a caller
// may report a node unhealthy at once (handle_health at any time): see
// core/node/node_routing.cpp for why only recoveries wait for the check.
//
// Timers: the health check only; breakers turn half-open lazily when asked (their timeout
// is an instant compared, not a timer that must fire).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/counters.h"
#include "core/random.h"
#include "core/ring/ring.h"
#include "core/routing/circuit_breaker.h"
#include "core/routing/routing_options.h"
#include "core/time.h"
#include "core/types.h"

namespace vigil::core {

struct RouteChoice {
  NodeId node;
  CircuitBreaker::Permit permit;
  bool token_aware = false;            // from the key's preference list
  std::uint32_t preference_index = 0;  // its position in that list (token_aware)
};

// One node as the router sees it (/status, the simulator's report).
struct RouteStatus {
  NodeId node;
  bool healthy = true;
  BreakerState breaker = BreakerState::closed;
  std::uint32_t consecutive_failures = 0;
};

class Router {
 public:
  // `counters` (outlives the router) receives breaker_openings, breaker_half_opens,
  // breaker_closings, routes_short_circuited, routes_fallback and routes_unavailable.
  // The first health check is due at start + health_check_interval.
  Router(const RoutingOptions& options, NodeCounters& counters, Instant start);

  // The nodes routes may go to (kept: health and breakers of nodes still known).
  void handle_nodes(const std::vector<NodeId>& nodes);
  // The ring route() is token-aware over (its nodes become the known nodes).
  void handle_ring(const Ring& ring, std::uint32_t replicas);

  // A node for `key` under the strategy, with a permit; nullopt when none is usable (or
  // the fallback is none), counted as routes_unavailable. `tried`: nodes this request
  // already went to, ranked after the others.
  std::optional<RouteChoice> route(Instant now, const Key& key, Random& random,
                                   const std::vector<NodeId>& tried = {});
  // Token-aware over a preference list the caller computed (the node's coordinator): the
  // first usable node of `list`, starting at `start` and wrapping, with a permit; failing
  // that, the first unhealthy one whose breaker admits. nullopt when every breaker refuses;
  // no fallback (the list is the set of nodes that may take the request).
  std::optional<RouteChoice> choose_from(Instant now, const std::vector<NodeId>& list,
                                         std::size_t start);
  // Where choose_from() starts in a preference list of `size` nodes, by strategy:
  // token_aware at the primary (0), round_robin at the next of a rotation (spreading
  // coordination over the replicas), random at a draw from `random`. REQUIRES: size > 0.
  std::size_t preference_start(std::size_t size, Random& random);
  // A permit for a request to `node` chosen by the caller (a coordinator's replica read),
  // health aside: nullopt when its breaker refuses (not counted: the caller asks another).
  std::optional<CircuitBreaker::Permit> admit(Instant now, const NodeId& node);
  // Whether `node` is healthy and its breaker would admit a request now (changes nothing).
  bool usable(Instant now, const NodeId& node) const;

  // Outcomes of requests sent with a permit.
  void handle_success(Instant now, const NodeId& node, const CircuitBreaker::Permit& permit);
  void handle_failure(Instant now, const NodeId& node, const CircuitBreaker::Permit& permit);
  // Outcomes of requests sent without asking (they count only while the breaker is closed).
  void record_success(const NodeId& node);
  void record_failure(Instant now, const NodeId& node);

  // Health.
  void handle_health(const NodeId& node, bool healthy);
  void handle_timeout(Instant now);
  std::optional<Instant> poll_timeout() const { return next_health_check_; }
  std::vector<NodeId> take_health_probes();

  std::vector<RouteStatus> status(Instant now) const;  // in id order
  BreakerState breaker_state(Instant now, const NodeId& node) const;
  const RoutingOptions& options() const { return options_; }

 private:
  struct Peer {
    explicit Peer(const CircuitBreakerOptions& options) : breaker(options) {}
    bool healthy = true;
    CircuitBreaker breaker;
  };

  Peer& peer(const NodeId& node);
  const Peer* find(const NodeId& node) const;
  void count(const std::optional<BreakerTransition>& transition);
  std::optional<RouteChoice> acquire(Instant now, const NodeId& node, bool require_healthy);
  std::optional<RouteChoice> token_aware(Instant now, const Key& key,
                                         const std::vector<NodeId>& tried);
  std::optional<RouteChoice> round_robin(Instant now, const std::vector<NodeId>& tried);
  std::optional<RouteChoice> random_pick(Instant now, Random& random,
                                         const std::vector<NodeId>& tried);

  RoutingOptions options_;
  NodeCounters& counters_;
  std::map<NodeId, Peer> peers_;  // the known nodes, by id
  std::optional<Ring> ring_;
  std::uint32_t replicas_ = 3;
  std::size_t next_round_robin_ = 0;  // index into peers_ order
  std::size_t next_preference_ = 0;   // preference_start's rotation
  std::optional<Instant> next_health_check_;
  std::vector<NodeId> probes_;
};

}  // namespace vigil::core
