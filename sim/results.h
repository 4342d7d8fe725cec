#pragma once
// Sweeps that spread over many machines: a seed range cut into interleaved shards, a
// results file of one JSON object per run (`vigil sim --results FILE.jsonl`), and the merge
// of any number of such files into one summary (`vigil sim merge`), docs/scenarios.md
// "Sweeps across machines".
//
// The results file is untrusted input to the merge: it may be truncated (a machine died
// mid-write), edited, or not a results file at all. Every way it can be wrong is an error
// value naming the file and line, never a crash.

#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "sim/run.h"

namespace vigil::sim {

// Shard `index` of `count` (0-based: 0/K .. K-1/K, as Kubernetes' JOB_COMPLETION_INDEX and
// a Slurm array declared --array=0-(K-1) number their tasks).
struct Shard {
  std::uint64_t index = 0;
  std::uint64_t count = 1;
};
// "I/K" with K >= 1 and I < K; invalid_argument naming what is wrong.
core::Result<Shard> parse_shard(std::string_view text);
// Seed s of `range` belongs to shard (s - range.first) mod count: interleaved, so every
// shard gets the same mix of early and late seeds and sizes differ by at most one.
bool in_shard(std::uint64_t seed, const SeedRange& range, const Shard& shard);
// The seeds of `range` in `shard`, in increasing order (a vector: ranges are bounded by
// seed_range_size_max).
std::vector<std::uint64_t> shard_seeds(const SeedRange& range, const Shard& shard);

// One line of a results file: {"scenario", "file", "seed", "result": "pass"|"fail",
// "expect", "met_expectation", "failed_checks": [names], "replay", "trace_hash",
// "sim_time_s", "wall_s", "events", "faults", "ops": {"ok", "failed", "indeterminate"},
// "checks": {name: {"ok", counts..., ratios..., "examples" (failed checks only)}}}.
// run_json (sim/report.h) without the counters and membership views, which make a line
// four times longer and which no summary reads: a million-seed sweep writes ~1 GB less.
nlohmann::ordered_json result_json(const RunRecord& record);
std::string result_json_line(const RunRecord& record);

// Bounds on what the merge reads (rule 7).
inline constexpr std::size_t results_line_bytes_max = 1 << 20;
inline constexpr std::size_t results_json_depth_max = 16;

// What the merge keeps of one check over every run: how many runs listed it and how many
// failed it, the sum of each whole-number figure and the lowest and highest of each
// fractional one (sums saturate at 2^64-1). Sums of whole numbers and extremes do not depend on the
// order runs are added in, so merging shards gives exactly the summary of the unsharded sweep.
struct CheckTotals {
  std::uint64_t runs = 0;
  std::uint64_t failed = 0;
  std::map<std::string, std::uint64_t> sums;
  std::map<std::string, double> mins, maxes;
};

// A run that did not meet its expectation.
struct MergedFailure {
  std::string scenario;
  std::uint64_t seed = 0;
  std::string result;  // "pass" | "fail"
  std::string expect;  // "pass" | "fail" ("" when the line did not say)
  std::vector<std::string> failed_checks;
  std::string replay;
};

struct ScenarioTotals {
  std::uint64_t runs = 0;
  std::uint64_t seed_first = 0, seed_last = 0;  // the lowest and highest seed seen
};

// Seeds between the lowest and highest seen that no line reported (a shard that never ran,
// or a range with gaps).
std::uint64_t seeds_missing(const ScenarioTotals& totals);

struct MergeSummary {
  std::uint64_t files = 0;
  std::uint64_t runs = 0;    // distinct (scenario, seed)
  std::uint64_t passed = 0;  // result "pass"
  std::uint64_t met = 0;     // met their expectation
  // Lines repeating a (scenario, seed) already read (a shard run twice): skipped, the first
  // one counts.
  std::uint64_t duplicates = 0;
  std::uint64_t events = 0;
  std::uint64_t sim_time_us = 0;
  std::uint64_t wall_us = 0;  // the runs' own wall times added up (differs run to run)
  std::uint64_t ops_ok = 0, ops_failed = 0, ops_indeterminate = 0;
  std::map<std::string, ScenarioTotals> scenarios;
  std::map<std::string, CheckTotals> checks;
  std::vector<MergedFailure> failures;  // sorted by (scenario, seed)

  std::uint64_t missed() const { return runs - met; }
};

// Reads results lines into a summary. Lines may come from `--results` or `--json` (a
// superset); blank lines are skipped.
class ResultsMerger {
 public:
  // One line of `file` (line numbers 1-based). invalid_argument "FILE:LINE: reason" when
  // the line is not a results object; the summary is then unchanged.
  core::Status add_line(std::string_view text, const std::string& file, std::size_t line);
  // Every line of a file; the first malformed line's error (or the read error).
  core::Status add_file(const std::string& path);
  MergeSummary summary() const;

 private:
  MergeSummary totals_;
  std::map<std::string, std::set<std::uint64_t>> seeds_seen_;  // per scenario
  std::map<std::pair<std::string, std::uint64_t>, MergedFailure> failures_;
};

// The summary as one JSON object: {"files", "runs", "passed", "met_expectation",
// "missed_expectation", "duplicates", "events", "sim_time_s", "wall_s", "ops": {...},
// "scenarios": {name: {"runs", "seed_first", "seed_last", "seeds_missing"}},
// "checks": {name: {"runs", "failed", "sums": {...}, "min": {...}, "max": {...}}},
// "failures": [{"scenario", "seed", "result", "expect", "failed_checks", "replay"}]}.
nlohmann::ordered_json summary_json(const MergeSummary& summary);
// The same for people: counts, each failure with its replay command, the per-check table.
std::string summary_text(const MergeSummary& summary);

}  // namespace vigil::sim
