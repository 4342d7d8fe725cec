// The exploration loop: generate, run, and for a failure shrink, write the minimal
// scenario file and replay it from the file (explore.h). The file is the product: it is
// loaded back and run exactly as `vigil sim FILE` would, so a file that does not replay is
// reported as such, never passed off as a reproduction.

#include <filesystem>
#include <fstream>
#include <utility>

#include "sim/explore.h"
#include "sim/scenario_writer.h"

namespace vigil::sim {
namespace {

std::string swarm_text(const std::vector<SwarmKind>& swarm) {
  std::string text;
  for (const SwarmKind kind : swarm) text += (text.empty() ? "" : ",") + std::string(swarm_kind_name(kind));
  return text;
}

std::string size_text(const CaseSize& size) {
  return std::to_string(size.faults) + " faults, " + std::to_string(size.operations) +
         " operations, " + std::to_string(static_cast<long long>(size.sim_seconds)) +
         " simulated seconds";
}

// The minimal case as a file; its name is the scenario's name (at most 64 characters).
bool write_minimal(const ExploreRunOptions& options, ShrunkFailure& failure,
                   const Scenario& scenario, std::string& error) {
  const std::string seed = std::to_string(failure.shrunk.smallest.seed);
  std::string stem = options.template_stem.substr(0, 64 - seed.size() - 5);
  Scenario named = scenario;
  named.name = stem + "-" + seed + "-min";
  std::error_code code;
  std::filesystem::create_directories(options.out_dir, code);
  failure.file = (std::filesystem::path(options.out_dir) / (named.name + ".yaml")).string();
  const std::string comment =
      "Shrunk by vigil explore (seed " + std::to_string(options.generate.seed) + ", run " +
      std::to_string(failure.found.index) + ", swarm " + swarm_text(failure.found.generated.swarm) +
      ").\nFails: " + failure.shrunk.verdict.signature + "\nBefore: " + size_text(failure.before) +
      "\nAfter:  " + size_text(failure.after) + "\nReplay: vigil sim " + failure.file;
  std::ofstream out(failure.file, std::ios::binary | std::ios::trunc);
  out << write_scenario(named, comment);
  out.close();
  if (!out) {
    error = "cannot write " + failure.file;
    return false;
  }
  return true;
}

void replay(const ExploreRunOptions& options, const Scenario& tmpl, ShrunkFailure& failure) {
  core::Result<Scenario> loaded = load_scenario_file(failure.file);
  if (!loaded.ok() || !loaded->seed) {
    failure.replay_signature = loaded.ok() ? "no seed" : loaded.status().message();
    return;
  }
  loaded->adjust_node_options = tmpl.adjust_node_options;  // the same binary, tests only
  const RunVerdict verdict = options.runner(*loaded, *loaded->seed);
  failure.replay_signature = verdict.signature;
  failure.replayed = verdict.failed && verdict.signature == failure.shrunk.verdict.signature;
}

}  // namespace

ExploreSummary explore(const Scenario& tmpl, const ExploreRunOptions& options) {
  ExploreSummary summary;
  for (std::uint64_t index = 0; index < options.runs; ++index) {
    ExploredRun run;
    run.index = index;
    run.generated = generate_run(tmpl, options.generate, index);
    const std::optional<Scenario> scenario = case_scenario(run.generated.run);
    if (!scenario) continue;  // cannot happen: the generator keeps only valid cases
    run.verdict = options.runner(*scenario, run.generated.run.seed);
    summary.runs += 1;
    if (options.on_run) options.on_run(run);
    if (!run.verdict.failed) continue;
    summary.failures += 1;

    ShrunkFailure failure;
    failure.found = run;
    failure.before = case_size(*scenario);
    failure.shrunk = shrink_case(run.generated.run, run.verdict, options.runner,
                                 options.shrink_attempts_max, options.on_shrink_step);
    const std::optional<Scenario> smallest = case_scenario(failure.shrunk.smallest);
    failure.after = case_size(*smallest);
    if (!write_minimal(options, failure, *smallest, summary.error)) return summary;
    replay(options, tmpl, failure);
    if (options.on_shrunk) options.on_shrunk(failure);
    summary.shrunk.push_back(std::move(failure));
    if (!options.keep_going) break;
  }
  return summary;
}

}  // namespace vigil::sim
