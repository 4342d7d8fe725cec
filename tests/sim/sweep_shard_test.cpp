// Sweeps spread over machines (sim/results.h): shards partition a seed range, the merge of
// shards' results equals the summary of the unsharded sweep, and a malformed results file
// is refused naming its file and line, never a crash. The last tests drive the `vigil`
// binary the way docs/scenarios.md's GNU parallel, Slurm and Kubernetes recipes do.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sim/results.h"
#include "sim/run.h"
#include "sim/scenario.h"

namespace vigil::sim {
namespace {

const std::filesystem::path scenario_folder = std::filesystem::path(VIGIL_SOURCE_DIR) / "scenarios";

Scenario load(const std::string& stem) {
  const core::Result<Scenario> scenario =
      load_scenario_file((scenario_folder / (stem + ".yaml")).string());
  VIGIL_ASSERT(scenario.ok(), scenario.status().message());
  return *scenario;
}

TEST(Shard, ParsesIndexOfCountAndRefusesNonsense) {
  const core::Result<Shard> shard = parse_shard("2/5");
  ASSERT_TRUE(shard.ok());
  EXPECT_EQ(shard->index, 2u);
  EXPECT_EQ(shard->count, 5u);
  ASSERT_TRUE(parse_shard("0/1").ok());
  const auto message = [](const char* text) { return parse_shard(text).status().message(); };
  EXPECT_NE(message("5/5").find("must be less than K (5); indexes are 0-based: 0/5 .. 4/5"),
            std::string::npos)
      << message("5/5");
  EXPECT_NE(message("0/0").find("the shard count K must be at least 1"), std::string::npos);
  EXPECT_NE(message("3").find("expected I/K"), std::string::npos);
  EXPECT_NE(message("a/3").find("the shard index is not a whole number"), std::string::npos);
  EXPECT_NE(message("1/").find("the shard count is not a whole number"), std::string::npos);
  EXPECT_NE(message("-1/3").find("not a whole number"), std::string::npos);
  EXPECT_NE(message("1/3/4").find("not a whole number"), std::string::npos);
  EXPECT_FALSE(parse_shard("99999999999999999999/3").ok());
}

// Every shard count from 1 to past the range's size: the shards are disjoint, cover the
// range, agree with in_shard, and differ in size by at most one.
TEST(Shard, ShardsAreDisjointAndCoverTheRange) {
  for (const SeedRange range :
       {SeedRange{1, 1}, SeedRange{1, 100}, SeedRange{17, 52}, SeedRange{0, 9}}) {
    const std::uint64_t size = range.last - range.first + 1;
    for (std::uint64_t count = 1; count <= size + 3; ++count) {
      std::multiset<std::uint64_t> seen;
      std::uint64_t smallest = size, largest = 0;
      for (std::uint64_t index = 0; index < count; ++index) {
        const std::vector<std::uint64_t> seeds = shard_seeds(range, Shard{index, count});
        smallest = std::min<std::uint64_t>(smallest, seeds.size());
        largest = std::max<std::uint64_t>(largest, seeds.size());
        for (const std::uint64_t seed : seeds) {
          seen.insert(seed);
          EXPECT_TRUE(in_shard(seed, range, Shard{index, count}));
          for (std::uint64_t other = 0; other < count; ++other) {
            if (other != index) {
              EXPECT_FALSE(in_shard(seed, range, Shard{other, count}));
            }
          }
        }
      }
      ASSERT_EQ(seen.size(), size) << "count " << count;
      std::uint64_t expected = range.first;
      for (const std::uint64_t seed : seen) EXPECT_EQ(seed, expected++);  // each once, all
      EXPECT_LE(largest - smallest, 1u);
    }
  }
}

TEST(Shard, TheTopOfTheSeedSpaceDoesNotWrap) {
  const std::uint64_t top = std::numeric_limits<std::uint64_t>::max();
  const SeedRange range{top - 9, top};
  std::uint64_t total = 0;
  for (std::uint64_t index = 0; index < 4; ++index) {
    for (const std::uint64_t seed : shard_seeds(range, Shard{index, 4})) {
      EXPECT_GE(seed, range.first);
      ++total;
    }
  }
  EXPECT_EQ(total, 10u);
  EXPECT_EQ(shard_seeds(range, Shard{0, 1000}).size(), 1u);
  EXPECT_TRUE(shard_seeds(range, Shard{10, 1000}).empty());
}

std::string summary_without_wall(const MergeSummary& summary) {
  nlohmann::ordered_json json = summary_json(summary);
  json.erase("wall_s");
  json.erase("files");
  return json.dump();
}

// Real runs of a passing and a failing scenario (lww-lost-writes expecting pass), merged
// whole and as 3 shards read in a scrambled order: the same summary.
TEST(Merge, ShardsMergeToTheUnshardedSummary) {
  Scenario passing = load("no-faults");
  passing.duration = std::chrono::seconds(5);
  Scenario failing = load("lww-lost-writes");
  failing.expect = Expectation::pass;
  const SeedRange range{1, 8};
  std::vector<std::string> lines;  // by seed, passing then failing
  for (const Scenario* scenario : {&passing, &failing}) {
    for (std::uint64_t seed = range.first; seed <= range.last; ++seed) {
      lines.push_back(result_json_line(run_scenario(*scenario, seed)));
    }
  }
  ResultsMerger whole;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    ASSERT_TRUE(whole.add_line(lines[i], "all.jsonl", i + 1).ok());
  }
  ResultsMerger sharded;
  for (const std::uint64_t index : {2u, 0u, 1u}) {
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const std::uint64_t seed = range.first + i % 8;
      if (!in_shard(seed, range, Shard{index, 3})) continue;
      ASSERT_TRUE(sharded.add_line(lines[i], "shard.jsonl", i + 1).ok());
    }
  }
  const MergeSummary summary = whole.summary();
  EXPECT_EQ(summary_without_wall(sharded.summary()), summary_without_wall(summary));
  EXPECT_EQ(summary.runs, 16u);
  EXPECT_EQ(summary.scenarios.at("no-faults").runs, 8u);
  EXPECT_EQ(summary.checks.at("no_lost_writes").runs, 16u);
  EXPECT_GT(summary.checks.at("no_lost_writes").sums.at("acknowledged"), 0u);
  // Every lww run loses writes under siblings-free last-write-wins and expects to pass.
  ASSERT_EQ(summary.failures.size(), 8u);
  EXPECT_EQ(summary.missed(), 8u);
  EXPECT_EQ(summary.failures[0].seed, 1u);
  EXPECT_EQ(summary.failures[0].failed_checks, std::vector<std::string>{"no_lost_writes"});
  EXPECT_NE(summary.failures[0].replay.find("lww-lost-writes.yaml --seed 1"), std::string::npos);
  const std::string text = summary_text(summary);
  EXPECT_NE(text.find("8 run(s) did not meet their expectation"), std::string::npos) << text;
  // A shard read twice is counted once.
  ResultsMerger twice;
  for (int round = 0; round < 2; ++round) {
    for (std::size_t i = 0; i < lines.size(); ++i) {
      ASSERT_TRUE(twice.add_line(lines[i], "x.jsonl", i + 1).ok());
    }
  }
  EXPECT_EQ(twice.summary().duplicates, 16u);
  EXPECT_EQ(twice.summary().runs, 16u);
}

TEST(Merge, MissingSeedsAreReported) {
  Scenario scenario = load("no-faults");
  scenario.duration = std::chrono::seconds(2);
  ResultsMerger merger;
  std::size_t line = 0;
  for (const std::uint64_t seed : {3u, 4u, 7u}) {
    ASSERT_TRUE(merger.add_line(result_json_line(run_scenario(scenario, seed)), "f", ++line).ok());
  }
  const ScenarioTotals totals = merger.summary().scenarios.at("no-faults");  // summary() is a value
  EXPECT_EQ(totals.seed_first, 3u);
  EXPECT_EQ(totals.seed_last, 7u);
  EXPECT_NE(summary_text(merger.summary()).find("seeds 3-7, 2 missing"), std::string::npos);
  EXPECT_EQ(seeds_missing(totals), 2u);
  // The whole seed space seen at its two ends: no wrap.
  EXPECT_EQ(seeds_missing(ScenarioTotals{2, 0, ~std::uint64_t{0}}), ~std::uint64_t{0} - 1);
  EXPECT_EQ(seeds_missing(ScenarioTotals{1, 5, 5}), 0u);
}

// Untrusted input: each malformed line is refused with "file:line: reason" and leaves the
// summary as it was.
TEST(Merge, MalformedLinesNameTheFileAndLine) {
  const std::string good =
      R"({"scenario":"s","seed":1,"result":"pass","met_expectation":true,"replay":"r",)"
      R"("checks":{"c":{"ok":true,"n":3,"f":0.5}}})";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"scenario":"s","seed":1,"res)", "not valid JSON"},
      {"[1,2,3]", "not a JSON object"},
      {"42", "not a JSON object"},
      {R"({"seed":1,"result":"pass","met_expectation":true,"replay":"r","checks":{}})",
       "no \"scenario\""},
      {R"({"scenario":"s","seed":-4,"result":"pass","met_expectation":true,"replay":"r","checks":{}})",
       "\"seed\" is not a whole number"},
      {R"({"scenario":"s","seed":1.5,"result":"pass","met_expectation":true,"replay":"r","checks":{}})",
       "\"seed\" is not a whole number"},
      {R"({"scenario":"s","seed":1,"result":"maybe","met_expectation":true,"replay":"r","checks":{}})",
       "\"result\" is not pass or fail"},
      {R"({"scenario":"s","seed":1,"result":"pass","met_expectation":"yes","replay":"r","checks":{}})",
       "\"met_expectation\" is not true or false"},
      {R"({"scenario":"s","seed":1,"result":"pass","met_expectation":true,"replay":"r","checks":[]})",
       "\"checks\" is not an object"},
      {R"({"scenario":"s","seed":1,"result":"pass","met_expectation":true,"replay":"r","checks":{"c":{"n":1}}})",
       "checks.c.ok"},
      {R"({"scenario":"s","seed":1,"result":"pass","met_expectation":true,"replay":"r","checks":{"c":{"ok":true,"n":"x"}}})",
       "checks.c.n is not a count"},
      {R"({"scenario":"s","seed":1,"result":"pass","met_expectation":true,"replay":"r","checks":{"c":{"ok":true,"n":-2}}})",
       "checks.c.n is not a count"},
      {R"({"scenario":"s","seed":1,"result":"pass","met_expectation":true,"replay":"r","checks":{},"sim_time_s":-1})",
       "\"sim_time_s\" is not a number of seconds"},
      {std::string(20, '[') + std::string(20, ']'), "nested deeper than 16"},
      {std::string(200000, '['), "nested deeper than 16"},
      {std::string(results_line_bytes_max + 1, ' ') + "x", "a line longer than"},
      {std::string("{\"scenario\":\"s\xff\",\"seed\":1}"), "not valid JSON"},
  };
  ResultsMerger merger;
  ASSERT_TRUE(merger.add_line(good, "r.jsonl", 1).ok());
  const std::string before = summary_json(merger.summary()).dump();
  std::size_t line = 2;
  for (const auto& [text, reason] : cases) {
    const core::Status status = merger.add_line(text, "r.jsonl", line);
    ASSERT_FALSE(status.ok()) << text.substr(0, 80);
    EXPECT_EQ(status.message().rfind("r.jsonl:" + std::to_string(line) + ": ", 0), 0u)
        << status.message();
    EXPECT_NE(status.message().find(reason), std::string::npos) << status.message();
    EXPECT_EQ(summary_json(merger.summary()).dump(), before);
    ++line;
  }
  EXPECT_TRUE(merger.add_line("   ", "r.jsonl", line).ok());  // blank lines are skipped
}

// --- the command ------------------------------------------------------------------------

struct CommandResult {
  int exit_code = -1;
  std::string out;
};

class SweepCommand : public testing::Test {
 protected:
  void SetUp() override {
    folder_ = std::filesystem::temp_directory_path() /
              ("vigil_sweep_shard_" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder_);
  }
  void TearDown() override { std::filesystem::remove_all(folder_); }

  CommandResult run(const std::string& arguments) {
    const std::filesystem::path out_file = folder_ / "command.out";
    const std::string command =
        std::string(VIGIL_BINARY) + " " + arguments + " > " + out_file.string() + " 2>&1";
    const int status = std::system(command.c_str());
    CommandResult result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream in(out_file);
    std::ostringstream text;
    text << in.rdbuf();
    result.out = text.str();
    return result;
  }
  std::string path(const std::string& name) const { return (folder_ / name).string(); }

  std::filesystem::path folder_;
};

TEST_F(SweepCommand, ThreeShardsMergeToTheUnshardedSweep) {
  const std::string scenario = (scenario_folder / "no-faults.yaml").string();
  ASSERT_EQ(run("sim " + scenario + " --seeds 1-7 --results " + path("all.jsonl")).exit_code, 0);
  std::string shards;
  for (int index = 0; index < 3; ++index) {
    const std::string file = path("shard-" + std::to_string(index) + ".jsonl");
    const CommandResult result = run("sim " + scenario + " --seeds 1-7 --shard " +
                                     std::to_string(index) + "/3 --results " + file);
    ASSERT_EQ(result.exit_code, 0) << result.out;
    shards += " " + file;
  }
  const CommandResult whole = run("sim merge --json " + path("all.jsonl"));
  const CommandResult merged = run("sim merge --json" + shards);
  ASSERT_EQ(whole.exit_code, 0) << whole.out;
  ASSERT_EQ(merged.exit_code, 0) << merged.out;
  nlohmann::json a = nlohmann::json::parse(whole.out);
  nlohmann::json b = nlohmann::json::parse(merged.out);
  EXPECT_EQ(b.at("files"), 3);
  EXPECT_EQ(b.at("runs"), 7);
  EXPECT_EQ(b.at("scenarios").at("no-faults").at("seeds_missing"), 0);
  for (nlohmann::json* json : {&a, &b}) {
    json->erase("wall_s");
    json->erase("files");
  }
  EXPECT_EQ(a, b);
  // Shard 0/3 of 1-7 is 1, 4, 7.
  std::ifstream in(path("shard-0.jsonl"));
  std::vector<std::uint64_t> seeds;
  for (std::string line; std::getline(in, line);) {
    seeds.push_back(nlohmann::json::parse(line).at("seed").get<std::uint64_t>());
  }
  EXPECT_EQ(seeds, (std::vector<std::uint64_t>{1, 4, 7}));
}

TEST_F(SweepCommand, MergeExitsOneOnAFailedRunAndTwoOnMalformedInput) {
  std::ifstream in(scenario_folder / "lww-lost-writes.yaml");
  std::ostringstream text;
  text << in.rdbuf();
  std::string scenario = text.str();
  scenario.replace(scenario.find("\nexpect: fail"), 13, "\nexpect: pass");
  std::ofstream(path("lww-pass.yaml")) << scenario;
  const CommandResult failing =
      run("sim " + path("lww-pass.yaml") + " --seeds 3-3 --results " + path("fail.jsonl"));
  ASSERT_EQ(failing.exit_code, 1) << failing.out;
  const CommandResult merged = run("sim merge " + path("fail.jsonl"));
  EXPECT_EQ(merged.exit_code, 1) << merged.out;
  EXPECT_NE(merged.out.find("vigil sim " + path("lww-pass.yaml") + " --seed 3"), std::string::npos)
      << merged.out;
  EXPECT_NE(merged.out.find("failed: no_lost_writes"), std::string::npos) << merged.out;

  // A torn last line, as a killed shard leaves.
  std::string line;
  std::getline(std::ifstream(path("fail.jsonl")) >> std::ws, line);
  std::ofstream(path("torn.jsonl")) << line << "\n" << line.substr(0, line.size() / 2);
  const CommandResult torn = run("sim merge " + path("fail.jsonl") + " " + path("torn.jsonl"));
  EXPECT_EQ(torn.exit_code, 2) << torn.out;
  EXPECT_NE(torn.out.find(path("torn.jsonl") + ":2: not valid JSON"), std::string::npos)
      << torn.out;
  EXPECT_EQ(run("sim merge " + path("nothing-here.jsonl")).exit_code, 2);
  const std::string good = (scenario_folder / "no-faults.yaml").string();
  EXPECT_EQ(run("sim " + good + " --seeds 1-4 --shard 4/4").exit_code, 2);
  EXPECT_EQ(run("sim " + good + " --seeds 1-4 --shard 0/0").exit_code, 2);
  EXPECT_EQ(run("sim " + good + " --shard 0/2").exit_code, 2);  // no --seeds
}

}  // namespace
}  // namespace vigil::sim
