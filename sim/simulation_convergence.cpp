// What the convergence check reads (sim/check_convergence.h), sampled by the simulator.
//
// From the end-of-run heal (the last heal: every fault ends there) the replicas' divergence
// is sampled until a sample finds none; that sample's time, less the heal's, is the
// convergence time. A sample is taken when the event loop reaches its time, before the
// event at that time is processed, and schedules nothing: the run's events and trace hash
// are the same with or without the check. The state cannot change between events, so when
// the loop jumps over several sample times at once, one sample stands for all of them
// (taken at the first: the earliest moment that state held).
//
// Cost, bounded for large stores: a sample is O(R log R) for R records over all nodes
// (check_convergence.h). The cadence is one simulated second, stretched so that the quiesce
// holds at most convergence_quiesce_samples_max samples (a 24-hour quiesce samples every
// 864 s, not every second), and sampling stops at the first sample with no divergence. The
// figures after the quiesce are one more sample. Nothing is sampled unless the scenario
// lists the check.

#include <algorithm>

#include "config/node_options.h"
#include "sim/check_convergence.h"
#include "sim/simulation.h"

namespace vigil::sim {

namespace {

constexpr std::int64_t convergence_cadence_us_min = 1000000;
constexpr std::int64_t convergence_quiesce_samples_max = 100;

bool wants_convergence(const Scenario& scenario) {
  return std::any_of(scenario.checks.begin(), scenario.checks.end(),
                     [](const CheckSpec& check) { return check.name == "convergence"; });
}

Divergence divergence_now(const Scenario& scenario,
                          const std::vector<std::unique_ptr<NodeHost>>& hosts) {
  const std::vector<core::NodeId> ids = scenario_node_ids(scenario);
  const core::Ring ring = core::Ring::build(ids, config::ring_options(scenario.config));
  std::vector<store::MemoryStore*> stores;
  for (const auto& host : hosts) stores.push_back(&host->store());
  return find_divergence(stores, ids, ring, scenario.config.quorum_settings.n);
}

}  // namespace

void Simulation::start_convergence_sampling() {
  if (!wants_convergence(scenario_)) return;
  convergence_.recorded = true;
  convergence_.heal_us = now_us_;
  convergence_cadence_us_ =
      std::max(convergence_cadence_us_min,
               core::to_micros(scenario_.quiesce) / convergence_quiesce_samples_max);
  convergence_next_us_ = now_us_;  // the first sample: at the heal, before anything repairs
}

void Simulation::sample_convergence(std::int64_t event_us) {
  const std::int64_t sample_us = convergence_next_us_;
  const Divergence divergence = divergence_now(scenario_, hosts_);
  if (convergence_.samples == 0) convergence_.divergent_keys_at_heal = divergence.divergent;
  convergence_.samples += 1;
  if (divergence.divergent == 0) {
    convergence_.converged_us = sample_us;
    convergence_next_us_ = -1;  // converged: no more samples until the end
    return;
  }
  // The next sample time after `event_us`, on the cadence's grid.
  const std::int64_t steps = (event_us - sample_us) / convergence_cadence_us_ + 1;
  convergence_next_us_ = sample_us + steps * convergence_cadence_us_;
}

void Simulation::finish_convergence() {
  if (!convergence_.recorded) return;
  const Divergence divergence = divergence_now(scenario_, hosts_);
  convergence_.samples += 1;
  convergence_.keys = divergence.keys;
  convergence_.divergent_keys = divergence.divergent;
  convergence_.examples = divergence.examples;
  if (convergence_.converged_us < 0 && divergence.divergent == 0) {
    convergence_.converged_us = now_us_;
  }
  convergence_next_us_ = -1;
}

}  // namespace vigil::sim
