// The router (core/routing/router.h): token awareness over the ring, health, breakers,
// the fallback strategies and the health-check timer.

#include "core/routing/router.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "core/counters.h"
#include "core/random.h"
#include "core/ring/ring.h"

namespace vigil::core {
namespace {

using std::chrono::seconds;

struct Fixture {
  explicit Fixture(RoutingOptions options = {}) : router(options, counters, Instant{}) {
    RingOptions ring_options;
    ring_options.vnodes = 16;
    ring = Ring::build({"n1", "n2", "n3", "n4", "n5"}, ring_options);
    router.handle_ring(ring, 3);
  }
  std::vector<NodeId> list(const Key& key) const {
    return ring.preference_list(token_of_key(key), 3);
  }
  // Opens `node`'s breaker with threshold failures.
  void open(const NodeId& node, Instant now) {
    for (std::uint32_t i = 0; i < router.options().breaker.threshold; ++i) {
      router.record_failure(now, node);
    }
  }
  NodeCounters counters;
  Ring ring;
  Router router;
  Random random{7};
};

TEST(Router, TokenAwareRoutesToThePrimaryReplica) {
  Fixture f;
  const std::optional<RouteChoice> choice = f.router.route(Instant{}, "k", f.random);
  ASSERT_TRUE(choice.has_value());
  EXPECT_EQ(choice->node, f.list("k")[0]);
  EXPECT_TRUE(choice->token_aware);
  EXPECT_EQ(choice->preference_index, 0u);
}

TEST(Router, TokenAwareSkipsAnOpenBreakerAndCountsIt) {
  Fixture f;
  const auto list = f.list("k");
  f.open(list[0], Instant{});
  EXPECT_EQ(f.router.breaker_state(Instant{}, list[0]), BreakerState::open);
  EXPECT_EQ(f.counters.get("breaker_openings"), 1u);
  const std::optional<RouteChoice> choice = f.router.route(Instant{}, "k", f.random);
  ASSERT_TRUE(choice.has_value());
  EXPECT_EQ(choice->node, list[1]);
  EXPECT_EQ(choice->preference_index, 1u);
  EXPECT_EQ(f.counters.get("routes_short_circuited"), 1u);
}

TEST(Router, TokenAwareSkipsAnUnhealthyNode) {
  Fixture f;
  const auto list = f.list("k");
  f.router.handle_health(list[0], false);
  EXPECT_EQ(f.router.route(Instant{}, "k", f.random)->node, list[1]);
  EXPECT_EQ(f.counters.get("routes_short_circuited"), 0u);
}

TEST(Router, TriedNodesComeLast) {
  Fixture f;
  const auto list = f.list("k");
  EXPECT_EQ(f.router.route(Instant{}, "k", f.random, {list[0]})->node, list[1]);
  EXPECT_EQ(f.router.route(Instant{}, "k", f.random, list)->node, list[0]);
}

TEST(Router, FallsBackToRoundRobinWhenNoReplicaIsUsable) {
  Fixture f;
  const auto list = f.list("k");
  for (const NodeId& node : list) f.router.handle_health(node, false);
  const std::optional<RouteChoice> choice = f.router.route(Instant{}, "k", f.random);
  ASSERT_TRUE(choice.has_value());
  EXPECT_FALSE(choice->token_aware);
  EXPECT_EQ(std::find(list.begin(), list.end(), choice->node), list.end());
  EXPECT_EQ(f.counters.get("routes_fallback"), 1u);
}

TEST(Router, FallbackNoneGivesNoRoute) {
  RoutingOptions options;
  options.fallback = RouteFallback::none;
  Fixture f(options);
  for (const NodeId& node : f.list("k")) f.router.handle_health(node, false);
  EXPECT_FALSE(f.router.route(Instant{}, "k", f.random).has_value());
  EXPECT_EQ(f.counters.get("routes_unavailable"), 1u);
}

TEST(Router, RoundRobinVisitsEveryNodeInTurn) {
  RoutingOptions options;
  options.strategy = RouteStrategy::round_robin;
  Fixture f(options);
  std::vector<NodeId> seen;
  for (int i = 0; i < 5; ++i) seen.push_back(f.router.route(Instant{}, "k", f.random)->node);
  EXPECT_EQ(seen, (std::vector<NodeId>{"n1", "n2", "n3", "n4", "n5"}));
  f.router.handle_health("n1", false);
  EXPECT_EQ(f.router.route(Instant{}, "k", f.random)->node, "n2");
}

TEST(Router, BreakerTurnsHalfOpenAfterTimeoutAndClosesAfterTrialSuccesses) {
  Fixture f;
  const NodeId node = f.list("k")[0];
  f.open(node, Instant{});
  const Instant later = Instant{} + f.router.options().breaker.timeout;
  std::vector<RouteChoice> trials;
  for (std::uint32_t i = 0; i < f.router.options().breaker.half_open_requests; ++i) {
    const std::optional<RouteChoice> choice = f.router.route(later, "k", f.random);
    ASSERT_TRUE(choice.has_value());
    EXPECT_EQ(choice->node, node);
    EXPECT_TRUE(choice->permit.trial);
    trials.push_back(*choice);
  }
  EXPECT_EQ(f.counters.get("breaker_half_opens"), 1u);
  // Every trial is out: the next request goes elsewhere.
  EXPECT_NE(f.router.route(later, "k", f.random)->node, node);
  for (const RouteChoice& trial : trials) f.router.handle_success(later, node, trial.permit);
  EXPECT_EQ(f.router.breaker_state(later, node), BreakerState::closed);
  EXPECT_EQ(f.counters.get("breaker_closings"), 1u);
}

TEST(Router, AFailedTrialOpensTheBreakerAgain) {
  Fixture f;
  const NodeId node = f.list("k")[0];
  f.open(node, Instant{});
  const Instant later = Instant{} + f.router.options().breaker.timeout;
  const RouteChoice trial = *f.router.route(later, "k", f.random);
  f.router.handle_failure(later, node, trial.permit);
  EXPECT_EQ(f.router.breaker_state(later, node), BreakerState::open);
  EXPECT_EQ(f.counters.get("breaker_openings"), 2u);
}

TEST(Router, DisabledBreakersNeverOpen) {
  RoutingOptions options;
  options.breaker.enabled = false;
  Fixture f(options);
  const NodeId node = f.list("k")[0];
  for (int i = 0; i < 100; ++i) f.router.record_failure(Instant{}, node);
  EXPECT_EQ(f.router.breaker_state(Instant{}, node), BreakerState::closed);
  EXPECT_EQ(f.router.route(Instant{}, "k", f.random)->node, node);
}

TEST(Router, HealthCheckAsksForEveryNodeEachInterval) {
  RoutingOptions options;
  options.health_check_interval = seconds(5);
  Fixture f(options);
  EXPECT_EQ(f.router.poll_timeout(), Instant{} + seconds(5));
  f.router.handle_timeout(Instant{} + seconds(4));
  EXPECT_TRUE(f.router.take_health_probes().empty());
  f.router.handle_timeout(Instant{} + seconds(5));
  EXPECT_EQ(f.router.take_health_probes(), (std::vector<NodeId>{"n1", "n2", "n3", "n4", "n5"}));
  EXPECT_EQ(f.router.poll_timeout(), Instant{} + seconds(10));
}

TEST(Router, ChooseFromFallsBackToAnUnhealthyNodeWhoseBreakerAdmits) {
  Fixture f;
  const std::vector<NodeId> list{"n2", "n3"};
  f.router.handle_health("n2", false);
  f.router.handle_health("n3", false);
  f.open("n3", Instant{});
  const std::optional<RouteChoice> choice = f.router.choose_from(Instant{}, list, 1);
  ASSERT_TRUE(choice.has_value());
  EXPECT_EQ(choice->node, "n2");
  f.open("n2", Instant{});
  EXPECT_FALSE(f.router.choose_from(Instant{}, list, 0).has_value());
}

TEST(Router, PreferenceStartFollowsTheStrategy) {
  Fixture token_aware;
  EXPECT_EQ(token_aware.router.preference_start(3, token_aware.random), 0u);
  EXPECT_EQ(token_aware.router.preference_start(3, token_aware.random), 0u);
  RoutingOptions options;
  options.strategy = RouteStrategy::round_robin;
  Fixture rotating(options);
  EXPECT_EQ(rotating.router.preference_start(3, rotating.random), 0u);
  EXPECT_EQ(rotating.router.preference_start(3, rotating.random), 1u);
  EXPECT_EQ(rotating.router.preference_start(3, rotating.random), 2u);
  EXPECT_EQ(rotating.router.preference_start(3, rotating.random), 0u);
}

}  // namespace
}  // namespace vigil::core
