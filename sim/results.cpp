#include "sim/results.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <utility>

#include "sim/report.h"

// Theory of operation. A sweep of a million seeds is too long for one machine and too
// valuable to lose to one machine's death, so it is cut into shards that run anywhere (GNU
// parallel over ssh, a Slurm array, a Kubernetes Indexed Job), each writing its own results
// file, and merged afterwards. Three properties make that safe:
// - Shards are interleaved residues of the seed range: they are disjoint and cover it for
//   any count, and each is named by (range, I, K) alone, so a lost shard is rerun exactly.
// - A run is a pure function of (scenario, seed), so where it ran does not matter.
// - The merge is order-independent: whole-number figures are summed (exact, associative),
//   fractional ones kept as their extremes (floating-point sums would depend on the order
//   files are read), failures sorted by (scenario, seed). Merging shards gives exactly the
//   unsharded summary; only the runs' own wall times differ, as they do between any two
//   sweeps. The per-scenario seed span and the count of seeds missing from it show a
//   shard that never reported.

namespace vigil::sim {

// --- Shards ---------------------------------------------------------------------------

namespace {

core::Result<std::uint64_t> whole_number(std::string_view text, std::string_view whole,
                                         const char* what) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size()) {
    return core::error(core::Code::invalid_argument,
                       "'" + std::string(whole) + "': the shard " + what +
                           " is not a whole number (expected I/K, e.g. 0/8)");
  }
  return value;
}

}  // namespace

core::Result<Shard> parse_shard(std::string_view text) {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return core::error(core::Code::invalid_argument,
                       "'" + std::string(text) +
                           "' is not a shard: expected I/K, the 0-based index I of K shards "
                           "(e.g. 0/8 .. 7/8)");
  }
  const auto index = whole_number(text.substr(0, slash), text, "index");
  if (!index.ok()) return index.status();
  const auto count = whole_number(text.substr(slash + 1), text, "count");
  if (!count.ok()) return count.status();
  if (*count == 0) {
    return core::error(core::Code::invalid_argument,
                       "'" + std::string(text) + "': the shard count K must be at least 1");
  }
  if (*index >= *count) {
    return core::error(core::Code::invalid_argument,
                       "'" + std::string(text) + "': the shard index I must be less than K (" +
                           std::to_string(*count) + "); indexes are 0-based: 0/" +
                           std::to_string(*count) + " .. " + std::to_string(*count - 1) + "/" +
                           std::to_string(*count));
  }
  return Shard{*index, *count};
}

bool in_shard(std::uint64_t seed, const SeedRange& range, const Shard& shard) {
  return seed >= range.first && seed <= range.last &&
         (seed - range.first) % shard.count == shard.index;
}

std::vector<std::uint64_t> shard_seeds(const SeedRange& range, const Shard& shard) {
  std::vector<std::uint64_t> seeds;
  if (shard.index > range.last - range.first) return seeds;
  for (std::uint64_t seed = range.first + shard.index;; seed += shard.count) {
    seeds.push_back(seed);
    if (range.last - seed < shard.count) break;  // the next would pass the end (or wrap)
  }
  return seeds;
}

// --- The results line -----------------------------------------------------------------

nlohmann::ordered_json result_json(const RunRecord& record) {
  nlohmann::ordered_json failed = nlohmann::ordered_json::array();
  nlohmann::ordered_json checks = nlohmann::ordered_json::object();
  for (const CheckResult& check : record.checks) {
    if (!check.ok) failed.push_back(check.name);
    nlohmann::ordered_json object = {{"ok", check.ok}};
    for (const auto& [name, count] : check.counts) object[name] = count;
    for (const auto& [name, ratio] : check.ratios) object[name] = ratio;
    if (!check.ok && !check.examples.empty()) object["examples"] = check.examples;
    checks[check.name] = std::move(object);
  }
  if (!record.deterministic) failed.push_back("determinism");
  return {
      {"scenario", record.scenario},
      {"file", record.file},
      {"seed", record.seed},
      {"result", record.checks_ok ? "pass" : "fail"},
      {"expect", record.expect == Expectation::pass ? "pass" : "fail"},
      {"met_expectation", record.met_expectation()},
      {"failed_checks", failed},
      {"replay", replay_command(record)},
      {"trace_hash", format_trace_hash(record.trace_hash)},
      {"sim_time_s", record.sim_time_s},
      {"wall_s", record.wall_s},
      {"events", record.events},
      {"faults", record.faults},
      {"ops",
       {{"ok", record.ops.ok},
        {"failed", record.ops.failed},
        {"indeterminate", record.ops.indeterminate}}},
      {"checks", checks},
  };
}

std::string result_json_line(const RunRecord& record) {
  return result_json(record).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// --- Reading a line -------------------------------------------------------------------

namespace {

// What one valid line holds, read in full before anything is added to the summary.
struct ParsedRun {
  std::string scenario;
  std::uint64_t seed = 0;
  bool passed = false;
  bool met = false;
  std::string expect;
  std::string replay;
  std::vector<std::string> failed_checks;
  std::uint64_t events = 0, sim_time_us = 0, wall_us = 0;
  std::uint64_t ops_ok = 0, ops_failed = 0, ops_indeterminate = 0;
  struct Check {
    bool ok = true;
    std::map<std::string, std::uint64_t> counts;
    std::map<std::string, double> ratios;
  };
  std::map<std::string, Check> checks;
};

class LineError {
 public:
  explicit LineError(std::string text) : message(std::move(text)) {}
  std::string message;
};

// Nesting deeper than any results line: refused before parsing, so that no input can make
// the parser or the destructor recurse without bound.
std::size_t nesting_depth(std::string_view text) {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

using Json = nlohmann::json;

const Json& field(const Json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end()) throw LineError(std::string("no \"") + name + "\"");
  return *it;
}

std::string text_field(const Json& object, const char* name) {
  const Json& value = field(object, name);
  if (!value.is_string()) throw LineError(std::string("\"") + name + "\" is not a string");
  return value.get<std::string>();
}

std::uint64_t count_value(const Json& value, const std::string& name) {
  if (!value.is_number_unsigned()) {
    throw LineError("\"" + name + "\" is not a whole number of at least 0");
  }
  return value.get<std::uint64_t>();
}

std::uint64_t optional_count(const Json& object, const char* name) {
  const auto it = object.find(name);
  return it == object.end() ? 0 : count_value(*it, name);
}

// Seconds as whole microseconds (summed exactly); absent is 0.
std::uint64_t optional_micros(const Json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end()) return 0;
  if (!it->is_number() || it->get<double>() < 0 || !std::isfinite(it->get<double>()) ||
      it->get<double>() > 1e12) {
    throw LineError(std::string("\"") + name + "\" is not a number of seconds");
  }
  return static_cast<std::uint64_t>(std::llround(it->get<double>() * 1e6));
}

ParsedRun::Check parse_check(const std::string& name, const Json& value) {
  if (!value.is_object()) throw LineError("checks." + name + " is not an object");
  ParsedRun::Check check;
  const auto ok = value.find("ok");
  if (ok == value.end() || !ok->is_boolean()) {
    throw LineError("checks." + name + ".ok is missing or not true or false");
  }
  check.ok = ok->get<bool>();
  for (const auto& [figure, number] : value.items()) {
    if (figure == "ok") continue;
    if (figure == "examples") {
      if (!number.is_array()) throw LineError("checks." + name + ".examples is not a list");
      continue;
    }
    // `max` is the scenario's bound (stale_reads), not a count: its range is reported.
    if (number.is_number_unsigned() && figure != "max") {
      check.counts[figure] = number.get<std::uint64_t>();
    } else if (number.is_number_unsigned()) {
      check.ratios[figure] = static_cast<double>(number.get<std::uint64_t>());
    } else if (number.is_number_float()) {
      check.ratios[figure] = number.get<double>();
    } else {
      throw LineError("checks." + name + "." + figure +
                      " is not a count (a whole number of at least 0) or a ratio");
    }
  }
  return check;
}

ParsedRun parse_run(const Json& line) {
  if (!line.is_object()) throw LineError("not a JSON object");
  ParsedRun run;
  run.scenario = text_field(line, "scenario");
  if (run.scenario.empty()) throw LineError("\"scenario\" is empty");
  run.seed = count_value(field(line, "seed"), "seed");
  const std::string result = text_field(line, "result");
  if (result != "pass" && result != "fail") throw LineError("\"result\" is not pass or fail");
  run.passed = result == "pass";
  const Json& met = field(line, "met_expectation");
  if (!met.is_boolean()) throw LineError("\"met_expectation\" is not true or false");
  run.met = met.get<bool>();
  if (line.contains("expect")) {
    run.expect = text_field(line, "expect");
    if (run.expect != "pass" && run.expect != "fail") {
      throw LineError("\"expect\" is not pass or fail");
    }
  }
  run.replay = text_field(line, "replay");
  const Json& checks = field(line, "checks");
  if (!checks.is_object()) throw LineError("\"checks\" is not an object");
  for (const auto& [name, value] : checks.items()) {
    run.checks.emplace(name, parse_check(name, value));
    if (!run.checks.at(name).ok) run.failed_checks.push_back(name);
  }
  if (line.contains("failed_checks")) {  // --results names determinism too; --json does not
    const Json& failed = line.at("failed_checks");
    if (!failed.is_array()) throw LineError("\"failed_checks\" is not a list");
    run.failed_checks.clear();
    for (const Json& name : failed) {
      if (!name.is_string()) throw LineError("\"failed_checks\" holds a non-string");
      run.failed_checks.push_back(name.get<std::string>());
    }
  }
  run.events = optional_count(line, "events");
  run.sim_time_us = optional_micros(line, "sim_time_s");
  run.wall_us = optional_micros(line, "wall_s");
  if (line.contains("ops")) {
    const Json& ops = line.at("ops");
    if (!ops.is_object()) throw LineError("\"ops\" is not an object");
    run.ops_ok = optional_count(ops, "ok");
    run.ops_failed = optional_count(ops, "failed");
    run.ops_indeterminate = optional_count(ops, "indeterminate");
  }
  return run;
}

void add_saturating(std::uint64_t& total, std::uint64_t amount) {
  total = amount > std::numeric_limits<std::uint64_t>::max() - total
              ? std::numeric_limits<std::uint64_t>::max()
              : total + amount;
}

}  // namespace

core::Status ResultsMerger::add_line(std::string_view text, const std::string& file,
                                     std::size_t line) {
  const auto refuse = [&](const std::string& reason) {
    return core::error(core::Code::invalid_argument,
                       file + ":" + std::to_string(line) + ": " + reason);
  };
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return core::Status::ok_status();
  if (text.size() > results_line_bytes_max) {
    return refuse("a line longer than " + std::to_string(results_line_bytes_max) + " bytes");
  }
  if (nesting_depth(text) > results_json_depth_max) {
    return refuse("nested deeper than " + std::to_string(results_json_depth_max) +
                  " levels: not a results line");
  }
  const Json json = Json::parse(text.begin(), text.end(), nullptr, false);
  if (json.is_discarded()) return refuse("not valid JSON (a truncated or damaged line?)");
  ParsedRun run;
  try {
    run = parse_run(json);
  } catch (const LineError& error) {
    return refuse("not a results line: " + error.message);
  }

  if (!seeds_seen_[run.scenario].insert(run.seed).second) {
    totals_.duplicates += 1;
    return core::Status::ok_status();
  }
  totals_.runs += 1;
  totals_.passed += run.passed ? 1 : 0;
  totals_.met += run.met ? 1 : 0;
  add_saturating(totals_.events, run.events);
  add_saturating(totals_.sim_time_us, run.sim_time_us);
  add_saturating(totals_.wall_us, run.wall_us);
  add_saturating(totals_.ops_ok, run.ops_ok);
  add_saturating(totals_.ops_failed, run.ops_failed);
  add_saturating(totals_.ops_indeterminate, run.ops_indeterminate);
  ScenarioTotals& scenario = totals_.scenarios[run.scenario];
  scenario.seed_first = scenario.runs == 0 ? run.seed : std::min(scenario.seed_first, run.seed);
  scenario.seed_last = scenario.runs == 0 ? run.seed : std::max(scenario.seed_last, run.seed);
  scenario.runs += 1;
  for (const auto& [name, check] : run.checks) {
    CheckTotals& totals = totals_.checks[name];
    totals.runs += 1;
    totals.failed += check.ok ? 0 : 1;
    for (const auto& [figure, count] : check.counts) add_saturating(totals.sums[figure], count);
    for (const auto& [figure, ratio] : check.ratios) {
      const auto low = totals.mins.try_emplace(figure, ratio).first;
      low->second = std::min(low->second, ratio);
      const auto high = totals.maxes.try_emplace(figure, ratio).first;
      high->second = std::max(high->second, ratio);
    }
  }
  if (!run.met) {
    failures_[{run.scenario, run.seed}] =
        MergedFailure{run.scenario, run.seed,          run.passed ? "pass" : "fail",
                      run.expect,   run.failed_checks, run.replay};
  }
  return core::Status::ok_status();
}

core::Status ResultsMerger::add_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::error(core::Code::invalid_argument, path + ": cannot be read");
  totals_.files += 1;
  std::string text;
  std::size_t line = 0;
  while (std::getline(in, text)) {
    ++line;
    const core::Status status = add_line(text, path, line);
    if (!status.ok()) return status;
  }
  if (in.bad()) {
    return core::error(core::Code::invalid_argument,
                       path + ":" + std::to_string(line + 1) + ": read error");
  }
  return core::Status::ok_status();
}

MergeSummary ResultsMerger::summary() const {
  MergeSummary summary = totals_;
  for (const auto& [key, failure] : failures_) summary.failures.push_back(failure);
  return summary;
}

// --- The summary ----------------------------------------------------------------------

std::uint64_t seeds_missing(const ScenarioTotals& totals) {
  // runs distinct seeds lie in [first, last], so runs - 1 <= last - first: no wrap, even
  // for a span of the whole seed space.
  return totals.runs == 0 ? 0 : (totals.seed_last - totals.seed_first) - (totals.runs - 1);
}

nlohmann::ordered_json summary_json(const MergeSummary& summary) {
  using Ordered = nlohmann::ordered_json;
  Ordered scenarios = Ordered::object();
  for (const auto& [name, totals] : summary.scenarios) {
    scenarios[name] = {{"runs", totals.runs},
                       {"seed_first", totals.seed_first},
                       {"seed_last", totals.seed_last},
                       {"seeds_missing", seeds_missing(totals)}};
  }
  Ordered checks = Ordered::object();
  for (const auto& [name, totals] : summary.checks) {
    checks[name] = {{"runs", totals.runs},
                    {"failed", totals.failed},
                    {"sums", Ordered(totals.sums)},
                    {"min", Ordered(totals.mins)},
                    {"max", Ordered(totals.maxes)}};
  }
  Ordered failures = Ordered::array();
  for (const MergedFailure& failure : summary.failures) {
    failures.push_back({{"scenario", failure.scenario},
                        {"seed", failure.seed},
                        {"result", failure.result},
                        {"expect", failure.expect},
                        {"failed_checks", failure.failed_checks},
                        {"replay", failure.replay}});
  }
  return {
      {"files", summary.files},
      {"runs", summary.runs},
      {"passed", summary.passed},
      {"met_expectation", summary.met},
      {"missed_expectation", summary.missed()},
      {"duplicates", summary.duplicates},
      {"events", summary.events},
      {"sim_time_s", static_cast<double>(summary.sim_time_us) / 1e6},
      {"wall_s", static_cast<double>(summary.wall_us) / 1e6},
      {"ops",
       {{"ok", summary.ops_ok},
        {"failed", summary.ops_failed},
        {"indeterminate", summary.ops_indeterminate}}},
      {"scenarios", scenarios},
      {"checks", checks},
      {"failures", failures},
  };
}

namespace {

std::string number(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

}  // namespace

std::string summary_text(const MergeSummary& summary) {
  std::string out = std::to_string(summary.runs) + " runs from " + std::to_string(summary.files) +
                    " file(s): " + std::to_string(summary.passed) + " passed, " +
                    std::to_string(summary.runs - summary.passed) + " failed their checks; " +
                    std::to_string(summary.met) + " met their expectation, " +
                    std::to_string(summary.missed()) + " did not\n";
  if (summary.duplicates > 0) {
    out += std::to_string(summary.duplicates) +
           " duplicate line(s) (a scenario and seed read before) skipped\n";
  }
  out += "simulated " + number(static_cast<double>(summary.sim_time_us) / 1e6) + " s, " +
         std::to_string(summary.events) + " events; runs' wall time " +
         number(static_cast<double>(summary.wall_us) / 1e6) + " s; ops ok/failed/indet " +
         std::to_string(summary.ops_ok) + "/" + std::to_string(summary.ops_failed) + "/" +
         std::to_string(summary.ops_indeterminate) + "\n\nscenarios:\n";
  for (const auto& [name, totals] : summary.scenarios) {
    const std::uint64_t missing = seeds_missing(totals);
    out += "  " + name + ": " + std::to_string(totals.runs) + " runs, seeds " +
           std::to_string(totals.seed_first) + "-" + std::to_string(totals.seed_last) +
           (missing == 0 ? std::string() : ", " + std::to_string(missing) + " missing") + "\n";
  }
  out += "\nchecks (runs, failed, sums of counts; min-max of ratios):\n";
  for (const auto& [name, totals] : summary.checks) {
    out += "  " + name + ": " + std::to_string(totals.runs) + " runs, " +
           std::to_string(totals.failed) + " failed";
    for (const auto& [figure, sum] : totals.sums) out += ", " + figure + " " + std::to_string(sum);
    for (const auto& [figure, low] : totals.mins) {
      out += ", " + figure + " " + number(low) + "-" + number(totals.maxes.at(figure));
    }
    out += "\n";
  }
  if (summary.failures.empty()) {
    out += "\nevery run met its expectation\n";
    return out;
  }
  out += "\n" + std::to_string(summary.failures.size()) +
         " run(s) did not meet their expectation. Replay with:\n";
  for (const MergedFailure& failure : summary.failures) {
    std::string checks;
    for (const std::string& check : failure.failed_checks) {
      checks += (checks.empty() ? "" : ", ") + check;
    }
    out += "  " + failure.replay + "    # " + failure.scenario + " seed " +
           std::to_string(failure.seed) + ": " + failure.result + ", expected " +
           (failure.expect.empty() ? "?" : failure.expect) +
           (checks.empty() ? "" : " (failed: " + checks + ")") + "\n";
  }
  return out;
}

}  // namespace vigil::sim
