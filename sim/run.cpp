#include "sim/run.h"

#include <charconv>

#include "sim/simulator.h"

// Theory of operation. A run is a pure function of (scenario, seed): simulate() gives the
// trace hash and the history, the checks read the history, and the verdict compares their
// result with the scenario's `expect`. The determinism check (FoundationDB and TigerBeetle
// run the same seed twice) simulates again without trace or history output and compares
// the trace hashes; a mismatch means something a run can reach is not seeded (a clock, an
// unordered container, uninitialised memory) and fails the run whatever its checks said.
// To name where, the first run keeps its hash after every event (EventHashLog, 8 bytes an
// event, bounded), the second compares as it goes and describes the first event that
// differs, and a third run describes the first run's event at that index.

namespace vigil::sim {

namespace {

std::string without_newline(std::string line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return line;
}

// The first run's line for the event where the second run parted from it: a third run,
// as the first, describes that event. (When the nondeterminism is itself random the third
// run may part elsewhere; the line is still the best evidence there is.)
std::string describe_divergence(const Scenario& scenario, std::uint64_t seed,
                                const std::optional<SimulationOptions::Described>& second) {
  if (!second) return "the runs part after the last event either kept (hash log bound)";
  std::optional<SimulationOptions::Described> first_line;
  SimulationOptions third;
  third.describe_event = second->index;
  third.first_difference = &first_line;
  simulate(scenario, seed, third);
  return "event #" + std::to_string(second->index) + ": first run: " +
         (first_line ? without_newline(first_line->line) : std::string("(no such event)")) +
         "; second run: " + without_newline(second->line);
}

}  // namespace

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
  simulation_options.check_invariants_every = options.check_invariants_every;
  simulation_options.trace = options.trace;
  EventHashLog first_log;
  if (options.check_determinism) simulation_options.hash_log = &first_log;
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
    // The second run compares its hash after every event with the first run's log, and
    // describes the first event that differs.
    std::optional<SimulationOptions::Described> second_line;
    SimulationOptions second;
    second.check_invariants_every = options.check_invariants_every;
    second.compare_with = &first_log;
    second.first_difference = &second_line;
    const SimulationResult again = simulate(scenario, seed, second);
    record.second_trace_hash = again.trace_hash;
    record.deterministic = again.trace_hash == result.trace_hash;
    if (!record.deterministic) record.divergence = describe_divergence(scenario, seed, second_line);
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
