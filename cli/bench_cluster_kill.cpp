// Theory of operation. Each phase is one redis-benchmark run of `-t set,get -n N -c 50
// -d 100 -r 100000` (-P 1) against a node that is not the victim, repeated after each error
// stop. "during" starts the load, and a second thread kills the victim shortly after
// (SIGKILL: no shutdown, no final commit), keeps it down for a moment so that the failure
// detector and the coordinators notice, then restarts it with the same data and waits
// until it answers; the phase lasts until the load finishes and the restart is done.
// "after" starts once the node is back. The times of the kill and of the node's return
// are reported relative to the phase's start, so a reader can tell whether the load
// really overlapped them (a tiny -n may finish first).

#include "cli/bench_cluster_kill.h"

#include <unistd.h>

#include <thread>

#include <fmt/format.h>

#include "cli/cluster_control.h"

namespace vigil::cli {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr auto phase_timeout = std::chrono::minutes(30);
constexpr auto kill_delay = milliseconds(300);
constexpr auto down_time = milliseconds(1500);
constexpr std::size_t other_examples_max = 5;

double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

core::Status run_phase(const KillRunOptions& options, KillPhase& phase) {
  const std::vector<std::string> argv{options.benchmark, "-h", "127.0.0.1", "-p",
                                      std::to_string(options.port), "-t", "set,get", "-n",
                                      std::to_string(options.requests), "-r", "100000", "-c",
                                      "50", "-d", "100", "--csv"};
  for (std::uint32_t stops = 0; stops <= kill_error_stops_max; ++stops) {
    core::Result<CapturedRun> run = run_captured(argv, phase_timeout);
    if (!run) return run.status();
    const std::vector<std::string> errors = redis_benchmark_errors(run->out + "\n" + run->err);
    for (const std::string& error : errors) {
      if (is_quorum_error(error)) {
        ++phase.quorum_errors;
      } else {
        ++phase.other_errors;
        if (phase.other_examples.size() < other_examples_max) phase.other_examples.push_back(error);
      }
    }
    if (run->exit_code == 0) {
      core::Result<std::vector<BenchmarkRow>> rows = parse_redis_benchmark_csv(run->out);
      if (!rows) return rows.status();
      phase.rows = std::move(rows).value();
      return core::Status::ok_status();
    }
    if (errors.empty()) {
      return core::error(core::Code::unavailable,
                         "redis-benchmark (" + phase.phase + " the node kill) failed, exit " +
                             std::to_string(run->exit_code) + ": " + run->err.substr(0, 500));
    }
  }
  return core::Status::ok_status();  // every run stopped at an error: no figures, counted
}

}  // namespace

core::Result<std::vector<KillPhase>> run_kill_phases(const ClusterLayout& layout,
                                                     const KillRunOptions& options) {
  std::vector<KillPhase> phases(3);
  phases[0].phase = "before";
  phases[1].phase = "during";
  phases[2].phase = "after";
  Clock::time_point start = Clock::now();
  core::Status status = run_phase(options, phases[0]);
  phases[0].seconds = since(start);
  if (!status.ok()) return status;

  start = Clock::now();
  core::Status killed = core::Status::ok_status();
  core::Status restarted = core::Status::ok_status();
  double killed_at = -1;
  double back_at = -1;
  std::thread killer([&] {
    std::this_thread::sleep_for(kill_delay);
    killed = cluster_kill(layout, options.victim);
    if (!killed.ok()) return;
    killed_at = since(start);
    std::this_thread::sleep_for(down_time);
    restarted = cluster_restart(layout, options.victim, options.vigil, seconds(10), seconds(60));
    if (restarted.ok()) back_at = since(start);
  });
  status = run_phase(options, phases[1]);
  killer.join();
  phases[1].seconds = since(start);
  phases[1].killed_at_s = killed_at;
  phases[1].back_at_s = back_at;
  if (!status.ok()) return status;
  if (!killed.ok()) return killed;
  if (!restarted.ok()) return restarted;

  start = Clock::now();
  status = run_phase(options, phases[2]);
  phases[2].seconds = since(start);
  if (!status.ok()) return status;
  return phases;
}

std::string kill_phases_text(const std::vector<KillPhase>& phases, std::size_t victim,
                             double redis_set_rps, double redis_get_rps) {
  std::string out = fmt::format(
      "\nnode-kill run: -P 1, n{} SIGKILLed and restarted during the second phase\n", victim + 1);
  out += fmt::format("{:<7} {:<4} {:>12} {:>8} {:>10} {:>14} {:>12}\n", "phase", "test",
                     "requests/s", "p99 ms", "vs redis", "quorum errors", "other errors");
  for (const KillPhase& phase : phases) {
    if (phase.rows.empty()) {
      out += fmt::format("{:<7} {:<4} {:>12} {:>8} {:>10} {:>14} {:>12}\n", phase.phase, "-",
                         "-", "-", "-", phase.quorum_errors, phase.other_errors);
    }
    for (const BenchmarkRow& row : phase.rows) {
      const double peer = row.test == "SET" ? redis_set_rps : row.test == "GET" ? redis_get_rps : 0;
      const std::string share =
          peer > 0 ? fmt::format("{:.1f}%", 100 * row.requests_per_second / peer) : "-";
      out += fmt::format("{:<7} {:<4} {:>12.0f} {:>8.3f} {:>10} {:>14} {:>12}\n", phase.phase,
                         row.test, row.requests_per_second, row.p99_ms, share,
                         phase.quorum_errors, phase.other_errors);
    }
    if (phase.phase == "during") {
      out += fmt::format("        (phase {:.1f}s; killed at {:.1f}s, answering again at {:.1f}s)\n",
                         phase.seconds, phase.killed_at_s, phase.back_at_s);
    }
    for (const std::string& example : phase.other_examples) {
      out += "        other error: " + example + "\n";
    }
  }
  return out;
}

nlohmann::json kill_phases_json(const std::vector<KillPhase>& phases) {
  nlohmann::json list = nlohmann::json::array();
  for (const KillPhase& phase : phases) {
    nlohmann::json rows = nlohmann::json::array();
    for (const BenchmarkRow& row : phase.rows) {
      rows.push_back({{"test", row.test},
                      {"requests_per_second", row.requests_per_second},
                      {"p50_ms", row.p50_ms},
                      {"p99_ms", row.p99_ms}});
    }
    list.push_back({{"phase", phase.phase},
                    {"rows", rows},
                    {"quorum_errors", phase.quorum_errors},
                    {"other_errors", phase.other_errors},
                    {"other_examples", phase.other_examples},
                    {"seconds", phase.seconds},
                    {"killed_at_s", phase.killed_at_s},
                    {"back_at_s", phase.back_at_s}});
  }
  return list;
}

}  // namespace vigil::cli
