// `--check-determinism` names where two runs of one seed part (sim/run.cpp): a scenario
// whose second run is made to differ (a node option read from outside the seed, as a
// clock or an unordered container would be) is reported nondeterministic, with the first
// event at which the traces differ, described for both runs.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "core/node/options.h"
#include "sim/run.h"
#include "sim/scenario.h"

namespace vigil::sim {
namespace {

Scenario load(const std::string& stem) {
  const auto path = std::filesystem::path(VIGIL_SOURCE_DIR) / "scenarios" / (stem + ".yaml");
  core::Result<Scenario> scenario = load_scenario_file(path.string());
  EXPECT_TRUE(scenario.ok()) << scenario.status().message();
  return std::move(scenario).value();
}

TEST(Determinism, ASeededRunHasNoDivergence) {
  RunOptions options;
  options.check_determinism = true;
  const RunRecord record = run_scenario(load("no-faults"), 3, options);
  EXPECT_TRUE(record.deterministic);
  EXPECT_TRUE(record.divergence.empty()) << record.divergence;
}

TEST(Determinism, TheFirstDivergentEventIsNamedForBothRuns) {
  Scenario scenario = load("no-faults");
  // One run configures nodes `per_run` times; the check runs three (the first, the
  // second, and a third that describes the first run's side). Only the second gossips at
  // another pace.
  auto calls = std::make_shared<int>(0);
  auto per_run = std::make_shared<int>(0);
  scenario.adjust_node_options = [calls, per_run](core::NodeOptions& options) {
    const int call = (*calls)++;
    if (*per_run > 0 && call >= *per_run && call < 2 * *per_run) {
      options.membership.gossip_interval *= 2;
    }
  };
  run_scenario(scenario, 3);
  *per_run = *calls;
  *calls = 0;
  RunOptions options;
  options.check_determinism = true;
  const RunRecord record = run_scenario(scenario, 3, options);
  ASSERT_EQ(*calls, 3 * *per_run);
  EXPECT_FALSE(record.deterministic);
  EXPECT_FALSE(record.met_expectation());
  std::printf("%s\n", record.divergence.c_str());
  EXPECT_EQ(record.divergence.rfind("event #", 0), 0u) << record.divergence;
  const std::size_t first = record.divergence.find("first run: ");
  const std::size_t second = record.divergence.find("; second run: ");
  ASSERT_NE(first, std::string::npos) << record.divergence;
  ASSERT_NE(second, std::string::npos) << record.divergence;
  const std::string first_line = record.divergence.substr(first + 11, second - first - 11);
  const std::string second_line = record.divergence.substr(second + 14);
  EXPECT_NE(first_line, second_line);
  EXPECT_NE(first_line, "(no such event)");
}

}  // namespace
}  // namespace vigil::sim
