// `vigil sim SCENARIO.yaml|DIR [--seed N | --seeds A-B [--shard I/K]] [--json]
//  [--results FILE.jsonl] [--history FILE] [--trace FILE] [--check-determinism]
//  [--invariants-every K]`: runs
// scenarios under the deterministic simulator (docs/scenarios.md). Exit 0 when every run
// met its scenario's `expect`, 1 when one did not, 2 on a usage or scenario error.
// `vigil sim merge RESULTS.jsonl...`: one summary of results files from many shards
// (sim/results.h); exit 0 when every run met its expectation, 1 when one did not, 2 on
// input that is not a results file (naming the file and line). This is the only place a simulated
// run meets a wall clock: it times runs for the report, and nothing it reads flows back into them.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "cli/commands.h"
#include "sim/report.h"
#include "sim/results.h"
#include "sim/run.h"
#include "sim/scenario.h"

namespace vigil::cli {
namespace {

struct SimOptions {
  std::string path;
  std::optional<std::uint64_t> seed;  // --seed; unset: the file's `seed:`, else 1
  std::string seeds;
  std::string shard;         // --shard I/K (needs --seeds)
  std::string results_file;  // --results: one result_json line per run
  bool json = false;
  std::string history_file;
  std::string trace_file;
  bool check_determinism = false;
  std::uint64_t invariants_every = sim::sim_invariant_interval;
};

constexpr int exit_ok = 0;
constexpr int exit_expectation_missed = 1;
constexpr int exit_usage = 2;

void print_error(const std::string& message) {
  std::fprintf(stderr, "vigil sim: %s\n", message.c_str());
}

// The scenario files a path names: itself, or every *.yaml directly in a directory, sorted
// so a directory always runs in the same order.
core::Result<std::vector<std::string>> scenario_files(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(path, error)) {
      if (entry.is_regular_file(error) && entry.path().extension() == ".yaml") {
        files.push_back(entry.path().string());
      }
    }
    if (error) return core::error(core::Code::invalid_argument, path + ": " + error.message());
    if (files.empty()) {
      return core::error(core::Code::invalid_argument, path + ": no *.yaml scenario in it");
    }
    std::sort(files.begin(), files.end());
    return files;
  }
  if (!std::filesystem::exists(path, error)) {
    return core::error(core::Code::invalid_argument, path + ": no such file or directory");
  }
  return std::vector<std::string>{path};
}

double wall_seconds() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

// Opens an output file for --history/--trace; nullptr (after a message) when it cannot.
std::unique_ptr<std::ofstream> open_output(const std::string& path, const char* what) {
  if (path.empty()) return nullptr;
  auto out = std::make_unique<std::ofstream>(path, std::ios::binary | std::ios::trunc);
  if (!*out) print_error(std::string("cannot write the ") + what + " file " + path);
  return out;
}

int run_sim(const SimOptions& options) {
  const core::Result<std::vector<std::string>> files = scenario_files(options.path);
  if (!files.ok()) {
    print_error(files.status().message());
    return exit_usage;
  }
  std::vector<sim::Scenario> scenarios;
  bool load_failed = false;
  for (const std::string& file : *files) {
    core::Result<sim::Scenario> scenario = sim::load_scenario_file(file);
    if (!scenario.ok()) {
      std::fprintf(stderr, "%s\n", scenario.status().message().c_str());
      load_failed = true;
      continue;
    }
    scenarios.push_back(std::move(*scenario));
  }
  if (load_failed) return exit_usage;

  // Neither --seed nor --seeds: each file's own `seed:` (default 1).
  const bool file_seeds = !options.seed && options.seeds.empty();
  const std::uint64_t one_seed = options.seed.value_or(1);
  sim::SeedRange seeds{one_seed, one_seed};
  if (!options.seeds.empty()) {
    const core::Result<sim::SeedRange> range = sim::parse_seed_range(options.seeds);
    if (!range.ok()) {
      print_error("--seeds " + range.status().message());
      return exit_usage;
    }
    seeds = *range;
  }
  sim::Shard shard;
  if (!options.shard.empty()) {
    if (options.seeds.empty()) {
      print_error("--shard cuts a seed range: give --seeds A-B with it");
      return exit_usage;
    }
    const core::Result<sim::Shard> parsed = sim::parse_shard(options.shard);
    if (!parsed.ok()) {
      print_error("--shard " + parsed.status().message());
      return exit_usage;
    }
    shard = *parsed;
  }
  const bool single_run = scenarios.size() == 1 && seeds.first == seeds.last;
  if (!single_run && (!options.history_file.empty() || !options.trace_file.empty())) {
    print_error("--history and --trace record one run: give one scenario file and one seed");
    return exit_usage;
  }
  const auto history = open_output(options.history_file, "history");
  const auto trace = open_output(options.trace_file, "trace");
  const auto results = open_output(options.results_file, "results");
  if ((history && !*history) || (trace && !*trace) || (results && !*results)) return exit_usage;

  sim::RunOptions run_options;
  run_options.check_determinism = options.check_determinism;
  run_options.check_invariants_every = options.invariants_every;
  run_options.history = history.get();
  run_options.trace = trace.get();
  run_options.wall_seconds = wall_seconds;

  std::size_t name_width = 0;
  for (const sim::Scenario& scenario : scenarios) {
    name_width = std::max(name_width, scenario.name.size());
  }
  sim::TableWriter table(std::cout, name_width);
  if (!options.json) table.header();
  std::vector<sim::RunRecord> records;
  bool all_met = true;
  for (const sim::Scenario& scenario : scenarios) {
    const sim::SeedRange range =
        file_seeds && scenario.seed ? sim::SeedRange{*scenario.seed, *scenario.seed} : seeds;
    // This shard's seeds: range.first + index, then every count-th (sim/results.h).
    if (shard.index > range.last - range.first) continue;
    for (std::uint64_t seed = range.first + shard.index;; seed += shard.count) {
      sim::RunRecord record = sim::run_scenario(scenario, seed, run_options);
      all_met = all_met && record.met_expectation();
      if (options.json) {
        std::cout << sim::run_json_line(record) << '\n' << std::flush;
      } else {
        table.row(record);
      }
      // A line at a time, so a shard killed midway leaves whole lines (and at most one
      // torn last line, which the merge names).
      if (results) *results << sim::result_json_line(record) << '\n' << std::flush;
      records.push_back(std::move(record));
      if (range.last - seed < shard.count) break;  // the next seed would pass the end
    }
  }
  if (!options.json) table.summary(records);
  if (history) history->flush();
  if (trace) trace->flush();
  if (results) results->flush();
  if ((history && !*history) || (trace && !*trace) || (results && !*results)) {
    print_error("writing the history, trace or results file failed");
    return exit_usage;
  }
  return all_met ? exit_ok : exit_expectation_missed;
}

struct MergeOptions {
  std::vector<std::string> files;
  bool json = false;
};

int run_merge(const MergeOptions& options) {
  sim::ResultsMerger merger;
  for (const std::string& file : options.files) {
    const core::Status status = merger.add_file(file);
    if (!status.ok()) {
      std::fprintf(stderr, "vigil sim merge: %s\n", status.message().c_str());
      return exit_usage;
    }
  }
  const sim::MergeSummary summary = merger.summary();
  if (options.json) {
    std::cout << sim::summary_json(summary).dump(-1, ' ', false,
                                                 nlohmann::json::error_handler_t::replace)
              << '\n';
  } else {
    std::cout << sim::summary_text(summary);
  }
  return summary.missed() == 0 ? exit_ok : exit_expectation_missed;
}

void add_merge_command(CLI::App& sim_command, int& exit_code) {
  CLI::App* command = sim_command.add_subcommand(
      "merge",
      "one summary of --results files (shards of a sweep): runs, failures with their "
      "replay commands, totals per check");
  auto options = std::make_shared<MergeOptions>();
  command->add_option("results", options->files, "results files (JSON lines) of vigil sim")
      ->required();
  command->add_flag("--json", options->json, "the summary as one JSON object");
  command->callback([options, &exit_code] { exit_code = run_merge(*options); });
}

}  // namespace

void add_sim_command(CLI::App& app, int& exit_code) {
  CLI::App* command = app.add_subcommand(
      "sim", "run scenarios under the deterministic simulator (docs/scenarios.md)");
  auto options = std::make_shared<SimOptions>();
  add_merge_command(*command, exit_code);
  // Not ->required(): `vigil sim merge ...` has none; the callback asks for it otherwise.
  command->add_option("scenario", options->path, "a scenario file, or a directory of *.yaml");
  CLI::Option* seed = command->add_option(
      "--seed", options->seed, "the seed of the one run (default: the file's seed:, else 1)");
  command->add_option("--seeds", options->seeds, "a range of seeds, A-B (inclusive)")
      ->excludes(seed);
  command
      ->add_option("--shard", options->shard,
                   "I/K: run only shard I of K (0-based, 0 <= I < K) of the --seeds range: "
                   "the seeds s with (s - A) mod K == I")
      ->excludes(seed);
  command->add_flag("--json", options->json, "one JSON object per run, one per line");
  command->add_option("--results", options->results_file,
                      "also write one JSON line per run to FILE (for vigil sim merge)");
  command->add_option("--history", options->history_file,
                      "write the run's history (JSON lines) to FILE (one run only)");
  command->add_option("--trace", options->trace_file,
                      "write the run's event trace to FILE (one run only)");
  command->add_flag("--check-determinism", options->check_determinism,
                    "run every seed twice; a run whose trace hashes differ fails");
  command
      ->add_option("--invariants-every", options->invariants_every,
                   "check each node's invariants after every Kth of its inputs (1: every "
                   "input; the end of a run checks every live node)")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1000000}));
  command->callback([command, options, &exit_code] {
    if (command->got_subcommand("merge")) return;
    if (options->path.empty()) {
      print_error("give a scenario file or directory (or: vigil sim merge RESULTS.jsonl...)");
      exit_code = exit_usage;
      return;
    }
    exit_code = run_sim(*options);
  });
}

}  // namespace vigil::cli
