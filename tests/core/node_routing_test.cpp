// The router inside a node (core/coordinator/forwarder.cpp, hints_fallback.cpp,
// core/node/node_routing.cpp): forwards skip a peer whose circuit breaker is open, retries
// follow the backoff, fallback none fails fast, and a breaker closes again after its trials.
// Membership is off in these clusters so that only the breakers decide.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/core/node_cluster.h"

namespace vigil::core {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::TestCluster;

NodeOptions breaker_options() {
  NodeOptions options;
  options.membership.enabled = false;
  options.routing.breaker.threshold = 3;
  options.routing.breaker.timeout = seconds(30);
  options.routing.breaker.half_open_requests = 2;
  return options;
}

TEST(NodeRouting, ForwardsSkipAPeerWhoseBreakerOpenedAfterThresholdSilences) {
  TestCluster cluster(5, breaker_options());
  const Key key = cluster.key_with("n5", /*on_list=*/false);
  const auto list = cluster.replicas_of(key);
  cluster.down.insert(list[0]);

  for (int i = 0; i < 3; ++i) ASSERT_TRUE(cluster.put("n5", key, "v").status.ok());
  EXPECT_EQ(cluster.counter("n5", "forward_retries_silence"), 3u);
  EXPECT_EQ(cluster.counter("n5", "breaker_openings"), 1u);

  const Instant start = cluster.now_instant();
  const ClientReply put = cluster.put("n5", key, "v");
  ASSERT_TRUE(put.status.ok()) << put.status.to_string();
  EXPECT_EQ(cluster.now_instant(), start) << "no wait on the open peer";
  EXPECT_EQ(cluster.counter("n5", "forward_retries"), 3u) << "no retry: straight to list[1]";
  EXPECT_EQ(cluster.counter("n5", "routes_short_circuited"), 1u);
}

TEST(NodeRouting, WithoutBreakersEveryForwardWaitsOnTheSilentPeer) {
  NodeOptions options = breaker_options();
  options.routing.breaker.enabled = false;
  TestCluster cluster(5, options);
  const Key key = cluster.key_with("n5", false);
  cluster.down.insert(cluster.replicas_of(key)[0]);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(cluster.put("n5", key, "v").status.ok());
  EXPECT_EQ(cluster.counter("n5", "forward_retries_silence"), 4u);
  EXPECT_EQ(cluster.counter("n5", "breaker_openings"), 0u);
}

TEST(NodeRouting, ForwardRetryWaitsReplicationTimeoutThenTheBackoff) {
  NodeOptions options = breaker_options();
  options.routing.retry.initial = milliseconds(700);
  options.routing.retry.max = milliseconds(700);
  TestCluster cluster(5, options);
  const Key key = cluster.key_with("n5", false);
  cluster.down.insert(cluster.replicas_of(key)[0]);
  const Instant start = cluster.now_instant();
  ASSERT_TRUE(cluster.put("n5", key, "v").status.ok());
  EXPECT_EQ(cluster.now_instant() - start, options.replication_timeout + milliseconds(700));
}

TEST(NodeRouting, FallbackNoneAnswersUnavailableAtOnceWhenEveryBreakerIsOpen) {
  NodeOptions options = breaker_options();
  options.routing.fallback = RouteFallback::none;
  options.routing.breaker.threshold = 1;
  options.request_timeout = seconds(10);
  TestCluster cluster(5, options);
  const Key key = cluster.key_with("n5", false);
  for (const NodeId& id : cluster.replicas_of(key)) cluster.down.insert(id);
  // One forward tries all three (2 s + backoff apart) and opens each breaker.
  EXPECT_EQ(cluster.put("n5", key, "v").status.code(), Code::timeout);
  EXPECT_EQ(cluster.counter("n5", "breaker_openings"), 3u);

  const Instant start = cluster.now_instant();
  const ClientReply put = cluster.put("n5", key, "v");
  EXPECT_EQ(put.status.code(), Code::unavailable);
  EXPECT_NE(put.status.message().find("circuit breaker is open"), std::string::npos)
      << put.status.message();
  EXPECT_EQ(cluster.now_instant(), start);
  EXPECT_EQ(cluster.counter("n5", "forwards_short_circuited"), 1u);
}

TEST(NodeRouting, FallbackRoundRobinStillForwardsPastOpenBreakers) {
  NodeOptions options = breaker_options();
  options.routing.breaker.threshold = 1;
  options.request_timeout = seconds(10);
  TestCluster cluster(5, options);
  const Key key = cluster.key_with("n5", false);
  const auto list = cluster.replicas_of(key);
  for (const NodeId& id : list) cluster.down.insert(id);
  EXPECT_EQ(cluster.put("n5", key, "v").status.code(), Code::timeout);
  cluster.down.clear();
  const ClientReply put = cluster.put("n5", key, "v");
  EXPECT_TRUE(put.status.ok()) << put.status.to_string();
  EXPECT_GE(cluster.counter("n5", "routes_fallback"), 1u);
}

TEST(NodeRouting, BreakerClosesAfterItsTrialsSucceed) {
  TestCluster cluster(5, breaker_options());
  const Key key = cluster.key_with("n5", false);
  const auto list = cluster.replicas_of(key);
  cluster.down.insert(list[0]);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(cluster.put("n5", key, "v").status.ok());
  ASSERT_EQ(cluster.counter("n5", "breaker_openings"), 1u);
  cluster.down.clear();
  cluster.advance(seconds(30));
  const std::uint64_t asked_before = cluster.counter(list[0], "requests_from_peers");
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(cluster.put("n5", key, "v").status.ok());
  EXPECT_EQ(cluster.counter(list[0], "requests_from_peers"), asked_before + 2) << "trials";
  EXPECT_EQ(cluster.counter("n5", "breaker_half_opens"), 1u);
  EXPECT_EQ(cluster.counter("n5", "breaker_closings"), 1u);
}

TEST(NodeRouting, RoundRobinStrategySpreadsForwardsOverTheReplicas) {
  NodeOptions options = breaker_options();
  options.routing.strategy = RouteStrategy::round_robin;
  TestCluster cluster(5, options);
  const Key key = cluster.key_with("n5", false);
  const auto list = cluster.replicas_of(key);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(cluster.put("n5", key, "v").status.ok());
  for (const NodeId& id : list) EXPECT_EQ(cluster.counter(id, "requests_from_peers"), 1u) << id;
}

TEST(NodeRouting, HintFallbackSkipsAPeerWhoseBreakerIsOpen) {
  TestCluster cluster(5, breaker_options());
  const Key key = "k";
  const std::vector<NodeId> walk = cluster.ring().preference_list(token_of_key(key), 5);
  const NodeId& coordinator = walk[0];
  const NodeId& first_fallback = walk[3];
  // A key that `coordinator` and `first_fallback` both replicate: blind writes to it (an
  // empty context: coordinated where they arrive) while first_fallback is away are silent
  // replica writes, each one failure of its breaker.
  Key other;
  for (int i = 0; other.empty(); ++i) {
    ASSERT_LT(i, 10000) << "no key has both on its list";
    const Key candidate = "x" + std::to_string(i);
    const auto list = cluster.replicas_of(candidate);
    if (std::find(list.begin(), list.end(), coordinator) != list.end() &&
        std::find(list.begin(), list.end(), first_fallback) != list.end()) {
      other = candidate;
    }
  }
  cluster.down.insert(first_fallback);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(cluster.put(coordinator, other, "v", VectorClock{}).status.ok());
    cluster.advance(seconds(3));  // the write's first retry finds first_fallback silent
  }
  ASSERT_EQ(cluster.counter(coordinator, "breaker_openings"), 1u);
  cluster.down.clear();

  cluster.down.insert(walk[2]);
  const std::uint64_t stored_first = cluster.counter(first_fallback, "hints_stored");
  const std::uint64_t stored_next = cluster.counter(walk[4], "hints_stored");
  const ClientReply put = cluster.put(coordinator, key, "v");
  ASSERT_TRUE(put.status.ok()) << put.status.to_string();
  cluster.advance(seconds(3));  // the first retry hints walk[2]'s copy
  EXPECT_GE(cluster.counter(coordinator, "hint_fallbacks_short_circuited"), 1u);
  EXPECT_EQ(cluster.counter(first_fallback, "hints_stored"), stored_first);
  EXPECT_EQ(cluster.counter(walk[4], "hints_stored"), stored_next + 1);
}

TEST(NodeRouting, ASuspectPeerIsSkippedAtOnceAndRoutedToAgainOnlyAfterAHealthCheck) {
  NodeOptions options = breaker_options();
  options.membership.enabled = true;
  for (int i = 1; i <= 5; ++i) {  // every node seeded with every other (ids are addresses)
    options.seeds.emplace_back("n" + std::to_string(i), "n" + std::to_string(i));
  }
  options.routing.health_check_interval = seconds(20);
  TestCluster cluster(5, options);
  const Key key = cluster.key_with("n5", false);
  const auto list = cluster.replicas_of(key);
  cluster.advance(seconds(40));  // past the detector's bootstrap
  cluster.down.insert(list[0]);
  cluster.advance(seconds(20));  // n5 judges list[0] suspect, then failed
  for (const RouteStatus& route : cluster.node("n5").routes(cluster.now_instant())) {
    EXPECT_EQ(route.healthy, route.node != list[0]) << route.node;
  }
  const std::uint64_t asked = cluster.counter(list[1], "requests_from_peers");
  ASSERT_TRUE(cluster.put("n5", key, "v").status.ok());
  EXPECT_EQ(cluster.counter(list[1], "requests_from_peers"), asked + 1) << "straight to list[1]";
  EXPECT_EQ(cluster.counter("n5", "forward_retries"), 0u);

  cluster.down.clear();
  cluster.advance(seconds(5));  // judged alive again, but no health check yet
  const std::uint64_t asked_first = cluster.counter(list[0], "requests_from_peers");
  ASSERT_TRUE(cluster.put("n5", key, "v").status.ok());
  EXPECT_EQ(cluster.counter(list[0], "requests_from_peers"), asked_first) << "held down";
  cluster.advance(seconds(20));  // a health check re-read the detector
  ASSERT_TRUE(cluster.put("n5", key, "v").status.ok());
  EXPECT_EQ(cluster.counter(list[0], "requests_from_peers"), asked_first + 1);
}

}  // namespace
}  // namespace vigil::core
