// Unit tests for vector clocks, versions and sibling sets (core/versions/version.h), including the
// dotted-version-vector scenarios that plain vector clocks get wrong.

#include "core/versions/version.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/hash.h"

namespace vigil::core {
namespace {

using namespace std::chrono_literals;

constexpr WallMicros second_us = 1'000'000;

VectorClock clock_of(std::initializer_list<std::pair<NodeId, ClockEntry>> entries) {
  VectorClock clock;
  for (const auto& [node, entry] : entries) clock.set(node, entry);
  return clock;
}

Version make_version(Dot dot, VectorClock context, WallMicros timestamp_us,
                     std::optional<Value> value) {
  Version version;
  version.dot = std::move(dot);
  version.context = std::move(context);
  version.timestamp_us = timestamp_us;
  version.checksum = value_checksum(value);
  version.value = std::move(value);
  return version;
}

std::vector<Dot> dots_of(const SiblingSet& set) {
  std::vector<Dot> dots;
  for (const Version& version : set.versions()) dots.push_back(version.dot);
  return dots;
}

std::vector<std::optional<Value>> values_of(const SiblingSet& set) {
  std::vector<std::optional<Value>> values;
  for (const Version& version : set.versions()) values.push_back(version.value);
  return values;
}

// A fixture holding the limits and counters every SiblingSet call takes.
class SiblingSetTest : public ::testing::Test {
 protected:
  Dot put(SiblingSet& set, const NodeId& coordinator, const VectorClock& context,
          std::optional<Value> value, WallMicros now, ConflictMode mode = ConflictMode::siblings) {
    Result<Dot> dot =
        set.write(coordinator, context, std::move(value), now, mode, limits, counters);
    EXPECT_TRUE(dot.ok()) << dot.status().to_string();
    set.check_invariants(mode, limits);
    return dot.ok() ? dot.value() : Dot{};
  }
  SiblingSet merged(SiblingSet a, const SiblingSet& b, ConflictMode mode = ConflictMode::siblings) {
    a.merge(b, mode, limits, counters);
    a.check_invariants(mode, limits);
    return a;
  }

  SiblingLimits limits;
  VersionCounters counters;
};

// ---- VectorClock ----

TEST(VectorClockTest, CounterIsZeroForAbsentNodes) {
  const VectorClock clock = clock_of({{"a", {3, 10}}});
  EXPECT_EQ(clock.counter("a"), 3u);
  EXPECT_EQ(clock.counter("b"), 0u);
  EXPECT_TRUE(clock.contains(Dot{"a", 3}));
  EXPECT_FALSE(clock.contains(Dot{"a", 4}));
  EXPECT_FALSE(clock.contains(Dot{"b", 1}));
}

TEST(VectorClockTest, IncrementAddsOneAndStampsNow) {
  VectorClock clock;
  clock.increment("a", 100);
  clock.increment("a", 250);
  EXPECT_EQ(clock.entries().front(), (std::pair<NodeId, ClockEntry>{"a", ClockEntry{2, 250}}));
  EXPECT_EQ(clock.size(), 1u);
}

TEST(VectorClockTest, EntriesStayAscendingWhateverTheInsertionOrder) {
  // The clock is a sorted vector: encoding, equality and the merge walk rely on the order.
  VectorClock clock;
  clock.set("c", ClockEntry{3, 30});
  clock.set("a", ClockEntry{1, 10});
  clock.set("d", ClockEntry{4, 40});
  clock.set("b", ClockEntry{2, 20});
  clock.set("a", ClockEntry{5, 50});
  std::vector<NodeId> order;
  for (const auto& [node, entry] : clock.entries()) order.push_back(node);
  EXPECT_EQ(order, (std::vector<NodeId>{"a", "b", "c", "d"}));
  EXPECT_EQ(clock.counter("a"), 5u);

  VectorClock other;
  other.set("b", ClockEntry{2, 20});
  other.set("d", ClockEntry{4, 40});
  other.set("c", ClockEntry{3, 30});
  other.set("a", ClockEntry{5, 50});
  EXPECT_EQ(clock, other);
}

TEST(VectorClockTest, SetRejectsZeroCounter) {
  VectorClock clock;
  EXPECT_DEATH(clock.set("a", ClockEntry{0, 1}), "counter > 0");
}

TEST(VectorClockTest, MergeTakesMaximumCountersAndTimestampsIndependently) {
  VectorClock a = clock_of({{"a", {3, 10}}, {"b", {1, 500}}});
  const VectorClock b = clock_of({{"b", {2, 400}}, {"c", {7, 70}}});
  a.merge(b);
  // b: the larger counter is b's, but a's timestamp for that node is later and is kept.
  EXPECT_EQ(a, clock_of({{"a", {3, 10}}, {"b", {2, 500}}, {"c", {7, 70}}}));
  VectorClock again = a;
  again.merge(b);
  EXPECT_EQ(again, a);
}

TEST(VectorClockTest, IncludesNeedsCountersAndTimestamps) {
  const VectorClock big = clock_of({{"a", {3, 10}}, {"b", {2, 20}}});
  EXPECT_TRUE(big.includes(clock_of({{"a", {2, 10}}})));
  EXPECT_TRUE(big.includes(VectorClock{}));
  EXPECT_FALSE(big.includes(clock_of({{"a", {2, 11}}})));
  EXPECT_FALSE(big.includes(clock_of({{"c", {1, 0}}})));
}

TEST(VectorClockTest, CompareUsesCountersOnly) {
  const VectorClock a = clock_of({{"a", {1, 999}}});
  const VectorClock a2 = clock_of({{"a", {2, 1}}});
  EXPECT_EQ(compare(a, a2), Ordering::before);
  EXPECT_EQ(compare(a2, a), Ordering::after);
  EXPECT_EQ(compare(a, clock_of({{"a", {1, 5}}})), Ordering::equal);
  EXPECT_EQ(compare(VectorClock{}, VectorClock{}), Ordering::equal);
  EXPECT_EQ(compare(VectorClock{}, a), Ordering::before);
  const VectorClock b = clock_of({{"b", {1, 0}}});
  EXPECT_EQ(compare(a, b), Ordering::concurrent);
  const VectorClock ab = clock_of({{"a", {2, 0}}, {"b", {1, 0}}});
  const VectorClock ab2 = clock_of({{"a", {1, 0}}, {"b", {2, 0}}});
  EXPECT_EQ(compare(ab, ab2), Ordering::concurrent);
  EXPECT_EQ(compare(b, ab), Ordering::before);
}

// ---- Pruning (Riak's small / big / young / old) ----

// `count` entries n00, n01, ... with timestamps now - age_of(i).
template <typename AgeOf>
VectorClock aged_clock(std::size_t count, WallMicros now, AgeOf age_of) {
  VectorClock clock;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string node = (i < 10 ? "n0" : "n") + std::to_string(i);
    clock.set(node, ClockEntry{i + 1, now - static_cast<WallMicros>(age_of(i))});
  }
  return clock;
}

constexpr WallMicros now_us = 1'700'000'000 * second_us;
constexpr WallMicros day_us = 86400 * second_us;

TEST(PruneTest, NeverPrunesAtOrBelowSmall) {
  // Ten entries, all far older than old: small protects them.
  VectorClock clock = aged_clock(10, now_us, [](std::size_t i) { return 10 * day_us + i; });
  EXPECT_EQ(clock.prune(ClockPruning{}, now_us), 0u);
  EXPECT_EQ(clock.size(), 10u);
}

TEST(PruneTest, RemovesEntriesOlderThanOldDownToSmall) {
  // Twelve entries all older than old: the two oldest go, then small stops pruning.
  VectorClock clock = aged_clock(12, now_us, [](std::size_t i) { return 2 * day_us + i; });
  EXPECT_EQ(clock.prune(ClockPruning{}, now_us), 2u);
  EXPECT_EQ(clock.size(), 10u);
  // Largest ages are n11 and n10: those went.
  EXPECT_EQ(clock.counter("n11"), 0u);
  EXPECT_EQ(clock.counter("n10"), 0u);
  EXPECT_EQ(clock.counter("n09"), 10u);
}

TEST(PruneTest, KeepsEntriesNotOlderThanOld) {
  // Twelve entries, two of them older than old, the rest an hour old (neither young nor
  // old): only the two go.
  VectorClock clock =
      aged_clock(12, now_us, [](std::size_t i) { return i < 2 ? 2 * day_us : 3600 * second_us; });
  EXPECT_EQ(clock.prune(ClockPruning{}, now_us), 2u);
  EXPECT_EQ(clock.counter("n00"), 0u);
  EXPECT_EQ(clock.counter("n01"), 0u);
  EXPECT_EQ(clock.size(), 10u);
  // Fifteen hour-old entries: none is old, none goes.
  VectorClock hour_old = aged_clock(15, now_us, [](std::size_t) { return 3600 * second_us; });
  EXPECT_EQ(hour_old.prune(ClockPruning{}, now_us), 0u);
}

TEST(PruneTest, KeepsYoungEntriesWhileAtOrBelowBig) {
  // Fifty young entries: between small and big, so young keeps them all.
  VectorClock clock = aged_clock(50, now_us, [](std::size_t i) { return 5 * second_us + i; });
  EXPECT_EQ(clock.prune(ClockPruning{}, now_us), 0u);
  EXPECT_EQ(clock.size(), 50u);
  // Young wins over old when a configuration makes young the larger age: an entry older
  // than old but younger than young stays.
  ClockPruning odd;
  odd.age_young = 100s;
  odd.age_old = 50s;
  VectorClock between = aged_clock(12, now_us, [](std::size_t) { return 70 * second_us; });
  EXPECT_EQ(between.prune(odd, now_us), 0u);
}

TEST(PruneTest, PrunesDownToBigEvenWhenYoung) {
  VectorClock clock = aged_clock(55, now_us, [](std::size_t i) { return 1 * second_us + i; });
  EXPECT_EQ(clock.prune(ClockPruning{}, now_us), 5u);
  EXPECT_EQ(clock.size(), 50u);
  // The five oldest (largest ages: n54 .. n50) went.
  for (int i = 50; i < 55; ++i) EXPECT_EQ(clock.counter("n" + std::to_string(i)), 0u);
  EXPECT_EQ(clock.counter("n49"), 50u);
}

TEST(PruneTest, OldestGoFirstWithNodeBreakingTies) {
  // Eleven entries with the same old timestamp: the smallest node id goes.
  VectorClock clock = aged_clock(11, now_us, [](std::size_t) { return 2 * day_us; });
  EXPECT_EQ(clock.prune(ClockPruning{}, now_us), 1u);
  EXPECT_EQ(clock.counter("n00"), 0u);
}

TEST(PruneTest, ExtremeTimestampsDoNotOverflow) {
  VectorClock clock;
  for (int i = 0; i < 11; ++i) {
    const WallMicros timestamp = i % 2 == 0 ? std::numeric_limits<WallMicros>::min()
                                            : std::numeric_limits<WallMicros>::max();
    clock.set("n" + std::to_string(10 + i), ClockEntry{1, timestamp});
  }
  // The far-past entries are old (saturated age), the far-future ones young: one goes.
  EXPECT_EQ(clock.prune(ClockPruning{}, 0), 1u);
  EXPECT_EQ(clock.size(), 10u);
}

// ---- Version ----

TEST(VersionTest, CoversItsDotAndItsContextButNotAGapBelowItsDot) {
  const Version version = make_version(Dot{"a", 2}, clock_of({{"b", {3, 0}}}), 100, Value("x"));
  EXPECT_TRUE(version.covers(Dot{"a", 2}));
  EXPECT_TRUE(version.covers(Dot{"b", 1}));
  EXPECT_TRUE(version.covers(Dot{"b", 3}));
  EXPECT_FALSE(version.covers(Dot{"b", 4}));
  // (a, 1) was a sibling the writer of (a, 2) never saw.
  EXPECT_FALSE(version.covers(Dot{"a", 1}));
  EXPECT_EQ(version.history(), clock_of({{"a", {2, 100}}, {"b", {3, 0}}}));
}

TEST(VersionTest, ChecksumTellsTombstonesFromEmptyValues) {
  EXPECT_EQ(value_checksum(Value("hello")), xxhash64("hello"));
  EXPECT_NE(value_checksum(std::nullopt), value_checksum(Value("")));
  EXPECT_EQ(value_checksum(std::nullopt), value_checksum(std::nullopt));
}

// ---- SiblingSet: writes ----

TEST_F(SiblingSetTest, FirstWriteGetsDotOneAndNow) {
  SiblingSet set;
  EXPECT_EQ(put(set, "a", {}, Value("x"), 100), (Dot{"a", 1}));
  ASSERT_EQ(set.size(), 1u);
  EXPECT_EQ(set.versions()[0].timestamp_us, 100);
  EXPECT_TRUE(set.versions()[0].context.empty());
  EXPECT_EQ(set.versions()[0].checksum, value_checksum(Value("x")));
  EXPECT_EQ(set.context(), clock_of({{"a", {1, 100}}}));
}

TEST_F(SiblingSetTest, SameStaleContextThroughOneCoordinatorMakesSiblings) {
  SiblingSet set;
  put(set, "a", {}, Value("x"), 100);
  const VectorClock stale = set.context();
  put(set, "a", stale, Value("y"), 200);
  put(set, "a", stale, Value("z"), 300);
  EXPECT_EQ(dots_of(set), (std::vector<Dot>{{"a", 2}, {"a", 3}}));
  EXPECT_EQ(values_of(set), (std::vector<std::optional<Value>>{Value("y"), Value("z")}));
}

TEST_F(SiblingSetTest, WriteWithReadContextReplacesAllSiblings) {
  SiblingSet set;
  put(set, "a", {}, Value("x"), 100);
  put(set, "b", {}, Value("y"), 100);
  put(set, "a", {}, Value("z"), 100);
  ASSERT_EQ(set.size(), 3u);
  const Dot dot = put(set, "b", set.context(), Value("merged"), 400);
  EXPECT_EQ(dot, (Dot{"b", 2}));
  EXPECT_EQ(dots_of(set), (std::vector<Dot>{{"b", 2}}));
  EXPECT_EQ(set.versions()[0].context, clock_of({{"a", {2, 100}}, {"b", {1, 100}}}));
}

TEST_F(SiblingSetTest, WriteReplacesOnlyWhatTheContextCovers) {
  SiblingSet set;
  put(set, "a", {}, Value("x"), 100);
  const VectorClock read = set.context();
  put(set, "b", {}, Value("y"), 150);  // concurrent with the read
  put(set, "a", read, Value("x2"), 200);
  EXPECT_EQ(dots_of(set), (std::vector<Dot>{{"a", 2}, {"b", 1}}));
}

TEST_F(SiblingSetTest, LaggingCoordinatorTakesItsDotPastTheClientContext) {
  // Coordinator b wrote (b, 5) elsewhere; its own replica lost track (an empty state here).
  // A client that read (b, 5) writes through b: b must not reuse counter 5 or below.
  SiblingSet elsewhere;
  for (int i = 0; i < 5; ++i) put(elsewhere, "b", elsewhere.context(), Value("v"), 100 + i);
  ASSERT_EQ(dots_of(elsewhere), (std::vector<Dot>{{"b", 5}}));
  SiblingSet lagging;
  const Dot dot = put(lagging, "b", elsewhere.context(), Value("w"), 200);
  EXPECT_EQ(dot, (Dot{"b", 6}));
  // Merging the two replicas keeps only the new write: it descends (b, 5).
  EXPECT_EQ(dots_of(merged(lagging, elsewhere)), (std::vector<Dot>{{"b", 6}}));
}

TEST_F(SiblingSetTest, DotCounterCountsWhatOtherVersionsKnowOfTheCoordinator) {
  // (a, 1) was written with a context that knows (b, 4): b's next dot is 5 even though no
  // version here has a b dot.
  SiblingSet set = SiblingSet::from_versions(
                       {make_version(Dot{"a", 1}, clock_of({{"b", {4, 10}}}), 20, Value("x"))})
                       .value();
  EXPECT_EQ(put(set, "b", {}, Value("y"), 30), (Dot{"b", 5}));
  EXPECT_EQ(set.size(), 2u);
}

TEST_F(SiblingSetTest, NewTimestampIsPastEverythingItSupersedes) {
  SiblingSet set;
  put(set, "a", {}, Value("x"), 1000);
  // Coordinator b's clock is behind: the new version is still later than (a, 1).
  put(set, "b", set.context(), Value("y"), 10);
  ASSERT_EQ(set.size(), 1u);
  EXPECT_EQ(set.versions()[0].timestamp_us, 1001);
  // A blind write keeps its own clock.
  put(set, "b", {}, Value("z"), 10);
  EXPECT_EQ(set.versions()[0].timestamp_us, 1001);
  EXPECT_EQ(set.versions()[1].timestamp_us, 10);
}

TEST_F(SiblingSetTest, DotCounterOverflowIsRefused) {
  SiblingSet set;
  const VectorClock forged = clock_of({{"a", {std::numeric_limits<std::uint64_t>::max(), 0}}});
  Result<Dot> dot = set.write("a", forged, Value("x"), 1, ConflictMode::siblings, limits, counters);
  ASSERT_FALSE(dot.ok());
  EXPECT_EQ(dot.status().code(), Code::invalid_argument);
  EXPECT_TRUE(set.empty());
}

TEST_F(SiblingSetTest, TombstonesAreVersions) {
  SiblingSet set;
  EXPECT_FALSE(set.is_deleted());
  put(set, "a", {}, Value("x"), 100);
  EXPECT_FALSE(set.is_deleted());
  put(set, "a", set.context(), std::nullopt, 200);
  EXPECT_TRUE(set.is_deleted());
  ASSERT_EQ(set.size(), 1u);
  EXPECT_TRUE(set.versions()[0].is_tombstone());
  EXPECT_EQ(set.versions()[0].checksum, value_checksum(std::nullopt));
  // A concurrent write next to the tombstone: not deleted any more.
  put(set, "b", {}, Value("y"), 150);
  EXPECT_FALSE(set.is_deleted());
  // A delete with the read context removes both.
  put(set, "b", set.context(), std::nullopt, 300);
  EXPECT_TRUE(set.is_deleted());
  EXPECT_EQ(set.size(), 1u);
}

TEST_F(SiblingSetTest, DeletedValueDoesNotComeBackFromALaggingReplica) {
  SiblingSet lagging;
  put(lagging, "a", {}, Value("x"), 100);
  SiblingSet current = lagging;
  put(current, "a", current.context(), std::nullopt, 200);
  EXPECT_TRUE(merged(current, lagging).is_deleted());
  EXPECT_TRUE(merged(lagging, current).is_deleted());
}

TEST_F(SiblingSetTest, SiblingsMaxRefusesAndChangesNothing) {
  limits.siblings_max = 2;
  SiblingSet set;
  put(set, "a", {}, Value("x"), 100);
  put(set, "b", {}, Value("y"), 100);
  const SiblingSet before = set;
  const VersionCounters counters_before = counters;
  Result<Dot> refused =
      set.write("c", {}, Value("z"), 100, ConflictMode::siblings, limits, counters);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::resource_exhausted);
  EXPECT_EQ(set, before);
  EXPECT_EQ(counters.siblings_dropped, counters_before.siblings_dropped);
  EXPECT_EQ(counters.clock_entries_pruned, counters_before.clock_entries_pruned);
  // Replacing one sibling keeps the count at 2: allowed.
  VectorClock read_a = clock_of({{"a", {1, 100}}});
  put(set, "c", read_a, Value("z"), 100);
  EXPECT_EQ(dots_of(set), (std::vector<Dot>{{"b", 1}, {"c", 1}}));
  // Timestamp mode never refuses: it keeps one version.
  put(set, "c", {}, Value("w"), 500, ConflictMode::timestamp);
  EXPECT_EQ(set.size(), 1u);
}

TEST_F(SiblingSetTest, WritePrunesTheNewContextAndCounts) {
  // A client context with 12 entries written a week ago: two are pruned (down to small).
  VectorClock context;
  for (int i = 10; i < 22; ++i) {
    context.set("n" + std::to_string(i), ClockEntry{1, now_us - 7 * day_us - i});
  }
  SiblingSet set;
  const Dot dot = put(set, "a", context, Value("x"), now_us);
  ASSERT_EQ(set.size(), 1u);
  EXPECT_EQ(set.versions()[0].context.size(), 10u);
  EXPECT_EQ(counters.clock_entries_pruned, 2u);
  // The dot itself is never pruned.
  EXPECT_EQ(set.versions()[0].dot, dot);
  EXPECT_TRUE(set.versions()[0].covers(dot));
}

// The documented cost of pruning (docs/versions.md): the new version forgets it saw the
// oldest writer, so that writer's obsolete version comes back from a lagging replica as a
// sibling. In timestamp mode the new version still wins: its timestamp was raised past
// everything it saw before the context was pruned.
TEST_F(SiblingSetTest, PruningCanBringBackAnObsoleteSiblingButNotATimestampLoser) {
  for (const ConflictMode mode : {ConflictMode::siblings, ConflictMode::timestamp}) {
    SCOPED_TRACE(mode == ConflictMode::siblings ? "siblings" : "timestamp");
    // (n10, 1) written two days ago; eleven other nodes wrote a day and a half ago.
    const Version obsolete = make_version(Dot{"n10", 1}, {}, now_us - 2 * day_us, Value("old"));
    const SiblingSet lagging = SiblingSet::from_versions({obsolete}).value();
    VectorClock read = lagging.context();
    for (int i = 11; i < 22; ++i) {
      read.set("n" + std::to_string(i), ClockEntry{1, now_us - 3 * day_us / 2});
    }
    SiblingSet current = lagging;
    put(current, "a", read, Value("new"), now_us, mode);
    ASSERT_EQ(current.size(), 1u);
    EXPECT_FALSE(current.versions()[0].covers(obsolete.dot));  // (n10, 1) was pruned
    const SiblingSet after = merged(current, lagging, mode);
    if (mode == ConflictMode::siblings) {
      EXPECT_EQ(values_of(after), (std::vector<std::optional<Value>>{Value("new"), Value("old")}));
    } else {
      EXPECT_EQ(values_of(after), (std::vector<std::optional<Value>>{Value("new")}));
    }
  }
}

// The same history as above, but the newer write is a delete: it never prunes, so the
// lagging replica's value cannot come back next to the tombstone (docs/deletes.md).
TEST_F(SiblingSetTest, ADeleteNeverPrunesSoALaggingReplicaCannotResurrectTheValue) {
  const Version obsolete = make_version(Dot{"n10", 1}, {}, now_us - 2 * day_us, Value("old"));
  const SiblingSet lagging = SiblingSet::from_versions({obsolete}).value();
  VectorClock read = lagging.context();
  for (int i = 11; i < 22; ++i) {
    read.set("n" + std::to_string(i), ClockEntry{1, now_us - 3 * day_us / 2});
  }
  SiblingSet current = lagging;
  put(current, "a", read, std::nullopt, now_us);
  ASSERT_EQ(current.size(), 1u);
  EXPECT_TRUE(current.versions()[0].covers(obsolete.dot));
  EXPECT_EQ(current.versions()[0].context.size(), 12u) << "nothing pruned";
  EXPECT_TRUE(merged(current, lagging, ConflictMode::siblings).is_deleted());
}

TEST_F(SiblingSetTest, ContextIsTheJoinOfHistories) {
  SiblingSet set;
  put(set, "a", {}, Value("x"), 100);
  put(set, "b", clock_of({{"c", {4, 50}}}), Value("y"), 200);
  EXPECT_EQ(set.context(), clock_of({{"a", {1, 100}}, {"b", {1, 200}}, {"c", {4, 50}}}));
  EXPECT_TRUE(SiblingSet{}.context().empty());
}

// ---- SiblingSet: timestamp mode ----

TEST_F(SiblingSetTest, TimestampModeConcurrentWritesKeepTheLargerTimestamp) {
  const ConflictMode mode = ConflictMode::timestamp;
  SiblingSet r1;
  SiblingSet r2;
  put(r1, "a", {}, Value("older"), 100, mode);
  put(r2, "b", {}, Value("newer"), 200, mode);
  const SiblingSet loser_replica = r1;
  r1 = merged(r1, r2, mode);
  ASSERT_EQ(r1.size(), 1u);
  EXPECT_EQ(r1.versions()[0].value, Value("newer"));
  // The winner's context covers the loser, so it cannot come back.
  EXPECT_TRUE(r1.versions()[0].covers(Dot{"a", 1}));
  EXPECT_EQ(merged(r1, loser_replica, mode), r1);
  EXPECT_EQ(merged(loser_replica, r1, mode), r1);
  EXPECT_EQ(merged(r2, r1, mode), r1);
}

TEST_F(SiblingSetTest, TimestampModeCausalOrderBeatsTimestamp) {
  const ConflictMode mode = ConflictMode::timestamp;
  SiblingSet set;
  put(set, "a", {}, Value("x"), 1000, mode);
  SiblingSet old = set;
  // b's clock is far behind, but the write read (a, 1): it wins, and is stamped after it.
  put(set, "b", set.context(), Value("y"), 10, mode);
  EXPECT_EQ(values_of(merged(old, set, mode)), (std::vector<std::optional<Value>>{Value("y")}));
}

TEST_F(SiblingSetTest, TimestampModeWinnerDoesNotDependOnMergeOrderUnderSkew) {
  // p beats l by timestamp; q read p (before p met l) through a node whose clock is far
  // behind. Unless q is stamped after p, l beats q by timestamp, q beats p causally, p
  // beats l: a cycle, and the winner would depend on the order replicas merge.
  const ConflictMode mode = ConflictMode::timestamp;
  SiblingSet r1;
  put(r1, "p", {}, Value("p"), 1000, mode);
  const VectorClock read_p = r1.context();
  SiblingSet r3;
  put(r3, "l", {}, Value("l"), 500, mode);
  r1 = merged(r1, r3, mode);
  SiblingSet r2;
  put(r2, "q", read_p, Value("q"), 100, mode);
  const SiblingSet one_way = merged(merged(r1, r2, mode), r3, mode);
  const SiblingSet other_way = merged(merged(r2, r3, mode), r1, mode);
  EXPECT_EQ(values_of(one_way), (std::vector<std::optional<Value>>{Value("q")}));
  EXPECT_EQ(one_way, other_way);
}

TEST_F(SiblingSetTest, TimestampModeWriteKeepsTheRecordOfWhatItsPredecessorBeat) {
  // Found by EveryWriteIsKeptOrCovered: p beat q on n2 (p absorbed q); a client that read
  // p on n1 (where p had not met q) writes through n2. The new version replaces p and must
  // inherit p's record of q, or q is neither kept nor covered anywhere.
  const ConflictMode mode = ConflictMode::timestamp;
  SiblingSet n1;
  put(n1, "n1", {}, std::nullopt, 981501, mode);
  SiblingSet n2 = merged(SiblingSet{}, n1, mode);
  const Dot q = put(n2, "n2", {}, std::nullopt, 981500, mode);
  ASSERT_TRUE(n2.versions()[0].covers(q));
  put(n2, "n2", n1.context(), std::nullopt, 982000, mode);
  EXPECT_TRUE(n2.versions()[0].covers(q));
  EXPECT_TRUE(merged(n2, n1, mode).versions()[0].covers(q));
}

TEST_F(SiblingSetTest, TimestampModeBlindWriteWithAnOlderClockLoses) {
  const ConflictMode mode = ConflictMode::timestamp;
  SiblingSet set;
  put(set, "a", {}, Value("x"), 1000, mode);
  const Dot lost = put(set, "b", {}, Value("late"), 10, mode);
  ASSERT_EQ(set.size(), 1u);
  EXPECT_EQ(set.versions()[0].value, Value("x"));
  EXPECT_TRUE(set.versions()[0].covers(lost));
}

TEST_F(SiblingSetTest, TimestampModeEqualTimestampsBreakTiesByDot) {
  const ConflictMode mode = ConflictMode::timestamp;
  SiblingSet r1;
  SiblingSet r2;
  put(r1, "a", {}, Value("from a"), 100, mode);
  put(r2, "b", {}, Value("from b"), 100, mode);
  EXPECT_EQ(values_of(merged(r1, r2, mode)), (std::vector<std::optional<Value>>{Value("from b")}));
  EXPECT_EQ(merged(r1, r2, mode), merged(r2, r1, mode));
}

// ---- SiblingSet: merge ----

TEST_F(SiblingSetTest, MergeUnitesConcurrentAndDropsCovered) {
  SiblingSet r1;
  put(r1, "a", {}, Value("x"), 100);
  SiblingSet r2 = r1;
  put(r2, "b", r2.context(), Value("x2"), 200);  // descends (a, 1)
  SiblingSet r3;
  put(r3, "c", {}, Value("y"), 150);  // concurrent with both
  SiblingSet all = merged(merged(r1, r2), r3);
  EXPECT_EQ(dots_of(all), (std::vector<Dot>{{"b", 1}, {"c", 1}}));
  EXPECT_EQ(merged(all, r1), all);
  EXPECT_EQ(merged(all, all), all);
  EXPECT_EQ(merged(SiblingSet{}, all), all);
  EXPECT_EQ(counters.dot_conflicts, 0u);
}

TEST_F(SiblingSetTest, MergeOfADotConflictKeepsTheLargerContentAndCounts) {
  // A replica lost committed (a, 1) = "x" and later minted (a, 1) = "y" again.
  const SiblingSet x =
      SiblingSet::from_versions({make_version(Dot{"a", 1}, {}, 100, Value("x"))}).value();
  const SiblingSet y =
      SiblingSet::from_versions({make_version(Dot{"a", 1}, {}, 200, Value("y"))}).value();
  const SiblingSet xy = merged(x, y);
  EXPECT_EQ(counters.dot_conflicts, 1u);
  EXPECT_EQ(xy, merged(y, x));
  EXPECT_EQ(counters.dot_conflicts, 2u);
  EXPECT_EQ(values_of(xy), (std::vector<std::optional<Value>>{Value("y")}));
  // Identical copies dedupe silently.
  EXPECT_EQ(merged(x, x), x);
  EXPECT_EQ(counters.dot_conflicts, 2u);
}

TEST_F(SiblingSetTest, MergeOfVersionsThatCoverEachOtherDoesNotAssert) {
  // Only a lost write can produce this: each claims to have seen the other.
  const SiblingSet p = SiblingSet::from_versions(
                           {make_version(Dot{"a", 1}, clock_of({{"b", {1, 0}}}), 100, Value("p"))})
                           .value();
  const SiblingSet q = SiblingSet::from_versions(
                           {make_version(Dot{"b", 1}, clock_of({{"a", {1, 0}}}), 200, Value("q"))})
                           .value();
  const SiblingSet pq = merged(p, q);
  EXPECT_EQ(values_of(pq), (std::vector<std::optional<Value>>{Value("q")}));
  EXPECT_EQ(pq, merged(q, p));
  EXPECT_GE(counters.dot_conflicts, 1u);
}

TEST_F(SiblingSetTest, MergeOverSiblingsMaxDropsTheOldestUntilThereIsRoom) {
  limits.siblings_max = 3;
  SiblingSet r1;
  put(r1, "a", {}, Value("a"), 100);
  put(r1, "b", {}, Value("b"), 300);
  SiblingSet r2;
  put(r2, "c", {}, Value("c"), 200);
  put(r2, "d", {}, Value("d"), 400);
  const SiblingSet all = merged(r1, r2);
  EXPECT_EQ(counters.siblings_dropped, 1u);
  EXPECT_EQ(dots_of(all), (std::vector<Dot>{{"b", 1}, {"c", 1}, {"d", 1}}));
  EXPECT_EQ(merged(r2, r1), all);
  // The dropped (a, 1) is not covered: merging r1 again drops (and counts) it again...
  EXPECT_EQ(merged(all, r1), all);
  EXPECT_EQ(counters.siblings_dropped, 3u);
  // ...until a client resolves the siblings it saw, and then it comes back.
  SiblingSet resolved = all;
  put(resolved, "d", all.context(), Value("bcd"), 500);
  EXPECT_EQ(values_of(merged(resolved, r1)),
            (std::vector<std::optional<Value>>{Value("a"), Value("bcd")}));
}

TEST_F(SiblingSetTest, MergeAbsorbsSoCoveringStaysTransitive) {
  // x <- y <- z where z's writer's context was pruned of x's node: z does not cover x
  // directly, but merging y in between records that it does.
  const Version x = make_version(Dot{"x", 1}, {}, 100, Value("x"));
  const Version y = make_version(Dot{"y", 1}, clock_of({{"x", {1, 100}}}), 200, Value("y"));
  const Version z = make_version(Dot{"z", 1}, clock_of({{"y", {1, 200}}}), 300, Value("z"));
  const SiblingSet sx = SiblingSet::from_versions({x}).value();
  const SiblingSet sy = SiblingSet::from_versions({y}).value();
  const SiblingSet sz = SiblingSet::from_versions({z}).value();
  const SiblingSet zy = merged(sz, sy);
  EXPECT_EQ(dots_of(zy), (std::vector<Dot>{{"z", 1}}));
  EXPECT_TRUE(zy.versions()[0].covers(Dot{"x", 1}));
  EXPECT_EQ(merged(zy, sx), zy);
  EXPECT_EQ(merged(merged(sz, sx), sy), zy);
}

// ---- from_versions and check_invariants ----

TEST(FromVersionsTest, AcceptsAValidSet) {
  Result<SiblingSet> set = SiblingSet::from_versions(
      {make_version(Dot{"a", 1}, {}, 1, Value("x")), make_version(Dot{"a", 2}, {}, 2, Value("y")),
       make_version(Dot{"b", 1}, clock_of({{"c", {9, 1}}}), 3, std::nullopt)});
  ASSERT_TRUE(set.ok()) << set.status().to_string();
  EXPECT_EQ(set->size(), 3u);
  EXPECT_TRUE(SiblingSet::from_versions({}).ok());
}

void expect_refused(std::vector<Version> versions, Code code, const std::string& fragment) {
  Result<SiblingSet> set = SiblingSet::from_versions(std::move(versions));
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), code) << set.status().to_string();
  EXPECT_NE(set.status().message().find(fragment), std::string::npos) << set.status().to_string();
}

TEST(FromVersionsTest, RejectsUnsortedDots) {
  expect_refused(
      {make_version(Dot{"b", 1}, {}, 1, Value("x")), make_version(Dot{"a", 1}, {}, 1, Value("y"))},
      Code::invalid_argument, "versions[1]: dot (a, 1) is not after");
}

TEST(FromVersionsTest, RejectsDuplicateDots) {
  expect_refused(
      {make_version(Dot{"a", 1}, {}, 1, Value("x")), make_version(Dot{"a", 1}, {}, 1, Value("x"))},
      Code::invalid_argument, "not after");
}

TEST(FromVersionsTest, RejectsACoveredVersion) {
  expect_refused({make_version(Dot{"a", 1}, {}, 1, Value("x")),
                  make_version(Dot{"b", 1}, clock_of({{"a", {1, 1}}}), 2, Value("y"))},
                 Code::invalid_argument, "versions[0]: dot (a, 1) is covered by versions[1]");
}

TEST(FromVersionsTest, RejectsInvalidNodeIds) {
  expect_refused({make_version(Dot{"", 1}, {}, 1, Value("x"))}, Code::invalid_argument,
                 "invalid dot node id");
  expect_refused({make_version(Dot{"a b", 1}, {}, 1, Value("x"))}, Code::invalid_argument,
                 "invalid dot node id");
  expect_refused({make_version(Dot{"a", 1}, clock_of({{"bad/node", {1, 1}}}), 1, Value("x"))},
                 Code::invalid_argument, "invalid node id in context");
}

TEST(FromVersionsTest, RejectsAZeroDotCounter) {
  expect_refused({make_version(Dot{"a", 0}, {}, 1, Value("x"))}, Code::invalid_argument,
                 "dot counter is 0");
}

TEST(FromVersionsTest, RejectsAChecksumMismatchAsCorruption) {
  Version bad = make_version(Dot{"a", 1}, {}, 1, Value("x"));
  bad.value = Value("X");
  expect_refused({bad}, Code::corruption, "versions[0]: checksum");
  Version tombstone = make_version(Dot{"a", 1}, {}, 1, std::nullopt);
  tombstone.checksum ^= 1;
  expect_refused({tombstone}, Code::corruption, "checksum");
}

TEST(CheckInvariantsTest, TwoVersionsInTimestampModeAreABug) {
  const SiblingSet set = SiblingSet::from_versions({make_version(Dot{"a", 1}, {}, 1, Value("x")),
                                                    make_version(Dot{"b", 1}, {}, 1, Value("y"))})
                             .value();
  set.check_invariants(ConflictMode::siblings, SiblingLimits{});
  EXPECT_DEATH(set.check_invariants(ConflictMode::timestamp, SiblingLimits{}), "at most one");
  SiblingLimits one;
  one.siblings_max = 1;
  EXPECT_DEATH(set.check_invariants(ConflictMode::siblings, one), "siblings_max");
  // Merging into an empty set applies the mode and limits to decoded input.
  SiblingSet normalised;
  VersionCounters counters;
  normalised.merge(set, ConflictMode::timestamp, SiblingLimits{}, counters);
  normalised.check_invariants(ConflictMode::timestamp, SiblingLimits{});
  EXPECT_EQ(values_of(normalised), (std::vector<std::optional<Value>>{Value("y")}));
}

}  // namespace
}  // namespace vigil::core
