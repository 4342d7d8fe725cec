// What vigil chaos refuses before starting anything (cli/chaos_plan.h), and the per-node
// fault-filter rules its network state gives: partitions, one-way cuts, heals, timed link
// losses and bursts, client cuts and clocks, as the simulator reads the same faults.

#include "cli/chaos_plan.h"

#include <gtest/gtest.h>

namespace vigil::cli {
namespace {

sim::Scenario load(const std::string& faults) {
  const std::string text = R"(name: t
duration: 10s
cluster: {nodes: 3, config: {quorum_settings: {N: 3, R: 2, W: 2}}}
workload: {clients: 1, keys: 2, rate: 10/s, mix: {get: 0.5, put: 0.5}}
faults:
)" + faults + "checks: [no_lost_writes]\nexpect: pass\n";
  core::Result<sim::Scenario> scenario = sim::load_scenario(text, "t.yaml");
  EXPECT_TRUE(scenario.ok()) << scenario.status().to_string();
  return scenario.ok() ? *scenario : sim::Scenario{};
}

TEST(ChaosPlan, RefusesWhatRealProcessesCannotDoNamingEachFault) {
  const sim::Scenario scenario = load(
      "  - {at: 1s, crash: n1}\n"
      "  - {at: 2s, lose_write: n2}\n"
      "  - {at: 3s, corrupt: n3}\n"
      "  - {at: 4s, clog: {node: n1, delay: 50ms, for: 1s}}\n"
      "  - {at: 5s, link: {from: n1, to: n2, latency: 10ms, for: 1s}}\n"
      "  - {at: 6s, link: {from: n1, to: n2, loss: 0.5, for: 1s}}\n");
  const core::Status status = check_chaos_supported(scenario);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), core::Code::invalid_argument);
  const std::string& message = status.message();
  EXPECT_NE(message.find("t.yaml: vigil chaos cannot run this scenario"), std::string::npos);
  EXPECT_NE(message.find("faults[1] (line 7, lose_write): cannot be applied"), std::string::npos)
      << message;
  EXPECT_NE(message.find("faults[2] (line 8, corrupt)"), std::string::npos) << message;
  EXPECT_EQ(message.find("faults[0]"), std::string::npos);  // a crash it can do,
  EXPECT_EQ(message.find("faults[3]"), std::string::npos);  // a clog (held frames),
  EXPECT_EQ(message.find("faults[4]"), std::string::npos);  // a slow link,
  EXPECT_EQ(message.find("faults[5]"), std::string::npos);  // and a lossy one
}

TEST(ChaosPlan, ClogsAndLinkLatenciesAddUpIntoHeldFrames) {
  ChaosNetwork network({"n1", "n2", "n3"});
  sim::Fault clog;
  clog.kind = sim::FaultKind::clog;
  clog.node = "n2";
  clog.delay = std::chrono::milliseconds(50);
  clog.length = std::chrono::seconds(2);
  network.apply(clog, 0);
  sim::Fault link;
  link.kind = sim::FaultKind::link;
  link.from = {"n1"};
  link.to = {"n2"};
  link.delay = std::chrono::milliseconds(10);
  link.length = std::chrono::seconds(1);
  network.apply(link, 0);
  std::vector<net::FaultRules> rules = network.rules(500'000);
  EXPECT_EQ(rules[0].delay_to_us.at("n2"), 60'000);  // n2's clog + the n1 -> n2 link
  EXPECT_TRUE(rules[0].loss_to.empty());             // a latency-only link loses nothing
  EXPECT_FALSE(rules[0].delay_to_us.contains("n3"));
  EXPECT_EQ(rules[1].delay_to_us.at("n1"), 50'000);  // from the clogged node, to anyone
  EXPECT_EQ(rules[1].delay_to_us.at("n3"), 50'000);
  EXPECT_EQ(rules[2].delay_to_us.at("n2"), 50'000);
  EXPECT_EQ(network.clog_us(1, 500'000), 50'000);
  EXPECT_EQ(network.rules(1'500'000)[0].delay_to_us.at("n2"), 50'000);  // the link is over
  EXPECT_EQ(network.next_expiry_after(1'000'000), 2'000'000);
  EXPECT_TRUE(network.rules(2'000'000)[0].delay_to_us.empty());  // and the clog
  EXPECT_EQ(network.clog_us(1, 2'000'000), 0);
}

TEST(ChaosPlan, AcceptsCrashPausePartitionClockAndLoss) {
  const sim::Scenario scenario = load(
      "  - {at: 1s, crash: n1}\n"
      "  - {at: 2s, restart: n1}\n"
      "  - {at: 3s, pause: n2, for: 1s}\n"
      "  - {at: 4s, partition: [[n1], [n2, n3]]}\n"
      "  - {at: 5s, one_way: {from: [n1], to: [n2]}}\n"
      "  - {at: 6s, clock: {node: n3, skew: 2s}}\n"
      "  - {at: 7s, burst: {loss: 0.1, duplicate: 0.1, for: 1s}}\n"
      "  - {at: 8s, heal: all}\n");
  EXPECT_TRUE(check_chaos_supported(scenario).ok());
}

TEST(ChaosPlan, PartitionsAndCutsBecomeDropRulesOnBothEnds) {
  ChaosNetwork network({"n1", "n2", "n3"});
  sim::Fault partition;
  partition.kind = sim::FaultKind::partition;
  partition.groups = {{"n1"}, {"n2", "n3"}};
  network.apply(partition, 0);
  std::vector<net::FaultRules> rules = network.rules(0);
  EXPECT_EQ(rules[0].drop_to, (std::set<core::NodeId>{"n2", "n3"}));
  EXPECT_EQ(rules[0].drop_from, (std::set<core::NodeId>{"n2", "n3"}));
  EXPECT_EQ(rules[1].drop_to, std::set<core::NodeId>{"n1"});
  EXPECT_FALSE(network.open(0, 1));
  EXPECT_TRUE(network.open(1, 2));

  sim::Fault heal;  // a default fault is a heal
  network.apply(heal, 0);
  sim::Fault cut;
  cut.kind = sim::FaultKind::one_way;
  cut.from = {"n1"};
  cut.to = {"n3"};
  network.apply(cut, 0);
  rules = network.rules(0);
  EXPECT_EQ(rules[0].drop_to, std::set<core::NodeId>{"n3"});
  EXPECT_TRUE(rules[0].drop_from.empty());
  EXPECT_EQ(rules[2].drop_from, std::set<core::NodeId>{"n1"});
  EXPECT_TRUE(rules[2].drop_to.empty());
  EXPECT_FALSE(network.open(0, 2));
  EXPECT_TRUE(network.open(2, 0));
}

TEST(ChaosPlan, TimedRulesExpireAndClocksSurviveTheFinalHeal) {
  ChaosNetwork network({"n1", "n2"});
  sim::Fault link;
  link.kind = sim::FaultKind::link;
  link.from = {"n1"};
  link.to = {"n2"};
  link.loss = 0.5;
  link.length = std::chrono::seconds(2);
  network.apply(link, 1'000'000);
  sim::Fault clock;
  clock.kind = sim::FaultKind::clock;
  clock.node = "n2";
  clock.skew = std::chrono::seconds(-3);
  network.apply(clock, 1'000'000);
  clock.skew = core::Duration{0};
  clock.jump = std::chrono::seconds(1);
  network.apply(clock, 1'500'000);
  sim::Fault cut;
  cut.kind = sim::FaultKind::client_partition;
  cut.clients = {0};
  cut.nodes = {"n2"};
  cut.length = std::chrono::seconds(1);
  network.apply(cut, 1'000'000);

  EXPECT_EQ(network.rules(2'000'000)[0].loss_to.at("n2"), 0.5);
  EXPECT_TRUE(network.client_cut_off(0, 1, 1'500'000));
  EXPECT_FALSE(network.client_cut_off(0, 0, 1'500'000));
  EXPECT_FALSE(network.client_cut_off(0, 1, 2'000'000));
  EXPECT_EQ(network.next_expiry_after(1'000'000), 2'000'000);
  EXPECT_EQ(network.next_expiry_after(2'000'000), 3'000'000);
  EXPECT_TRUE(network.rules(3'000'000)[0].loss_to.empty());
  EXPECT_EQ(network.rules(3'000'000)[1].clock_offset_us, -2'000'000);  // skew + jump

  network.heal_everything();
  EXPECT_EQ(network.next_expiry_after(0), std::nullopt);
  EXPECT_EQ(network.rules(0)[1].clock_offset_us, -2'000'000);
}

TEST(ChaosPlan, TheNetworkModelsLossAndDuplicationApplyAndBurstsComeOnTop) {
  sim::NetworkModel model;
  model.loss = 0.1;
  model.duplicate = 0.2;
  model.reorder = 0.05;
  ChaosNetwork network({"n1", "n2"}, model);
  EXPECT_DOUBLE_EQ(network.rules(0)[0].loss, 0.1);
  EXPECT_DOUBLE_EQ(network.rules(0)[1].duplicate, 0.2);
  sim::Fault burst;
  burst.kind = sim::FaultKind::burst;
  burst.loss = 0.5;
  burst.length = std::chrono::seconds(1);
  network.apply(burst, 0);
  EXPECT_DOUBLE_EQ(network.rules(500'000)[0].loss, 1 - 0.9 * 0.5);
  EXPECT_DOUBLE_EQ(network.rules(500'000)[0].duplicate, 0.2);
  EXPECT_DOUBLE_EQ(network.rules(1'000'000)[0].loss, 0.1);  // the burst is over

  sim::Scenario scenario;
  scenario.network = model;
  const std::vector<std::string> notes = chaos_model_notes(scenario);
  ASSERT_EQ(notes.size(), 3U);
  EXPECT_NE(notes[0].find("network.latency (1ms..20ms): not applied"), std::string::npos)
      << notes[0];
  EXPECT_NE(notes[1].find("network.reorder: not applied"), std::string::npos);
  EXPECT_NE(notes[2].find("disk.commit_latency: not applied"), std::string::npos);
}

}  // namespace
}  // namespace vigil::cli
