#include "sim/run.h"

#include <charconv>

#include "sim/simulator.h"

// Theory of operation. A run is a pure function of (scenario, seed): simulate() gives the
// trace hash and the history, the checks read the history, and the verdict compares their
// result with the scenario's `expect`. The determinism check (FoundationDB and TigerBeetle
// run the same seed twice) simulates again without trace or history output and compares
// the trace hashes; a mismatch means something a run can reach is not seeded (a clock, an
// unordered container, uninitialised memory) and fails the run whatever its checks said.

namespace vigil::sim {

bool RunRecord::met_expectation() const {
  const bool passed_as_expected = checks_ok == (expect == Expectation::pass);
  return passed_as_expected && deterministic;
}

OperationCounts count_operations(const History& history) {
  OperationCounts counts;
  for (const Operation& op : history.operations()) {
    if (op.final_read) continue;
    switch (op.outcome) {
      case Outcome::ok: ++counts.ok; break;
      case Outcome::failed: ++counts.failed; break;
      case Outcome::indeterminate: ++counts.indeterminate; break;
    }
  }
  return counts;
}

RunRecord run_scenario(const Scenario& scenario, std::uint64_t seed, const RunOptions& options) {
  RunRecord record;
  record.scenario = scenario.name;
  record.file = scenario.file;
  record.seed = seed;
  record.expect = scenario.expect;

  const double wall_start_s = options.wall_seconds ? options.wall_seconds() : 0;
  SimulationOptions simulation_options;
  simulation_options.trace = options.trace;
  const SimulationResult result = simulate(scenario, seed, simulation_options);
  record.wall_s = options.wall_seconds ? options.wall_seconds() - wall_start_s : 0;

  record.trace_hash = result.trace_hash;
  record.sim_time_s = static_cast<double>(result.sim_time_us) / 1e6;
  record.events = result.events;
  record.faults = result.faults_injected;
  record.counters = result.counters;
  record.members = result.final_views;
  record.ops = count_operations(result.history);
  record.checks = run_checks(scenario, result);
  for (const CheckResult& check : record.checks) record.checks_ok = record.checks_ok && check.ok;
  if (options.history != nullptr) result.history.write_jsonl(*options.history);

  if (options.check_determinism) {
    const SimulationResult again = simulate(scenario, seed);
    record.second_trace_hash = again.trace_hash;
    record.deterministic = again.trace_hash == result.trace_hash;
  }
  return record;
}

namespace {

core::Result<std::uint64_t> parse_seed(std::string_view text, std::string_view whole) {
  std::uint64_t seed = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seed);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size()) {
    return core::error(core::Code::invalid_argument,
                       "'" + std::string(whole) + "' is not a seed range: expected A-B with " +
                           "A and B whole numbers, A <= B");
  }
  return seed;
}

}  // namespace

core::Result<SeedRange> parse_seed_range(std::string_view text) {
  const std::size_t dash = text.find('-');
  const core::Result<std::uint64_t> first = parse_seed(text.substr(0, dash), text);
  if (!first.ok()) return first.status();
  if (dash == std::string_view::npos) return SeedRange{*first, *first};
  const core::Result<std::uint64_t> last = parse_seed(text.substr(dash + 1), text);
  if (!last.ok()) return last.status();
  if (*first > *last) {
    return core::error(core::Code::invalid_argument,
                       "'" + std::string(text) + "': the first seed is after the last");
  }
  if (*last - *first >= seed_range_size_max) {
    return core::error(core::Code::invalid_argument,
                       "'" + std::string(text) + "': at most " +
                           std::to_string(seed_range_size_max) + " seeds in one command");
  }
  return SeedRange{*first, *last};
}

}  // namespace vigil::sim
