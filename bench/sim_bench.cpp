#include "bench/sim_bench.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include <fmt/format.h>

#include "sim/scenario.h"
#include "sim/simulator.h"

namespace vigil::bench {
namespace {

using namespace std::chrono_literals;

constexpr const char* base_scenario = R"(
name: bench-sim
duration: 60s
cluster:
  nodes: 5
  config: {quorum_settings: {N: 3, R: 2, W: 2}, conflict_resolution: siblings}
network: {latency: {min: 1ms, max: 20ms}, loss: 0.01, duplicate: 0.01, reorder: 0.05}
workload:
  clients: 8
  keys: 100
  rate: 200/s
  mix: {get: 0.4, put: 0.6}
  mode: set
  consistency: quorum
checks: [no_lost_writes]
expect: pass
)";

sim::Fault fault_at(core::Duration at, sim::FaultKind kind, const std::string& node = {}) {
  sim::Fault fault;
  fault.at = at;
  fault.kind = kind;
  fault.node = node;
  return fault;
}

// One nemesis cycle per simulated minute, rotating the victims: every fault is undone
// within the cycle, so the cluster is whole at each cycle's start.
void add_nemesis(sim::Scenario& scenario) {
  const auto minutes = scenario.duration / 60s;
  for (std::int64_t m = 0; m < minutes; ++m) {
    const core::Duration start = std::chrono::minutes(m);
    const std::string victim = "n" + std::to_string(1 + m % 5);
    const std::string paused = "n" + std::to_string(1 + (m + 2) % 5);
    sim::Fault partition = fault_at(start + 10s, sim::FaultKind::partition);
    partition.groups = {{"n1", "n2"}, {"n3", "n4", "n5"}};
    scenario.faults.push_back(partition);
    scenario.faults.push_back(fault_at(start + 25s, sim::FaultKind::heal));
    scenario.faults.push_back(fault_at(start + 30s, sim::FaultKind::crash, victim));
    scenario.faults.push_back(fault_at(start + 40s, sim::FaultKind::restart, victim));
    sim::Fault pause = fault_at(start + 45s, sim::FaultKind::pause, paused);
    pause.length = 5s;
    scenario.faults.push_back(pause);
    sim::Fault clock = fault_at(start + 50s, sim::FaultKind::clock, victim);
    clock.skew = (m % 2 == 0) ? core::Duration(-3s) : core::Duration(2s);
    scenario.faults.push_back(clock);
  }
}

}  // namespace

core::Result<SimBenchResult> run_sim_bench(const SimBenchOptions& options) {
  if (options.duration_s < 60 || options.duration_s > sim_bench_duration_s_max) {
    return core::error(core::Code::invalid_argument,
                       "--duration must be 60..86400 simulated seconds");
  }
  auto loaded = sim::load_scenario(base_scenario, "bench-sim");
  if (!loaded) return loaded.status();
  sim::Scenario scenario = std::move(loaded).value();
  scenario.duration = std::chrono::seconds(options.duration_s);
  add_nemesis(scenario);

  SimBenchResult result;
  result.options = options;
  for (std::uint32_t run = 0; run < options.runs; ++run) {
    // bench/ may read clocks: it measures, and nothing it measures depends on the reading.
    const auto start = std::chrono::steady_clock::now();
    const sim::SimulationResult simulated = sim::simulate(scenario, options.seed + run);
    const auto stop = std::chrono::steady_clock::now();
    result.wall_s += std::chrono::duration<double>(stop - start).count();
    result.sim_time_s += static_cast<double>(simulated.sim_time_us) / 1e6;
    result.events += simulated.events;
    result.faults += simulated.faults_injected;
    for (const auto& operation : simulated.history.operations()) {
      if (!operation.final_read) ++result.operations;
    }
  }
  return result;
}

std::string sim_bench_text(const SimBenchResult& r) {
  return fmt::format(
      "vigil bench sim: 5 nodes, 200 ops/s, nemesis on, {} simulated s per run, {} run(s)\n"
      "  simulated time   {:.1f} s in {:.2f} s wall\n"
      "  sim s / wall s   {:.1f}   (a simulated hour in {:.1f} s)\n"
      "  events / wall s  {:.0f}   ({} events, {} operations, {} faults)\n",
      r.options.duration_s, r.options.runs, r.sim_time_s, r.wall_s, r.sim_s_per_wall_s(),
      r.sim_s_per_wall_s() > 0 ? 3600.0 / r.sim_s_per_wall_s() : 0.0, r.events_per_wall_s(),
      r.events, r.operations, r.faults);
}

std::string sim_bench_json(const SimBenchResult& r) {
  nlohmann::json json = {{"benchmark", "sim"},          {"duration_s", r.options.duration_s},
                         {"runs", r.options.runs},       {"seed", r.options.seed},
                         {"sim_time_s", r.sim_time_s},   {"wall_s", r.wall_s},
                         {"events", r.events},           {"operations", r.operations},
                         {"faults", r.faults},           {"sim_s_per_wall_s", r.sim_s_per_wall_s()},
                         {"events_per_wall_s", r.events_per_wall_s()}};
  return json.dump();
}

}  // namespace vigil::bench
