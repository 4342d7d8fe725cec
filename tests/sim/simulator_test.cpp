#include "sim/simulator.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>

#include "config/node_options.h"
#include "sim/node_host.h"
#include "sim/workload.h"

namespace vigil::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

Scenario small_scenario() {
  Scenario scenario;
  scenario.name = "small";
  scenario.duration = seconds(10);
  scenario.nodes = 3;
  scenario.network.latency.min = milliseconds(1);
  scenario.network.latency.max = milliseconds(10);
  scenario.workload.clients = 4;
  scenario.workload.keys = 5;
  scenario.workload.rate_per_s = 50;
  return scenario;
}

Fault fault_at(Duration at, FaultKind kind, NodeId node = "") {
  Fault fault;
  fault.at = at;
  fault.kind = kind;
  fault.node = std::move(node);
  return fault;
}

std::uint64_t counter(const SimulationResult& result, const std::string& name) {
  const auto it = result.counters.find(name);
  return it == result.counters.end() ? 0 : it->second;
}

std::string history_text(const SimulationResult& result) {
  std::ostringstream out;
  result.history.write_jsonl(out);
  return out.str();
}

// Elements whose put was acknowledged, by key.
std::map<core::Key, std::set<std::string>> acknowledged(const History& history) {
  std::map<core::Key, std::set<std::string>> elements;
  for (const Operation& op : history.operations()) {
    if (op.op == core::ClientOp::put && op.outcome == Outcome::ok && !op.final_read) {
      elements[op.key].insert(op.element);
    }
  }
  return elements;
}

// What the successful final read of each key saw (the union of its siblings' sets).
std::map<core::Key, std::set<std::string>> final_sets(const History& history) {
  std::map<core::Key, std::set<std::string>> sets;
  for (const Operation& op : history.operations()) {
    if (!op.final_read || op.outcome != Outcome::ok) continue;
    auto& set = sets[op.key];
    for (const core::Value& value : op.values) {
      for (const std::string_view element : split_set(value)) set.emplace(element);
    }
  }
  return sets;
}

// Every acknowledged element is in the final read of its key; returns how many are not.
std::size_t lost_elements(const History& history) {
  const auto finals = final_sets(history);
  std::size_t lost = 0;
  for (const auto& [key, elements] : acknowledged(history)) {
    const auto it = finals.find(key);
    for (const std::string& element : elements) {
      if (it == finals.end() || it->second.count(element) == 0) lost += 1;
    }
  }
  return lost;
}

TEST(Simulator, SameSeedSameRunOtherSeedOtherRun) {
  const Scenario scenario = small_scenario();
  const SimulationResult first = simulate(scenario, 7);
  const SimulationResult again = simulate(scenario, 7);
  const SimulationResult other = simulate(scenario, 8);
  EXPECT_EQ(first.trace_hash, again.trace_hash);
  EXPECT_EQ(first.events, again.events);
  EXPECT_EQ(first.sim_time_us, again.sim_time_us);
  EXPECT_EQ(history_text(first), history_text(again));
  EXPECT_EQ(first.counters, again.counters);
  EXPECT_NE(first.trace_hash, other.trace_hash);
  EXPECT_NE(history_text(first), history_text(other));
}

TEST(Simulator, WithoutFaultsEveryOperationSucceedsAndNothingIsLost) {
  const SimulationResult result = simulate(small_scenario(), 1);
  std::size_t workload_ops = 0, puts = 0, final_reads = 0;
  for (const Operation& op : result.history.operations()) {
    EXPECT_GE(op.completed_us, op.invoked_us) << op.index;
    EXPECT_EQ(op.outcome, Outcome::ok) << op.index << " " << op.message;
    if (op.final_read) {
      final_reads += 1;
      EXPECT_EQ(op.consistency, core::Consistency::all);
      EXPECT_GE(op.invoked_us, core::to_micros(seconds(10)));
    } else {
      workload_ops += 1;
      if (op.op == core::ClientOp::put) puts += 1;
      EXPECT_LT(op.invoked_us, core::to_micros(seconds(10)));
    }
  }
  // 50 ops/s for 10 s, a read-modify-write counting as a get and a put.
  EXPECT_GT(workload_ops, 400u);
  EXPECT_GT(puts, 200u);
  EXPECT_EQ(final_reads, 5u);
  EXPECT_EQ(lost_elements(result.history), 0u);
  EXPECT_EQ(result.faults_injected, 0u);
  EXPECT_EQ(counter(result, "client_timeouts"), 0u);
  EXPECT_GT(counter(result, "messages_arrived"), 1000u);
  EXPECT_EQ(counter(result, "messages_arrived"), counter(result, "messages_sent"));
  EXPECT_GT(counter(result, "store_commits"), 0u);
  EXPECT_GT(result.events, 5000u);
}

TEST(Simulator, TraceHasOneLinePerEvent) {
  std::ostringstream trace;
  SimulationOptions options;
  options.trace = &trace;
  Scenario scenario = small_scenario();
  scenario.duration = seconds(2);
  const SimulationResult result = simulate(scenario, 3);
  const SimulationResult traced = simulate(scenario, 3, options);
  EXPECT_EQ(result.trace_hash, traced.trace_hash);  // tracing changes nothing
  const std::string text = trace.str();
  EXPECT_EQ(static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '\n')), traced.events);
  EXPECT_NE(text.find("deliver n"), std::string::npos);
  EXPECT_NE(text.find("ReplicaWrite"), std::string::npos);
}

// The invariants' cadence (sim/invariant_interval.h) changes how often they are checked and
// nothing else: the trace is the same, and every input is checked at 1.
TEST(Simulator, InvariantCadenceChangesOnlyTheChecks) {
  Scenario scenario = small_scenario();
  scenario.duration = seconds(2);
  scenario.faults.push_back(fault_at(seconds(1), FaultKind::crash, "n2"));
  SimulationOptions every_input;
  every_input.check_invariants_every = 1;
  const SimulationResult checked = simulate(scenario, 5, every_input);
  const SimulationResult sampled = simulate(scenario, 5);
  EXPECT_EQ(checked.trace_hash, sampled.trace_hash);
  // Every input of every life, plus one check per node at the end (the run's end restarts
  // the crashed n2, so all three are live).
  EXPECT_EQ(counter(checked, "invariant_checks"), counter(checked, "node_inputs") + 3);
  const std::uint64_t every = sim_invariant_interval;
  EXPECT_GE(counter(sampled, "invariant_checks"), counter(sampled, "node_inputs") / every);
  EXPECT_LE(counter(sampled, "invariant_checks"), counter(sampled, "node_inputs") / every + 6);
}

// Crashes lose what was not committed, never what a node acknowledged: a write
// acknowledged by W = 2 replicas is durable on both, so a crash of one loses nothing.
TEST(Simulator, CrashAndRestartLoseNoAcknowledgedWrite) {
  Scenario scenario = small_scenario();
  scenario.faults.push_back(fault_at(seconds(2), FaultKind::crash, "n2"));
  scenario.faults.push_back(fault_at(seconds(4), FaultKind::restart, "n2"));
  scenario.faults.push_back(fault_at(seconds(6), FaultKind::crash, "n3"));  // healed at end
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    const SimulationResult result = simulate(scenario, seed);
    EXPECT_EQ(result.faults_injected, 3u);
    EXPECT_EQ(counter(result, "node_crashes"), 2u);
    EXPECT_EQ(counter(result, "node_restarts"), 2u);  // n2 by the script, n3 at the end
    EXPECT_EQ(lost_elements(result.history), 0u) << "seed " << seed;
    EXPECT_EQ(counter(result, "final_reads_unanswered_keys"), 0u);
  }
}

TEST(Simulator, EveryFaultKindRunsAndTheClusterRecovers) {
  Scenario scenario = small_scenario();
  scenario.nodes = 5;
  Fault partition = fault_at(seconds(1), FaultKind::partition);
  partition.groups = {{"n1", "n2"}, {"n3", "n4", "n5"}};
  scenario.faults.push_back(partition);
  Fault one_way = fault_at(seconds(2), FaultKind::one_way);
  one_way.from = {"n1"};
  one_way.to = {"n3"};
  scenario.faults.push_back(one_way);
  scenario.faults.push_back(fault_at(seconds(3), FaultKind::heal));
  Fault pause = fault_at(seconds(3), FaultKind::pause, "n5");
  pause.length = seconds(2);
  scenario.faults.push_back(pause);
  Fault skew = fault_at(seconds(4), FaultKind::clock, "n2");
  skew.skew = seconds(-3);
  skew.drift = 0.01;
  scenario.faults.push_back(skew);
  Fault jump = fault_at(seconds(4), FaultKind::clock, "n3");
  jump.jump = seconds(-10);
  scenario.faults.push_back(jump);
  Fault clog = fault_at(seconds(5), FaultKind::clog, "n1");
  clog.delay = milliseconds(300);
  clog.length = seconds(2);
  scenario.faults.push_back(clog);
  scenario.faults.push_back(fault_at(seconds(6), FaultKind::lose_write, "n4"));
  scenario.faults.push_back(fault_at(seconds(7), FaultKind::corrupt, "n1"));
  scenario.faults.push_back(fault_at(seconds(8), FaultKind::pause, "n2"));  // healed at end
  scenario.faults.back().length = seconds(30);
  const SimulationResult result = simulate(scenario, 11);
  EXPECT_EQ(result.faults_injected, scenario.faults.size());
  EXPECT_GT(counter(result, "messages_dropped_partition"), 0u);
  EXPECT_EQ(counter(result, "node_pauses"), 2u);
  EXPECT_EQ(counter(result, "node_resumes"), 2u);
  EXPECT_EQ(counter(result, "faults_clock"), 2u);
  EXPECT_EQ(counter(result, "faults_corrupt") + counter(result, "faults_corrupt_nothing_durable"),
            1u);
  EXPECT_EQ(counter(result, "final_reads_unanswered_keys"), 0u);
  EXPECT_EQ(simulate(scenario, 11).trace_hash, result.trace_hash);
}

TEST(Simulator, LossyNetworkStillDeterministicAndAnswered) {
  Scenario scenario = small_scenario();
  scenario.network.loss = 0.05;
  scenario.network.duplicate = 0.05;
  scenario.network.reorder = 0.1;
  const SimulationResult result = simulate(scenario, 5);
  EXPECT_GT(counter(result, "messages_dropped_loss"), 0u);
  EXPECT_GT(counter(result, "messages_duplicated"), 0u);
  EXPECT_GT(counter(result, "messages_reordered"), 0u);
  EXPECT_EQ(counter(result, "final_reads_unanswered_keys"), 0u);
  EXPECT_EQ(lost_elements(result.history), 0u);
  EXPECT_EQ(simulate(scenario, 5).trace_hash, result.trace_hash);
}

TEST(SimClock, SkewDriftAndJumpsShapeTheWallClock) {
  SimClock clock(1000000000);
  EXPECT_EQ(clock.wall_us(5), 1000000005);
  clock.set_skew_us(-3000000);
  EXPECT_EQ(clock.wall_us(10), 1000000010 - 3000000);
  clock.set_drift(1000000, 0.001);  // gains 1 ms per second from t = 1 s
  EXPECT_EQ(clock.wall_us(3000000), 1000000000 + 3000000 - 3000000 + 2000);
  clock.set_drift(3000000, 0);  // keeps the 2 ms gained
  EXPECT_EQ(clock.wall_us(10000000), 1000000000 + 10000000 - 3000000 + 2000);
  const core::WallMicros before_jump = clock.wall_us(10000000);
  clock.jump_us(-20000000);  // backwards: a microsecond later the wall clock reads earlier
  EXPECT_EQ(clock.wall_us(10000001), before_jump + 1 - 20000000);
}

// A broken invariant stops the run and prints the one command that replays it.
TEST(SimulatorDeathTest, AnInvariantFailurePrintsTheReplayCommand) {
  Scenario scenario = small_scenario();
  scenario.file = "scenarios/x.yaml";
  scenario.faults.push_back(fault_at(seconds(1), FaultKind::crash, "n9"));  // no such node
  EXPECT_DEATH(simulate(scenario, 5), "replay: vigil sim scenarios/x.yaml --seed 5");
}

// The host level: what a crash keeps is exactly what was committed. A lying disk
// (lose_next_commit) acknowledges a write that a crash then takes back.
config::Config single_node_config() {
  config::Config config;
  config.node.id = "n1";
  config.quorum_settings.n = 1;
  config.quorum_settings.r = 1;
  config.quorum_settings.w = 1;
  return config;
}

TEST(NodeHost, CrashKeepsCommittedAndDropsWhatTheDiskLost) {
  const config::Config config = single_node_config();
  const core::NodeOptions options = config::node_options_from_config(config);
  const core::Ring ring = core::Ring::build({"n1"}, config::ring_options(config));
  NodeHost host(0, options, ring, 99, SimClock(1767225600LL * 1000000));
  // Pipelined commit: replies come when the commit in flight returns (the node_commit
  // event the simulator would schedule); this plays those events at once.
  const auto settle = [&host](HostEffects effects) {
    std::vector<core::ClientReply> replies = std::move(effects.replies);
    while (effects.commit_at_us) {
      effects = host.commit_returned(*effects.commit_at_us, effects.commit_generation);
      for (core::ClientReply& reply : effects.replies) replies.push_back(std::move(reply));
    }
    effects.replies = std::move(replies);
    return effects;
  };
  settle(host.start(0));
  std::uint64_t next_id = 1;
  const auto request = [&](core::ClientOp op, std::string value) {
    core::ClientRequest r;
    r.id = next_id++;
    r.op = op;
    r.key = "k";
    r.value = std::move(value);
    r.context = core::VectorClock{};  // a blind write (VSET with ""): supersedes nothing
    r.consistency = core::Consistency::one;
    HostEffects effects =
        settle(host.client_request(1000 * static_cast<std::int64_t>(r.id), r));
    EXPECT_EQ(effects.replies.size(), 1u);
    return effects.replies.empty() ? core::ClientReply{} : effects.replies.front();
  };
  ASSERT_TRUE(request(core::ClientOp::put, "durable").status.ok());
  host.store().lose_next_commit();
  // With an empty context the second put is concurrent with the first: two siblings.
  ASSERT_TRUE(request(core::ClientOp::put, "lost").status.ok());  // the disk lied
  const core::ClientReply before = request(core::ClientOp::get, "");
  ASSERT_TRUE(before.status.ok());
  EXPECT_EQ(before.values, (std::vector<core::Value>{"durable", "lost"}));
  host.crash();
  EXPECT_EQ(host.state(), ProcessState::crashed);
  host.restart();
  settle(host.start(100000));
  EXPECT_EQ(host.incarnation(), 1u);
  const core::ClientReply after = request(core::ClientOp::get, "");
  ASSERT_TRUE(after.status.ok()) << after.status.to_string();
  EXPECT_EQ(after.values, std::vector<core::Value>{"durable"});
  std::map<std::string, std::uint64_t> counters;
  host.add_counters(counters);
  EXPECT_GE(counters["store_commits"], 3u);
}

TEST(NodeHost, PauseHoldsInputsAndResumeReturnsThemInOrder) {
  const config::Config config = single_node_config();
  const core::NodeOptions options = config::node_options_from_config(config);
  const core::Ring ring = core::Ring::build({"n1"}, config::ring_options(config));
  NodeHost host(0, options, ring, 1, SimClock(0), HostLimits{2});
  host.start(0);
  host.pause();
  EXPECT_TRUE(host.hold(Event::make(1, EventKind::node_timer, 0, 1)));
  EXPECT_TRUE(host.hold(Event::make(2, EventKind::client_request, 0, 2)));
  EXPECT_FALSE(host.hold(Event::make(3, EventKind::client_request, 0, 3)));  // the bound
  const std::vector<Event> held = host.resume();
  ASSERT_EQ(held.size(), 2u);
  EXPECT_EQ(held[0].tag, 1u);
  EXPECT_EQ(held[1].tag, 2u);
  std::map<std::string, std::uint64_t> counters;
  host.add_counters(counters);
  EXPECT_EQ(counters["paused_inputs_dropped"], 1u);
}

}  // namespace
}  // namespace vigil::sim
