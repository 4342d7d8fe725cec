// `vigil explore TEMPLATE.yaml --runs N [--seed S] [--out DIR] [--json] [--kinds K,...]
//  [--faults-max M] [--keep-going]`: generated fault schedules with swarm testing, and
// every failure shrunk to a minimal scenario file (sim/explore.h, docs/scenarios.md
// "Explore"). Exit 0 when every run met its expectation, 1 when one did not, 2 on a usage
// or template error.

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "sim/explore.h"
#include "sim/scenario.h"

namespace vigil::cli {
namespace {

struct ExploreCommandOptions {
  std::string path;
  std::uint64_t runs = 100;
  std::uint64_t seed = 1;
  std::string out_dir = ".";
  bool json = false;
  std::string kinds;
  std::uint32_t faults_max = 6;
  std::uint32_t shrink_attempts_max = 300;
  bool keep_going = false;
};

void print_error(const std::string& message) {
  std::fprintf(stderr, "vigil explore: %s\n", message.c_str());
}

std::string swarm_text(const std::vector<sim::SwarmKind>& swarm) {
  std::string text;
  for (const sim::SwarmKind kind : swarm) {
    text += (text.empty() ? "" : ",") + std::string(sim::swarm_kind_name(kind));
  }
  return text;
}

nlohmann::json size_json(const sim::CaseSize& size) {
  return {{"faults", size.faults}, {"operations", size.operations},
          {"sim_seconds", size.sim_seconds}};
}

std::string size_text(const sim::CaseSize& size) {
  std::ostringstream out;
  out << size.faults << " faults, " << size.operations << " operations, " << size.sim_seconds
      << " simulated seconds";
  return out.str();
}

double wall_seconds() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

// "partition,crash" -> the set; an error names the unknown kind.
core::Result<std::set<sim::SwarmKind>> parse_kinds(const std::string& text) {
  if (text.empty()) return sim::all_swarm_kinds();
  std::set<sim::SwarmKind> kinds;
  std::istringstream in(text);
  std::string name;
  while (std::getline(in, name, ',')) {
    const std::optional<sim::SwarmKind> kind = sim::parse_swarm_kind(name);
    if (!kind) {
      return core::error(core::Code::invalid_argument,
                         "--kinds: unknown fault kind '" + name +
                             "' (expected partition, one_way, crash, pause, clock, clog, "
                             "lose_write, corrupt, link, client_partition, burst)");
    }
    kinds.insert(*kind);
  }
  return kinds;
}

void report_run(const ExploreCommandOptions& options, const sim::ExploredRun& run) {
  const auto& verdict = run.verdict;
  if (options.json) {
    nlohmann::json line = {{"run", run.index},
                           {"seed", run.generated.run.seed},
                           {"swarm", nlohmann::json::array()},
                           {"faults", verdict.faults},
                           {"result", verdict.failed ? "fail" : "pass"}};
    for (const sim::SwarmKind kind : run.generated.swarm) {
      line["swarm"].push_back(sim::swarm_kind_name(kind));
    }
    if (verdict.failed) line["signature"] = verdict.signature;
    std::cout << line.dump() << '\n' << std::flush;
    return;
  }
  std::printf("run %4llu  seed %20llu  faults %3llu  %-6s  %s%s\n",
              static_cast<unsigned long long>(run.index),
              static_cast<unsigned long long>(run.generated.run.seed),
              static_cast<unsigned long long>(verdict.faults), verdict.failed ? "FAIL" : "pass",
              swarm_text(run.generated.swarm).c_str(),
              verdict.failed ? ("  (" + verdict.detail + ")").c_str() : "");
  std::fflush(stdout);
}

void report_shrunk(const ExploreCommandOptions& options, const sim::ShrunkFailure& failure) {
  if (options.json) {
    nlohmann::json line = {{"shrunk", failure.file},
                           {"run", failure.found.index},
                           {"signature", failure.shrunk.verdict.signature},
                           {"before", size_json(failure.before)},
                           {"after", size_json(failure.after)},
                           {"attempts", failure.shrunk.attempts},
                           {"replayed", failure.replayed},
                           {"replay", "vigil sim " + failure.file}};
    std::cout << line.dump() << '\n' << std::flush;
    return;
  }
  std::printf("\nrun %llu fails %s; shrunk in %u runs\n  before: %s\n  after:  %s\n",
              static_cast<unsigned long long>(failure.found.index),
              failure.shrunk.verdict.signature.c_str(), failure.shrunk.attempts,
              size_text(failure.before).c_str(), size_text(failure.after).c_str());
  std::printf("  wrote %s: %s\n  replay: vigil sim %s\n", failure.file.c_str(),
              failure.replayed ? "replays the failure"
                               : ("DOES NOT replay it (" + failure.replay_signature + ")").c_str(),
              failure.file.c_str());
}

int run_explore(const ExploreCommandOptions& options) {
  core::Result<sim::Scenario> tmpl = sim::load_scenario_file(options.path);
  if (!tmpl.ok()) {
    std::fprintf(stderr, "%s\n", tmpl.status().message().c_str());
    return 2;
  }
  if (tmpl->expect != sim::Expectation::pass) {
    print_error(options.path + ": a template must expect pass (explore looks for runs that fail)");
    return 2;
  }
  const core::Result<std::set<sim::SwarmKind>> kinds = parse_kinds(options.kinds);
  if (!kinds.ok()) {
    print_error(kinds.status().message());
    return 2;
  }
  if (!tmpl->faults.empty() && !options.json) {
    std::printf("note: the template's own %zu faults are ignored; explore draws its own\n",
                tmpl->faults.size());
  }
  sim::ExploreRunOptions run_options;
  run_options.generate.seed = options.seed;
  run_options.generate.faults_max = options.faults_max;
  run_options.generate.kinds = *kinds;
  run_options.runs = options.runs;
  run_options.out_dir = options.out_dir;
  run_options.template_stem = std::filesystem::path(options.path).stem().string();
  run_options.shrink_attempts_max = options.shrink_attempts_max;
  run_options.keep_going = options.keep_going;
  run_options.on_run = [&](const sim::ExploredRun& run) { report_run(options, run); };
  if (!options.json) {
    run_options.on_shrink_step = [](const std::string& step) {
      std::printf("  shrink: %s\n", step.c_str());
    };
  }
  run_options.on_shrunk = [&](const sim::ShrunkFailure& failure) {
    report_shrunk(options, failure);
  };
  const double start_s = wall_seconds();
  const sim::ExploreSummary summary = sim::explore(*tmpl, run_options);
  const double wall_s = wall_seconds() - start_s;
  if (!summary.error.empty()) {
    print_error(summary.error);
    return 2;
  }
  if (options.json) {
    std::cout << nlohmann::json{{"runs", summary.runs}, {"failures", summary.failures},
                                {"wall_s", wall_s}}.dump()
              << '\n';
  } else {
    std::printf("\n%llu runs, %llu failed, %.1f s wall\n",
                static_cast<unsigned long long>(summary.runs),
                static_cast<unsigned long long>(summary.failures), wall_s);
  }
  return summary.failures == 0 ? 0 : 1;
}

}  // namespace

void add_explore_command(CLI::App& app, int& exit_code) {
  CLI::App* command = app.add_subcommand(
      "explore", "generated fault schedules, swarm testing, shrinking (docs/scenarios.md)");
  auto options = std::make_shared<ExploreCommandOptions>();
  command->add_option("template", options->path, "a scenario file: cluster, workload, checks")
      ->required();
  command->add_option("--runs", options->runs, "how many runs")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{10000000}));
  command->add_option("--seed", options->seed, "the exploration's seed")->capture_default_str();
  command->add_option("--out", options->out_dir, "where minimal scenario files are written")
      ->capture_default_str();
  command->add_flag("--json", options->json, "one JSON object per run, per line");
  command->add_option("--kinds", options->kinds,
                      "the fault kinds the swarm draws from (default: all), e.g. crash,pause");
  command->add_option("--faults-max", options->faults_max, "faults drawn per run: 1 to this")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  command->add_option("--shrink-attempts", options->shrink_attempts_max,
                      "runs a shrink may try")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  command->add_flag("--keep-going", options->keep_going,
                    "explore every run (default: stop at the first failure, shrunk)");
  command->callback([options, &exit_code] { exit_code = run_explore(*options); });
}

}  // namespace vigil::cli
