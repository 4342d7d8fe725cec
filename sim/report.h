#pragma once
// What `vigil sim` prints about runs: one JSON object per run (--json), or a table for
// people with, for every run that did not meet its expectation, the one command that
// replays it (docs/scenarios.md, "Reading the output").

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/run.h"

namespace vigil::sim {

// {"scenario", "file", "seed", "result": "pass"|"fail", "expect", "met_expectation",
//  "trace_hash": 16 hex digits, "sim_time_s", "wall_s", "events", "events_per_s", "faults",
//  "ops": {"ok", "failed", "indeterminate"}, "checks": {name: {"ok", counts..., ratios...,
//  "examples"}}, "determinism" (when checked): {"ok", "trace_hash_again"}, "counters",
//  "replay", "membership" (when the nodes run it): {node: {peer: {"state", "phi",
//  "silence_s", "incarnation", "heartbeat", "probe_failures"}}} at the end of the run}
nlohmann::ordered_json run_json(const RunRecord& record);
// run_json on one line.
std::string run_json_line(const RunRecord& record);

// "vigil sim scenarios/x.yaml --seed 7" (with --check-determinism when that is what failed).
std::string replay_command(const RunRecord& record);

// "pass", "fail (expected)", "FAIL (expected pass)", "PASS (expected fail)", with
// " NONDETERMINISTIC" when the determinism check failed.
std::string result_text(const RunRecord& record);

// One check in a few words: "lost 3/5120", "stale 0/4077 (max 0)".
std::string check_summary(const CheckResult& check);

std::string format_trace_hash(std::uint64_t hash);

// Streams the table a row per run as runs finish, then a summary.
class TableWriter {
 public:
  // `scenario_width`: the longest scenario name to be printed (the column is at least as
  // wide as its heading).
  TableWriter(std::ostream& out, std::size_t scenario_width);
  void header();
  void row(const RunRecord& record);
  // "N runs: all met their expectation" or the count that did not, each with its replay
  // command and the first offenders its checks named.
  void summary(const std::vector<RunRecord>& records);

 private:
  std::ostream& out_;
  std::size_t scenario_width_;
};

}  // namespace vigil::sim
