// The scenario writer and the `seed:` key: every shipped scenario written and loaded again
// is the same scenario (so a file explore writes is read as it was meant), and `seed:` is
// read, bounded and refused when wrong.

#include "sim/scenario_writer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "config/config_yaml.h"

namespace vigil::sim {
namespace {

void expect_same(const Scenario& a, const Scenario& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.duration, b.duration);
  EXPECT_EQ(a.quiesce, b.quiesce);
  EXPECT_EQ(a.nodes, b.nodes);
  EXPECT_EQ(config::config_to_yaml(a.config), config::config_to_yaml(b.config));
  EXPECT_EQ(a.network.latency.min, b.network.latency.min);
  EXPECT_EQ(a.network.latency.max, b.network.latency.max);
  EXPECT_EQ(a.network.loss, b.network.loss);
  EXPECT_EQ(a.network.duplicate, b.network.duplicate);
  EXPECT_EQ(a.network.reorder, b.network.reorder);
  EXPECT_EQ(a.disk.commit_latency.min, b.disk.commit_latency.min);
  EXPECT_EQ(a.disk.commit_latency.max, b.disk.commit_latency.max);
  EXPECT_EQ(a.workload.clients, b.workload.clients);
  EXPECT_EQ(a.workload.keys, b.workload.keys);
  EXPECT_EQ(a.workload.rate_per_s, b.workload.rate_per_s);
  EXPECT_EQ(a.workload.get, b.workload.get);
  EXPECT_EQ(a.workload.put, b.workload.put);
  EXPECT_EQ(a.workload.del, b.workload.del);
  EXPECT_EQ(a.workload.mode, b.workload.mode);
  EXPECT_EQ(a.workload.consistency, b.workload.consistency);
  EXPECT_EQ(a.workload.pipeline, b.workload.pipeline);
  EXPECT_EQ(a.expect, b.expect);
  ASSERT_EQ(a.faults.size(), b.faults.size());
  for (std::size_t i = 0; i < a.faults.size(); ++i) {
    const Fault& x = a.faults[i];
    const Fault& y = b.faults[i];
    EXPECT_EQ(x.at, y.at) << i;
    EXPECT_EQ(x.kind, y.kind) << i;
    EXPECT_EQ(x.groups, y.groups) << i;
    EXPECT_EQ(x.from, y.from) << i;
    EXPECT_EQ(x.to, y.to) << i;
    if (x.kind != FaultKind::partition && x.kind != FaultKind::one_way &&
        x.kind != FaultKind::heal) {
      EXPECT_EQ(x.node, y.node) << i;
    }
    EXPECT_EQ(x.length, y.length) << i;
    EXPECT_EQ(x.skew, y.skew) << i;
    EXPECT_EQ(x.drift, y.drift) << i;
    EXPECT_EQ(x.jump, y.jump) << i;
    EXPECT_EQ(x.delay, y.delay) << i;
    EXPECT_EQ(x.loss, y.loss) << i;
    EXPECT_EQ(x.duplicate, y.duplicate) << i;
    EXPECT_EQ(x.clients, y.clients) << i;
    EXPECT_EQ(x.nodes, y.nodes) << i;
  }
  ASSERT_EQ(a.checks.size(), b.checks.size());
  for (std::size_t i = 0; i < a.checks.size(); ++i) {
    EXPECT_EQ(a.checks[i].name, b.checks[i].name);
    EXPECT_EQ(a.checks[i].max, b.checks[i].max);
    EXPECT_EQ(a.checks[i].min, b.checks[i].min);
    EXPECT_EQ(a.checks[i].expire, b.checks[i].expire);
    EXPECT_EQ(a.checks[i].max_of, b.checks[i].max_of);
  }
}

TEST(ScenarioWriter, EveryShippedScenarioRoundTrips) {
  const std::filesystem::path folder = std::filesystem::path(VIGIL_SOURCE_DIR) / "scenarios";
  int count = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(folder)) {
    if (entry.path().extension() != ".yaml") continue;
    core::Result<Scenario> original = load_scenario_file(entry.path().string());
    ASSERT_TRUE(original.ok()) << original.status().message();
    original->seed = 42;
    const std::string text = write_scenario(*original, "a comment\nof two lines");
    const core::Result<Scenario> again = load_scenario(text, "written");
    ASSERT_TRUE(again.ok()) << entry.path() << ": " << again.status().message() << "\n" << text;
    SCOPED_TRACE(entry.path().string());
    expect_same(*original, *again);
    ++count;
  }
  EXPECT_GE(count, 17);
}

// A check whose options no shipped scenario uses: the convergence bound is a duration.
TEST(ScenarioWriter, AConvergenceBoundRoundTrips) {
  const core::Result<Scenario> original = load_scenario(R"(name: s
duration: 5s
cluster: {nodes: 3}
workload: {clients: 1, keys: 1, rate: 10/s, mix: {put: 1}}
checks: [{convergence: {max_converge_time: 2500ms}}]
expect: pass
)", "original");
  ASSERT_TRUE(original.ok()) << original.status().message();
  const std::string text = write_scenario(*original, "");
  const core::Result<Scenario> again = load_scenario(text, "written");
  ASSERT_TRUE(again.ok()) << again.status().message() << "\n" << text;
  expect_same(*original, *again);
}

constexpr const char* minimal = R"(name: s
duration: 5s
cluster: {nodes: 3}
workload: {clients: 1, keys: 1, rate: 10/s, mix: {put: 1}}
checks: []
expect: pass
)";

TEST(ScenarioSeed, AbsentByDefaultReadWhenGiven) {
  const core::Result<Scenario> without = load_scenario(minimal, "s.yaml");
  ASSERT_TRUE(without.ok()) << without.status().message();
  EXPECT_FALSE(without->seed.has_value());
  const core::Result<Scenario> with =
      load_scenario(std::string(minimal) + "seed: 18446744073709551615\n", "s.yaml");
  ASSERT_TRUE(with.ok()) << with.status().message();
  EXPECT_EQ(with->seed, 18446744073709551615ULL);
}

TEST(ScenarioSeed, RefusedWhenNotAWholeNumber) {
  for (const char* bad : {"seed: -1\n", "seed: x\n", "seed: 1.5\n", "seed: [1]\n"}) {
    const core::Result<Scenario> loaded = load_scenario(std::string(minimal) + bad, "s.yaml");
    ASSERT_FALSE(loaded.ok()) << bad;
    EXPECT_NE(loaded.status().message().find("s.yaml:7:"), std::string::npos)
        << loaded.status().message();
    EXPECT_NE(loaded.status().message().find("seed"), std::string::npos);
  }
}

}  // namespace
}  // namespace vigil::sim
