// `vigil chaos` end to end (cli/chaos_run.h): scenarios/chaos/crash-partition.yaml on three
// real `vigil start` processes: a SIGKILL and a restart, a minority partition through the
// nodes' fault filters, a clock skew and a SIGSTOP pause, in 7 s plus a 2 s quiesce. The
// run must pass its checks (no lost writes, no resurrection, availability) with real
// traffic, report the checks it cannot run, and leave the JSON-lines history. A scenario
// with faults real processes cannot apply is refused before anything starts, naming them.
//
// Bounded: the run has a deadline (killed after it), and the cluster it started is taken
// down by `vigil cluster down` whatever happened (its nodes are detached processes).

#include <fstream>

#include "tests/integration/cluster_fixture.h"

namespace vigil::integration {
namespace {

class ChaosTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "vigil-chaos-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    temp_ = pattern;
  }
  void TearDown() override {
    // Whatever the run did (killed at its deadline included): no node outlives the test.
    if (std::filesystem::exists(temp_ + "/run/cluster/cluster.json")) {
      run_command(
          {VIGIL_BINARY, "cluster", "down", "--dir", temp_ + "/run/cluster", "--timeout", "10"},
          seconds(30));
    }
    if (HasFailure()) print_logs();
    std::error_code ignored;
    std::filesystem::remove_all(temp_, ignored);
  }
  void print_logs() {
    for (int i = 1; i <= 3; ++i) {
      std::ifstream in(temp_ + "/run/cluster/n" + std::to_string(i) + "/node.log");
      std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::printf("---- n%d node.log (tail) ----\n%s\n", i,
                  all.substr(all.size() > 3000 ? all.size() - 3000 : 0).c_str());
    }
  }
  std::string temp_;
};

TEST_F(ChaosTest, CrashPartitionPauseAndSkewOnRealProcessesPassTheChecks) {
  const std::string scenario =
      std::string(VIGIL_SOURCE_DIR) + "/scenarios/chaos/crash-partition.yaml";
  const CommandResult run = run_command(
      {VIGIL_BINARY, "chaos", scenario, "--dir", temp_ + "/run", "--json"}, seconds(120));
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  const nlohmann::json result = nlohmann::json::parse(run.out);
  EXPECT_EQ(result["result"], "pass");
  EXPECT_EQ(result["met_expectation"], true);
  const nlohmann::json& checks = result["checks"];
  EXPECT_EQ(checks["no_lost_writes"]["ok"], true);
  EXPECT_GT(checks["no_lost_writes"]["acknowledged"].get<int>(), 20) << run.out;
  EXPECT_EQ(checks["no_lost_writes"]["lost"], 0);
  EXPECT_EQ(checks["no_lost_writes"]["keys_unverified"], 0);
  EXPECT_EQ(checks["no_resurrection"]["ok"], true);
  EXPECT_TRUE(checks.contains("availability"));
  EXPECT_TRUE(checks.contains("stale_reads"));
  EXPECT_TRUE(result["skipped_checks"].contains("hints_drained"));

  // Every fault was applied to the processes, and the final heal restarted nothing twice.
  const nlohmann::json& counters = result["counters"];
  EXPECT_EQ(counters["node_crashes"], 1);
  EXPECT_EQ(counters["node_restarts"], 1);
  EXPECT_EQ(counters["node_pauses"], 1);
  EXPECT_EQ(counters["node_resumes"], 1);
  EXPECT_EQ(counters["faults_partition"], 1);
  EXPECT_EQ(counters["faults_clock"], 1);
  EXPECT_EQ(counters["faults_heal"], 1);
  EXPECT_FALSE(counters.contains("fault_rule_push_failures")) << counters.dump();
  EXPECT_EQ(result["faults"], 6);
  // The partition went through the filters; n2's clock is 3 s ahead (the skew survives
  // the final heal), the others' are not moved.
  EXPECT_GT(counters["filter_frames_dropped_out"].get<int>(), 0) << counters.dump();
  EXPECT_NEAR(result["wall_offset_s"]["n2"].get<double>(), 3.0, 0.5);
  EXPECT_NEAR(result["wall_offset_s"]["n1"].get<double>(), 0.0, 0.5);

  // The history is the simulator's JSON lines, final reads included.
  std::ifstream history(result["history"].get<std::string>());
  std::string line;
  std::size_t lines = 0, final_reads = 0;
  while (std::getline(history, line)) {
    const nlohmann::json op = nlohmann::json::parse(line);
    ++lines;
    if (op.value("final_read", false)) ++final_reads;
  }
  EXPECT_GT(lines, 100U);
  EXPECT_GE(final_reads, 8U);  // one answered read of each of the 8 keys at least
}

TEST_F(ChaosTest, UnsupportedFaultsAreRefusedBeforeAnythingStarts) {
  const std::string file = temp_ + "/lying-disk.yaml";
  std::ofstream(file) << R"(name: lying-disk
duration: 5s
cluster: {nodes: 3, config: {quorum_settings: {N: 3, R: 2, W: 2}}}
workload: {clients: 1, keys: 2, rate: 10/s, mix: {get: 0.5, put: 0.5}}
faults:
  - {at: 1s, crash: n1}
  - {at: 2s, lose_write: n2}
checks: [no_lost_writes]
expect: pass
)";
  const CommandResult run =
      run_command({VIGIL_BINARY, "chaos", file, "--dir", temp_ + "/run"}, seconds(30));
  EXPECT_EQ(run.exit_code, 2) << describe(run);
  EXPECT_NE(run.err.find("faults[1] (line 7, lose_write): cannot be applied"), std::string::npos)
      << run.err;
  EXPECT_FALSE(std::filesystem::exists(temp_ + "/run/cluster")) << "nothing was started";
}

}  // namespace
}  // namespace vigil::integration
