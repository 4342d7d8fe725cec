#pragma once
// One scenario run end to end: simulate() with a seed, the scenario's checks over the
// history, and the comparison with what the scenario expects; the record that `vigil sim`
// prints (sim/report.h) and the sweep test asserts on.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/membership/membership.h"
#include "core/status.h"
#include "sim/checkers.h"
#include "sim/invariant_interval.h"
#include "sim/scenario.h"

namespace vigil::sim {

struct OperationCounts {
  std::uint64_t ok = 0;
  std::uint64_t failed = 0;
  std::uint64_t indeterminate = 0;  // includes operations still pending at the end
};

struct RunRecord {
  std::string scenario;  // its name
  std::string file;      // where it was loaded from; the replay command names it
  std::uint64_t seed = 0;
  Expectation expect = Expectation::pass;
  bool checks_ok = true;  // every check passed: the run's result is "pass"
  // The determinism check (only with RunOptions::check_determinism): the second run's
  // hash, and whether it matched.
  std::optional<std::uint64_t> second_trace_hash;
  bool deterministic = true;
  // When the hashes differ: the first event at which the two runs' traces part, as
  // "event #N: first run: <trace line>; second run: <trace line>" (empty otherwise).
  std::string divergence;
  std::uint64_t trace_hash = 0;
  double sim_time_s = 0;
  double wall_s = 0;  // 0 when no wall clock was given
  std::uint64_t events = 0;
  std::uint64_t faults = 0;
  OperationCounts ops;  // workload operations; the final reads are not counted
  std::vector<CheckResult> checks;
  std::map<std::string, std::uint64_t> counters;  // the simulator's
  // Each node's membership view at the end of the run (SimulationResult::final_views).
  std::map<core::NodeId, std::vector<core::PeerStatus>> members;

  // The run did what the scenario says it should: its result equals `expect`, and (when
  // checked) it was deterministic. `vigil sim` exits 1 when a run does not.
  bool met_expectation() const;
};

struct RunOptions {
  bool check_determinism = false;  // run the seed twice and compare the trace hashes
  std::uint64_t check_invariants_every = sim_invariant_interval;  // sim/invariant_interval.h
  std::ostream* trace = nullptr;   // the first run's trace, one line per event
  std::ostream* history = nullptr; // the first run's history as JSON lines
  // Seconds on some monotonic clock, read before and after the runs for `wall_s`. sim/
  // reads no clock itself (nothing a run computes may depend on one); the caller (cli/)
  // passes one. Unset: wall_s is 0.
  std::function<double()> wall_seconds;
};

// REQUIRES: `scenario` came from load_scenario (or is equally valid).
RunRecord run_scenario(const Scenario& scenario, std::uint64_t seed,
                       const RunOptions& options = {});

// Counts the workload's operations by outcome (final reads excluded).
OperationCounts count_operations(const History& history);

struct SeedRange {
  std::uint64_t first = 1;
  std::uint64_t last = 1;  // inclusive
};
// "A-B" with A <= B (or a single seed "A"); invalid_argument naming what is wrong.
// At most seed_range_size_max seeds.
inline constexpr std::uint64_t seed_range_size_max = 10000000;
core::Result<SeedRange> parse_seed_range(std::string_view text);

}  // namespace vigil::sim
