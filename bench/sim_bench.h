#pragma once
// `vigil bench sim`: how fast the simulator runs a fixed, faulty cluster. There is no peer
// to measure beside (rule 7's ratio), so it reports the two rates that matter for seeded
// sweeps: simulated seconds per wall second and processed events per wall second.

#include <cstdint>
#include <string>

#include "core/status.h"

namespace vigil::bench {

struct SimBenchOptions {
  std::uint64_t duration_s = 600;  // simulated seconds of workload per run
  std::uint64_t seed = 1;
  std::uint32_t runs = 1;          // each with seed, seed+1, ...
};
inline constexpr std::uint64_t sim_bench_duration_s_max = 24 * 3600;

struct SimBenchResult {
  SimBenchOptions options;
  double sim_time_s = 0;   // summed over runs (includes the heal and final-read phase)
  double wall_s = 0;
  std::uint64_t events = 0;
  std::uint64_t operations = 0;
  std::uint64_t faults = 0;
  double sim_s_per_wall_s() const { return wall_s > 0 ? sim_time_s / wall_s : 0; }
  double events_per_wall_s() const { return wall_s > 0 ? static_cast<double>(events) / wall_s : 0; }
};

// The fixed scenario: 5 nodes, N=3 R=W=2 siblings, 200 ops/s over 100 keys in set mode (each
// put reads for its context, then writes its own value: the stored state does not grow with
// the run, so the rate measures the simulator and not the size of read-modify-write sets),
// 1-20ms latency with 1% loss, and a nemesis that every 60 simulated seconds partitions
// the cluster, crashes and restarts a node, pauses another and skews a clock.
core::Result<SimBenchResult> run_sim_bench(const SimBenchOptions& options);
std::string sim_bench_text(const SimBenchResult& result);
std::string sim_bench_json(const SimBenchResult& result);

}  // namespace vigil::bench
