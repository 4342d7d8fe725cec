// Tests of the consistent-hash ring: lookups against a brute-force scan, balanced token
// allocation at every cluster size the issue names, joins and leaves, and the validation
// of untrusted tokens.

#include "core/ring/ring.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <set>
#include <string>

#include "core/hash.h"
#include "core/random.h"

namespace vigil::core {
namespace {

std::vector<NodeId> node_names(std::size_t count) {
  std::vector<NodeId> names;
  for (std::size_t i = 1; i <= count; ++i) names.push_back("n" + std::to_string(i));
  return names;
}

// The preference list by definition: sort every (token, node) and walk from the first
// token >= `token`, wrapping, keeping nodes not yet seen.
std::vector<NodeId> brute_force_preference_list(const Ring& ring, Token token, std::size_t n) {
  std::vector<std::pair<Token, NodeId>> entries;
  for (const auto& [node, tokens] : ring.all_tokens()) {
    for (const Token t : tokens) entries.emplace_back(t, node);
  }
  std::sort(entries.begin(), entries.end());
  std::size_t start = 0;
  while (start < entries.size() && entries[start].first < token) ++start;
  std::vector<NodeId> list;
  for (std::size_t step = 0; step < entries.size() && list.size() < n; ++step) {
    const NodeId& node = entries[(start + step) % entries.size()].second;
    if (std::find(list.begin(), list.end(), node) == list.end()) list.push_back(node);
  }
  return list;
}

double max_over_mean(const Ring& ring) {
  double high = 0;
  for (const auto& [node, share] : ring.ownership()) high = std::max(high, share);
  return high * static_cast<double>(ring.node_count());
}

double min_over_mean(const Ring& ring) {
  double low = 1;
  for (const auto& [node, share] : ring.ownership()) low = std::min(low, share);
  return low * static_cast<double>(ring.node_count());
}

double sum_of(const std::map<NodeId, double>& shares) {
  double sum = 0;
  for (const auto& [node, share] : shares) sum += share;
  return sum;
}

// Every pair of neighbouring tokens, including the pair across zero, at least `spacing`
// apart.
void expect_spacing(const Ring& ring, std::uint64_t spacing) {
  const std::vector<Token> tokens = ring.tokens();
  for (std::size_t i = 0; i < tokens.size() && tokens.size() > 1; ++i) {
    const Token previous = tokens[i == 0 ? tokens.size() - 1 : i - 1];
    ASSERT_GE(tokens[i] - previous, spacing) << "tokens " << previous << " and " << tokens[i];
  }
}

TEST(Ring, PreferenceListsAreDistinctClockwiseAndDeterministic) {
  const Ring ring = Ring::build(node_names(10), RingOptions{});
  const Ring again = Ring::build(node_names(10), RingOptions{});
  ASSERT_EQ(ring, again);
  for (int i = 0; i < 500; ++i) {
    const Token token = token_of_key("key-" + std::to_string(i));
    const std::vector<NodeId> list = ring.preference_list(token, 3);
    ASSERT_EQ(list.size(), 3u);
    EXPECT_EQ(std::set<NodeId>(list.begin(), list.end()).size(), 3u);
    EXPECT_EQ(list, brute_force_preference_list(ring, token, 3));
    EXPECT_EQ(list, again.preference_list(token, 3));
    EXPECT_EQ(list.front(), ring.owner(token));
  }
  // Asking for more replicas than nodes gives every node once.
  EXPECT_EQ(ring.preference_list(42, 50).size(), 10u);
  EXPECT_TRUE(ring.preference_list(42, 0).empty());
}

TEST(Ring, LookupAtTheEdgesOfTheRing) {
  const Ring ring = Ring::from_tokens({{"a", {100, 300}}, {"b", {200}}}).value();
  EXPECT_EQ(ring.owner(0), "a");    // (300, 2^64) and [0, 100] belong to token 100
  EXPECT_EQ(ring.owner(100), "a");  // a token owns itself
  EXPECT_EQ(ring.owner(101), "b");
  EXPECT_EQ(ring.owner(200), "b");
  EXPECT_EQ(ring.owner(201), "a");
  EXPECT_EQ(ring.owner(std::numeric_limits<Token>::max()), "a");  // wraps to token 100
  EXPECT_EQ(ring.preference_list(150, 2), (std::vector<NodeId>{"b", "a"}));
  EXPECT_EQ(ring.preference_list(250, 2), (std::vector<NodeId>{"a", "b"}));
}

RC_GTEST_PROP(Ring, OwnerMatchesLinearScanOnRandomTokens, ()) {
  const auto node_count = *rc::gen::inRange<std::size_t>(1, 8);
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  // Small positions make neighbouring and equal tokens likely; duplicates are dropped.
  const bool dense = *rc::gen::arbitrary<bool>();
  Random random(seed);
  std::map<NodeId, std::vector<Token>> tokens;
  std::set<Token> used;
  for (std::size_t node = 0; node < node_count; ++node) {
    const std::size_t count = 1 + random.uniform(20);
    for (std::size_t i = 0; i < count; ++i) {
      const Token token = dense ? random.uniform(1000) : random.next_u64();
      if (used.insert(token).second) tokens["n" + std::to_string(node)].push_back(token);
    }
  }
  std::erase_if(tokens, [](const auto& entry) { return entry.second.empty(); });
  const Ring ring = Ring::from_tokens(tokens).value();
  for (int i = 0; i < 50; ++i) {
    const Token key = dense ? random.uniform(1100) : random.next_u64();
    const std::vector<NodeId> expected = brute_force_preference_list(ring, key, 3);
    RC_ASSERT(ring.preference_list(key, 3) == expected);
    RC_ASSERT(ring.owner(key) == expected.front());
  }
  RC_ASSERT(std::abs(sum_of(ring.ownership()) - 1.0) < 1e-9);
}

// ring_movement's merged walk against the definition: for every interval between
// consecutive tokens of either ring, compare the owners the two rings give its end.
RC_GTEST_PROP(Ring, MovementMatchesPerIntervalOwners, ()) {
  Random random(*rc::gen::arbitrary<std::uint64_t>());
  const bool dense = *rc::gen::arbitrary<bool>();
  auto random_ring = [&] {
    std::map<NodeId, std::vector<Token>> tokens;
    std::set<Token> used;
    const std::size_t node_count = 1 + random.uniform(5);
    for (std::size_t node = 0; node < node_count; ++node) {
      for (std::size_t i = 0; i <= random.uniform(6); ++i) {
        const Token token = dense ? random.uniform(50) : random.next_u64();
        if (used.insert(token).second) tokens["n" + std::to_string(node)].push_back(token);
      }
    }
    std::erase_if(tokens, [](const auto& entry) { return entry.second.empty(); });
    return Ring::from_tokens(tokens).value();
  };
  const Ring before = random_ring();
  const Ring after = random_ring();
  std::vector<Token> ends = before.tokens();
  for (const Token token : after.tokens()) ends.push_back(token);
  std::sort(ends.begin(), ends.end());
  ends.erase(std::unique(ends.begin(), ends.end()), ends.end());
  long double moved = 0;
  long double moved_between_old = 0;
  for (std::size_t i = 0; i < ends.size(); ++i) {
    const Token previous = ends[i == 0 ? ends.size() - 1 : i - 1];
    const long double size =
        ends.size() == 1 ? 0x1p64L : static_cast<long double>(ends[i] - previous);
    if (before.owner(ends[i]) == after.owner(ends[i])) continue;
    moved += size;
    if (before.contains(after.owner(ends[i]))) moved_between_old += size;
  }
  const RingMovement movement = ring_movement(before, after);
  RC_ASSERT(std::abs(movement.moved_fraction - static_cast<double>(moved / 0x1p64L)) < 1e-12);
  RC_ASSERT(std::abs(movement.moved_between_old_nodes -
                     static_cast<double>(moved_between_old / 0x1p64L)) < 1e-12);
}

TEST(Ring, OwnershipSumsToOneAndReplicaOwnershipToReplicas) {
  for (const std::size_t nodes : {1u, 2u, 5u, 17u}) {
    const Ring ring = Ring::build(node_names(nodes), RingOptions{});
    EXPECT_NEAR(sum_of(ring.ownership()), 1.0, 1e-9) << nodes << " nodes";
    EXPECT_NEAR(sum_of(ring.replica_ownership(3)),
                static_cast<double>(std::min<std::size_t>(3, nodes)), 1e-9)
        << nodes << " nodes";
  }
  // One node with one token owns the whole ring, which needs the 65th bit.
  const Ring single = Ring::build({"solo"}, RingOptions{.vnodes = 1});
  EXPECT_EQ(single.ownership().at("solo"), 1.0);
  const Ring pair = single.with_node_added("duo", RingOptions{.vnodes = 1});
  EXPECT_EQ(pair.ownership().at("solo"), 0.5);
  EXPECT_EQ(pair.ownership().at("duo"), 0.5);
}

// The issue's target: max/mean <= 1.05 at every size from 3 to 64 nodes with 128 vnodes,
// joins moving about 1/k and nothing between old nodes.
TEST(Ring, BalancedAtEverySizeFrom3To64AndJoinsMoveOnlyToTheNewNode) {
  const RingOptions options;
  double worst_max_over_mean = 0;
  double worst_min_over_mean = 2;
  double worst_join_error = 0;  // |moved * k - 1|
  Ring ring = Ring::build({"n1"}, options);
  for (std::size_t k = 2; k <= 64; ++k) {
    const Ring joined = ring.with_node_added("n" + std::to_string(k), options);
    const RingMovement movement = ring_movement(ring, joined);
    EXPECT_EQ(movement.moved_between_old_nodes, 0.0) << "join of node " << k;
    const double join_error = std::abs(movement.moved_fraction * static_cast<double>(k) - 1);
    EXPECT_LT(join_error, 0.03) << "join of node " << k << " moved " << movement.moved_fraction;
    EXPECT_EQ(joined.tokens_of("n" + std::to_string(k)).size(), options.vnodes);
    worst_join_error = std::max(worst_join_error, join_error);
    ring = joined;
    if (k < 3) continue;
    EXPECT_LE(max_over_mean(ring), 1.05) << k << " nodes";
    EXPECT_GE(min_over_mean(ring), 0.95) << k << " nodes";
    worst_max_over_mean = std::max(worst_max_over_mean, max_over_mean(ring));
    worst_min_over_mean = std::min(worst_min_over_mean, min_over_mean(ring));
  }
  expect_spacing(ring, options.token_spacing_min);
  EXPECT_EQ(ring, Ring::build(node_names(64), options));
  std::printf(
      "sizes 3..64, 128 vnodes: worst max/mean %.6f, worst min/mean %.6f, "
      "worst |moved*k - 1| %.6f\n",
      worst_max_over_mean, worst_min_over_mean, worst_join_error);
}

// The balance check can fail: Dynamo-style random tokens (SHA-256 of "<node>#<i>" for
// every node) miss the target at 64 nodes.
TEST(Ring, RandomTokensMissTheBalanceTarget) {
  std::map<NodeId, std::vector<Token>> tokens;
  for (const NodeId& node : node_names(64)) {
    for (int i = 0; i < 128; ++i)
      tokens[node].push_back(sha256_token(node + "#" + std::to_string(i)));
  }
  const Ring random_ring = Ring::from_tokens(tokens).value();
  EXPECT_GT(max_over_mean(random_ring), 1.05);
  // For docs/ring.md: the replica (N=3) balance of random tokens, beside the primary one.
  double replica_max = 0;
  for (const auto& [node, share] : random_ring.replica_ownership(3)) {
    replica_max = std::max(replica_max, share);
  }
  std::printf("random tokens, 64 nodes x 128: max/mean %.3f, replicas (N=3) max/mean %.3f\n",
              max_over_mean(random_ring), replica_max * 64 / 3);
}

TEST(Ring, JoinIntoAnUnbalancedRingTakesOnlyFromTheRichest) {
  // a owns ~3/4 of the ring, b ~1/4: the new node takes its share from a alone, and
  // a and b's surplus over the new level exactly.
  const Token quarter = Token{1} << 62;
  const Ring ring =
      Ring::from_tokens({{"a", {quarter, 2 * quarter, 3 * quarter}}, {"b", {0}}}).value();
  const Ring joined = ring.with_node_added("c", RingOptions{.vnodes = 4});
  const RingMovement movement = ring_movement(ring, joined);
  EXPECT_EQ(movement.moved_between_old_nodes, 0.0);
  const std::map<NodeId, double> shares = joined.ownership();
  // Water level L: (3/4 - L) = L, so L = 3/8; b (1/4) is below it and gives nothing.
  EXPECT_NEAR(shares.at("a"), 0.375, 1e-12);
  EXPECT_NEAR(shares.at("b"), 0.25, 1e-12);
  EXPECT_NEAR(shares.at("c"), 0.375, 1e-12);
  EXPECT_NEAR(movement.moved_fraction, 0.375, 1e-12);
}

// With more old nodes than vnodes a join can take from at most vnodes of them (a token
// splits one node's range); the richest give and the others wait for a later join.
TEST(Ring, MoreNodesThanVnodesStaysNearTheMean) {
  const RingOptions options{.vnodes = 16};
  Ring ring = Ring::build({"n1"}, options);
  double worst_max_over_mean = 0;
  for (std::size_t k = 2; k <= 100; ++k) {
    const Ring joined = ring.with_node_added("n" + std::to_string(k), options);
    EXPECT_EQ(ring_movement(ring, joined).moved_between_old_nodes, 0.0);
    ring = joined;
    if (k >= 3) worst_max_over_mean = std::max(worst_max_over_mean, max_over_mean(ring));
  }
  for (const auto& [node, tokens] : ring.all_tokens()) EXPECT_EQ(tokens.size(), 16u) << node;
  expect_spacing(ring, options.token_spacing_min);
  EXPECT_LE(worst_max_over_mean, 1.07);
  EXPECT_GE(min_over_mean(ring), 0.95);
  EXPECT_EQ(ring, Ring::build(node_names(100), options));
}

TEST(Ring, WideSpacingNearTheLimitStillPlacesEveryToken) {
  // nodes * vnodes * 2 * spacing == 2^64: the tightest options check_ring_options allows.
  const RingOptions options{.vnodes = 16, .token_spacing_min = Token{1} << 55};
  ASSERT_TRUE(check_ring_options(options, 16).ok());
  ASSERT_FALSE(check_ring_options(options, 17).ok());
  const Ring ring = Ring::build(node_names(16), options);
  for (const auto& [node, tokens] : ring.all_tokens()) EXPECT_EQ(tokens.size(), 16u) << node;
  expect_spacing(ring, options.token_spacing_min);
}

TEST(Ring, CheckRingOptionsRefusesImpossibleOptions) {
  EXPECT_TRUE(check_ring_options(RingOptions{}, ring_nodes_max + 1).ok());
  EXPECT_TRUE(check_ring_options(RingOptions{.vnodes = ring_vnodes_max}, ring_nodes_max).ok());
  const Status zero = check_ring_options(RingOptions{.vnodes = 0}, 3);
  EXPECT_EQ(zero.code(), Code::invalid_argument);
  EXPECT_NE(zero.message().find("vnodes"), std::string::npos) << zero.to_string();
  EXPECT_FALSE(check_ring_options(RingOptions{.vnodes = ring_vnodes_max + 1}, 3).ok());
  const Status wide = check_ring_options(RingOptions{.token_spacing_min = Token{1} << 60}, 3);
  EXPECT_EQ(wide.code(), Code::invalid_argument);
  EXPECT_NE(wide.message().find("min_spacing"), std::string::npos) << wide.to_string();
}

TEST(Ring, FromTokensRefusesBadTokensNamingTheCulprit) {
  const auto message_of = [](const std::map<NodeId, std::vector<Token>>& tokens) {
    const Result<Ring> ring = Ring::from_tokens(tokens);
    EXPECT_FALSE(ring.ok());
    EXPECT_EQ(ring.status().code(), Code::invalid_argument);
    return ring.status().message();
  };
  EXPECT_NE(message_of({{"a", {1, 2, 2}}}).find("token 2 appears twice in node 'a'"),
            std::string::npos);
  EXPECT_NE(message_of({{"a", {1, 7}}, {"b", {7}}}).find("token 7 is held by both 'a' and 'b'"),
            std::string::npos);
  EXPECT_NE(message_of({{"a", {1}}, {"b", {}}}).find("node 'b' has no tokens"), std::string::npos);
  EXPECT_NE(message_of({{"bad id", {1}}}).find("invalid node id 'bad id'"), std::string::npos);
  EXPECT_NE(message_of({{std::string("x\n", 2), {1}}}).find("'x\\x0a'"), std::string::npos);
  EXPECT_NE(message_of({{"", {1}}}).find("invalid node id"), std::string::npos);
  EXPECT_NE(message_of({{"a", std::vector<Token>(ring_vnodes_max + 1, 0)}}).find("at most"),
            std::string::npos);
  std::map<NodeId, std::vector<Token>> crowd;
  for (std::size_t i = 0; i <= ring_nodes_max; ++i) crowd["n" + std::to_string(i)] = {i};
  EXPECT_NE(message_of(crowd).find("nodes, at most"), std::string::npos);

  EXPECT_TRUE(Ring::from_tokens({}).value().empty());
  const Ring ring = Ring::build(node_names(4), RingOptions{});
  EXPECT_EQ(Ring::from_tokens(ring.all_tokens()).value(), ring);  // a persisted ring reloads
}

TEST(Ring, RemovedNodeIsSkippedAndItsRangesFallToSuccessors) {
  const Ring ring = Ring::build(node_names(8), RingOptions{});
  const Ring left = ring.with_node_removed("n3");
  EXPECT_FALSE(left.contains("n3"));
  EXPECT_EQ(left.node_count(), 7u);
  EXPECT_TRUE(left.tokens_of("n3").empty());
  for (int i = 0; i < 500; ++i) {
    const Token token = token_of_key("key-" + std::to_string(i));
    const std::vector<NodeId> list = left.preference_list(token, 3);
    ASSERT_EQ(list.size(), 3u);
    EXPECT_EQ(std::find(list.begin(), list.end(), "n3"), list.end());
    // Whatever n3 did not own keeps its owner.
    if (ring.owner(token) != "n3") {
      EXPECT_EQ(left.owner(token), ring.owner(token));
    }
  }
  // Exactly n3's share moves, and only to nodes that were there before.
  const RingMovement movement = ring_movement(ring, left);
  EXPECT_NEAR(movement.moved_fraction, ring.ownership().at("n3"), 1e-12);
  EXPECT_EQ(movement.moved_fraction, movement.moved_between_old_nodes);
  // Removing the last node to join restores the ring it joined.
  EXPECT_EQ(ring.with_node_removed("n8"), Ring::build(node_names(7), RingOptions{}));
  EXPECT_EQ(ring.with_node_removed("absent"), ring);
  EXPECT_TRUE(Ring::build({"n1"}, RingOptions{}).with_node_removed("n1").empty());
}

TEST(Ring, SameJoinOrderGivesTheSameRingAndTheTokensArePinned) {
  const RingOptions options{.vnodes = 32};
  const std::vector<NodeId> order{"zeta", "alpha", "m", "b-2", "b.1"};
  const Ring ring = Ring::build(order, options);
  EXPECT_EQ(ring, Ring::build(order, options));
  std::vector<NodeId> reversed(order.rbegin(), order.rend());
  EXPECT_NE(ring, Ring::build(reversed, options));
  // A golden hash of the tokens: the allocation must not drift between builds or
  // platforms. Change it only with a deliberate change to the algorithm.
  std::string bytes;
  for (const auto& [node, tokens] : ring.all_tokens()) {
    bytes += node;
    for (const Token token : tokens) bytes += std::to_string(token) + ",";
  }
  EXPECT_EQ(xxhash64(bytes), 11000176448913524215u) << "golden value";
}

TEST(RingStatistics, ReportsJoinAndBalanceFigures) {
  const RingStatistics statistics = ring_statistics(5, RingOptions{}).value();
  EXPECT_EQ(statistics.nodes, 5u);
  EXPECT_EQ(statistics.vnodes, 128u);
  EXPECT_EQ(statistics.per_node.size(), 5u);
  EXPECT_EQ(statistics.per_node.front().node, "n1");
  EXPECT_DOUBLE_EQ(statistics.join_ideal_fraction, 1.0 / 6.0);
  EXPECT_EQ(statistics.join_moved_between_old_nodes, 0.0);
  EXPECT_NEAR(statistics.join_moved_fraction, 1.0 / 6.0, 0.005);
  EXPECT_LE(statistics.max_over_mean, 1.05);
  EXPECT_GE(statistics.min_over_mean, 0.95);
  EXPECT_GT(statistics.replica_max_over_mean, 0.0);
  EXPECT_GT(statistics.leave_max_over_mean, 1.0);
  double primary = 0;
  for (const NodeOwnership& node : statistics.per_node) primary += node.primary;
  EXPECT_NEAR(primary, 1.0, 1e-9);

  EXPECT_EQ(ring_statistics(0, RingOptions{}).status().code(), Code::invalid_argument);
  EXPECT_FALSE(ring_statistics(ring_nodes_max + 1, RingOptions{}).ok());
  EXPECT_FALSE(ring_statistics(3, RingOptions{.vnodes = 0}).ok());
  EXPECT_EQ(ring_statistics(1, RingOptions{}).value().leave_max_over_mean, 0.0);
}

}  // namespace
}  // namespace vigil::core
