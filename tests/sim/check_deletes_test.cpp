// The delete checks. no_resurrection on hand-built histories: it passes where deleted
// elements stay gone, fails on a read that shows one again (final reads included), treats
// indeterminate deletes as covering nothing, and excuses exactly the puts that were
// concurrent with the delete. tombstones_collected on hand-built results, its options, and
// a real run with collection disabled, which must fail it.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/check_deletes.h"
#include "sim/checkers.h"
#include "sim/scenario.h"
#include "sim/simulator.h"

namespace vigil::sim {
namespace {

using core::ClientOp;

// Histories with times in milliseconds, each operation by a named client.
class Builder {
 public:
  std::uint64_t get(std::uint32_t client, std::int64_t invoked_ms, std::int64_t completed_ms,
                    std::vector<core::Value> values, const std::string& key = "k1") {
    return add(client, ClientOp::get, key, "", invoked_ms, completed_ms, Outcome::ok,
               std::move(values));
  }
  std::uint64_t put(std::uint32_t client, const std::string& element, std::int64_t invoked_ms,
                    std::int64_t completed_ms, Outcome outcome = Outcome::ok,
                    const std::string& key = "k1") {
    return add(client, ClientOp::put, key, element, invoked_ms, completed_ms, outcome, {});
  }
  std::uint64_t del(std::uint32_t client, std::int64_t invoked_ms, std::int64_t completed_ms,
                    Outcome outcome = Outcome::ok, const std::string& key = "k1") {
    return add(client, ClientOp::del, key, "", invoked_ms, completed_ms, outcome, {});
  }
  // A read-delete cycle: the context read [at, at + 10] shows `values`, the delete runs
  // [at + 10, at + 20].
  void read_delete(std::uint32_t client, std::int64_t at_ms, std::vector<core::Value> values,
                   Outcome outcome = Outcome::ok) {
    get(client, at_ms, at_ms + 10, std::move(values));
    del(client, at_ms + 10, at_ms + 20, outcome);
  }
  // A read-modify-write cycle: the read [at, at + 10] shows `values`, the put [at + 10, end].
  void read_put(std::uint32_t client, std::int64_t at_ms, std::vector<core::Value> values,
                const std::string& element, std::int64_t end_ms,
                Outcome outcome = Outcome::ok) {
    get(client, at_ms, at_ms + 10, std::move(values));
    put(client, element, at_ms + 10, end_ms, outcome);
  }
  std::uint64_t final_read(std::int64_t at_ms, std::vector<core::Value> values) {
    Operation op;
    op.client = 99;
    op.op = ClientOp::get;
    op.key = "k1";
    op.invoked_us = at_ms * 1000;
    op.final_read = true;
    const std::uint64_t index = history.invoke(op);
    history.complete(index, (at_ms + 1) * 1000, Outcome::ok, core::Code::ok, "",
                     std::move(values));
    return index;
  }

  History history;

 private:
  std::uint64_t add(std::uint32_t client, ClientOp kind, const std::string& key,
                    const std::string& element, std::int64_t invoked_ms,
                    std::int64_t completed_ms, Outcome outcome, std::vector<core::Value> values) {
    Operation op;
    op.client = client;
    op.op = kind;
    op.key = key;
    op.element = element;
    op.invoked_us = invoked_ms * 1000;
    const std::uint64_t index = history.invoke(op);
    const core::Code code = outcome == Outcome::ok       ? core::Code::ok
                            : outcome == Outcome::failed ? core::Code::invalid_argument
                                                         : core::Code::timeout;
    history.complete(index, completed_ms * 1000, outcome, code, "", std::move(values));
    return index;
  }
};

const WorkloadMode rmw = WorkloadMode::read_modify_write;

TEST(NoResurrection, PassesWhenDeletedElementsStayGone) {
  Builder b;
  b.read_put(1, 0, {}, "c1-1", 20);
  b.read_delete(2, 100, {"c1-1"});
  b.get(3, 200, 210, {});
  b.read_put(1, 300, {}, "c1-2", 320);
  b.final_read(1000, {"c1-2"});
  const CheckResult r = check_no_resurrection(b.history, rmw);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.name, "no_resurrection");
  EXPECT_EQ(r.counts.at("deletes_acknowledged"), 1u);
  EXPECT_EQ(r.counts.at("deletes_indeterminate"), 0u);
  EXPECT_EQ(r.counts.at("deletes_unchecked"), 0u);
  EXPECT_EQ(r.counts.at("reads_checked"), 3u);  // the read at 200, the put's read, the final
  EXPECT_EQ(r.counts.at("resurrections"), 0u);
  EXPECT_TRUE(r.examples.empty());
}

TEST(NoResurrection, FailsOnEveryReadThatShowsADeletedElementAgain) {
  Builder b;
  b.read_put(1, 0, {}, "c1-1", 20);
  b.read_put(1, 30, {"c1-1"}, "c1-2", 50);
  b.read_delete(2, 100, {"c1-1,c1-2"});
  b.get(3, 200, 210, {"c1-2"});  // brought back
  b.get(3, 300, 310, {});
  b.final_read(1000, {"c1-1,c1-2"});
  const CheckResult r = check_no_resurrection(b.history, rmw);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.counts.at("reads_checked"), 3u);
  EXPECT_EQ(r.counts.at("resurrections"), 2u);
  ASSERT_EQ(r.examples.size(), 2u);
  EXPECT_NE(r.examples[0].find("'c1-2'"), std::string::npos) << r.examples[0];
  EXPECT_NE(r.examples[0].find("deleted by #5"), std::string::npos) << r.examples[0];
  EXPECT_NE(r.examples[1].find("final read"), std::string::npos) << r.examples[1];
}

TEST(NoResurrection, AReadInvokedBeforeTheDeleteCompletedIsNotChecked) {
  Builder b;
  b.read_put(1, 0, {}, "c1-1", 20);
  b.read_delete(2, 100, {"c1-1"});  // completes at 120
  b.get(3, 115, 125, {"c1-1"});     // may be ordered before the delete
  const CheckResult r = check_no_resurrection(b.history, rmw);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.counts.at("reads_checked"), 0u);
}

TEST(NoResurrection, IndeterminateAndRefusedDeletesCoverNothing) {
  Builder b;
  b.read_put(1, 0, {}, "c1-1", 20);
  b.read_delete(2, 100, {"c1-1"}, Outcome::indeterminate);
  b.read_delete(3, 130, {"c1-1"}, Outcome::failed);
  b.get(3, 200, 210, {"c1-1"});
  const CheckResult r = check_no_resurrection(b.history, rmw);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.counts.at("deletes_acknowledged"), 0u);
  EXPECT_EQ(r.counts.at("deletes_indeterminate"), 1u);
  EXPECT_EQ(r.counts.at("resurrections"), 0u);
}

TEST(NoResurrection, ADeleteCoversOnlyWhatItsOwnContextReadShowed) {
  Builder b;
  b.read_put(1, 0, {}, "c1-1", 20);
  b.get(2, 30, 40, {"c1-1"});        // the same client read the key earlier: not the context
  b.read_delete(2, 100, {});         // its context read showed nothing
  b.get(3, 200, 210, {"c1-1"});
  const CheckResult r = check_no_resurrection(b.history, rmw);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.counts.at("deletes_acknowledged"), 1u);
  EXPECT_EQ(r.counts.at("reads_checked"), 1u);
}

TEST(NoResurrection, APutConcurrentWithTheDeleteExcusesWhatItRead) {
  Builder b;
  b.read_put(1, 0, {}, "c1-1", 20);
  b.read_put(3, 105, {"c1-1"}, "c3-1", 130);  // read before the delete ended, put after
  b.read_delete(2, 100, {"c1-1"});             // [100, 120]
  b.get(4, 200, 210, {"c1-1,c3-1"});            // the put's sibling carries c1-1 on
  b.read_put(4, 220, {"c1-1,c3-1"}, "c4-1", 240);  // and a later write carries it further
  b.final_read(1000, {"c1-1,c3-1,c4-1"});
  const CheckResult r = check_no_resurrection(b.history, rmw);
  EXPECT_TRUE(r.ok) << (r.examples.empty() ? "" : r.examples[0]);
  EXPECT_EQ(r.counts.at("resurrections"), 0u);
  EXPECT_EQ(r.counts.at("reads_checked"), 3u);
}

TEST(NoResurrection, AnIndeterminatePutMayLandLateAndExcuses) {
  Builder b;
  b.read_put(1, 0, {}, "c1-1", 20);
  // Its client gave up at 60, before the delete's read; the write may still land.
  b.read_put(3, 40, {"c1-1"}, "c3-1", 60, Outcome::indeterminate);
  b.read_delete(2, 100, {"c1-1"});
  b.get(4, 200, 210, {"c1-1,c3-1"});
  EXPECT_TRUE(check_no_resurrection(b.history, rmw).ok);
}

TEST(NoResurrection, TheElementsOwnPutStillInFlightExcusesIt) {
  Builder b;
  b.get(1, 0, 10, {});
  b.put(1, "c1-1", 10, 150);          // seen by the delete's read, acknowledged after it
  b.read_delete(2, 100, {"c1-1"});    // [100, 120]
  b.get(3, 200, 210, {"c1-1"});
  EXPECT_TRUE(check_no_resurrection(b.history, rmw).ok);
  EXPECT_TRUE(check_no_resurrection(b.history, WorkloadMode::set).ok);
}

TEST(NoResurrection, PutsThatWereNotConcurrentWithTheDeleteExcuseNothing) {
  Builder before;  // acknowledged before the delete's context read was invoked
  before.read_put(1, 0, {}, "c1-1", 20);
  before.read_put(3, 30, {"c1-1"}, "c3-1", 50);
  before.read_delete(2, 100, {"c1-1,c3-1"});
  before.get(4, 200, 210, {"c1-1,c3-1"});
  const CheckResult early = check_no_resurrection(before.history, rmw);
  EXPECT_FALSE(early.ok);
  EXPECT_EQ(early.counts.at("resurrections"), 1u);

  Builder after;  // its context read came after the delete was acknowledged
  after.read_put(1, 0, {}, "c1-1", 20);
  after.read_delete(2, 100, {"c1-1"});          // [100, 120]
  after.read_put(3, 130, {"c1-1"}, "c3-1", 150);  // that read is itself a resurrection
  after.get(4, 200, 210, {"c1-1,c3-1"});  // excused: a later write carried it
  after.final_read(1000, {"c1-1,c3-1"});
  const CheckResult late = check_no_resurrection(after.history, rmw);
  EXPECT_FALSE(late.ok);
  EXPECT_EQ(late.counts.at("resurrections"), 1u);
  ASSERT_EQ(late.examples.size(), 1u);
  EXPECT_NE(late.examples[0].find("read #4 at 0.130s"), std::string::npos) << late.examples[0];
  const CheckResult final_only =
      check_no_resurrection(after.history, rmw, core::SetContext::read, true);
  EXPECT_TRUE(final_only.ok) << "the final read is excused; the stale read is not gated";
  EXPECT_EQ(final_only.counts.at("resurrections"), 1u);
  EXPECT_EQ(final_only.counts.at("final_resurrections"), 0u);
  EXPECT_TRUE(final_only.examples.empty());
}

TEST(NoResurrection, FinalReadsOnlyStillFailsOnAFinalReadThatShowsIt) {
  Builder b;
  b.read_put(1, 0, {}, "c1-1", 20);
  b.read_delete(2, 100, {"c1-1"});
  b.get(3, 200, 210, {"c1-1"});
  b.final_read(1000, {"c1-1"});
  const CheckResult r = check_no_resurrection(b.history, rmw, core::SetContext::read, true);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.counts.at("resurrections"), 2u);
  EXPECT_EQ(r.counts.at("final_resurrections"), 1u);
  ASSERT_EQ(r.examples.size(), 1u);
  EXPECT_NE(r.examples[0].find("final read"), std::string::npos);
}

TEST(NoResurrection, ARefusedPutExcusesNothing) {
  Builder b;
  b.read_put(1, 0, {}, "c1-1", 20);
  b.read_put(3, 105, {"c1-1"}, "c3-1", 130, Outcome::failed);
  b.read_delete(2, 100, {"c1-1"});
  b.get(4, 200, 210, {"c1-1"});
  EXPECT_FALSE(check_no_resurrection(b.history, rmw).ok);
}

TEST(NoResurrection, SetModeChecksDeletesWithAReadAndCountsPlainOnesUnchecked) {
  Builder b;
  b.put(1, "c1-1", 0, 10);
  b.read_delete(2, 100, {"c1-1"});
  b.get(3, 200, 210, {"c1-1"});
  const CheckResult read = check_no_resurrection(b.history, WorkloadMode::set,
                                                 core::SetContext::read);
  EXPECT_FALSE(read.ok);
  EXPECT_EQ(read.counts.at("resurrections"), 1u);
  const CheckResult plain = check_no_resurrection(b.history, WorkloadMode::set,
                                                  core::SetContext::coordinator);
  EXPECT_TRUE(plain.ok);
  EXPECT_EQ(plain.counts.at("deletes_unchecked"), 1u);
  EXPECT_EQ(plain.counts.at("deletes_acknowledged"), 0u);
  EXPECT_EQ(plain.counts.at("reads_checked"), 0u);
}

TEST(NoResurrection, TwoCandidateContextReadsCoverOnlyWhatBothShowed) {
  Builder b;
  b.read_put(1, 0, {}, "c1-1", 20);
  b.read_put(1, 30, {"c1-1"}, "c1-2", 50);
  b.get(2, 95, 110, {"c1-1"});
  b.get(2, 100, 110, {"c1-1,c1-2"});  // both completed when the delete was invoked
  b.del(2, 110, 120);
  b.get(3, 200, 210, {"c1-2"});
  EXPECT_TRUE(check_no_resurrection(b.history, rmw).ok);
  b.get(3, 300, 310, {"c1-1"});
  EXPECT_FALSE(check_no_resurrection(b.history, rmw).ok);
}

TEST(NoResurrection, RunsFromTheScenarioCheckList) {
  auto scenario = load_scenario(R"(name: x
duration: 5s
cluster: {nodes: 3}
workload: {clients: 2, keys: 3, rate: 10/s, mix: {get: 0.4, put: 0.4, delete: 0.2}}
checks: [{no_resurrection: {reads: final}}, {tombstones_collected: {max_held: 4}}]
expect: pass
)",
                                "x.yaml");
  ASSERT_TRUE(scenario.ok()) << scenario.status().to_string();
  ASSERT_EQ(scenario->checks.size(), 2u);
  EXPECT_TRUE(scenario->checks[0].final_reads_only);
  ASSERT_TRUE(scenario->checks[1].max.has_value());
  EXPECT_EQ(*scenario->checks[1].max, 4u);
  Builder b;
  b.read_put(1, 0, {}, "c1-1", 20);
  b.read_delete(2, 100, {"c1-1"});
  b.get(3, 200, 210, {"c1-1"});
  Scenario history_only = *scenario;
  history_only.checks.resize(1);
  history_only.checks[0].final_reads_only = false;
  const std::vector<CheckResult> results = run_checks(history_only, b.history);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].name, "no_resurrection");
  EXPECT_FALSE(results[0].ok);
  EXPECT_FALSE(load_scenario(R"(name: x
cluster: {nodes: 3}
checks: [{tombstones_collected: {max: 1}}]
expect: pass
)",
                             "x.yaml")
                   .ok());
}

SimulationResult with_tombstones(std::uint64_t collected, std::uint64_t held,
                                 bool acknowledged_delete) {
  SimulationResult result;
  result.tombstones.recorded = true;
  result.tombstones.records = 10;
  result.tombstones.held = held;
  result.tombstones.keys_held = held;
  if (collected > 0) result.counters["node.tombstones_collected"] = collected;
  Operation erase;
  erase.op = ClientOp::del;
  erase.key = "k1";
  const std::uint64_t index = result.history.invoke(erase);
  result.history.complete(index, 10, acknowledged_delete ? Outcome::ok : Outcome::indeterminate,
                          acknowledged_delete ? core::Code::ok : core::Code::timeout, "", {});
  return result;
}

TEST(TombstonesCollected, PassesWhenCollectedAndNoneHeld) {
  const CheckResult r = check_tombstones_collected(with_tombstones(6, 0, true), CheckSpec{});
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.name, "tombstones_collected");
  EXPECT_EQ(r.counts.at("collected"), 6u);
  EXPECT_EQ(r.counts.at("held_at_end"), 0u);
  EXPECT_EQ(r.counts.at("records_at_end"), 10u);
  EXPECT_EQ(r.counts.at("deletes_acknowledged"), 1u);
  EXPECT_EQ(r.counts.at("max_held"), 0u);
}

TEST(TombstonesCollected, FailsWhenTombstonesAreHeldOverTheBound) {
  CheckSpec spec;
  EXPECT_FALSE(check_tombstones_collected(with_tombstones(6, 2, true), spec).ok);
  spec.max = 2;
  EXPECT_TRUE(check_tombstones_collected(with_tombstones(6, 2, true), spec).ok);
}

TEST(TombstonesCollected, FailsWhenAcknowledgedDeletesLeftNothingCollected) {
  const CheckResult r = check_tombstones_collected(with_tombstones(0, 0, true), CheckSpec{});
  EXPECT_FALSE(r.ok);
  ASSERT_FALSE(r.examples.empty());
  EXPECT_NE(r.examples.back().find("no tombstone collected"), std::string::npos);
  EXPECT_EQ(r.counts.at("keys_ending_deleted"), 1u);
  EXPECT_TRUE(check_tombstones_collected(with_tombstones(0, 0, false), CheckSpec{}).ok)
      << "no acknowledged delete: nothing had to be collected";
  SimulationResult rewritten = with_tombstones(0, 0, true);
  Operation put;
  put.op = ClientOp::put;
  put.key = "k1";
  put.element = "c1-1";
  const std::uint64_t index = rewritten.history.invoke(put);
  rewritten.history.complete(index, 20, Outcome::ok, core::Code::ok, "", {});
  const CheckResult overwritten = check_tombstones_collected(rewritten, CheckSpec{});
  EXPECT_TRUE(overwritten.ok) << "the delete was overwritten: no tombstone to collect";
  EXPECT_EQ(overwritten.counts.at("keys_ending_deleted"), 0u);
  EXPECT_FALSE(check_tombstones_collected(SimulationResult{}, CheckSpec{}).ok)
      << "a run that recorded nothing proves nothing";
}

TEST(TombstonesCollected, FailsOnARealRunWithCollectionDisabled) {
  auto scenario = load_scenario(R"(name: deletes-kept
duration: 5s
quiesce: 5s
cluster:
  nodes: 3
  config:
    quorum_settings: {N: 3, R: 2, W: 2}
    conflict_resolution: siblings
    tombstone_gc: {mode: disabled}
workload: {clients: 2, keys: 6, rate: 40/s, mix: {get: 0.3, put: 0.3, delete: 0.4}}
checks: [no_resurrection, tombstones_collected]
expect: fail
)",
                                "deletes-kept.yaml");
  ASSERT_TRUE(scenario.ok()) << scenario.status().to_string();
  const SimulationResult result = simulate(*scenario, 1);
  ASSERT_TRUE(result.tombstones.recorded);
  const std::vector<CheckResult> checks = run_checks(*scenario, result);
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_TRUE(checks[0].ok) << "nothing collects, so nothing comes back";
  EXPECT_GT(checks[0].counts.at("deletes_acknowledged"), 0u);
  EXPECT_FALSE(checks[1].ok);
  EXPECT_EQ(checks[1].counts.at("collected"), 0u);
  EXPECT_GT(checks[1].counts.at("held_at_end"), 0u);
}

}  // namespace
}  // namespace vigil::sim
