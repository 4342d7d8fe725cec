// The faults of issue 12 that the scenario language lacked: a slow or lossy link
// (`link`), clients cut off from nodes (`client_partition`), and network-wide loss and
// duplication bursts (`burst`). Each is loaded and refused where it cannot be, written back
// by the scenario writer as it was read, does what it says to the messages and calls it
// touches (and nothing else), draws its randomness from a stream of its own, and can make
// a check fail where it should.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "sim/network.h"
#include "sim/run.h"
#include "sim/scenario.h"
#include "sim/scenario_writer.h"
#include "sim/simulator.h"

namespace vigil::sim {
namespace {

const std::filesystem::path scenario_folder = std::filesystem::path(VIGIL_SOURCE_DIR) / "scenarios";

std::string read_text(const std::string& stem) {
  std::ifstream in(scenario_folder / (stem + ".yaml"));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Scenario load_text(const std::string& text) {
  const core::Result<Scenario> scenario = load_scenario(text, "t.yaml");
  EXPECT_TRUE(scenario.ok()) << scenario.status().message();
  return scenario.ok() ? *scenario : Scenario{};
}

const CheckResult* find_check(const RunRecord& record, const std::string& name) {
  for (const CheckResult& check : record.checks) {
    if (check.name == name) return &check;
  }
  return nullptr;
}

std::uint64_t counter(const RunRecord& record, const std::string& name) {
  const auto it = record.counters.find(name);
  return it == record.counters.end() ? 0 : it->second;
}

constexpr const char* head = R"(name: t
duration: 10s
cluster: {nodes: 3}
workload: {clients: 2, keys: 1, rate: 10/s, mix: {get: 0.5, put: 0.5}}
checks: [no_lost_writes]
expect: pass
)";  // lines 1-6

TEST(NetworkFaultsLoader, ReadsLinkClientPartitionAndBurst) {
  const Scenario scenario = load_text(std::string(head) + R"(faults:
  - {at: 1s, link: {from: n1, to: n2, latency: 50ms, loss: 0.2, for: 3s}}
  - {at: 2s, client_partition: {clients: [c1, c0], nodes: [n3, n1], for: 4s}}
  - {at: 3s, burst: {loss: 0.1, duplicate: 0.05, for: 500ms}}
  - {at: 4s, link: {from: n3, to: n1, loss: 1, for: 1s}}
  - {at: 5s, burst: {duplicate: 0.3, for: 1s}}
)");
  ASSERT_EQ(scenario.faults.size(), 5u);
  const Fault& link = scenario.faults[0];
  EXPECT_EQ(link.kind, FaultKind::link);
  EXPECT_EQ(link.from, std::vector<NodeId>{"n1"});
  EXPECT_EQ(link.to, std::vector<NodeId>{"n2"});
  EXPECT_EQ(link.delay, std::chrono::milliseconds(50));
  EXPECT_EQ(link.loss, 0.2);
  EXPECT_EQ(link.length, std::chrono::seconds(3));
  const Fault& cut = scenario.faults[1];
  EXPECT_EQ(cut.kind, FaultKind::client_partition);
  EXPECT_EQ(cut.clients, (std::vector<std::uint32_t>{1, 0}));
  EXPECT_EQ(cut.nodes, (std::vector<NodeId>{"n3", "n1"}));
  EXPECT_EQ(cut.length, std::chrono::seconds(4));
  const Fault& burst = scenario.faults[2];
  EXPECT_EQ(burst.kind, FaultKind::burst);
  EXPECT_EQ(burst.loss, 0.1);
  EXPECT_EQ(burst.duplicate, 0.05);
  EXPECT_EQ(scenario.faults[3].delay, Duration{0});
  EXPECT_EQ(scenario.faults[3].loss, 1.0);
  EXPECT_EQ(scenario.faults[4].loss, 0.0);

  // Written and read back: the same faults.
  const Scenario again = load_text(write_scenario(scenario));
  ASSERT_EQ(again.faults.size(), scenario.faults.size());
  for (std::size_t i = 0; i < scenario.faults.size(); ++i) {
    const Fault& a = scenario.faults[i];
    const Fault& b = again.faults[i];
    EXPECT_EQ(a.kind, b.kind) << i;
    EXPECT_EQ(a.at, b.at) << i;
    EXPECT_EQ(a.from, b.from) << i;
    EXPECT_EQ(a.to, b.to) << i;
    EXPECT_EQ(a.delay, b.delay) << i;
    EXPECT_EQ(a.loss, b.loss) << i;
    EXPECT_EQ(a.duplicate, b.duplicate) << i;
    EXPECT_EQ(a.clients, b.clients) << i;
    EXPECT_EQ(a.nodes, b.nodes) << i;
    EXPECT_EQ(a.length, b.length) << i;
  }
}

TEST(NetworkFaultsLoader, RefusesWhatCannotBe) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{at: 1s, link: {from: n1, to: n1, loss: 0.5, for: 1s}}", "two different nodes"},
      {"{at: 1s, link: {from: n1, to: n2, for: 1s}}", "at least one of latency, loss"},
      {"{at: 1s, link: {from: n1, to: n2, loss: 1.5, for: 1s}}", "within [0, 1]"},
      {"{at: 1s, link: {from: n1, to: n2, loss: 0.5}}", "for"},
      {"{at: 1s, link: {from: n1, to: n2, loss: 0.5, for: 0s}}", "must be more than 0"},
      {"{at: 1s, link: {from: n1, to: n2, latency: 61s, for: 1s}}", "at most 60s"},
      {"{at: 1s, link: {from: n1, to: n9, loss: 0.5, for: 1s}}", "no node n9"},
      {"{at: 1s, link: {from: [n1], to: n2, loss: 0.5, for: 1s}}", "from"},
      {"{at: 1s, link: {from: n1, to: n2, loss: 0.5, for: 1s, both: true}}", "both"},
      {"{at: 1s, client_partition: {clients: [c2], nodes: [n1], for: 1s}}",
       "no client c2 in a workload of 2 clients (named c0 .. c1)"},
      {"{at: 1s, client_partition: {clients: [client1], nodes: [n1], for: 1s}}", "no client"},
      {"{at: 1s, client_partition: {clients: [c01], nodes: [n1], for: 1s}}", "no client c01"},
      {"{at: 1s, client_partition: {clients: [], nodes: [n1], for: 1s}}", "at least one client"},
      {"{at: 1s, client_partition: {clients: [c0, c0], nodes: [n1], for: 1s}}", "named twice"},
      {"{at: 1s, client_partition: {clients: [c0], nodes: [], for: 1s}}", "at least one node"},
      {"{at: 1s, client_partition: {clients: [c0], nodes: [n4], for: 1s}}", "no node n4"},
      {"{at: 1s, client_partition: {clients: [c0], nodes: [n1]}}", "for"},
      {"{at: 1s, burst: {for: 1s}}", "at least one of loss, duplicate"},
      {"{at: 1s, burst: {loss: -0.1, for: 1s}}", "within [0, 1]"},
      {"{at: 1s, burst: {loss: 0.1, for: 0s}}", "must be more than 0"},
      {"{at: 1s, burst: {loss: 0.1, latency: 1s, for: 1s}}", "latency"},
  };
  for (const auto& [fault, reason] : cases) {
    const core::Result<Scenario> scenario =
        load_scenario(std::string(head) + "faults:\n  - " + fault + "\n", "t.yaml");
    ASSERT_FALSE(scenario.ok()) << fault;
    EXPECT_EQ(scenario.status().message().rfind("t.yaml:8:", 0), 0u) << scenario.status().message();
    EXPECT_NE(scenario.status().message().find(reason), std::string::npos)
        << fault << ": " << scenario.status().message();
  }
}

NetworkModel quiet_model() {
  NetworkModel model;
  model.latency = LatencyModel{std::chrono::milliseconds(1), std::chrono::milliseconds(20)};
  return model;
}

TEST(LinkFault, SlowsAndDropsOneDirectionOnlyWhileItLasts) {
  Network network(3, quiet_model(), 7);
  network.degrade_link(0, 1, 500000, 1.0, 1000000);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(network.send(1000, 0, 1).copies, 0);  // loss 1: every message
    const MessageFate back = network.send(1000, 1, 0);
    ASSERT_EQ(back.copies, 1);
    EXPECT_LE(back.arrive_us[0], 1000 + 20000);  // the other direction is untouched
  }
  EXPECT_EQ(network.counters().dropped_link_loss, 50u);
  const MessageFate after = network.send(1000000, 0, 1);  // the degradation is over
  EXPECT_EQ(after.copies, 1);

  Network slow(3, quiet_model(), 7);
  slow.degrade_link(2, 0, 500000, 0.0, 1000000);
  const MessageFate late = slow.send(0, 2, 0);
  ASSERT_EQ(late.copies, 1);
  EXPECT_GE(late.arrive_us[0], 500000 + 1000);
  EXPECT_EQ(slow.counters().delayed_link, 1u);
}

TEST(LinkFault, LossComesFromTheLinksOwnStream) {
  // The same sends on two networks with one seed, one with a lossy link 0->1: every
  // message on the other links has the same fate in both (the link's draws do not move
  // the model's stream), and about half of 0->1's are lost.
  NetworkModel model = quiet_model();
  model.loss = 0.1;
  model.duplicate = 0.1;
  Network plain(3, model, 11);
  Network lossy(3, model, 11);
  lossy.degrade_link(0, 1, 0, 0.5, 1000000000);
  std::uint64_t link_lost = 0, on_link = 0;
  for (std::int64_t t = 0; t < 2000; ++t) {
    const std::uint32_t from = static_cast<std::uint32_t>(t % 3);
    const std::uint32_t to = static_cast<std::uint32_t>((t + 1 + t / 3 % 2) % 3);
    const MessageFate a = plain.send(t * 1000, from, to);
    const MessageFate b = lossy.send(t * 1000, from, to);
    if (from == 0 && to == 1) {
      ++on_link;
      if (a.copies > 0 && b.copies == 0) ++link_lost;
      continue;
    }
    EXPECT_EQ(a.copies, b.copies) << t;
    EXPECT_EQ(a.arrive_us, b.arrive_us) << t;
  }
  EXPECT_GT(on_link, 300u);
  EXPECT_GT(link_lost, on_link / 4);
  EXPECT_LT(link_lost, on_link * 3 / 4);
  EXPECT_EQ(lossy.counters().dropped_link_loss, link_lost);
}

TEST(BurstFault, LosesAndDuplicatesOnEveryLinkWhileItLasts) {
  Network network(3, quiet_model(), 5);
  network.burst(0.0, 1.0, 1000000);
  EXPECT_EQ(network.send(0, 0, 1).copies, 2);
  EXPECT_EQ(network.send(0, 2, 1).copies, 2);
  EXPECT_EQ(network.send(1000000, 2, 1).copies, 1);  // over
  network.burst(1.0, 0.0, 2000000);
  EXPECT_EQ(network.send(1500000, 1, 2).copies, 0);
  EXPECT_EQ(network.counters().dropped_burst, 1u);
  network.restore_links();
  EXPECT_EQ(network.send(1500000, 1, 2).copies, 1);
}

// slow-lossy-link passes with indirect probes, which route around the lossy link; the same
// run without them marks n1 or n2 suspect across it on seeds 1-3, and the same run without
// the link faults does not: the fault is what the gate catches.
TEST(LinkFault, CanFailTheFailureDetectionGateWhereItShould) {
  const std::string shipped = read_text("slow-lossy-link");
  std::string without_indirect = shipped;
  const std::string config = "    conflict_resolution: siblings\n";
  without_indirect.replace(without_indirect.find(config), config.size(),
                           config + "    gossip_protocol: {indirect_probes: 0}\n");
  std::string without_links = without_indirect;
  without_links.replace(without_links.find("faults:\n"), std::string("faults:\n").size(),
                        "faults: []\nunused:\n");
  without_links = without_links.substr(0, without_links.find("unused:\n")) +
                  without_links.substr(without_links.find("checks:"));
  const Scenario lossy = load_text(without_indirect);
  const Scenario healthy = load_text(without_links);
  ASSERT_TRUE(healthy.faults.empty());
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    const RunRecord failing = run_scenario(lossy, seed);
    const CheckResult* detection = find_check(failing, "failure_detection");
    ASSERT_NE(detection, nullptr);
    EXPECT_FALSE(detection->ok) << "seed " << seed;
    EXPECT_GT(detection->counts.at("false_suspicions"), 0u) << "seed " << seed;
    EXPECT_GT(counter(failing, "messages_dropped_link_loss"), 0u);
    EXPECT_GT(counter(failing, "messages_delayed_link"), 0u);

    const RunRecord passing = run_scenario(healthy, seed);
    EXPECT_TRUE(find_check(passing, "failure_detection")->ok) << "seed " << seed;
    EXPECT_EQ(counter(passing, "messages_dropped_link_loss"), 0u);
  }
}

// client-partition: cut-off clients' calls time out (indeterminate), the others go on;
// availability, which counts a call the client could not get answered as failed, falls
// below 1 with the cuts and is 1 without them.
TEST(ClientPartition, CutOffCallsTimeOutAndAvailabilityShowsIt) {
  Scenario cut = load_text(read_text("client-partition"));
  CheckSpec availability;
  availability.name = "availability";
  availability.min = 0.999;
  cut.checks.push_back(availability);
  Scenario whole = cut;
  whole.faults.clear();
  for (std::uint64_t seed = 1; seed <= 2; ++seed) {
    const RunRecord with_cuts = run_scenario(cut, seed);
    EXPECT_GT(counter(with_cuts, "client_requests_cut_off"), 0u);
    EXPECT_GT(counter(with_cuts, "client_timeouts"), 0u);
    EXPECT_GT(with_cuts.ops.indeterminate, 0u);
    const CheckResult* low = find_check(with_cuts, "availability");
    ASSERT_NE(low, nullptr);
    EXPECT_FALSE(low->ok) << "seed " << seed;
    EXPECT_LT(low->ratios.at("fraction"), 0.99);
    EXPECT_TRUE(find_check(with_cuts, "no_lost_writes")->ok);
    EXPECT_GT(with_cuts.ops.ok, 1000u);  // the clients kept working through other nodes

    const RunRecord without = run_scenario(whole, seed);
    EXPECT_EQ(counter(without, "client_requests_cut_off"), 0u);
    EXPECT_EQ(without.ops.indeterminate, 0u);
    EXPECT_TRUE(find_check(without, "availability")->ok) << "seed " << seed;
  }
}

// A pipelining client keeps one node (client mod nodes): cut off from it, its calls in
// flight wait out the client timeout (6s, longer than the cut), its pipeline stays full so
// its later arrivals are skipped, and no other client loses a call.
TEST(ClientPartition, APipeliningClientCutOffFromItsNodeWaitsItOut) {
  const Scenario scenario = load_text(R"(name: t
duration: 10s
quiesce: 2s
cluster: {nodes: 3, config: {quorum_settings: {N: 3, R: 2, W: 2}}}
workload: {clients: 3, keys: 5, rate: 30/s, mix: {get: 0.5, put: 0.5}, pipeline: 2}
faults:
  - {at: 2s, client_partition: {clients: [c1], nodes: [n2], for: 3s}}
checks: [no_lost_writes]
expect: pass
)");
  const SimulationResult result = simulate(scenario, 3, SimulationOptions{});
  std::uint64_t c1_timeouts = 0, others_timeouts = 0;
  for (const Operation& op : result.history.operations()) {
    if (op.final_read || op.outcome != Outcome::indeterminate) continue;
    if (op.client == 1) {
      ++c1_timeouts;
      EXPECT_EQ(op.node, "n2");
      EXPECT_GE(op.invoked_us, 2000000);
      EXPECT_LT(op.invoked_us, 5200000);
    } else {
      ++others_timeouts;
    }
  }
  EXPECT_GE(c1_timeouts, 1u);
  EXPECT_EQ(others_timeouts, 0u);
  const auto count = [&](const char* name) {
    const auto it = result.counters.find(name);
    return it == result.counters.end() ? std::uint64_t{0} : it->second;
  };
  // Seed 3: the request was at n2 when the cut began; its reply is what got dropped.
  EXPECT_GT(count("client_requests_cut_off") + count("client_replies_cut_off"), 0u);
  EXPECT_GT(count("operations_skipped_in_flight_max"), 0u);
}

// loss-duplication-burst passes; the same run with one 15s burst of total loss instead
// (every node cut from every other, which no probe can route round) marks live nodes
// failed, and failure_detection's false_failures gate fails, while the data checks hold.
TEST(BurstFault, ATotalLossBurstFailsTheFalseFailureGate) {
  std::string text = read_text("loss-duplication-burst");
  const std::size_t faults = text.find("faults:\n");
  text = text.substr(0, faults) + "faults:\n  - {at: 3s, burst: {loss: 1, for: 15s}}\n" +
         text.substr(text.find("checks:"));
  const Scenario scenario = load_text(text);
  ASSERT_EQ(scenario.faults.size(), 1u);
  const RunRecord record = run_scenario(scenario, 1);
  const CheckResult* detection = find_check(record, "failure_detection");
  ASSERT_NE(detection, nullptr);
  EXPECT_FALSE(detection->ok);
  EXPECT_GT(detection->counts.at("false_failures"), 0u);
  EXPECT_TRUE(find_check(record, "no_lost_writes")->ok);
  EXPECT_GT(counter(record, "messages_dropped_burst"), 1000u);
}

TEST(NetworkFaults, RunsWithAllThreeAreDeterministic) {
  const Scenario scenario = load_text(R"(name: t
duration: 8s
quiesce: 4s
cluster: {nodes: 4, config: {quorum_settings: {N: 3, R: 2, W: 2}}}
workload: {clients: 4, keys: 5, rate: 40/s, mix: {get: 0.5, put: 0.5}}
faults:
  - {at: 1s, burst: {loss: 0.3, duplicate: 0.2, for: 3s}}
  - {at: 2s, link: {from: n1, to: n3, latency: 80ms, loss: 0.5, for: 4s}}
  - {at: 3s, client_partition: {clients: [c0, c3], nodes: [n2, n4], for: 2s}}
checks: [no_lost_writes]
expect: pass
)");
  RunOptions options;
  options.check_determinism = true;
  const RunRecord record = run_scenario(scenario, 9, options);
  EXPECT_TRUE(record.deterministic) << record.divergence;
  EXPECT_TRUE(record.checks_ok);
  EXPECT_GT(counter(record, "messages_dropped_burst"), 0u);
  EXPECT_GT(counter(record, "messages_duplicated"), 0u);
  EXPECT_GT(counter(record, "messages_dropped_link_loss"), 0u);
  EXPECT_GT(counter(record, "client_requests_cut_off"), 0u);
  EXPECT_EQ(counter(record, "faults_burst"), 1u);
  EXPECT_EQ(counter(record, "faults_link"), 1u);
  EXPECT_EQ(counter(record, "faults_client_partition"), 1u);
}

}  // namespace
}  // namespace vigil::sim
