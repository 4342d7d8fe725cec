// RapidCheck properties of vector clocks and sibling sets over realistic histories: a few
// replicas, each coordinating writes with contexts taken from random earlier reads (so
// some writes are stale, some blind, some read-modify-write), random one-way merges
// between replicas, and wall clocks that are skewed per replica and jitter backwards.
// Every state any replica passes through is kept in a pool, and the laws are checked on
// states drawn from the pool: they come from one history, as real replicas' states do.
// Clusters here have at most 4 coordinators, so clock pruning never triggers (it needs
// more than 10 entries), and siblings_max is not reached; both are covered by unit tests.

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "core/versions/version.h"

namespace vigil::core {
namespace {

struct Step {
  int kind = 0;       // 0-4 write, 5-7 merge, 8-9 read, 10 wipe
  int replica = 0;    // acting replica (writer, merge target, reader)
  int other = 0;      // merge source
  int read = 0;       // which earlier read a write takes its context from
  int value = 0;      // 0: a delete; else the value "v<value>"
  int jitter_us = 0;  // added to the replica's clock at this step
};

struct History {
  int replica_count = 3;
  std::vector<int> skew_us;  // per replica
  std::vector<Step> steps;
};

// How RapidCheck prints a failing history (one step per line).
void showValue(const History& history, std::ostream& os) {
  os << history.replica_count << " replicas, skew_us:";
  for (const int skew : history.skew_us) os << ' ' << skew;
  for (const Step& step : history.steps) {
    os << "\n  ";
    if (step.kind < 5) {
      os << "write n" << step.replica + 1 << " read#" << step.read << " value " << step.value
         << " jitter " << step.jitter_us;
    } else if (step.kind < 8) {
      os << "merge n" << step.other + 1 << " into n" << step.replica + 1;
    } else if (step.kind < 10) {
      os << "read n" << step.replica + 1;
    } else {
      os << "wipe n" << step.replica + 1;
    }
  }
}

// rc::gen::inRange leans towards its lower bound at small sizes; steps, skews and picks
// should be uniform at every size (a history of 5 steps still needs skewed clocks).
template <typename T>
rc::Gen<T> uniform(T low, T high) {
  return rc::gen::resize(100, rc::gen::inRange(low, high));
}

// lossy: some steps wipe a replica's state (a disk fault that lost committed writes).
rc::Gen<History> gen_history(bool lossy = false) {
  return rc::gen::mapcat(uniform(2, 5), [lossy](int replica_count) {
    const rc::Gen<Step> step = rc::gen::apply(
        [](int kind, int replica, int other, int read, int value, int jitter) {
          return Step{kind, replica, other, read, value, jitter};
        },
        uniform(0, lossy ? 11 : 10), uniform(0, replica_count), uniform(0, replica_count),
        uniform(0, 1000), uniform(0, 4), uniform(-1500, 1500));
    return rc::gen::apply(
        [replica_count](std::vector<int> skew_us, std::vector<Step> steps) {
          return History{replica_count, std::move(skew_us), std::move(steps)};
        },
        rc::gen::container<std::vector<int>>(static_cast<std::size_t>(replica_count),
                                             uniform(-20000, 20000)),
        rc::gen::resize(60, rc::gen::container<std::vector<Step>>(step)));
  });
}

struct Outcome {
  std::vector<SiblingSet> replicas;
  std::vector<SiblingSet> pool;  // every state any replica was in
  std::vector<Dot> written;      // every dot a write minted
  VersionCounters counters;
};

const SiblingLimits default_limits{};

NodeId node_of(int replica) {
  return "n" + std::to_string(replica + 1);
}

Outcome run(const History& history, ConflictMode mode,
            const SiblingLimits& limits = default_limits) {
  Outcome out;
  out.replicas.resize(static_cast<std::size_t>(history.replica_count));
  std::vector<VectorClock> reads{VectorClock{}};  // a blind write has an empty context
  WallMicros time_us = 1'000'000;
  for (const Step& step : history.steps) {
    time_us += 1000;
    SiblingSet& replica = out.replicas[static_cast<std::size_t>(step.replica)];
    if (step.kind < 5) {
      const WallMicros now =
          time_us + history.skew_us[static_cast<std::size_t>(step.replica)] + step.jitter_us;
      const VectorClock& context = reads[static_cast<std::size_t>(step.read) % reads.size()];
      const std::optional<Value> value =
          step.value == 0 ? std::nullopt : std::optional<Value>("v" + std::to_string(step.value));
      const SiblingSet before = replica;
      Result<Dot> dot =
          replica.write(node_of(step.replica), context, value, now, mode, limits, out.counters);
      if (!dot.ok()) {
        RC_ASSERT(dot.status().code() == Code::resource_exhausted);
        RC_ASSERT(mode == ConflictMode::siblings);
        RC_ASSERT(replica == before);
        continue;
      }
      // Even a coordinator that lost its state mints a dot past what the client has seen.
      RC_ASSERT(dot->counter > context.counter(node_of(step.replica)));
      out.written.push_back(dot.value());
    } else if (step.kind < 8) {
      replica.merge(out.replicas[static_cast<std::size_t>(step.other)], mode, limits, out.counters);
    } else if (step.kind < 10) {
      reads.push_back(replica.context());
    } else {
      replica = SiblingSet{};  // a disk fault lost the replica's state
    }
    replica.check_invariants(mode, limits);
    out.pool.push_back(replica);
  }
  if (out.pool.empty()) out.pool.emplace_back();
  return out;
}

SiblingSet merged(SiblingSet a, const SiblingSet& b, ConflictMode mode,
                  const SiblingLimits& limits = default_limits) {
  VersionCounters counters;
  a.merge(b, mode, limits, counters);
  a.check_invariants(mode, limits);
  return a;
}

const SiblingSet& pick(const Outcome& outcome) {
  return outcome.pool[*uniform<std::size_t>(0, outcome.pool.size())];
}

ConflictMode pick_mode() {
  const ConflictMode mode = *rc::gen::element(ConflictMode::siblings, ConflictMode::timestamp);
  RC_LOG() << "mode " << (mode == ConflictMode::timestamp ? "timestamp" : "siblings") << "\n";
  return mode;
}

RC_GTEST_PROP(VersionProperties, MergeIsIdempotent, ()) {
  const ConflictMode mode = pick_mode();
  const Outcome outcome = run(*gen_history(), mode);
  const SiblingSet& a = pick(outcome);
  const SiblingSet& b = pick(outcome);
  RC_ASSERT(merged(a, a, mode) == a);
  const SiblingSet ab = merged(a, b, mode);
  RC_ASSERT(merged(ab, b, mode) == ab);
  RC_ASSERT(merged(ab, a, mode) == ab);
}

RC_GTEST_PROP(VersionProperties, MergeIsCommutative, ()) {
  const ConflictMode mode = pick_mode();
  const Outcome outcome = run(*gen_history(), mode);
  const SiblingSet& a = pick(outcome);
  const SiblingSet& b = pick(outcome);
  RC_ASSERT(merged(a, b, mode) == merged(b, a, mode));
}

RC_GTEST_PROP(VersionProperties, MergeIsAssociative, ()) {
  const ConflictMode mode = pick_mode();
  const Outcome outcome = run(*gen_history(), mode);
  const SiblingSet& a = pick(outcome);
  const SiblingSet& b = pick(outcome);
  const SiblingSet& c = pick(outcome);
  RC_ASSERT(merged(merged(a, b, mode), c, mode) == merged(a, merged(b, c, mode), mode));
}

// Every state any replica passed through, merged in two random orders and as a tree of
// pairs: anti-entropy, read repair and hinted handoff deliver states in any order.
RC_GTEST_PROP(VersionProperties, ResolutionDoesNotDependOnMergeOrder, ()) {
  const ConflictMode mode = pick_mode();
  const Outcome outcome = run(*gen_history(), mode);
  const std::vector<SiblingSet>& states = outcome.pool;
  std::vector<std::size_t> order(states.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  // A random permutation: the order sorted by random keys.
  const std::vector<int> keys =
      *rc::gen::container<std::vector<int>>(order.size(), rc::gen::arbitrary<int>());
  std::vector<std::size_t> shuffled = order;
  std::stable_sort(shuffled.begin(), shuffled.end(),
                   [&keys](std::size_t x, std::size_t y) { return keys[x] < keys[y]; });
  SiblingSet forward;
  SiblingSet permuted;
  for (std::size_t i = 0; i < states.size(); ++i) {
    forward = merged(forward, states[order[i]], mode);
    permuted = merged(permuted, states[shuffled[i]], mode);
  }
  RC_ASSERT(forward == permuted);
  SiblingSet tree;
  for (std::size_t i = 0; i < states.size(); i += 2) {
    SiblingSet pair = states[shuffled[i]];
    if (i + 1 < states.size()) pair = merged(pair, states[shuffled[i + 1]], mode);
    tree = merged(pair, tree, mode);
  }
  RC_ASSERT(tree == forward);
}

// In siblings mode nothing is lost: a version leaves the union only when another version
// of the union covers it.
RC_GTEST_PROP(VersionProperties, SiblingsMergeDropsOnlyCoveredVersions, ()) {
  const ConflictMode mode = ConflictMode::siblings;
  const Outcome outcome = run(*gen_history(), mode);
  const SiblingSet& a = pick(outcome);
  const SiblingSet& b = pick(outcome);
  const SiblingSet ab = merged(a, b, mode);
  for (const SiblingSet* input : {&a, &b}) {
    for (const Version& version : input->versions()) {
      const bool kept = std::any_of(ab.versions().begin(), ab.versions().end(),
                                    [&](const Version& v) { return v.dot == version.dot; });
      bool covered = false;
      for (const SiblingSet* other : {&a, &b}) {
        for (const Version& v : other->versions()) {
          if (v.dot != version.dot && v.covers(version.dot)) covered = true;
        }
      }
      RC_ASSERT(kept || covered);
    }
  }
}

// Every write the history made is still in the merged state of all replicas or covered
// by a version there (in timestamp mode: covered by the one winner).
RC_GTEST_PROP(VersionProperties, EveryWriteIsKeptOrCovered, ()) {
  const ConflictMode mode = pick_mode();
  const Outcome outcome = run(*gen_history(), mode);
  SiblingSet all;
  for (const SiblingSet& replica : outcome.replicas) all = merged(all, replica, mode);
  for (const Dot& dot : outcome.written) {
    RC_ASSERT(std::any_of(all.versions().begin(), all.versions().end(),
                          [&](const Version& v) { return v.covers(dot); }));
  }
}

RC_GTEST_PROP(VersionProperties, WriteWithTheContextSupersedesTheSet, ()) {
  const ConflictMode mode = pick_mode();
  const Outcome outcome = run(*gen_history(), mode);
  const SiblingSet& before = pick(outcome);
  const int coordinator = *uniform(0, 4);
  SiblingSet after = before;
  VersionCounters counters;
  const Result<Dot> dot = after.write(node_of(coordinator), before.context(), Value("new"), 0, mode,
                                      default_limits, counters);
  RC_ASSERT(dot.ok());
  RC_ASSERT(after.size() == 1u);
  RC_ASSERT(after.versions()[0].dot == dot.value());
  for (const Version& version : before.versions()) {
    RC_ASSERT(after.versions()[0].covers(version.dot));
    RC_ASSERT(after.versions()[0].timestamp_us > version.timestamp_us);
  }
  // The superseded versions do not come back from a replica that still holds them.
  RC_ASSERT(merged(after, before, mode) == after);
  RC_ASSERT(merged(before, after, mode) == after);
}

// Replicas that lose committed writes reuse dots and break the laws above (a later
// version can cover a different write that reused a covered dot: Riak has the same hole).
// What must still hold: no assertion, invariants after every step (run() checks them),
// merge stays commutative and idempotent, and every damaged merge is counted.
RC_GTEST_PROP(VersionProperties, LostWritesNeverBreakInvariants, ()) {
  const ConflictMode mode = pick_mode();
  const Outcome outcome = run(*gen_history(true), mode);
  const SiblingSet& a = pick(outcome);
  const SiblingSet& b = pick(outcome);
  RC_ASSERT(merged(a, b, mode) == merged(b, a, mode));
  RC_ASSERT(merged(a, a, mode) == a);
  SiblingSet all;
  for (const SiblingSet& state : outcome.pool) all = merged(all, state, mode);
  RC_TAG(outcome.counters.dot_conflicts > 0 ? "dot conflicts" : "no dot conflict");
}

// Past siblings_max the oldest siblings are dropped and counted. Which versions are the
// oldest k can depend on what earlier merges dropped, so associativity is not claimed at
// the bound; commutativity, idempotence and an exact count of what was lost are.
RC_GTEST_PROP(VersionProperties, SiblingsMaxDropsAreCountedAndCommute, ()) {
  SiblingLimits limits;
  limits.siblings_max = *uniform<std::size_t>(1, 4);
  const ConflictMode mode = ConflictMode::siblings;
  const Outcome outcome = run(*gen_history(), mode, limits);
  const SiblingSet& a = pick(outcome);
  const SiblingSet& b = pick(outcome);
  SiblingSet ab = a;
  VersionCounters counters;
  ab.merge(b, mode, limits, counters);
  RC_ASSERT(ab == merged(b, a, mode, limits));
  RC_ASSERT(merged(ab, b, mode, limits) == ab);
  RC_ASSERT(merged(ab, ab, mode, limits) == ab);
  // Versions of the union that are neither in the result nor covered within the union
  // are exactly the dropped ones.
  std::vector<Dot> lost;
  for (const SiblingSet* input : {&a, &b}) {
    for (const Version& version : input->versions()) {
      const bool kept = std::any_of(ab.versions().begin(), ab.versions().end(),
                                    [&](const Version& v) { return v.dot == version.dot; });
      bool covered = false;
      for (const SiblingSet* other : {&a, &b}) {
        for (const Version& v : other->versions()) {
          if (v.dot != version.dot && v.covers(version.dot)) covered = true;
        }
      }
      if (!kept && !covered) lost.push_back(version.dot);
    }
  }
  std::sort(lost.begin(), lost.end());
  lost.erase(std::unique(lost.begin(), lost.end()), lost.end());
  RC_ASSERT(lost.size() == counters.siblings_dropped);
  RC_TAG(outcome.counters.siblings_dropped > 0 ? "dropped" : "none dropped");
}

// from_versions accepts exactly what check_invariants (in siblings mode, with room)
// accepts: whatever it lets through from the wire can never trip an assertion later.
rc::Gen<Version> gen_untrusted_version() {
  const rc::Gen<NodeId> node = rc::gen::element<NodeId>("a", "b", "", "bad id");
  return rc::gen::apply(
      [](NodeId dot_node, int dot_counter, std::vector<std::pair<int, int>> context, int value,
         bool checksum_ok) {
        Version version;
        version.dot = Dot{std::move(dot_node), static_cast<std::uint64_t>(dot_counter)};
        for (const auto& [node_index, counter] : context) {
          version.context.set(node_index == 2 ? NodeId("bad id") : node_of(node_index),
                              ClockEntry{static_cast<std::uint64_t>(counter), 0});
        }
        version.value = value == 0 ? std::nullopt : std::optional<Value>(std::to_string(value));
        version.checksum = value_checksum(version.value) + (checksum_ok ? 0 : 1);
        return version;
      },
      node, uniform(0, 4),
      rc::gen::resize(3, rc::gen::container<std::vector<std::pair<int, int>>>(
                             rc::gen::pair(uniform(0, 3), uniform(1, 4)))),
      uniform(0, 3), rc::gen::weightedElement<bool>({{9, true}, {1, false}}));
}

RC_GTEST_PROP(VersionProperties, FromVersionsAdmitsOnlyValidSets, ()) {
  std::vector<Version> versions =
      *rc::gen::resize(5, rc::gen::container<std::vector<Version>>(gen_untrusted_version()));
  if (*rc::gen::arbitrary<bool>()) {
    std::sort(versions.begin(), versions.end(),
              [](const Version& x, const Version& y) { return x.dot < y.dot; });
  }
  const Result<SiblingSet> set = SiblingSet::from_versions(versions);
  RC_TAG(set.ok() ? "accepted" : std::string(code_name(set.status().code())));
  if (!set.ok()) return;
  set->check_invariants(ConflictMode::siblings, default_limits);
  SiblingSet normalised;
  VersionCounters counters;
  normalised.merge(*set, ConflictMode::timestamp, default_limits, counters);
  normalised.check_invariants(ConflictMode::timestamp, default_limits);
}

// compare is a partial order on clocks, and merge is its least upper bound.
rc::Gen<VectorClock> gen_clock() {
  return rc::gen::map(rc::gen::container<std::vector<int>>(3, uniform(0, 4)),
                      [](const std::vector<int>& counters) {
                        VectorClock clock;
                        for (std::size_t i = 0; i < counters.size(); ++i) {
                          if (counters[i] == 0) continue;
                          clock.set(node_of(static_cast<int>(i)),
                                    ClockEntry{static_cast<std::uint64_t>(counters[i]),
                                               static_cast<WallMicros>(counters[i] * 7 % 5)});
                        }
                        return clock;
                      });
}

bool at_most(const VectorClock& a, const VectorClock& b) {
  const Ordering order = compare(a, b);
  return order == Ordering::before || order == Ordering::equal;
}

Ordering reversed(Ordering order) {
  switch (order) {
    case Ordering::before: return Ordering::after;
    case Ordering::after: return Ordering::before;
    default: return order;
  }
}

RC_GTEST_PROP(VersionProperties, CompareIsAPartialOrder, ()) {
  const VectorClock a = *gen_clock();
  const VectorClock b = *gen_clock();
  const VectorClock c = *gen_clock();
  RC_ASSERT(compare(a, a) == Ordering::equal);
  RC_ASSERT(compare(b, a) == reversed(compare(a, b)));
  if (compare(a, b) == Ordering::equal) {
    for (const auto& [node, entry] : a.entries()) RC_ASSERT(b.counter(node) == entry.counter);
    RC_ASSERT(a.size() == b.size());
  }
  if (at_most(a, b) && at_most(b, c)) RC_ASSERT(at_most(a, c));
  VectorClock ab = a;
  ab.merge(b);
  RC_ASSERT(at_most(a, ab) && at_most(b, ab));
  if (at_most(a, c) && at_most(b, c)) RC_ASSERT(at_most(ab, c));
}

// A replica's context never goes backwards when it merges another's state in.
RC_GTEST_PROP(VersionProperties, MergeOnlyAdvancesTheContext, ()) {
  const ConflictMode mode = pick_mode();
  const Outcome outcome = run(*gen_history(), mode);
  const SiblingSet& a = pick(outcome);
  const SiblingSet& b = pick(outcome);
  const VectorClock ab = merged(a, b, mode).context();
  RC_ASSERT(at_most(a.context(), ab));
  RC_ASSERT(at_most(b.context(), ab));
  RC_ASSERT(ab.includes(a.context()));
}

}  // namespace
}  // namespace vigil::core
