// Counters (docs/counters.md): the PN-counter's merge is a join, its encoding round-trips
// and refuses damaged bytes, INCRBY's rules follow what GET answers, and increments
// coordinated on two nodes at once are both kept.

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <limits>

#include "core/node/node.h"
#include "core/versions/counter_state.h"
#include "core/versions/pn_counter.h"
#include "core/wire/codec.h"
#include "tests/core/node_cluster.h"

namespace vigil::core {
namespace {

using testing::TestCluster;

PnCounter counter_of(std::initializer_list<std::tuple<const char*, std::uint64_t, std::int64_t>>
                         adds) {
  PnCounter counter;
  for (const auto& [node, dot, delta] : adds) {
    EXPECT_TRUE(counter.add(Dot{node, dot}, delta).ok());
  }
  return counter;
}

TEST(PnCounter, TheValueIsIncrementsMinusDecrementsAndMergeTakesTheMaximumPerEntry) {
  PnCounter a = counter_of({{"a", 1, 5}, {"a", 1, -2}, {"b", 3, 4}});
  PnCounter b = counter_of({{"a", 1, 3}, {"c", 2, 7}});  // an older total of a's entry
  EXPECT_EQ(a.value(), 7);
  a.merge(b);
  EXPECT_EQ(a.value(), 5 - 2 + 4 + 7) << "a's entry keeps 5 and 2; c's is added";
  ASSERT_NE(a.latest_of("a"), nullptr);
  EXPECT_EQ(a.latest_of("a")->id, (Dot{"a", 1}));
  EXPECT_EQ(a.latest_of("z"), nullptr);
}

TEST(PnCounter, AnEntryThatWouldPass64BitsIsRefusedAndNothingChanges) {
  PnCounter counter;
  ASSERT_TRUE(counter.add(Dot{"a", 1}, std::numeric_limits<std::int64_t>::max()).ok());
  ASSERT_TRUE(counter.add(Dot{"a", 1}, std::numeric_limits<std::int64_t>::max()).ok());
  const PnCounter before = counter;
  EXPECT_EQ(counter.add(Dot{"a", 1}, 2).code(), Code::invalid_argument);
  EXPECT_EQ(counter, before);
  ASSERT_TRUE(counter.add(Dot{"a", 1}, std::numeric_limits<std::int64_t>::min()).ok());
  EXPECT_EQ(counter_text(counter.value()), "9223372036854775806");
}

TEST(PnCounter, TheEncodingRoundTripsAndDamagedBytesAreRefusedByName) {
  const PnCounter counter = counter_of({{"n1", 4, 10}, {"n2", 9, -3}});
  const std::string bytes = encode_pn_counter(counter);
  auto decoded = decode_pn_counter(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, counter);
  EXPECT_NE(decode_pn_counter(bytes + "x").status().message().find("trailing"),
            std::string::npos);
  EXPECT_NE(decode_pn_counter(bytes.substr(0, bytes.size() - 1)).status().message().find(
                "decrements"),
            std::string::npos);
  // Entries out of order: swap the two (each is 4 + 2 + 24 bytes after the count).
  const std::string swapped = bytes.substr(0, 4) + bytes.substr(34, 30) + bytes.substr(4, 30);
  EXPECT_NE(decode_pn_counter(swapped).status().message().find("ascending"), std::string::npos);
}

TEST(PnCounter, CounterTextPrintsEvery128BitValue) {
  EXPECT_EQ(counter_text(0), "0");
  EXPECT_EQ(counter_text(-42), "-42");
  const CounterTotal big = CounterTotal{std::numeric_limits<std::uint64_t>::max()} * 3;
  EXPECT_EQ(counter_text(big), "55340232221128654845");
  EXPECT_EQ(counter_text(-big), "-55340232221128654845");
}

RC_GTEST_PROP(PnCounterProperties, MergeIsAJoinAndKeepsEveryReplicasIncrements, ()) {
  // Three replicas each apply their own actors' increments; any merge order agrees, and
  // the result is the sum of all of them.
  const auto deltas = *rc::gen::container<std::vector<std::pair<int, std::int64_t>>>(
      rc::gen::pair(rc::gen::inRange(0, 3), rc::gen::inRange<std::int64_t>(-100, 100)));
  PnCounter replicas[3];
  std::int64_t sum = 0;
  for (const auto& [replica, delta] : deltas) {
    RC_ASSERT(replicas[replica].add(Dot{"r" + std::to_string(replica), 1}, delta).ok());
    sum += delta;
  }
  PnCounter ab = replicas[0];
  ab.merge(replicas[1]);
  PnCounter ab_c = ab;
  ab_c.merge(replicas[2]);
  PnCounter bc = replicas[1];
  bc.merge(replicas[2]);
  PnCounter a_bc = replicas[0];
  a_bc.merge(bc);
  PnCounter c_ba = replicas[2];
  c_ba.merge(replicas[1]);
  c_ba.merge(replicas[0]);
  RC_ASSERT(ab_c == a_bc);
  RC_ASSERT(ab_c == c_ba);
  PnCounter twice = ab_c;
  twice.merge(ab_c);
  RC_ASSERT(twice == ab_c);
  RC_ASSERT(ab_c.value() == CounterTotal{sum});
}

SiblingSet plain(const Value& value, WallMicros at) {
  SiblingSet set;
  VersionCounters counters;
  EXPECT_TRUE(set.write("p", {}, value, at, ConflictMode::siblings, {}, counters).ok());
  return set;
}

TEST(CounterState, AnIncrementGoesOnFromWhatGetAnswers) {
  const WallMicros now = 1'000'000;
  // Absent: starts at delta.
  auto fresh = increment_counter(SiblingSet{}, Dot{"a", 1}, 5, now);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(counter_text(fresh->total), "5");
  // A plain integer becomes the base.
  auto based = increment_counter(plain("10", now), Dot{"a", 2}, 1, now);
  ASSERT_TRUE(based.ok());
  EXPECT_EQ(counter_text(based->total), "11");
  // Not an integer (Redis' rule): refused with Redis' message.
  for (const char* bad : {"abc", "", "01", "+1", " 1", "-", "99999999999999999999"}) {
    auto refused = increment_counter(plain(bad, now), Dot{"a", 2}, 1, now);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.status().message(), "value is not an integer or out of range");
  }
  // Past int64: refused.
  auto top = increment_counter(plain("9223372036854775807", now), Dot{"a", 2}, 1, now);
  ASSERT_FALSE(top.ok());
  EXPECT_EQ(top.status().message(), "increment or decrement would overflow");
}

TEST(CounterState, TheExpiryOfTheIncrementedValueIsKept) {
  const WallMicros now = 1'000'000;
  SiblingSet set;
  VersionCounters counters;
  ASSERT_TRUE(set.write("p", {}, Value("3"), now, ConflictMode::siblings, {}, counters, 0,
                        now + 60'000'000)
                  .ok());
  auto kept = increment_counter(set, Dot{"a", 2}, 1, now);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->expires_at_us, now + 60'000'000);
  // Once expired, the key is absent: the counter starts again without an expiry.
  auto restarted = increment_counter(set, Dot{"a", 2}, 1, now + 60'000'000);
  ASSERT_TRUE(restarted.ok());
  EXPECT_EQ(counter_text(restarted->total), "1");
  EXPECT_EQ(restarted->expires_at_us, 0);
}

TEST(CounterCodec, ACounterVersionRoundTripsWithItsKindAndIsNotAPlainValue) {
  SiblingSet set;
  VersionCounters counters;
  const std::string bytes = encode_pn_counter(counter_of({{"a", 1, 4}}));
  ASSERT_TRUE(set.write("a", {}, bytes, 5, ConflictMode::siblings, {}, counters, 0, 0,
                        ValueKind::counter)
                  .ok());
  auto decoded = decode_sibling_set(encode_sibling_set(set));
  ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, set);
  EXPECT_EQ(decoded->versions().front().kind, ValueKind::counter);
  EXPECT_NE(value_checksum(bytes, ValueKind::counter), value_checksum(bytes));
  // A counter whose bytes do not decode is refused (the checksum is recomputed to match).
  Version damaged = set.versions().front();
  damaged.value = "xx";
  damaged.checksum = value_checksum(damaged.value, ValueKind::counter);
  EXPECT_EQ(SiblingSet::from_versions({damaged}).status().code(), Code::invalid_argument);
}

ClientReply incr(TestCluster& cluster, const NodeId& at, const Key& key, std::int64_t delta) {
  ClientRequest request;
  request.op = ClientOp::incr;
  request.key = key;
  request.delta = delta;
  return cluster.run(at, std::move(request));
}

TEST(NodeCounters, IncrementsThroughAnyNodeAddUpAndGetAnswersTheTotal) {
  TestCluster cluster(5);
  const Key key = "k";
  std::int64_t expected = 0;
  for (std::size_t i = 0; i < cluster.ids().size(); ++i) {
    const std::int64_t delta = static_cast<std::int64_t>(i) * 3 - 4;
    expected += delta;
    const ClientReply reply = incr(cluster, cluster.ids()[i], key, delta);
    ASSERT_TRUE(reply.status.ok()) << reply.status.to_string();
    ASSERT_EQ(reply.values.size(), 1u);
    EXPECT_EQ(reply.values.front(), std::to_string(expected));
  }
  const ClientReply got = cluster.get(cluster.ids()[0], key, Consistency::all);
  ASSERT_TRUE(got.status.ok());
  EXPECT_EQ(got.values, std::vector<Value>{std::to_string(expected)});
  EXPECT_EQ(cluster.counter(cluster.replicas_of(key)[0], "requests_incr"), 1u);
}

TEST(NodeCounters, ConcurrentIncrementsOnTwoCoordinatorsAreBothKept) {
  NodeOptions options;
  options.membership.enabled = true;
  for (int i = 1; i <= 3; ++i) {  // every node seeded with every other (ids are addresses)
    options.seeds.emplace_back("n" + std::to_string(i), "n" + std::to_string(i));
  }
  TestCluster cluster(3, options);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  cluster.advance(std::chrono::seconds(40));  // past the failure detector's bootstrap
  ASSERT_TRUE(incr(cluster, list[0], key, 10).status.ok());
  // The first replica is cut off. Once the others judge it down, the next increment is
  // coordinated by list[1], which holds the counter too, while list[0] goes on counting on
  // its own (W = 1 for it).
  cluster.down.insert(list[0]);
  cluster.advance(std::chrono::seconds(20));
  const ClientReply failover = incr(cluster, list[2], key, 5);
  ASSERT_TRUE(failover.status.ok()) << failover.status.to_string();
  cluster.down.clear();
  cluster.down.insert(list[1]);
  cluster.down.insert(list[2]);
  ClientRequest alone;
  alone.op = ClientOp::incr;
  alone.key = key;
  alone.delta = 7;
  alone.consistency = Consistency::one;
  ASSERT_TRUE(cluster.run(list[0], std::move(alone)).status.ok());
  cluster.down.clear();
  cluster.advance(std::chrono::seconds(30));
  const ClientReply got = cluster.get(list[2], key, Consistency::all);
  ASSERT_TRUE(got.status.ok()) << got.status.to_string();
  EXPECT_EQ(got.values, std::vector<Value>{"22"}) << "10 + 5 + 7: no increment lost";
  // The next increment merges the siblings into one counter.
  const ClientReply next = incr(cluster, list[0], key, 1);
  ASSERT_TRUE(next.status.ok());
  EXPECT_EQ(next.values.front(), "23");
}

TEST(NodeCounters, ASilentCoordinatorIsAskedAgainNeverReplacedSoNothingCountsTwice) {
  TestCluster cluster(3);
  const Key key = "k";
  const auto list = cluster.replicas_of(key);
  ASSERT_TRUE(incr(cluster, list[0], key, 1).status.ok());
  // list[0] is silent but not yet judged down: a plain SET would fail over to list[1]; an
  // increment is only sent to list[0] again, and times out (its outcome unknown).
  cluster.down.insert(list[0]);
  const ClientReply silent = incr(cluster, list[2], key, 100);
  EXPECT_EQ(silent.status.code(), Code::timeout) << silent.status.to_string();
  EXPECT_GE(cluster.counter(list[2], "forward_retries_silence"), 1u);
  cluster.down.clear();
  cluster.advance(std::chrono::seconds(30));
  const ClientReply got = cluster.get(list[1], key, Consistency::all);
  ASSERT_TRUE(got.status.ok());
  EXPECT_EQ(got.values, std::vector<Value>{"1"}) << "the silent increment was applied nowhere";
}

TEST(NodeCounters, IncrOnAPlainNonIntegerIsRefusedAndCounted) {
  TestCluster cluster(3);
  const auto list = cluster.replicas_of("k");
  ASSERT_TRUE(cluster.put(list[0], "k", "hello").status.ok());
  const ClientReply refused = incr(cluster, list[1], "k", 1);
  EXPECT_EQ(refused.status.code(), Code::invalid_argument);
  EXPECT_EQ(refused.status.message(), "value is not an integer or out of range");
  EXPECT_EQ(cluster.counter(list[0], "increments_refused"), 1u);
  EXPECT_EQ(cluster.get(list[2], "k").values, std::vector<Value>{"hello"});
}

}  // namespace
}  // namespace vigil::core
