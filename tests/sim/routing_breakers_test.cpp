// scenarios/routing-slow-node.yaml with circuit breakers on and off (issue 16): one node is
// clogged while clients route token-aware; breakers must lower what clients wait without
// raising their errors, and the scenario's own latency bound must pass with breakers and
// fail without them (a check that cannot fail proves nothing). A few seeds: each run is 5
// nodes over 26 simulated seconds.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/assert.h"
#include "sim/run.h"
#include "sim/scenario.h"

namespace vigil::sim {
namespace {

Scenario load_slow_node(bool breakers) {
  const std::filesystem::path file =
      std::filesystem::path(VIGIL_SOURCE_DIR) / "scenarios" / "routing-slow-node.yaml";
  core::Result<Scenario> scenario = load_scenario_file(file.string());
  VIGIL_ASSERT(scenario.ok(), scenario.status().message());
  if (!breakers) {
    scenario->adjust_node_options = [](core::NodeOptions& options) {
      options.routing.breaker.enabled = false;
    };
  }
  return *scenario;
}

const CheckResult& latency_of(const RunRecord& record) {
  for (const CheckResult& check : record.checks) {
    if (check.name == "latency") return check;
  }
  VIGIL_ASSERT(false, "the scenario has no latency check");
  return record.checks.front();
}

TEST(RoutingBreakers, BreakersLowerClientLatencyOnASlowNodeAndTheCheckSeesIt) {
  const Scenario with = load_slow_node(true);
  const Scenario without = load_slow_node(false);
  double mean_with = 0, mean_without = 0;
  double errors_with = 0, errors_without = 0;
  constexpr std::uint64_t seeds = 3;
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    const RunRecord on = run_scenario(with, seed);
    const RunRecord off = run_scenario(without, seed);
    const CheckResult& on_latency = latency_of(on);
    const CheckResult& off_latency = latency_of(off);
    EXPECT_TRUE(on.met_expectation()) << "seed " << seed;
    EXPECT_FALSE(off_latency.ok) << "seed " << seed << ": the bound must fail without breakers";
    EXPECT_TRUE(on_latency.ok) << "seed " << seed;
    EXPECT_GT(on.counters.at("client_breaker_openings"), 0u) << "seed " << seed;
    EXPECT_EQ(off.counters.count("client_breaker_openings"), 0u) << "seed " << seed;
    mean_with += on_latency.ratios.at("mean_s");
    mean_without += off_latency.ratios.at("mean_s");
    errors_with += on_latency.ratios.at("error_fraction");
    errors_without += off_latency.ratios.at("error_fraction");
    // Token-aware clients send nearly every call to a replica of its key.
    EXPECT_LT(on_latency.ratios.at("hops_per_call"), 1.2) << "seed " << seed;
  }
  EXPECT_LT(mean_with, 0.6 * mean_without) << "breakers cut the mean wait by 40% or more";
  EXPECT_LE(errors_with, errors_without);
  RecordProperty("mean_s_with_breakers", std::to_string(mean_with / seeds));
  RecordProperty("mean_s_without_breakers", std::to_string(mean_without / seeds));
}

}  // namespace
}  // namespace vigil::sim
