// The scenario loader: a good file becomes the Scenario it describes, and every kind of bad
// file is refused with "file:line:column: path: reason" pointing at what is wrong.

#include "sim/scenario.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace vigil::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The example of issue 3, whole.
constexpr const char* example = R"(name: partition-heal
duration: 120s
cluster:
  nodes: 5
  config: {quorum_settings: {N: 3, R: 2, W: 2}, conflict_resolution: siblings}
network: {latency: {min: 1ms, max: 20ms}, loss: 0.01, duplicate: 0.01, reorder: 0.05}
workload:
  clients: 8
  keys: 20
  rate: 200/s
  mix: {get: 0.4, put: 0.6, delete: 0.0}
  mode: read_modify_write
  consistency: quorum
faults:
  - {at: 20s, partition: [[n1, n2], [n3, n4, n5]]}
  - {at: 30s, crash: n4}
  - {at: 40s, restart: n4}
  - {at: 45s, clock: {node: n2, skew: -3s}}
  - {at: 50s, pause: n5, for: 5s}
  - {at: 60s, heal: all}
checks: [no_lost_writes, stale_reads]
expect: pass
)";

// A small valid scenario that error cases extend: its lines are numbered in comments.
constexpr const char* minimal_head = R"(name: t
duration: 10s
cluster: {nodes: 3}
workload: {clients: 1, keys: 1, rate: 10/s, mix: {get: 0.5, put: 0.5}}
checks: [no_lost_writes]
expect: pass
)";  // lines 1-6; what a test appends starts on line 7

Scenario load_ok(const std::string& text) {
  const core::Result<Scenario> scenario = load_scenario(text, "t.yaml");
  EXPECT_TRUE(scenario.ok()) << scenario.status().message();
  return scenario.ok() ? *scenario : Scenario{};
}

// The refusal's message, which must start with `position` and contain `reason`.
void expect_refused(const std::string& text, const std::string& position,
                    const std::string& reason) {
  const core::Result<Scenario> scenario = load_scenario(text, "t.yaml");
  ASSERT_FALSE(scenario.ok()) << "accepted:\n" << text;
  EXPECT_EQ(scenario.status().code(), core::Code::invalid_argument);
  const std::string message = scenario.status().message();
  EXPECT_EQ(message.rfind(position + ": ", 0), 0u) << message;
  EXPECT_NE(message.find(reason), std::string::npos) << message;
}

TEST(ScenarioLoader, LoadsTheIssueExample) {
  const Scenario s = load_ok(example);
  EXPECT_EQ(s.name, "partition-heal");
  EXPECT_EQ(s.file, "t.yaml");
  EXPECT_EQ(s.duration, seconds(120));
  EXPECT_EQ(s.nodes, 5u);
  EXPECT_EQ(s.config.quorum_settings.n, 3u);
  EXPECT_EQ(s.config.conflict_resolution, core::ConflictMode::siblings);
  EXPECT_EQ(s.network.latency.min, milliseconds(1));
  EXPECT_EQ(s.network.latency.max, milliseconds(20));
  EXPECT_DOUBLE_EQ(s.network.loss, 0.01);
  EXPECT_DOUBLE_EQ(s.network.reorder, 0.05);
  EXPECT_EQ(s.workload.clients, 8u);
  EXPECT_EQ(s.workload.keys, 20u);
  EXPECT_DOUBLE_EQ(s.workload.rate_per_s, 200);
  EXPECT_DOUBLE_EQ(s.workload.put, 0.6);
  EXPECT_EQ(s.workload.mode, WorkloadMode::read_modify_write);
  EXPECT_EQ(s.workload.consistency, core::Consistency::quorum);
  ASSERT_EQ(s.faults.size(), 6u);
  EXPECT_EQ(s.faults[0].kind, FaultKind::partition);
  ASSERT_EQ(s.faults[0].groups.size(), 2u);
  EXPECT_EQ(s.faults[0].groups[1], (std::vector<NodeId>{"n3", "n4", "n5"}));
  EXPECT_EQ(s.faults[0].line, 15u);
  EXPECT_EQ(s.faults[1].kind, FaultKind::crash);
  EXPECT_EQ(s.faults[1].node, "n4");
  EXPECT_EQ(s.faults[2].kind, FaultKind::restart);
  EXPECT_EQ(s.faults[3].kind, FaultKind::clock);
  EXPECT_EQ(s.faults[3].skew, seconds(-3));
  EXPECT_EQ(s.faults[4].kind, FaultKind::pause);
  EXPECT_EQ(s.faults[4].length, seconds(5));
  EXPECT_EQ(s.faults[5].kind, FaultKind::heal);
  EXPECT_EQ(s.faults[5].at, seconds(60));
  ASSERT_EQ(s.checks.size(), 2u);
  EXPECT_EQ(s.checks[1].name, "stale_reads");
  EXPECT_FALSE(s.checks[1].max.has_value());
  EXPECT_EQ(s.expect, Expectation::pass);
  EXPECT_EQ(scenario_node_ids(s), (std::vector<NodeId>{"n1", "n2", "n3", "n4", "n5"}));
}

TEST(ScenarioLoader, DefaultsTheOptionalSectionsAndSortsFaultsByTime) {
  const Scenario s = load_ok(std::string(minimal_head) + R"(faults:
  - {at: 5s, heal: all}
  - {at: 1s, one_way: {from: [n1], to: [n2, n3]}}
  - {at: 5s, clog: {node: n2, delay: 50ms, for: 2s}}
  - {at: 2s, lose_write: n3}
  - {at: 2s, corrupt: n1}
  - {at: 3s, clock: {node: n1, drift: 0.001, jump: +2s}}
)");
  EXPECT_EQ(s.network.loss, 0);
  EXPECT_EQ(s.workload.mode, WorkloadMode::read_modify_write);
  EXPECT_EQ(s.workload.consistency, core::Consistency::quorum);
  EXPECT_EQ(s.config, config::Config{});
  ASSERT_EQ(s.faults.size(), 6u);
  EXPECT_EQ(s.faults[0].kind, FaultKind::one_way);
  EXPECT_EQ(s.faults[0].to, (std::vector<NodeId>{"n2", "n3"}));
  EXPECT_EQ(s.faults[1].kind, FaultKind::lose_write);  // same time: file order kept
  EXPECT_EQ(s.faults[2].kind, FaultKind::corrupt);
  EXPECT_EQ(s.faults[3].kind, FaultKind::clock);
  EXPECT_DOUBLE_EQ(s.faults[3].drift, 0.001);
  EXPECT_EQ(s.faults[3].jump, seconds(2));
  EXPECT_EQ(s.faults[4].kind, FaultKind::heal);
  EXPECT_EQ(s.faults[5].kind, FaultKind::clog);
  EXPECT_EQ(s.faults[5].delay, milliseconds(50));
  EXPECT_EQ(s.faults[5].length, seconds(2));
}

TEST(ScenarioLoader, AcceptsSeedConsistencyNamesAndAStaleReadBound) {
  const Scenario s = load_ok(R"(name: t
duration: 1m
cluster: {nodes: 3}
workload: {clients: 2, keys: 3, rate: 600/m, mix: {put: 1}, mode: blind, consistency: strong}
checks: [no_lost_writes, {stale_reads: {max: 0}}]
expect: fail
)");
  EXPECT_EQ(s.duration, seconds(60));
  EXPECT_DOUBLE_EQ(s.workload.rate_per_s, 10);
  EXPECT_EQ(s.workload.mode, WorkloadMode::blind);
  EXPECT_EQ(s.workload.consistency, core::Consistency::all);
  ASSERT_EQ(s.checks.size(), 2u);
  EXPECT_EQ(s.checks[1].max, std::optional<std::uint64_t>(0));
  EXPECT_EQ(s.expect, Expectation::fail);
}

TEST(ScenarioLoader, AcceptsAPipelineDepthAndTheReadYourWritesCheck) {
  const Scenario s = load_ok(R"(name: t
duration: 1m
cluster: {nodes: 3}
workload: {clients: 2, keys: 3, rate: 10/s, mix: {get: 0.5, put: 0.5}, pipeline: 4}
checks: [{read_your_writes: {max: 2}}]
expect: pass
)");
  EXPECT_EQ(s.workload.pipeline, 4u);
  ASSERT_EQ(s.checks.size(), 1u);
  EXPECT_EQ(s.checks[0].name, "read_your_writes");
  EXPECT_EQ(s.checks[0].max, std::optional<std::uint64_t>(2));
  EXPECT_EQ(load_ok(minimal_head).workload.pipeline, 0u);
  expect_refused(R"(name: t
duration: 1m
cluster: {nodes: 3}
workload: {clients: 2, keys: 3, rate: 10/s, mix: {put: 1}, pipeline: 129}
checks: [no_lost_writes]
expect: pass
)", "t.yaml:4:70", "workload.pipeline: 129 is out of range");
}

// set mode's `condition: nx|xx` makes every put SET k v NX|XX (sim/workload.cpp).
TEST(ScenarioLoader, AcceptsAPutConditionInSetModeOnly) {
  const Scenario s = load_ok(R"(name: t
duration: 1m
cluster: {nodes: 3}
workload: {clients: 2, keys: 3, rate: 10/s, mix: {get: 0.5, put: 0.5}, mode: set, condition: nx}
checks: [no_lost_writes]
expect: pass
)");
  EXPECT_EQ(s.workload.put_condition, core::WriteCondition::if_absent);
  EXPECT_EQ(load_ok(minimal_head).workload.put_condition, core::WriteCondition::always);
  expect_refused(R"(name: t
duration: 1m
cluster: {nodes: 3}
workload: {clients: 2, keys: 3, rate: 10/s, mix: {put: 1}, condition: nx}
checks: [no_lost_writes]
expect: pass
)", "t.yaml:4:71", "only set mode has conditional puts");
  expect_refused(R"(name: t
duration: 1m
cluster: {nodes: 3}
workload: {clients: 2, keys: 3, rate: 10/s, mix: {put: 1}, mode: set, condition: ifabsent}
checks: [no_lost_writes]
expect: pass
)", "t.yaml:4:82", "expected none, nx or xx, not 'ifabsent'");
}

TEST(ScenarioLoader, AcceptsAClientRoutingStrategyAndTheLatencyCheck) {
  const Scenario s = load_ok(R"(name: t
duration: 1m
cluster: {nodes: 3}
workload: {clients: 2, keys: 3, rate: 10/s, mix: {get: 0.5, put: 0.5}, routing: round_robin}
checks: [{latency: {p99_s: {max: 2}, error_fraction: {max: 0.1}}}]
expect: pass
)");
  EXPECT_EQ(s.workload.routing, std::optional(core::RouteStrategy::round_robin));
  ASSERT_EQ(s.checks.size(), 1u);
  EXPECT_EQ(s.checks[0].max_of.at("p99_s"), 2.0);
  EXPECT_EQ(s.checks[0].max_of.at("error_fraction"), 0.1);
  EXPECT_FALSE(load_ok(minimal_head).workload.routing.has_value());
  expect_refused(R"(name: t
duration: 1m
cluster: {nodes: 3}
workload: {clients: 2, keys: 3, rate: 10/s, mix: {put: 1}, routing: nearest}
checks: [no_lost_writes]
expect: pass
)", "t.yaml:4:69", "expected token_aware, round_robin or random, not 'nearest'");
  expect_refused(R"(name: t
duration: 1m
cluster: {nodes: 3}
workload: {clients: 2, keys: 3, rate: 10/s, mix: {put: 1}, pipeline: 2, routing: random}
checks: [no_lost_writes]
expect: pass
)", "t.yaml:4:82", "cannot be combined with workload.pipeline");
}

TEST(ScenarioLoader, RefusesUnknownKeysWhereTheyAre) {
  expect_refused(std::string(minimal_head) + "fualts: []\n", "t.yaml:7:1",
                 "fualts: unknown key");
  expect_refused(R"(name: t
duration: 10s
cluster: {nodes: 3}
workload: {clients: 1, keys: 1, rate: 10/s, mix: {get: 0.5, put: 0.5}, modes: blind}
checks: []
expect: pass
)",
                 "t.yaml:4:72", "workload.modes: unknown key");
  expect_refused(std::string(minimal_head) + "faults:\n  - {at: 1s, crash: n1, for: 2s}\n",
                 "t.yaml:8:25", "faults[0].for: unknown key");
  expect_refused(std::string(minimal_head) + "name: again\n", "t.yaml:7:1", "key given twice");
}

TEST(ScenarioLoader, RefusesMissingFields) {
  expect_refused(R"(duration: 10s
cluster: {nodes: 3}
workload: {clients: 1, keys: 1, rate: 10/s, mix: {put: 1}}
checks: []
expect: pass
)",
                 "t.yaml:1:1", "missing required key 'name'");
  expect_refused(R"(name: t
duration: 10s
cluster: {nodes: 3}
workload: {clients: 1, rate: 10/s, mix: {put: 1}}
checks: []
expect: pass
)",
                 "t.yaml:4:11", "workload: missing required key 'keys'");
  expect_refused(std::string(minimal_head) + "faults:\n  - {crash: n1}\n", "t.yaml:8:5",
                 "missing required key 'at'");
  expect_refused(std::string(minimal_head) + "faults:\n  - {at: 1s, pause: n1}\n", "t.yaml:8:5",
                 "missing required key 'for'");
  expect_refused(std::string(minimal_head) + "faults:\n  - {at: 1s, explode: n1}\n",
                 "t.yaml:8:5", "no fault kind given");
}

TEST(ScenarioLoader, RefusesNodesThatDoNotExist) {
  expect_refused(std::string(minimal_head) + "faults:\n  - {at: 1s, partition: [[n1], [n2, n9]]}\n",
                 "t.yaml:8:37", "faults[0].partition[1][1]: no node n9 in a 3-node cluster");
  expect_refused(std::string(minimal_head) + "faults:\n  - {at: 1s, crash: node4}\n",
                 "t.yaml:8:21", "'node4' is not a node name");
  expect_refused(std::string(minimal_head) + "faults:\n  - {at: 1s, crash: n0}\n",
                 "t.yaml:8:21", "is not a node name");
  expect_refused(std::string(minimal_head) + "faults:\n  - {at: 1s, partition: [[n1, n2], [n2, n3]]}\n",
                 "t.yaml:8:37", "n2 is in two groups");
  expect_refused(std::string(minimal_head) + "faults:\n  - {at: 1s, partition: [[n1, n2, n3]]}\n",
                 "t.yaml:8:25", "one group holding every node cuts nothing");
  load_ok(std::string(minimal_head) + "faults:\n  - {at: 1s, partition: [[n1]]}\n");
  expect_refused(std::string(minimal_head) +
                     "faults:\n  - {at: 1s, one_way: {from: [n1, n2], to: [n2]}}\n",
                 "t.yaml:8:45", "n2 is on both sides");
}

TEST(ScenarioLoader, RefusesImpossibleValues) {
  const std::string head = std::string(minimal_head);
  expect_refused(head + "faults:\n  - {at: 11s, crash: n1}\n", "t.yaml:8:10",
                 "after the end of the run");
  expect_refused(head + "faults:\n  - {at: 10s, crash: n1}\n", "t.yaml:8:10",
                 "would never happen");
  load_ok(head + "faults:\n  - {at: 9999ms, crash: n1}\n");
  expect_refused(head + "network: {loss: 1.5}\n", "t.yaml:7:17", "within [0, 1]");
  expect_refused(head + "network: {reorder: -0.1}\n", "t.yaml:7:20", "within [0, 1]");
  expect_refused(head + "network: {latency: {min: 20ms, max: 1ms}}\n", "t.yaml:7:37",
                 "must not be less than min");
  expect_refused(head + "faults:\n  - {at: 2 parsecs, crash: n1}\n", "t.yaml:8:10",
                 "faults[0].at");
  expect_refused(head + "faults:\n  - {at: 1s, clock: {node: n1}}\n", "t.yaml:8:21",
                 "at least one of skew, drift, jump");
  expect_refused(head + "faults:\n  - {at: 1s, clock: {node: n1, drift: 2}}\n", "t.yaml:8:39",
                 "within [-0.5, 0.5]");
  expect_refused(head + "faults:\n  - {at: 1s, clog: {node: n1, delay: 0s, for: 1s}}\n",
                 "t.yaml:8:38", "must be more than 0");
  expect_refused(head + "faults:\n  - {at: 1s, heal: n1}\n", "t.yaml:8:20", "expected 'all'");
  expect_refused(head + "faults:\n  - {at: 1s, crash: n1, restart: n1}\n", "t.yaml:8:25",
                 "one fault per entry");

  expect_refused(R"(name: t
duration: 10s
cluster: {nodes: 3}
workload: {clients: 1, keys: 1, rate: 10/s, mix: {get: 0.5, put: 0.4}}
checks: []
expect: pass
)",
                 "t.yaml:4:50", "must sum to 1, not 0.9");
  expect_refused(R"(name: t
duration: 0s
cluster: {nodes: 3}
workload: {clients: 1, keys: 1, rate: 10/s, mix: {put: 1}}
checks: []
expect: pass
)",
                 "t.yaml:2:11", "must be more than 0");
  expect_refused(R"(name: t
duration: 10s
cluster: {nodes: 3}
workload: {clients: 0, keys: 1, rate: 10/s, mix: {put: 1}}
checks: []
expect: pass
)",
                 "t.yaml:4:21", "out of range");
  expect_refused(R"(name: t
duration: 10s
cluster: {nodes: 3}
workload: {clients: 1, keys: 1, rate: 10, mix: {put: 1}}
checks: []
expect: pass
)",
                 "t.yaml:4:39", "expected a rate such as 200/s");
  expect_refused(R"(name: t
duration: 10s
cluster: {nodes: 3}
workload: {clients: 1, keys: 1, rate: 10/s, mix: {put: 1}, consistency: linearizable}
checks: []
expect: pass
)",
                 "t.yaml:4:73", "expected one, quorum, all, eventual or strong");
  expect_refused(R"(name: t
duration: 10s
cluster: {nodes: 3}
workload: {clients: 1, keys: 1, rate: 10/s, mix: {put: 1}}
checks: []
expect: maybe
)",
                 "t.yaml:6:9", "expected pass or fail");
  expect_refused(R"(name: bad name!
duration: 10s
cluster: {nodes: 3}
workload: {clients: 1, keys: 1, rate: 10/s, mix: {put: 1}}
checks: []
expect: pass
)",
                 "t.yaml:1:7", "[A-Za-z0-9_.-]");
}

TEST(ScenarioLoader, RefusesFaultSequencesTheSimulatorCouldNotApply) {
  const std::string head = std::string(minimal_head) + "faults:\n";
  expect_refused(head + "  - {at: 1s, restart: n2}\n", "t.yaml:8:5",
                 "n2 is not crashed at 1s: nothing to restart");
  expect_refused(head + "  - {at: 1s, crash: n2}\n  - {at: 2s, crash: n2}\n", "t.yaml:9:5",
                 "n2 is already crashed at 2s");
  expect_refused(head + "  - {at: 1s, crash: n2}\n  - {at: 2s, pause: n2, for: 1s}\n",
                 "t.yaml:9:5", "n2 is crashed at 2s");
  expect_refused(head + "  - {at: 1s, pause: n2, for: 5s}\n  - {at: 2s, crash: n2}\n",
                 "t.yaml:9:5", "n2 is paused at 2s");
  // Written out of order: the check follows time, not file order.
  expect_refused(head + "  - {at: 3s, restart: n2}\n  - {at: 4s, crash: n2}\n", "t.yaml:8:5",
                 "not crashed at 3s");
  load_ok(head + "  - {at: 4s, restart: n2}\n  - {at: 3s, crash: n2}\n"
                 "  - {at: 5s, pause: n2, for: 1s}\n  - {at: 6s, crash: n2}\n");
}

TEST(ScenarioLoader, RefusesBadChecks) {
  const std::string head = R"(name: t
duration: 10s
cluster: {nodes: 3}
workload: {clients: 1, keys: 1, rate: 10/s, mix: {put: 1}}
expect: pass
)";
  expect_refused(head + "checks: [no_lost_writes, linearizable]\n", "t.yaml:6:26",
                 "unknown check 'linearizable'");
  expect_refused(head + "checks: [stale_reads, stale_reads]\n", "t.yaml:6:23", "listed twice");
  expect_refused(head + "checks: [{no_lost_writes: {max: 0}}]\n", "t.yaml:6:27",
                 "takes no options");
  expect_refused(head + "checks: [{stale_reads: {min: 0}}]\n", "t.yaml:6:25",
                 "stale_reads.min: unknown key");
  expect_refused(head + "checks: [{stale_reads: {max: -1}}]\n", "t.yaml:6:30",
                 "checks[0].stale_reads.max");
}

TEST(ScenarioLoader, RefusesABadClusterConfigWithItsPositionInTheScenario) {
  expect_refused(R"(name: t
duration: 10s
cluster:
  nodes: 5
  config: {quorum_settings: {N: 3, R: 4, W: 2}}
workload: {clients: 1, keys: 1, rate: 10/s, mix: {put: 1}}
checks: []
expect: pass
)",
                 "t.yaml:5:39", "cluster.config.quorum_settings.R");
  expect_refused(R"(name: t
duration: 10s
cluster:
  nodes: 5
  config: {conflict_resolution: vibes}
workload: {clients: 1, keys: 1, rate: 10/s, mix: {put: 1}}
checks: []
expect: pass
)",
                 "t.yaml:5:33", "cluster.config.conflict_resolution");
  expect_refused(R"(name: t
duration: 10s
cluster:
  nodes: 2
workload: {clients: 1, keys: 1, rate: 10/s, mix: {put: 1}}
checks: []
expect: pass
)",
                 "t.yaml:4:10", "2 nodes cannot hold N=3 replicas");
}

TEST(ScenarioLoader, RefusesMalformedYamlAndNonMappings) {
  const core::Result<Scenario> broken = load_scenario("name: [unclosed\n", "t.yaml");
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().message().rfind("t.yaml:", 0), 0u) << broken.status().message();
  expect_refused("", "t.yaml", "the scenario is empty");
  expect_refused("- a\n- b\n", "t.yaml:1:1", "expected a mapping");
  expect_refused(std::string(minimal_head) + "faults: {at: 1s}\n", "t.yaml:7:9",
                 "faults: expected a list");
}

TEST(ScenarioLoader, ReportsAMissingFile) {
  const core::Result<Scenario> missing = load_scenario_file("/nonexistent/x.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/x.yaml"), std::string::npos);
}

// Every shipped scenario loads, and its name is its file name (the table and the replay
// command then agree).
TEST(ScenarioLoader, EveryShippedScenarioLoads) {
  const std::filesystem::path folder = std::filesystem::path(VIGIL_SOURCE_DIR) / "scenarios";
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.path().extension() != ".yaml") continue;
    const core::Result<Scenario> scenario = load_scenario_file(entry.path().string());
    ASSERT_TRUE(scenario.ok()) << scenario.status().message();
    EXPECT_EQ(scenario->name, entry.path().stem().string());
    ++count;
  }
  EXPECT_GE(count, 8);
}

}  // namespace
}  // namespace vigil::sim
