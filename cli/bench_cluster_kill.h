#pragma once
// The node-kill run of `vigil bench cluster` (cli/command_bench_cluster.cpp): the same
// redis-benchmark SET/GET load (-P 1) before, during and after one node is SIGKILLed and
// restarted, with the errors the load saw.
//
// redis-benchmark stops at the first error reply ("Error from server: ..."), so a phase
// that meets one starts it again, up to kill_error_stops_max times: an error is counted
// once per stop, a lower bound of the errors clients would see. -UNAVAILABLE and -TIMEOUT
// (W or R not reached) are counted apart from every other error, which is a defect.

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/cluster_layout.h"
#include "cli/redis_benchmark.h"
#include "core/status.h"

namespace vigil::cli {

inline constexpr std::uint32_t kill_error_stops_max = 20;

struct KillRunOptions {
  std::string benchmark;   // redis-benchmark
  std::string vigil;       // the program the restarted node runs
  std::uint16_t port = 0;  // the client port the load drives (not the victim's)
  std::uint64_t requests = 0;
  std::size_t victim = 0;  // the node killed and restarted (0-based)
};

struct KillPhase {
  std::string phase;                // "before", "during", "after"
  std::vector<BenchmarkRow> rows;   // SET and GET of the run that completed (none if none did)
  std::uint64_t quorum_errors = 0;  // -UNAVAILABLE / -TIMEOUT stops
  std::uint64_t other_errors = 0;   // any other error stop
  std::vector<std::string> other_examples;  // the first few other errors
  double seconds = 0;                       // the phase's wall time
  // "during" only: when the node was killed and when it answered again, from the phase's
  // start (negative: it did not happen within the phase).
  double killed_at_s = -1;
  double back_at_s = -1;
};

// Runs the three phases against a running cluster. The victim is alive again at the end
// unless its restart failed (an error naming it).
core::Result<std::vector<KillPhase>> run_kill_phases(const ClusterLayout& layout,
                                                     const KillRunOptions& options);

// The phases as a table (throughput, p99, share of the in-memory redis-server's -P 1
// throughput for the same test when known (> 0), errors), and as JSON.
std::string kill_phases_text(const std::vector<KillPhase>& phases, std::size_t victim,
                             double redis_set_rps, double redis_get_rps);
nlohmann::json kill_phases_json(const std::vector<KillPhase>& phases);

}  // namespace vigil::cli
