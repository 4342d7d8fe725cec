// Every scenario in scenarios/ over many seeds (the seeded sweep of STYLE rule 14): each run
// must meet its scenario's `expect`. One test per scenario and block of 25 seeds, so ctest
// runs them in parallel.
// Also: determinism (the same seed gives the same trace hash and history; different seeds
// give different hashes), the report built from real runs, and the `vigil sim` command.
//
// Seeds per scenario: 200 for the scenarios with crashes and partitions under hinted handoff
// (issue 4: no acknowledged write lost over at least 200 seeds each), 100 for the other
// fault scenarios, 50 for the fault-free baseline, the clock and lossy-network runs and the
// lww demonstration, which exercise no hint path, and for the clog, slow-link,
// client-partition and burst scenarios and set-nx-partition, 10 for the half-hour jitter
// run, 5 for the routing scenario and 2 for the 24-hour quiet-day run (seeds_for). The
// anti-entropy scenarios (antientropy-only, repair-after-hint-expiry, disk-faults-repaired)
// get 200 (issue 11), and so do the delete scenarios (deletes-*, issue 13: 3 nodes and 15
// simulated seconds each, so cheap).
// VIGIL_SWEEP_SEEDS=N scales the table (N is the count of the 100-seed scenarios), read when
// the tests are listed (so set it for ctest as a whole).

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "sim/report.h"
#include "sim/run.h"
#include "sim/scenario.h"

namespace vigil::sim {
namespace {

const std::filesystem::path scenario_folder =
    std::filesystem::path(VIGIL_SOURCE_DIR) / "scenarios";

std::vector<std::string> scenario_stems() {
  std::vector<std::string> stems;
  for (const auto& entry : std::filesystem::directory_iterator(scenario_folder)) {
    if (entry.path().extension() == ".yaml") stems.push_back(entry.path().stem().string());
  }
  std::sort(stems.begin(), stems.end());
  return stems;
}

Scenario load(const std::string& stem) {
  const core::Result<Scenario> scenario =
      load_scenario_file((scenario_folder / (stem + ".yaml")).string());
  VIGIL_ASSERT(scenario.ok(), scenario.status().message());
  return *scenario;
}

std::uint64_t sweep_seeds() {
  const char* text = std::getenv("VIGIL_SWEEP_SEEDS");
  if (text == nullptr) return 100;
  return std::max<std::uint64_t>(1, std::strtoull(text, nullptr, 10));
}

// The seeds a scenario is swept over (see the top of this file).
std::uint64_t seeds_for(const std::string& stem) {
  static const std::set<std::string> doubled{
      "crash-restart",          "partition-heal",           "siblings-no-lost-writes",
      "hinted-handoff",         "antientropy-only",         "repair-after-hint-expiry",
      "disk-faults-repaired",   "deletes-partition",        "deletes-crash",
      "deletes-clock-skew",     "deletes-replica-away",     "deletes-gc-too-early"};
  // pipelined-read-your-writes: its read-modify-write sets grow with every put, which
  // makes its checks quadratic; over 20 s a seed under ASan it timed out CI's blocks.
  // clog-slow-nodes, slow-lossy-link, client-partition, loss-duplication-burst (issue 12):
  // 20 s each, 50 seeds keep them cheap under the sanitizers; docs/scenarios.md has
  // 100-seed release figures. set-nx-partition (issue 15): 3 nodes, 12 s; 100 seeds in
  // docs/scenarios.md.
  static const std::set<std::string> halved{
      "no-faults",       "clock-skew",      "lossy-network",    "lww-lost-writes",
      "pipelined-read-your-writes",         "clog-slow-nodes",  "slow-lossy-link",
      "client-partition", "loss-duplication-burst", "set-nx-partition"};
  // 30 simulated minutes each (about 2 s per seed under ASan): a tenth, and the 200-seed
  // figure in docs/failure-detection.md comes from a release build.
  static const std::set<std::string> long_runs{"jitter-no-false-failures"};
  // 24 simulated hours (about 2 s per seed in a release build): 2 seeds.
  static const std::set<std::string> day_runs{"quiet-day"};
  // routing-slow-node (issue 16): tests/sim/routing_breakers_test.cpp runs it with breakers
  // on and off already; a twentieth here keeps it cheap under the sanitizers.
  static const std::set<std::string> routing_runs{"routing-slow-node"};
  if (routing_runs.contains(stem)) return std::max<std::uint64_t>(1, sweep_seeds() / 20);
  if (doubled.contains(stem)) return 2 * sweep_seeds();
  if (day_runs.contains(stem)) return std::max<std::uint64_t>(1, sweep_seeds() / 50);
  if (long_runs.contains(stem)) return std::max<std::uint64_t>(1, sweep_seeds() / 10);
  if (halved.contains(stem)) return std::max<std::uint64_t>(1, sweep_seeds() / 2);
  return sweep_seeds();
}

const CheckResult* find_check(const RunRecord& record, const std::string& name) {
  for (const CheckResult& check : record.checks) {
    if (check.name == name) return &check;
  }
  return nullptr;
}

// One block of seeds of one scenario: blocks keep each ctest entry short (well inside its
// timeout under the sanitizers) and let ctest -j spread the sweep over the cores.
struct SweepBlock {
  std::string stem;
  std::uint64_t first_seed = 1;
  std::uint64_t last_seed = 1;
};

// How gtest and ctest show a block.
void PrintTo(const SweepBlock& block, std::ostream* out) {
  *out << block.stem << " seeds " << block.first_seed << "-" << block.last_seed;
}

constexpr std::uint64_t seeds_per_block = 25;

std::vector<SweepBlock> sweep_blocks() {
  std::vector<SweepBlock> blocks;
  for (const std::string& stem : scenario_stems()) {
    const std::uint64_t seeds = seeds_for(stem);
    for (std::uint64_t first = 1; first <= seeds; first += seeds_per_block) {
      blocks.push_back({stem, first, std::min(seeds, first + seeds_per_block - 1)});
    }
  }
  return blocks;
}

// gtest names may not contain '-'.
std::string block_name(const testing::TestParamInfo<SweepBlock>& param) {
  std::string name = param.param.stem + "_seeds_" + std::to_string(param.param.first_seed) +
                     "_" + std::to_string(param.param.last_seed);
  for (char& c : name) c = c == '-' ? '_' : c;
  return name;
}

class ScenarioSweep : public testing::TestWithParam<SweepBlock> {};

TEST_P(ScenarioSweep, EverySeedMeetsTheExpectation) {
  const SweepBlock& block = GetParam();
  const Scenario scenario = load(block.stem);
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t acknowledged = 0, lost = 0, stale = 0, reads = 0, events = 0;
  std::uint64_t hints_stored = 0, hints_delivered = 0, hints_expired = 0;
  double sim_s = 0;
  for (std::uint64_t seed = block.first_seed; seed <= block.last_seed; ++seed) {
    const RunRecord record = run_scenario(scenario, seed);
    EXPECT_TRUE(record.met_expectation())
        << scenario.name << " did not meet its expectation; replay: " << replay_command(record)
        << "\n" << run_json_line(record);
    events += record.events;
    sim_s += record.sim_time_s;
    if (const CheckResult* check = find_check(record, "no_lost_writes")) {
      acknowledged += check->counts.at("acknowledged");
      lost += check->counts.at("lost");
      EXPECT_GT(check->counts.at("acknowledged"), 0u) << "seed " << seed << ": no write acked";
      // A scenario that expects failure and fails this check must fail it by losing
      // writes, not by being unable to read a key back (a scenario may expect failure from
      // another check: failure_detection's gates); one that expects to pass loses nothing.
      if (scenario.expect == Expectation::fail) {
        if (!check->ok) {
          EXPECT_GT(check->counts.at("lost"), 0u) << replay_command(record);
        }
      } else {
        EXPECT_EQ(check->counts.at("lost"), 0u) << replay_command(record);
      }
    }
    if (const CheckResult* check = find_check(record, "stale_reads")) {
      stale += check->counts.at("stale");
      reads += check->counts.at("reads_checked");
    }
    if (const CheckResult* check = find_check(record, "hints_drained")) {
      hints_stored += check->counts.at("stored");
      hints_delivered += check->counts.at("delivered");
      hints_expired += check->counts.at("expired");
      EXPECT_EQ(check->counts.at("pending"), 0u) << replay_command(record);
    }
  }
  const bool hinted =
      std::any_of(scenario.checks.begin(), scenario.checks.end(),
                  [](const CheckSpec& check) { return check.name == "hints_drained"; });
  if (hinted) {
    std::printf("%s seeds %llu-%llu: hints stored %llu, delivered %llu, expired %llu\n",
                scenario.name.c_str(), static_cast<unsigned long long>(block.first_seed),
                static_cast<unsigned long long>(block.last_seed),
                static_cast<unsigned long long>(hints_stored),
                static_cast<unsigned long long>(hints_delivered),
                static_cast<unsigned long long>(hints_expired));
  }
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s seeds %llu-%llu: %.1f s wall, %.0f simulated s, %llu events; acknowledged "
              "%llu, lost %llu (%.4f), stale reads %llu of %llu\n",
              scenario.name.c_str(), static_cast<unsigned long long>(block.first_seed),
              static_cast<unsigned long long>(block.last_seed), wall_s, sim_s,
              static_cast<unsigned long long>(events),
              static_cast<unsigned long long>(acknowledged),
              static_cast<unsigned long long>(lost),
              acknowledged == 0 ? 0.0
                                : static_cast<double>(lost) / static_cast<double>(acknowledged),
              static_cast<unsigned long long>(stale), static_cast<unsigned long long>(reads));
}

INSTANTIATE_TEST_SUITE_P(Scenarios, ScenarioSweep, testing::ValuesIn(sweep_blocks()),
                         block_name);

TEST(ShippedScenarios, IncludeTheRequiredSetAndTheFailingPair) {
  const std::vector<std::string> stems = scenario_stems();
  const std::set<std::string> have(stems.begin(), stems.end());
  for (const char* required :
       {"no-faults", "partition-heal", "crash-restart", "clock-skew", "pause", "lossy-network",
        "lww-lost-writes", "siblings-no-lost-writes", "hinted-handoff", "hint-expiry"}) {
    EXPECT_TRUE(have.contains(required)) << required;
  }
  const Scenario lww = load("lww-lost-writes");
  const Scenario siblings = load("siblings-no-lost-writes");
  EXPECT_EQ(lww.config.conflict_resolution, core::ConflictMode::timestamp);
  EXPECT_EQ(lww.expect, Expectation::fail);
  EXPECT_EQ(siblings.config.conflict_resolution, core::ConflictMode::siblings);
  EXPECT_EQ(siblings.expect, Expectation::pass);
  // The pair differs in nothing else that matters.
  EXPECT_EQ(lww.duration, siblings.duration);
  EXPECT_EQ(lww.nodes, siblings.nodes);
  EXPECT_EQ(lww.workload.clients, siblings.workload.clients);
  EXPECT_EQ(lww.workload.keys, siblings.workload.keys);
  EXPECT_EQ(lww.workload.rate_per_s, siblings.workload.rate_per_s);
  EXPECT_EQ(lww.faults.size(), siblings.faults.size());
  // no-faults gates stale reads.
  const Scenario no_faults = load("no-faults");
  bool gated = false;
  for (const CheckSpec& check : no_faults.checks) {
    gated = gated || (check.name == "stale_reads" && check.max == std::uint64_t{0});
  }
  EXPECT_TRUE(gated);
}

// The hinted-handoff scenarios do what they are there to show, not just pass: hints are
// stored and every one delivered; past the expiry they are counted, and the data they held
// is no longer missing on the returned node: an expired hint makes anti-entropy compare
// with its target at once (issue 11; before it, that data stayed missing for good).
TEST(HintedHandoff, TheScenariosExerciseStorageDeliveryAndExpiry) {
  const RunRecord handoff = run_scenario(load("hinted-handoff"), 1);
  const CheckResult* drained = find_check(handoff, "hints_drained");
  ASSERT_NE(drained, nullptr);
  EXPECT_GT(drained->counts.at("stored"), 0u);
  EXPECT_EQ(drained->counts.at("delivered"), drained->counts.at("stored"));
  EXPECT_EQ(drained->counts.at("pending"), 0u);
  EXPECT_EQ(drained->counts.at("writes_missing_on_replicas"), 0u);
  const CheckResult* availability = find_check(handoff, "availability");
  ASSERT_NE(availability, nullptr);
  EXPECT_GT(availability->counts.at("under_faults"), 0u);

  const RunRecord expiry = run_scenario(load("hint-expiry"), 1);
  const CheckResult* expired = find_check(expiry, "hints_drained");
  ASSERT_NE(expired, nullptr);
  EXPECT_TRUE(expired->ok);
  EXPECT_GT(expired->counts.at("expired"), 0u);
  EXPECT_EQ(expired->counts.at("pending"), 0u);
  EXPECT_EQ(expired->counts.at("writes_missing_on_replicas"), 0u);
}

// The convergence check can fail: the same scenario with exchanges switched off
// (sync_process.enabled: false; hints and read repair are already off in it) leaves keys
// divergent on several seeds, and the same seeds converge with exchanges on.
TEST(AntiEntropy, ConvergenceFailsWithExchangesOffAndPassesWithThemOn) {
  Scenario scenario = load("antientropy-only");
  std::uint64_t divergent_off = 0;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const RunRecord on = run_scenario(scenario, seed);
    const CheckResult* converged = find_check(on, "convergence");
    ASSERT_NE(converged, nullptr);
    EXPECT_TRUE(converged->ok) << "seed " << seed;
  }
  scenario.config.sync_process.enabled = false;
  std::uint64_t failed = 0;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const RunRecord off = run_scenario(scenario, seed);
    const CheckResult* converged = find_check(off, "convergence");
    ASSERT_NE(converged, nullptr);
    failed += converged->ok ? 0 : 1;
    divergent_off += converged->counts.at("divergent_keys");
  }
  EXPECT_GE(failed, 3u);
  EXPECT_GT(divergent_off, 0u);
}

TEST(Determinism, TheSameSeedGivesTheSameTraceHashAndHistory) {
  const Scenario scenario = load("partition-heal");
  std::ostringstream first_history, second_history, first_trace;
  RunOptions first;
  first.history = &first_history;
  first.trace = &first_trace;
  first.check_determinism = true;
  const RunRecord a = run_scenario(scenario, 42, first);
  EXPECT_TRUE(a.deterministic);
  ASSERT_TRUE(a.second_trace_hash.has_value());
  EXPECT_EQ(*a.second_trace_hash, a.trace_hash);
  RunOptions second;
  second.history = &second_history;
  const RunRecord b = run_scenario(scenario, 42, second);
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(first_history.str(), second_history.str());
  EXPECT_FALSE(first_history.str().empty());
  EXPECT_FALSE(first_trace.str().empty());
}

TEST(Determinism, DifferentSeedsGiveDifferentTraceHashes) {
  const Scenario scenario = load("no-faults");
  std::set<std::uint64_t> hashes;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    hashes.insert(run_scenario(scenario, seed).trace_hash);
  }
  EXPECT_EQ(hashes.size(), 10u);
}

TEST(Report, JsonOfARealRunHasEveryField) {
  const Scenario scenario = load("lww-lost-writes");
  RunOptions options;
  double clock_s = 0;
  options.wall_seconds = [&clock_s] { return clock_s += 0.5; };
  const RunRecord record = run_scenario(scenario, 3, options);
  const nlohmann::ordered_json json = run_json(record);
  EXPECT_EQ(json.at("scenario"), "lww-lost-writes");
  EXPECT_EQ(json.at("seed"), 3);
  EXPECT_EQ(json.at("result"), "fail");
  EXPECT_EQ(json.at("expect"), "fail");
  EXPECT_EQ(json.at("met_expectation"), true);
  EXPECT_EQ(json.at("trace_hash").get<std::string>().size(), 16u);
  EXPECT_EQ(json.at("trace_hash"), format_trace_hash(record.trace_hash));
  EXPECT_GE(json.at("sim_time_s").get<double>(), 30.0);
  EXPECT_DOUBLE_EQ(json.at("wall_s").get<double>(), 0.5);
  EXPECT_GT(json.at("events").get<std::uint64_t>(), 0u);
  EXPECT_DOUBLE_EQ(json.at("events_per_s").get<double>(),
                   static_cast<double>(record.events) / 0.5);
  EXPECT_GT(json.at("ops").at("ok").get<std::uint64_t>(), 0u);
  EXPECT_TRUE(json.at("ops").contains("failed"));
  EXPECT_TRUE(json.at("ops").contains("indeterminate"));
  const nlohmann::ordered_json& lost = json.at("checks").at("no_lost_writes");
  EXPECT_EQ(lost.at("ok"), false);
  EXPECT_GT(lost.at("lost").get<std::uint64_t>(), 0u);
  EXPECT_GT(lost.at("acknowledged").get<std::uint64_t>(), lost.at("lost").get<std::uint64_t>());
  EXPECT_GT(lost.at("lost_fraction").get<double>(), 0.0);
  EXPECT_FALSE(lost.at("examples").empty());
  EXPECT_TRUE(json.at("checks").at("stale_reads").contains("stale"));
  EXPECT_EQ(json.at("replay"), "vigil sim " + scenario.file + " --seed 3");
  EXPECT_EQ(run_json_line(record).find('\n'), std::string::npos);
}

TEST(Report, TablePrintsTheReplayCommandOfEveryRunThatMissedItsExpectation) {
  Scenario scenario = load("lww-lost-writes");
  scenario.expect = Expectation::pass;  // now its losses miss the expectation
  std::vector<RunRecord> records{run_scenario(scenario, 5)};
  Scenario passing = load("no-faults");
  records.push_back(run_scenario(passing, 6));
  std::ostringstream out;
  TableWriter table(out, 24);
  table.header();
  for (const RunRecord& record : records) table.row(record);
  table.summary(records);
  const std::string text = out.str();
  EXPECT_FALSE(records[0].met_expectation());
  EXPECT_TRUE(records[1].met_expectation());
  EXPECT_NE(text.find("FAIL (expected pass)"), std::string::npos) << text;
  EXPECT_NE(text.find("1 did not meet"), std::string::npos) << text;
  EXPECT_NE(text.find("vigil sim " + scenario.file + " --seed 5\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("--seed 6\n"), std::string::npos) << text;
  EXPECT_NE(text.find("no_lost_writes lost "), std::string::npos) << text;
}

TEST(SeedRange, ParsesRangesAndRefusesNonsense) {
  const core::Result<SeedRange> range = parse_seed_range("3-17");
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->first, 3u);
  EXPECT_EQ(range->last, 17u);
  const core::Result<SeedRange> one = parse_seed_range("9");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->first, 9u);
  EXPECT_EQ(one->last, 9u);
  for (const char* bad : {"", "-", "5-", "-5", "9-3", "a-b", "1-2-3", "1 - 2", "0-99999999999"}) {
    EXPECT_FALSE(parse_seed_range(bad).ok()) << bad;
  }
}

// The `vigil sim` command itself (cli/command_sim.cpp): its exit codes and outputs.
struct CommandResult {
  int exit_code = -1;
  std::string out;
};

CommandResult run_vigil(const std::string& arguments) {
  const std::filesystem::path out_file =
      std::filesystem::temp_directory_path() /
      ("vigil_sim_cli_test_" + std::to_string(::getpid()) + ".out");
  const std::string command =
      std::string(VIGIL_BINARY) + " " + arguments + " > " + out_file.string() + " 2>&1";
  const int status = std::system(command.c_str());
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(out_file);
  std::ostringstream text;
  text << in.rdbuf();
  result.out = text.str();
  std::filesystem::remove(out_file);
  return result;
}

class SimCommand : public testing::Test {
 protected:
  void SetUp() override {
    folder_ = std::filesystem::temp_directory_path() /
              ("vigil_sim_cli_" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder_);
  }
  void TearDown() override { std::filesystem::remove_all(folder_); }
  std::string write(const std::string& name, const std::string& text) {
    const std::filesystem::path path = folder_ / name;
    std::ofstream(path) << text;
    return path.string();
  }
  std::filesystem::path folder_;
};

TEST_F(SimCommand, ExitsZeroWhenEveryRunMetItsExpectation) {
  const std::string file = (scenario_folder / "lww-lost-writes.yaml").string();
  const CommandResult result = run_vigil("sim " + file + " --seeds 1-2");
  EXPECT_EQ(result.exit_code, 0) << result.out;
  EXPECT_NE(result.out.find("fail (expected)"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("2 runs: every run met its expectation"), std::string::npos)
      << result.out;
}

TEST_F(SimCommand, ExitsOneAndPrintsTheReplayCommandWhenARunMissedIt) {
  std::ifstream in(scenario_folder / "lww-lost-writes.yaml");
  std::ostringstream text;
  text << in.rdbuf();
  std::string scenario = text.str();
  const std::size_t expect = scenario.find("\nexpect: fail");
  ASSERT_NE(expect, std::string::npos);
  scenario.replace(expect, 13, "\nexpect: pass");
  const std::string file = write("lww-expecting-pass.yaml", scenario);
  const CommandResult result = run_vigil("sim " + file + " --seed 9");
  EXPECT_EQ(result.exit_code, 1) << result.out;
  EXPECT_NE(result.out.find("vigil sim " + file + " --seed 9\n"), std::string::npos)
      << result.out;
}

TEST_F(SimCommand, ExitsTwoOnAScenarioOrUsageError) {
  const std::string bad = write("bad.yaml", std::string(R"(name: bad
duration: 10s
cluster: {nodes: 3}
workload: {clients: 1, keys: 1, rate: 10/s, mix: {put: 1}}
faults:
  - {at: 1s, crash: n7}
checks: []
expect: pass
)"));
  CommandResult result = run_vigil("sim " + bad);
  EXPECT_EQ(result.exit_code, 2) << result.out;
  EXPECT_NE(result.out.find(bad + ":6:21: faults[0].crash: no node n7"), std::string::npos)
      << result.out;
  const std::string good = (scenario_folder / "no-faults.yaml").string();
  EXPECT_EQ(run_vigil("sim " + good + " --seeds 5-1").exit_code, 2);
  EXPECT_EQ(run_vigil("sim " + good + " --seed 1 --seeds 1-2").exit_code, 2);
  EXPECT_EQ(run_vigil("sim " + folder_.string() + "/missing.yaml").exit_code, 2);
  EXPECT_EQ(run_vigil("sim " + good + " --seeds 1-2 --history h.jsonl").exit_code, 2);
}

TEST_F(SimCommand, JsonHistoryAndTraceOfOneRun) {
  const std::string file = (scenario_folder / "no-faults.yaml").string();
  const std::string history = (folder_ / "h.jsonl").string();
  const std::string trace = (folder_ / "t.txt").string();
  const CommandResult result = run_vigil("sim " + file + " --seed 2 --json --check-determinism" +
                                         " --history " + history + " --trace " + trace);
  ASSERT_EQ(result.exit_code, 0) << result.out;
  const nlohmann::json json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json.at("scenario"), "no-faults");
  EXPECT_EQ(json.at("seed"), 2);
  EXPECT_EQ(json.at("result"), "pass");
  EXPECT_EQ(json.at("determinism").at("ok"), true);
  EXPECT_EQ(json.at("determinism").at("trace_hash_again"), json.at("trace_hash"));
  EXPECT_GT(json.at("wall_s").get<double>(), 0.0);
  EXPECT_GT(std::filesystem::file_size(history), 0u);
  EXPECT_GT(std::filesystem::file_size(trace), 0u);
  std::ifstream lines(history);
  std::string first;
  std::getline(lines, first);
  EXPECT_TRUE(nlohmann::json::parse(first).contains("invoked_us")) << first;
}

}  // namespace
}  // namespace vigil::sim
