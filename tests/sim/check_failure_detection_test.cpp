// sim/check_failure_detection.h on hand-built results (detection times, justified, false
// and partitioned verdicts, missed crashes, gates) and on real runs of the shipped
// scenarios (crash-detection passes; one-way-no-indirect-probes fails on its gate).

#include <gtest/gtest.h>

#include <filesystem>

#include "sim/check_failure_detection.h"
#include "sim/run.h"

namespace vigil::sim {
namespace {

using core::PeerState;

constexpr std::int64_t s = 1000000;

Scenario three_nodes() {
  Scenario scenario;
  scenario.name = "t";
  scenario.nodes = 3;
  return scenario;  // defaults: failure_threshold 15 s, interval 1 s: look-back 17 s
}

FaultState state_at(std::int64_t at_us, std::vector<bool> down, bool cut_1_2 = false) {
  FaultState state;
  state.at_us = at_us;
  state.down = std::move(down);
  state.open.assign(3, std::vector<bool>(3, true));
  if (cut_1_2) state.open[0][1] = state.open[1][0] = false;
  return state;
}

PeerTransitionRecord verdict(std::int64_t at_us, const char* observer, const char* peer,
                             PeerState from, PeerState to) {
  return PeerTransitionRecord{at_us, observer,
                              core::PeerTransition{peer, from, to, core::instant_from_micros(at_us)}};
}

TEST(FailureDetectionCheck, TimesAreUntilEveryLiveObserverMarkedTheCrashedNode) {
  SimulationResult result;
  result.sim_time_us = 100 * s;
  result.crashes = {CrashRecord{2, 40 * s, 70 * s}};  // n3
  result.fault_timeline = {state_at(0, {false, false, false}),
                           state_at(40 * s, {false, false, true}),
                           state_at(70 * s, {false, false, false})};
  result.peer_transitions = {
      verdict(42 * s, "n1", "n3", PeerState::alive, PeerState::suspect),
      verdict(44 * s, "n2", "n3", PeerState::alive, PeerState::suspect),
      verdict(55 * s, "n1", "n3", PeerState::suspect, PeerState::failed),
      verdict(56 * s, "n2", "n3", PeerState::suspect, PeerState::failed),
      verdict(71 * s, "n1", "n3", PeerState::failed, PeerState::alive),
  };
  CheckSpec spec;
  spec.name = "failure_detection";
  const CheckResult check = check_failure_detection(three_nodes(), result, spec);
  EXPECT_TRUE(check.ok);
  EXPECT_EQ(check.counts.at("crashes"), 1u);
  EXPECT_EQ(check.counts.at("crashes_suspected"), 1u);
  EXPECT_EQ(check.counts.at("crashes_failed"), 1u);
  EXPECT_EQ(check.counts.at("false_suspicions"), 0u);  // n3 was down: justified
  EXPECT_EQ(check.counts.at("false_failures"), 0u);
  EXPECT_DOUBLE_EQ(check.ratios.at("suspect_time_s_max"), 4.0);
  EXPECT_DOUBLE_EQ(check.ratios.at("failed_time_s_max"), 16.0);
  EXPECT_DOUBLE_EQ(check.ratios.at("failed_time_s_median"), 16.0);

  spec.max_of["suspect_time_s_max"] = 3.5;
  const CheckResult gated = check_failure_detection(three_nodes(), result, spec);
  EXPECT_FALSE(gated.ok);
  ASSERT_FALSE(gated.examples.empty());
  EXPECT_NE(gated.examples.back().find("suspect_time_s_max"), std::string::npos);
}

TEST(FailureDetectionCheck, ACrashNobodyMarkedFailedIsMissed) {
  SimulationResult result;
  result.sim_time_us = 100 * s;
  result.crashes = {CrashRecord{2, 40 * s, -1}};
  result.fault_timeline = {state_at(0, {false, false, false}),
                           state_at(40 * s, {false, false, true})};
  result.peer_transitions = {verdict(45 * s, "n1", "n3", PeerState::alive, PeerState::suspect)};
  CheckSpec spec;
  const CheckResult check = check_failure_detection(three_nodes(), result, spec);
  EXPECT_FALSE(check.ok);
  EXPECT_EQ(check.counts.at("crashes_missed"), 1u);
  EXPECT_EQ(check.counts.at("crashes_suspected"), 0u);  // n2 never suspected it
  EXPECT_FALSE(check.ratios.contains("suspect_time_s_max"));
}

TEST(FailureDetectionCheck, VerdictsOnAnUpNodeAreFalseUnlessAPartitionSeparatedThem) {
  SimulationResult result;
  result.sim_time_us = 200 * s;
  result.fault_timeline = {state_at(0, {false, false, false}),
                           state_at(100 * s, {false, false, false}, /*cut_1_2=*/true),
                           state_at(130 * s, {false, false, false})};
  result.peer_transitions = {
      verdict(10 * s, "n1", "n2", PeerState::alive, PeerState::suspect),   // false
      verdict(12 * s, "n1", "n2", PeerState::suspect, PeerState::alive),
      verdict(103 * s, "n1", "n2", PeerState::alive, PeerState::suspect),  // partitioned
      verdict(118 * s, "n1", "n2", PeerState::suspect, PeerState::failed), // partitioned
      verdict(120 * s, "n3", "n2", PeerState::alive, PeerState::suspect),  // false: no cut
  };
  CheckSpec spec;
  CheckResult check = check_failure_detection(three_nodes(), result, spec);
  EXPECT_TRUE(check.ok);  // reported, not gated
  EXPECT_EQ(check.counts.at("false_suspicions"), 2u);
  EXPECT_EQ(check.counts.at("partitioned_suspicions"), 1u);
  EXPECT_EQ(check.counts.at("partitioned_failures"), 1u);
  EXPECT_EQ(check.counts.at("false_failures"), 0u);
  spec.max_of["false_suspicions"] = 0;
  check = check_failure_detection(three_nodes(), result, spec);
  EXPECT_FALSE(check.ok);
  EXPECT_NE(check.examples.front().find("n1 marked n2 suspect at 10.000s"), std::string::npos);
}

TEST(FailureDetectionCheck, APauseJustifiesVerdictsUpToTheLookBack) {
  SimulationResult result;
  result.sim_time_us = 100 * s;
  result.fault_timeline = {state_at(0, {false, false, false}),
                           state_at(20 * s, {false, true, false}),  // n2 paused 20-30 s
                           state_at(30 * s, {false, false, false})};
  result.peer_transitions = {
      verdict(26 * s, "n1", "n2", PeerState::alive, PeerState::suspect),
      verdict(31 * s, "n1", "n2", PeerState::suspect, PeerState::alive),
      verdict(46 * s, "n3", "n2", PeerState::alive, PeerState::suspect),  // 16 s after: ok
      verdict(48 * s, "n3", "n2", PeerState::suspect, PeerState::alive),
      verdict(60 * s, "n3", "n2", PeerState::alive, PeerState::suspect),  // 30 s after: false
  };
  const CheckResult check = check_failure_detection(three_nodes(), result, CheckSpec{});
  EXPECT_EQ(check.counts.at("false_suspicions"), 1u);
}

const std::filesystem::path scenarios = std::filesystem::path(VIGIL_SOURCE_DIR) / "scenarios";

const CheckResult& detection_of(const RunRecord& record) {
  for (const CheckResult& check : record.checks) {
    if (check.name == "failure_detection") return check;
  }
  ADD_FAILURE() << "no failure_detection check";
  return record.checks.front();
}

TEST(FailureDetectionCheck, ARealCrashIsDetectedInTime) {
  const auto scenario = load_scenario_file((scenarios / "crash-detection.yaml").string());
  ASSERT_TRUE(scenario.ok()) << scenario.status().to_string();
  const RunRecord record = run_scenario(*scenario, 1);
  const CheckResult& check = detection_of(record);
  EXPECT_TRUE(check.ok);
  EXPECT_EQ(check.counts.at("crashes_failed"), 1u);
  EXPECT_LT(check.ratios.at("suspect_time_s_max"), 8.0);
  EXPECT_GE(check.ratios.at("failed_time_s_max"), 13.0);
  EXPECT_LE(check.ratios.at("failed_time_s_max"), 17.0);
  // Every node learned every other from the one seed, and the view is in the record.
  ASSERT_EQ(record.members.size(), 5u);
  for (const auto& [observer, view] : record.members) {
    ASSERT_EQ(view.size(), 5u) << observer;
    for (const core::PeerStatus& peer : view) EXPECT_GE(peer.incarnation, 1u) << observer;
  }
}

TEST(FailureDetectionCheck, WithoutIndirectProbesOneBadLinkFailsTheGate) {
  const auto scenario =
      load_scenario_file((scenarios / "one-way-no-indirect-probes.yaml").string());
  ASSERT_TRUE(scenario.ok()) << scenario.status().to_string();
  const RunRecord record = run_scenario(*scenario, 1);
  const CheckResult& check = detection_of(record);
  EXPECT_FALSE(check.ok);
  EXPECT_GT(check.counts.at("false_suspicions"), 0u);
  EXPECT_EQ(check.counts.at("false_failures"), 0u);
  EXPECT_TRUE(record.met_expectation());
}

}  // namespace
}  // namespace vigil::sim
