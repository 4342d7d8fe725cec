// The hints_drained and availability checks on hand-built results: each passes where the
// run is clean and fails, with the right numbers, where it is not; and the scenario options
// that drive them (quiesce, expire, min) load and are refused precisely.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/check_availability.h"
#include "sim/check_hints.h"
#include "sim/scenario.h"

namespace vigil::sim {
namespace {

Operation operation(core::ClientOp kind, const std::string& key, const std::string& node,
                    std::int64_t invoked_ms, std::int64_t completed_ms, Outcome outcome) {
  Operation op;
  op.op = kind;
  op.key = key;
  op.node = node;
  op.invoked_us = invoked_ms * 1000;
  op.completed_us = completed_ms * 1000;
  op.outcome = outcome;
  return op;
}

void add(History& history, const Operation& op) {
  const std::uint64_t index = history.invoke(op);
  if (op.completed_us >= 0) {
    history.complete(index, op.completed_us, op.outcome, op.code, op.message, op.values);
  }
}

CheckSpec spec_named(const std::string& name) {
  CheckSpec spec;
  spec.name = name;
  return spec;
}

Scenario five_nodes() {
  Scenario scenario;
  scenario.name = "hand-built";
  scenario.nodes = 5;
  return scenario;
}

FaultState all_up(std::int64_t at_ms, std::uint32_t nodes = 5) {
  FaultState state;
  state.at_us = at_ms * 1000;
  state.down.assign(nodes, false);
  state.open.assign(nodes, std::vector<bool>(nodes, true));
  return state;
}

TEST(HintsDrained, PassesWhenEverythingWasDeliveredAndFailsOnPendingOrExpiry) {
  const Scenario scenario = five_nodes();
  SimulationResult result;
  result.counters = {{"node.hints_stored", 10},
                     {"node.hints_delivered", 10},
                     {"node.hint_deliveries_received", 11}};  // one delivery was duplicated
  result.hints_pending = {{"n1", 0}, {"n2", 0}};
  CheckSpec spec = spec_named("hints_drained");
  CheckResult check = check_hints_drained(scenario, result, spec);
  EXPECT_TRUE(check.ok);
  EXPECT_EQ(check.counts.at("stored"), 10u);
  EXPECT_EQ(check.counts.at("delivered"), 10u);
  EXPECT_EQ(check.counts.at("pending"), 0u);
  EXPECT_EQ(check.counts.at("delivered_not_received"), 0u);

  // A hint erased as delivered that its target never received (erased before the ack).
  result.counters["node.hint_deliveries_received"] = 8;
  check = check_hints_drained(scenario, result, spec);
  EXPECT_FALSE(check.ok);
  EXPECT_EQ(check.counts.at("delivered_not_received"), 2u);
  result.counters["node.hint_deliveries_received"] = 11;

  result.hints_pending["n2"] = 3;
  check = check_hints_drained(scenario, result, spec);
  EXPECT_FALSE(check.ok);
  EXPECT_EQ(check.counts.at("pending"), 3u);
  ASSERT_FALSE(check.examples.empty());
  EXPECT_NE(check.examples[0].find("n2 still holds 3 hints"), std::string::npos);

  result.hints_pending["n2"] = 0;
  result.counters["node.hints_expired"] = 2;
  EXPECT_FALSE(check_hints_drained(scenario, result, spec).ok) << "expiry not expected";
  spec.expire = true;
  EXPECT_TRUE(check_hints_drained(scenario, result, spec).ok);
  result.counters.erase("node.hints_expired");
  EXPECT_FALSE(check_hints_drained(scenario, result, spec).ok) << "expiry expected, none seen";
}

TEST(HintsDrained, CountsAcknowledgedWritesAReplicaStillLacked) {
  const Scenario scenario = five_nodes();  // read_modify_write
  SimulationResult result;
  Operation put = operation(core::ClientOp::put, "k1", "n1", 1, 2, Outcome::ok);
  put.element = "e1";
  add(result.history, put);
  Operation second = operation(core::ClientOp::put, "k1", "n1", 3, 4, Outcome::ok);
  second.element = "e2";
  add(result.history, second);
  Operation final_read = operation(core::ClientOp::get, "k1", "n1", 10, 11, Outcome::ok);
  final_read.final_read = true;
  final_read.values = {"e1,e2"};
  add(result.history, final_read);
  result.replica_values["k1"] = {{"n1", {"e1,e2"}}, {"n2", {"e1,e2"}}, {"n3", {"e1"}}};
  CheckResult check = check_hints_drained(scenario, result, spec_named("hints_drained"));
  EXPECT_TRUE(check.ok) << "reported, not gated";
  EXPECT_EQ(check.counts.at("writes_missing_on_replicas"), 1u);
  EXPECT_EQ(check.counts.at("keys_missing_on_replicas"), 1u);
  ASSERT_FALSE(check.examples.empty());
  EXPECT_NE(check.examples[0].find("replica n3 lacked 'e2'"), std::string::npos)
      << check.examples[0];
}

TEST(Availability, OperationsThatCouldSucceedMustAndOthersAreExcluded) {
  const Scenario scenario = five_nodes();  // N 3, R 2, W 2
  SimulationResult result;
  result.sim_time_us = 100'000'000;
  const auto ring =
      core::Ring::build(scenario_node_ids(scenario), config::ring_options(scenario.config));
  const core::Key key = "k1";
  const auto list = ring.preference_list(core::token_of_key(key), 3);
  // Healthy until 10s; list[2] down 10-20s; list[1] and list[2] down 20-30s; list[0] cut off
  // from list[1] by a partition 30-40s; healed after.
  result.fault_timeline.push_back(all_up(0));
  const auto index = [](const core::NodeId& id) { return std::stoul(id.substr(1)) - 1; };
  FaultState one_down = all_up(10'000);
  one_down.down[index(list[2])] = true;
  result.fault_timeline.push_back(one_down);
  FaultState two_down = one_down;
  two_down.at_us = 20'000'000;
  two_down.down[index(list[1])] = true;
  result.fault_timeline.push_back(two_down);
  FaultState cut = all_up(30'000);
  cut.open[index(list[0])][index(list[1])] = false;
  cut.open[index(list[2])][index(list[0])] = false;  // one way counts too
  result.fault_timeline.push_back(cut);
  result.fault_timeline.push_back(all_up(40'000));

  add(result.history, operation(core::ClientOp::put, key, list[0], 1'000, 1'010, Outcome::ok));
  add(result.history, operation(core::ClientOp::put, key, list[0], 11'000, 11'010, Outcome::ok));
  add(result.history,
      operation(core::ClientOp::put, key, list[0], 12'000, 17'000, Outcome::indeterminate));
  add(result.history,  // two replicas down: excluded whatever happened
      operation(core::ClientOp::get, key, list[0], 21'000, 26'000, Outcome::indeterminate));
  add(result.history,  // sent to a node that was down
      operation(core::ClientOp::get, key, list[2], 15'000, 15'010, Outcome::indeterminate));
  add(result.history,  // list[1] and list[2] unreachable from list[0]
      operation(core::ClientOp::put, key, list[0], 31'000, 36'000, Outcome::indeterminate));
  add(result.history, operation(core::ClientOp::get, key, list[0], 41'000, 41'010, Outcome::ok));

  CheckSpec spec = spec_named("availability");
  CheckResult check = check_availability(scenario, result, spec);
  EXPECT_TRUE(check.ok) << "no bound: a number to watch";
  EXPECT_EQ(check.counts.at("operations"), 7u);
  EXPECT_EQ(check.counts.at("eligible"), 4u);
  EXPECT_EQ(check.counts.at("succeeded"), 3u);
  EXPECT_EQ(check.counts.at("failed"), 1u);
  EXPECT_EQ(check.counts.at("excluded_entry_down"), 1u);
  EXPECT_EQ(check.counts.at("excluded_replicas_down"), 2u);
  EXPECT_EQ(check.counts.at("under_faults"), 2u);
  EXPECT_EQ(check.counts.at("under_faults_succeeded"), 1u);
  EXPECT_DOUBLE_EQ(check.ratios.at("fraction"), 0.75);
  ASSERT_EQ(check.examples.size(), 1u);
  EXPECT_NE(check.examples[0].find("with 1 replicas unavailable"), std::string::npos)
      << check.examples[0];
  spec.min = 0.75;
  EXPECT_TRUE(check_availability(scenario, result, spec).ok);
  spec.min = 0.8;
  EXPECT_FALSE(check_availability(scenario, result, spec).ok);
}

constexpr const char* base_scenario = R"(name: x
duration: 10s
cluster: {nodes: 3}
workload: {clients: 1, keys: 1, rate: 10/s, mix: {put: 1}}
)";

TEST(HintCheckOptions, LoadAndAreRefusedPrecisely) {
  auto loaded = load_scenario(std::string(base_scenario) + "quiesce: 40s\n" +
                                  "checks: [{hints_drained: {expire: true}}, " +
                                  "{availability: {min: 0.99}}]\nexpect: pass\n",
                              "x.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
  EXPECT_EQ(loaded->quiesce, std::chrono::seconds(40));
  ASSERT_EQ(loaded->checks.size(), 2u);
  EXPECT_TRUE(loaded->checks[0].expire);
  EXPECT_EQ(loaded->checks[1].min, 0.99);

  loaded = load_scenario(std::string(base_scenario) +
                             "checks: [hints_drained, availability]\nexpect: pass\n",
                         "x.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
  EXPECT_EQ(loaded->quiesce, std::chrono::seconds(10));
  EXPECT_FALSE(loaded->checks[0].expire);
  EXPECT_FALSE(loaded->checks[1].min.has_value());

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"quiesce: 0s\nchecks: []\n", "quiesce: must be more than 0"},
      {"checks: [{availability: {min: 1.5}}]\n", "checks[0].availability.min"},
      {"checks: [{availability: {max: 1}}]\n", "checks[0].availability"},
      {"checks: [{hints_drained: {expire: maybe}}]\n", "expected true or false"},
  };
  for (const auto& [text, message] : bad) {
    auto refused = load_scenario(std::string(base_scenario) + text + "expect: pass\n", "x.yaml");
    ASSERT_FALSE(refused.ok()) << text;
    EXPECT_NE(refused.status().message().find(message), std::string::npos)
        << refused.status().message();
  }
}

}  // namespace
}  // namespace vigil::sim
