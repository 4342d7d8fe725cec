// The checkers on hand-built histories: each passes where the history is clean and fails,
// with the right numbers, where it is not (a checker that cannot fail proves nothing).

#include "sim/checkers.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vigil::sim {
namespace {

using core::ClientOp;

// Builds histories with times in milliseconds.
class Builder {
 public:
  std::uint64_t put(const std::string& key, const std::string& element, std::int64_t invoked_ms,
                    std::int64_t completed_ms, Outcome outcome = Outcome::ok) {
    return add(ClientOp::put, key, element, invoked_ms, completed_ms, outcome, {});
  }
  std::uint64_t del(const std::string& key, std::int64_t invoked_ms, std::int64_t completed_ms,
                    Outcome outcome = Outcome::ok) {
    return add(ClientOp::del, key, "", invoked_ms, completed_ms, outcome, {});
  }
  std::uint64_t get(const std::string& key, std::int64_t invoked_ms, std::int64_t completed_ms,
                    std::vector<core::Value> values, Outcome outcome = Outcome::ok,
                    core::Code code = core::Code::ok) {
    return add(ClientOp::get, key, "", invoked_ms, completed_ms, outcome, std::move(values),
               false, code);
  }
  std::uint64_t final_read(const std::string& key, std::int64_t at_ms,
                           std::vector<core::Value> values, Outcome outcome = Outcome::ok,
                           core::Code code = core::Code::ok) {
    return add(ClientOp::get, key, "", at_ms, at_ms + 1, outcome, std::move(values), true, code);
  }
  // An operation invoked and never completed (pending at the end of the run).
  std::uint64_t pending_put(const std::string& key, const std::string& element,
                            std::int64_t invoked_ms) {
    Operation op;
    op.op = ClientOp::put;
    op.key = key;
    op.element = element;
    op.invoked_us = invoked_ms * 1000;
    return history.invoke(op);
  }

  History history;

 private:
  std::uint64_t add(ClientOp kind, const std::string& key, const std::string& element,
                    std::int64_t invoked_ms, std::int64_t completed_ms, Outcome outcome,
                    std::vector<core::Value> values, bool final = false,
                    core::Code code = core::Code::ok) {
    Operation op;
    op.op = kind;
    op.key = key;
    op.element = element;
    op.invoked_us = invoked_ms * 1000;
    op.final_read = final;
    if (final) op.consistency = core::Consistency::all;
    const std::uint64_t index = history.invoke(op);
    if (code == core::Code::ok && outcome != Outcome::ok) code = core::Code::unavailable;
    history.complete(index, completed_ms * 1000, outcome, code, "", std::move(values));
    return index;
  }
};

const WorkloadMode rmw = WorkloadMode::read_modify_write;
const WorkloadMode blind = WorkloadMode::blind;

TEST(NoLostWrites, PassesWhenEveryAcknowledgedElementIsInTheFinalRead) {
  Builder b;
  b.put("k1", "c1-1", 0, 10);
  b.put("k1", "c2-1", 5, 20);
  b.put("k2", "c1-2", 30, 40);
  b.final_read("k1", 1000, {"c1-1,c2-1"});
  b.final_read("k2", 1000, {"c1-2"});
  const CheckResult r = check_no_lost_writes(b.history, rmw);
  EXPECT_EQ(r.name, "no_lost_writes");
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.counts.at("acknowledged"), 3u);
  EXPECT_EQ(r.counts.at("lost"), 0u);
  EXPECT_EQ(r.ratios.at("lost_fraction"), 0.0);
  EXPECT_TRUE(r.examples.empty());
}

TEST(NoLostWrites, FailsWithTheCountAndFractionOfLostElements) {
  Builder b;
  b.put("k1", "a", 0, 10);
  b.put("k1", "b", 5, 15);  // overwritten by a concurrent writer: last write wins
  b.put("k1", "c", 20, 30);
  b.final_read("k1", 1000, {"a,c"});
  const CheckResult r = check_no_lost_writes(b.history, rmw);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.counts.at("acknowledged"), 3u);
  EXPECT_EQ(r.counts.at("lost"), 1u);
  EXPECT_DOUBLE_EQ(r.ratios.at("lost_fraction"), 1.0 / 3);
  ASSERT_EQ(r.examples.size(), 1u);
  EXPECT_NE(r.examples[0].find("'b'"), std::string::npos) << r.examples[0];
  EXPECT_NE(r.examples[0].find("k1"), std::string::npos) << r.examples[0];
}

// Set mode is a register: a SET replaced by one that may be ordered after it is not lost;
// one whose value is gone while every surviving write completed before it began is.
TEST(NoLostWrites, SetModeChecksTheRegisterRule) {
  Builder b;
  b.put("k", "a", 0, 10);
  b.put("k", "b", 20, 30);  // replaced by c, invoked after b completed: fine
  b.put("k", "c", 25, 40);  // concurrent with b: may be ordered after it
  b.final_read("k", 1000, {"c"});
  const CheckResult clean = check_no_lost_writes(b.history, WorkloadMode::set);
  EXPECT_TRUE(clean.ok);
  EXPECT_EQ(clean.counts.at("excused"), 2u);

  Builder lost;
  lost.put("k", "a", 0, 10);
  lost.put("k", "b", 20, 30);  // acknowledged after a completed, yet a survives
  lost.final_read("k", 1000, {"a"});
  const CheckResult r = check_no_lost_writes(lost.history, WorkloadMode::set);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.counts.at("lost"), 1u);
  ASSERT_FALSE(r.examples.empty());
  EXPECT_NE(r.examples[0].find("'b'"), std::string::npos) << r.examples[0];
}

TEST(NoLostWrites, ReadsTheUnionOfSiblings) {
  Builder b;
  b.put("k", "a", 0, 10);
  b.put("k", "b", 0, 10);
  b.put("k", "c", 0, 10);
  b.final_read("k", 1000, {"a", "b,c"});
  EXPECT_TRUE(check_no_lost_writes(b.history, rmw).ok);
}

TEST(NoLostWrites, MatchesWholeElementsNotSubstrings) {
  Builder b;
  b.put("k", "c1-1", 0, 10);
  b.final_read("k", 1000, {"c1-10,c1-11"});
  const CheckResult r = check_no_lost_writes(b.history, rmw);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.counts.at("lost"), 1u);
}

TEST(NoLostWrites, CountsOnlyAcknowledgedPuts) {
  Builder b;
  b.put("k", "a", 0, 10);
  b.put("k", "maybe", 0, 5000, Outcome::indeterminate);
  b.put("k", "refused", 0, 10, Outcome::failed);
  b.pending_put("k", "pending", 20);
  b.get("k", 30, 40, {"a,maybe"});  // reads are not writes
  b.final_read("k", 10000, {"a"});
  const CheckResult r = check_no_lost_writes(b.history, rmw);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.counts.at("acknowledged"), 1u);
}

TEST(NoLostWrites, ExcusesAnElementALaterDeleteMayHaveRemoved) {
  Builder b;
  b.put("k", "a", 0, 10);
  b.del("k", 20, 30, Outcome::indeterminate);  // may have taken effect
  b.put("k", "b", 40, 50);
  b.final_read("k", 1000, {"b"});
  const CheckResult r = check_no_lost_writes(b.history, rmw);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.counts.at("excused"), 1u);

  Builder refused;  // a refused delete wrote nothing and excuses nothing
  refused.put("k", "a", 0, 10);
  refused.del("k", 20, 30, Outcome::failed);
  refused.final_read("k", 1000, {});
  EXPECT_FALSE(check_no_lost_writes(refused.history, rmw).ok);

  Builder earlier;  // a delete invoked before the put does not excuse it
  earlier.del("k", 0, 10);
  earlier.put("k", "a", 5, 20);
  earlier.final_read("k", 1000, {}, Outcome::ok, core::Code::not_found);
  const CheckResult e = check_no_lost_writes(earlier.history, rmw);
  EXPECT_FALSE(e.ok);
  EXPECT_EQ(e.counts.at("lost"), 1u);
}

TEST(NoLostWrites, FailsWhenAKeyWithAcknowledgedWritesWasNeverReadBack) {
  Builder b;
  b.put("k1", "a", 0, 10);
  b.put("k2", "b", 0, 10);
  b.final_read("k1", 1000, {"a"});
  b.final_read("k2", 1000, {}, Outcome::indeterminate, core::Code::timeout);
  const CheckResult r = check_no_lost_writes(b.history, rmw);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.counts.at("lost"), 0u);
  EXPECT_EQ(r.counts.at("keys_unverified"), 1u);
}

TEST(NoLostWrites, BlindWriteIsLostUnlessALaterWriteMayHaveReplacedIt) {
  Builder sequential;
  sequential.put("k", "v1", 0, 10);
  sequential.put("k", "v2", 20, 30);
  sequential.final_read("k", 1000, {"v2"});
  const CheckResult s = check_no_lost_writes(sequential.history, blind);
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.counts.at("excused"), 1u);

  // v2 was invoked before v1 completed: v1 was acknowledged and then silently replaced by a
  // concurrent write, which is what last-write-wins does.
  Builder concurrent;
  concurrent.put("k", "v1", 0, 10);
  concurrent.put("k", "v2", 5, 30);
  concurrent.final_read("k", 1000, {"v2"});
  const CheckResult c = check_no_lost_writes(concurrent.history, blind);
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.counts.at("lost"), 1u);

  Builder kept;  // siblings keep both
  kept.put("k", "v1", 0, 10);
  kept.put("k", "v2", 5, 30);
  kept.final_read("k", 1000, {"v1", "v2"});
  EXPECT_TRUE(check_no_lost_writes(kept.history, blind).ok);

  Builder refused;
  refused.put("k", "v1", 0, 10);
  refused.put("k", "v2", 20, 30, Outcome::failed);
  refused.final_read("k", 1000, {"v0"});
  EXPECT_FALSE(check_no_lost_writes(refused.history, blind).ok);
}

TEST(StaleReads, CountsAReadThatMissesAnAcknowledgedPut) {
  Builder b;
  b.put("k", "a", 0, 10);
  b.get("k", 20, 30, {"a"});   // fresh
  b.put("k", "b", 40, 50);
  b.get("k", 60, 70, {"a"});   // misses b: stale
  b.get("k", 80, 90, {"a,b"});  // fresh
  b.final_read("k", 1000, {});  // final reads are not checked here
  const CheckResult watched = check_stale_reads(b.history, rmw, std::nullopt);
  EXPECT_EQ(watched.name, "stale_reads");
  EXPECT_TRUE(watched.ok);  // without a bound it is a number to watch
  EXPECT_EQ(watched.counts.at("stale"), 1u);
  EXPECT_EQ(watched.counts.at("reads_checked"), 3u);
  ASSERT_EQ(watched.examples.size(), 1u);
  EXPECT_NE(watched.examples[0].find("'b'"), std::string::npos) << watched.examples[0];

  const CheckResult bounded = check_stale_reads(b.history, rmw, 0);
  EXPECT_FALSE(bounded.ok);
  EXPECT_EQ(bounded.counts.at("max"), 0u);
  EXPECT_TRUE(check_stale_reads(b.history, rmw, 1).ok);
}

TEST(StaleReads, IgnoresReadsConcurrentWithThePut) {
  Builder b;
  b.put("k", "a", 0, 50);
  b.get("k", 10, 60, {});      // invoked before the put was acknowledged
  b.get("k", 50, 60, {});      // invoked at the very moment: not after
  b.get("k", 20, 30, {}, Outcome::indeterminate, core::Code::timeout);  // unanswered
  const CheckResult r = check_stale_reads(b.history, rmw, 0);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.counts.at("stale"), 0u);
  EXPECT_EQ(r.counts.at("reads_checked"), 2u);
}

TEST(StaleReads, ANotFoundAfterAnAcknowledgedPutIsStale) {
  Builder b;
  b.put("k", "a", 0, 10);
  b.get("k", 20, 30, {}, Outcome::ok, core::Code::not_found);
  EXPECT_EQ(check_stale_reads(b.history, rmw, 0).counts.at("stale"), 1u);
  EXPECT_FALSE(check_stale_reads(b.history, rmw, 0).ok);
}

TEST(StaleReads, ExcusesADeleteInvokedBetweenThePutAndTheRead) {
  Builder b;
  b.put("k", "a", 0, 10);
  b.del("k", 15, 100, Outcome::indeterminate);
  b.get("k", 20, 30, {}, Outcome::ok, core::Code::not_found);
  EXPECT_EQ(check_stale_reads(b.history, rmw, 0).counts.at("stale"), 0u);

  Builder other_key;  // a delete of another key excuses nothing
  other_key.put("k", "a", 0, 10);
  other_key.del("j", 15, 16);
  other_key.get("k", 20, 30, {});
  EXPECT_EQ(check_stale_reads(other_key.history, rmw, 0).counts.at("stale"), 1u);
}

TEST(StaleReads, BlindReadsMayReflectAnyLaterOrConcurrentWrite) {
  Builder b;
  b.put("k", "v1", 0, 10);
  b.put("k", "v2", 20, 30);
  b.get("k", 40, 50, {"v2"});  // newest: fresh
  b.put("k", "v3", 60, 80);
  b.put("k", "v4", 70, 75);    // concurrent with v3; either may be last
  b.get("k", 90, 95, {"v3"});
  b.get("k", 96, 99, {"v4"});
  b.get("k", 100, 110, {"v1"});  // older than v4 and v3: stale
  const CheckResult r = check_stale_reads(b.history, blind, 0);
  EXPECT_EQ(r.counts.at("stale"), 1u);
  EXPECT_FALSE(r.ok);
}

TEST(RunChecks, RunsTheScenariosChecksInItsOrder) {
  Builder b;
  b.put("k", "a", 0, 10);
  b.get("k", 20, 30, {});
  b.final_read("k", 1000, {"a"});
  Scenario scenario;
  CheckSpec stale_reads, no_lost_writes;
  stale_reads.name = "stale_reads";
  stale_reads.max = 0;
  no_lost_writes.name = "no_lost_writes";
  scenario.checks = {stale_reads, no_lost_writes};
  const std::vector<CheckResult> results = run_checks(scenario, b.history);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].name, "stale_reads");
  EXPECT_FALSE(results[0].ok);
  EXPECT_EQ(results[1].name, "no_lost_writes");
  EXPECT_TRUE(results[1].ok);
}

}  // namespace
}  // namespace vigil::sim
