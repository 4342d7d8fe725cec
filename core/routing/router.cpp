// The router (router.h has the contract).
//
// Theory of operation. Token awareness is Dynamo's observation (section 4.5) that a
// request sent straight to a node of its key's preference list saves the forwarding hop a
// load balancer costs; Cassandra's drivers (TokenAwarePolicy wrapping a child policy) do
// the same with the ring they learn from the cluster, and fall back to the child policy
// when the key has no known replica. We follow them, with two filters on every candidate:
// the node must be healthy (its last health check, or an earlier verdict) and its circuit
// breaker must admit a request. A node passed over because its breaker is open is counted
// (routes_short_circuited): that is a request the breaker kept away from a sick node.
//
// Nodes a request already tried go last rather than never: with every other node unusable,
// trying the same node again is still better than no route.
//
// Every choice walks containers in a fixed order (the preference list, or the nodes by
// id), and the only randomness is the caller's generator, so a route is a function of the
// inputs and the seed.

#include "core/routing/router.h"

#include <algorithm>
#include <utility>

#include "core/assert.h"

namespace vigil::core {

namespace {

bool contains(const std::vector<NodeId>& nodes, const NodeId& node) {
  return std::find(nodes.begin(), nodes.end(), node) != nodes.end();
}

}  // namespace

Router::Router(const RoutingOptions& options, NodeCounters& counters, Instant start)
    : options_(options), counters_(counters) {
  VIGIL_ASSERT(options_.health_check_interval > Duration::zero(),
               "health_check_interval must be > 0");
  VIGIL_ASSERT(options_.retry.initial > Duration::zero() &&
                   options_.retry.max >= options_.retry.initial && options_.retry.factor >= 1.0,
               "retry_policy.backoff out of range");
  next_health_check_ = start + options_.health_check_interval;
}

void Router::handle_nodes(const std::vector<NodeId>& nodes) {
  for (auto it = peers_.begin(); it != peers_.end();) {
    it = contains(nodes, it->first) ? std::next(it) : peers_.erase(it);
  }
  for (const NodeId& node : nodes) peer(node);
  next_round_robin_ = 0;
}

void Router::handle_ring(const Ring& ring, std::uint32_t replicas) {
  VIGIL_ASSERT(replicas >= 1, "a preference list has at least one node");
  ring_ = ring;
  replicas_ = replicas;
  handle_nodes(ring.nodes());
}

Router::Peer& Router::peer(const NodeId& node) {
  auto it = peers_.find(node);
  if (it == peers_.end()) it = peers_.emplace(node, Peer(options_.breaker)).first;
  return it->second;
}

const Router::Peer* Router::find(const NodeId& node) const {
  const auto it = peers_.find(node);
  return it == peers_.end() ? nullptr : &it->second;
}

void Router::count(const std::optional<BreakerTransition>& transition) {
  if (!transition) return;
  switch (transition->to) {
    case BreakerState::open: counters_.add("breaker_openings"); break;
    case BreakerState::half_open: counters_.add("breaker_half_opens"); break;
    case BreakerState::closed: counters_.add("breaker_closings"); break;
  }
}

bool Router::usable(Instant now, const NodeId& node) const {
  const Peer* found = find(node);
  return found == nullptr || (found->healthy && found->breaker.would_admit(now));
}

std::optional<RouteChoice> Router::acquire(Instant now, const NodeId& node, bool require_healthy) {
  Peer& chosen = peer(node);
  if (require_healthy && !chosen.healthy) return std::nullopt;
  std::optional<BreakerTransition> transition;
  const std::optional<CircuitBreaker::Permit> permit = chosen.breaker.try_acquire(now, &transition);
  count(transition);
  if (!permit) {
    counters_.add("routes_short_circuited");
    return std::nullopt;
  }
  return RouteChoice{node, *permit, false, 0};
}

std::optional<CircuitBreaker::Permit> Router::admit(Instant now, const NodeId& node) {
  if (find(node) == nullptr) return std::nullopt;
  std::optional<BreakerTransition> transition;
  const std::optional<CircuitBreaker::Permit> permit =
      peer(node).breaker.try_acquire(now, &transition);
  count(transition);
  return permit;
}

std::optional<RouteChoice> Router::choose_from(Instant now, const std::vector<NodeId>& list,
                                               std::size_t start) {
  // Healthy nodes first; then, health being advice and the breaker law, any node whose
  // breaker admits (core/node/node_routing.cpp says why). A node whose breaker refused in
  // the first pass is not asked again (it would be counted short-circuited twice).
  for (const bool require_healthy : {true, false}) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::size_t index = (start + i) % list.size();
      const Peer* known = find(list[index]);
      if (!require_healthy && (known == nullptr || known->healthy)) continue;
      if (std::optional<RouteChoice> choice = acquire(now, list[index], require_healthy)) {
        choice->token_aware = true;
        choice->preference_index = static_cast<std::uint32_t>(index);
        return choice;
      }
    }
  }
  return std::nullopt;
}

std::size_t Router::preference_start(std::size_t size, Random& random) {
  VIGIL_ASSERT(size > 0, "an empty preference list has no start");
  switch (options_.strategy) {
    case RouteStrategy::token_aware: return 0;
    case RouteStrategy::round_robin: return next_preference_++ % size;
    case RouteStrategy::random: return static_cast<std::size_t>(random.uniform(size));
  }
  return 0;
}

std::optional<RouteChoice> Router::token_aware(Instant now, const Key& key,
                                               const std::vector<NodeId>& tried) {
  if (!ring_ || ring_->empty()) return std::nullopt;
  const std::vector<NodeId> list = ring_->preference_list(token_of_key(key), replicas_);
  for (const bool second_pass : {false, true}) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (contains(tried, list[i]) != second_pass) continue;
      if (std::optional<RouteChoice> choice = acquire(now, list[i], true)) {
        choice->token_aware = true;
        choice->preference_index = static_cast<std::uint32_t>(i);
        return choice;
      }
    }
  }
  return std::nullopt;
}

std::optional<RouteChoice> Router::round_robin(Instant now, const std::vector<NodeId>& tried) {
  if (peers_.empty()) return std::nullopt;
  std::vector<NodeId> order;
  order.reserve(peers_.size());
  for (const auto& [node, state] : peers_) order.push_back(node);
  for (const bool second_pass : {false, true}) {
    for (std::size_t i = 0; i < order.size(); ++i) {
      const std::size_t index = (next_round_robin_ + i) % order.size();
      if (contains(tried, order[index]) != second_pass) continue;
      if (std::optional<RouteChoice> choice = acquire(now, order[index], true)) {
        next_round_robin_ = (index + 1) % order.size();
        return choice;
      }
    }
  }
  return std::nullopt;
}

std::optional<RouteChoice> Router::random_pick(Instant now, Random& random,
                                               const std::vector<NodeId>& tried) {
  if (peers_.empty()) return std::nullopt;
  // A random start, then the round-robin walk from there: uniform over the nodes when all
  // are usable, and never stuck on an unusable one.
  next_round_robin_ = static_cast<std::size_t>(random.uniform(peers_.size()));
  return round_robin(now, tried);
}

std::optional<RouteChoice> Router::route(Instant now, const Key& key, Random& random,
                                         const std::vector<NodeId>& tried) {
  std::optional<RouteChoice> choice;
  switch (options_.strategy) {
    case RouteStrategy::token_aware:
      choice = token_aware(now, key, tried);
      if (!choice && options_.fallback == RouteFallback::round_robin) {
        choice = round_robin(now, tried);
        if (choice) counters_.add("routes_fallback");
      }
      break;
    case RouteStrategy::round_robin: choice = round_robin(now, tried); break;
    case RouteStrategy::random: choice = random_pick(now, random, tried); break;
  }
  if (!choice) counters_.add("routes_unavailable");
  return choice;
}

void Router::handle_success(Instant now, const NodeId& node, const CircuitBreaker::Permit& permit) {
  if (find(node) == nullptr) return;
  count(peer(node).breaker.handle_success(now, permit));
}

void Router::handle_failure(Instant now, const NodeId& node, const CircuitBreaker::Permit& permit) {
  if (find(node) == nullptr) return;
  count(peer(node).breaker.handle_failure(now, permit));
}

void Router::record_success(const NodeId& node) {
  if (find(node) == nullptr) return;
  count(peer(node).breaker.record_success());
}

void Router::record_failure(Instant now, const NodeId& node) {
  if (find(node) == nullptr) return;
  count(peer(node).breaker.record_failure(now));
}

void Router::handle_health(const NodeId& node, bool healthy) {
  if (find(node) == nullptr) return;
  peer(node).healthy = healthy;
}

void Router::handle_timeout(Instant now) {
  if (!next_health_check_ || now < *next_health_check_) return;
  // The next check is an interval after this one, not after the due time: a node that was
  // paused checks once, not once per missed interval.
  next_health_check_ = now + options_.health_check_interval;
  probes_.clear();
  for (const auto& [node, state] : peers_) probes_.push_back(node);
}

std::vector<NodeId> Router::take_health_probes() {
  return std::exchange(probes_, {});
}

BreakerState Router::breaker_state(Instant now, const NodeId& node) const {
  const Peer* found = find(node);
  return found == nullptr ? BreakerState::closed : found->breaker.state(now);
}

std::vector<RouteStatus> Router::status(Instant now) const {
  std::vector<RouteStatus> rows;
  rows.reserve(peers_.size());
  for (const auto& [node, state] : peers_) {
    rows.push_back(RouteStatus{node, state.healthy, state.breaker.state(now),
                               state.breaker.consecutive_failures()});
  }
  return rows;
}

}  // namespace vigil::core
