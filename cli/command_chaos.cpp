// `vigil chaos SCENARIO.yaml [--dir DIR] [--seed N] [--json]`: the scenario file on a local
// cluster of real `vigil start` processes, its faults applied in real time
// (cli/chaos_run.h, docs/scenarios.md "Chaos"). Exit 0 when the run met the scenario's
// `expect`, 1 when it did not, 2 on a usage or scenario error, a fault it cannot apply
// (named with its index and line) or a cluster that could not be started or driven.

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "cli/chaos_run.h"
#include "cli/commands.h"
#include "sim/report.h"
#include "sim/scenario.h"

namespace vigil::cli {
namespace {

// Set by SIGINT/SIGTERM: the run stops and takes its cluster down (its nodes are detached
// processes that would otherwise outlive it).
std::atomic<bool> interrupted{false};

void on_interrupt(int) {
  interrupted = true;
}

void catch_interrupts() {
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

constexpr int exit_ok = 0;
constexpr int exit_expectation_missed = 1;
constexpr int exit_usage = 2;

struct ChaosCommandOptions {
  std::string path;
  std::string dir;
  std::optional<std::uint64_t> seed;
  bool json = false;
  bool quiet = false;
};

int run(const ChaosCommandOptions& command) {
  core::Result<sim::Scenario> scenario = sim::load_scenario_file(command.path);
  if (!scenario) {
    std::fprintf(stderr, "vigil chaos: %s\n", scenario.status().message().c_str());
    return exit_usage;
  }
  ChaosOptions options;
  options.dir = command.dir;
  options.seed = command.seed.value_or(scenario->seed.value_or(1));
  if (!command.quiet && !command.json) options.progress = &std::cerr;
  options.interrupted = &interrupted;
  catch_interrupts();
  core::Result<ChaosRecord> record = run_chaos(*scenario, options);
  if (!record) {
    std::fprintf(stderr, "vigil chaos: %s\n", record.status().message().c_str());
    return exit_usage;
  }
  if (command.json) {
    nlohmann::ordered_json json = sim::run_json(record->run);
    json.erase("replay");  // a simulator replay command does not replay a real run
    json.erase("trace_hash");
    nlohmann::ordered_json skipped = nlohmann::ordered_json::object();
    for (const SkippedCheck& check : record->skipped) skipped[check.name] = check.reason;
    json["skipped_checks"] = skipped;
    json["fault_lateness_s_max"] = record->fault_lateness_s_max;
    json["wall_offset_s"] = record->wall_offset_s;
    json["notes"] = record->notes;
    if (!record->history_path.empty()) json["history"] = record->history_path;
    std::cout << json.dump() << '\n';
  } else {
    print_chaos_report(*record, std::cout);
  }
  return record->run.met_expectation() ? exit_ok : exit_expectation_missed;
}

}  // namespace

void add_chaos_command(CLI::App& app, int& exit_code) {
  CLI::App* command = app.add_subcommand(
      "chaos",
      "run a scenario file on a local cluster of real processes, faults in real time "
      "(docs/scenarios.md)");
  auto options = std::make_shared<ChaosCommandOptions>();
  command->add_option("scenario", options->path, "the scenario file (as vigil sim takes)")
      ->required();
  command->add_option("--dir", options->dir,
                      "keep the run's files here (cluster, logs, history.jsonl); default: a "
                      "temporary directory, kept only when the run fails");
  command->add_option("--seed", options->seed,
                      "the workload's seed (default: the file's `seed:`, else 1)");
  command->add_flag("--json", options->json, "the result as one JSON object");
  command->add_flag("--quiet", options->quiet, "no line per fault on stderr");
  command->callback([options, &exit_code] { exit_code = run(*options); });
}

}  // namespace vigil::cli
