// latency (see check_latency.h). Percentiles by nearest rank over every operation's
// duration: no interpolation, so the reported p99 is a latency some operation really had.

#include "sim/check_latency.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace vigil::sim {

namespace {

double seconds(std::int64_t micros) {
  return static_cast<double>(micros) / 1e6;
}

// Nearest rank: the smallest value with at least `fraction` of the values at or below it.
std::int64_t percentile(const std::vector<std::int64_t>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  const auto rank =
      static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace

CheckResult check_latency(const SimulationResult& result, const CheckSpec& spec) {
  CheckResult check;
  check.name = "latency";
  std::vector<std::int64_t> latencies;
  std::uint64_t errors = 0;
  std::int64_t total_us = 0;
  for (const Operation& op : result.history.operations()) {
    if (op.final_read) continue;
    const std::int64_t end_us = op.completed_us >= 0 ? op.completed_us : result.sim_time_us;
    latencies.push_back(end_us - op.invoked_us);
    total_us += end_us - op.invoked_us;
    errors += op.completed_us >= 0 && op.outcome == Outcome::ok ? 0 : 1;
  }
  std::sort(latencies.begin(), latencies.end());
  const std::uint64_t operations = latencies.size();
  check.counts = {{"operations", operations}, {"errors", errors}};
  check.ratios = {
      {"mean_s", operations == 0 ? 0.0 : seconds(total_us) / static_cast<double>(operations)},
      {"p50_s", seconds(percentile(latencies, 0.50))},
      {"p99_s", seconds(percentile(latencies, 0.99))},
      {"max_s", seconds(latencies.empty() ? 0 : latencies.back())},
      {"error_fraction",
       operations == 0 ? 0.0 : static_cast<double>(errors) / static_cast<double>(operations)}};
  const auto to_replica = result.counters.find("client_calls_to_replica");
  const auto forwarded = result.counters.find("client_calls_forwarded");
  if (to_replica != result.counters.end() && forwarded != result.counters.end()) {
    const std::uint64_t calls = to_replica->second + forwarded->second;
    check.ratios["hops_per_call"] =
        calls == 0 ? 0.0
                   : 1.0 + static_cast<double>(forwarded->second) / static_cast<double>(calls);
  }
  for (const auto& [number, max] : spec.max_of) {
    const double value = check.ratios[number];
    if (value > max) {
      check.ok = false;
      check.examples.push_back(number + " " + std::to_string(value) + " > " + std::to_string(max));
    }
  }
  return check;
}

}  // namespace vigil::sim
