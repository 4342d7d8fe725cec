// availability (see check_availability.h). Theory: for each operation, walk the fault
// timeline over the operation's life and take the worst moment: the most replicas of its
// key the entry node could not use. Dynamo's sloppy quorum promises success while that
// number is at most N-Q; the fraction of such operations that succeeded is the measure.
// Partitions count through reachability from the entry node, because the entry node (the
// coordinator, or the forwarder picking one) is the one that must reach Q replicas or
// their stand-ins.

#include "sim/check_availability.h"

#include <algorithm>
#include <limits>

#include "core/assert.h"
#include "core/ring/ring.h"

namespace vigil::sim {

namespace {

struct Worst {
  bool entry_down = false;
  std::uint32_t unavailable = 0;
};

Worst worst_over(const std::vector<FaultState>& timeline, std::int64_t from_us,
                 std::int64_t to_us, std::uint32_t entry,
                 const std::vector<std::uint32_t>& replicas) {
  Worst worst;
  for (std::size_t i = 0; i < timeline.size(); ++i) {
    const std::int64_t begin = timeline[i].at_us;
    const std::int64_t end =
        i + 1 < timeline.size() ? timeline[i + 1].at_us : std::numeric_limits<std::int64_t>::max();
    if (end <= from_us || begin > to_us) continue;
    const FaultState& state = timeline[i];
    worst.entry_down = worst.entry_down || state.down[entry];
    std::uint32_t unavailable = 0;
    for (std::uint32_t replica : replicas) {
      const bool cut =
          replica != entry && (!state.open[entry][replica] || !state.open[replica][entry]);
      unavailable += state.down[replica] || cut ? 1 : 0;
    }
    worst.unavailable = std::max(worst.unavailable, unavailable);
  }
  return worst;
}

double fraction(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? 1.0 : static_cast<double>(part) / static_cast<double>(whole);
}

}  // namespace

CheckResult check_availability(const Scenario& scenario, const SimulationResult& result,
                               const CheckSpec& spec) {
  CheckResult check;
  check.name = "availability";
  const std::vector<core::NodeId> ids = scenario_node_ids(scenario);
  std::map<core::NodeId, std::uint32_t> index;
  for (std::uint32_t i = 0; i < ids.size(); ++i) index[ids[i]] = i;
  const core::Ring ring = core::Ring::build(ids, config::ring_options(scenario.config));
  const std::uint32_t n = scenario.config.quorum_settings.n;  // N
  std::map<core::Key, std::vector<std::uint32_t>> replicas_of;

  std::uint64_t operations = 0, eligible = 0, succeeded = 0, entry_down = 0, too_many = 0;
  std::uint64_t under_faults = 0, under_faults_ok = 0;
  for (const Operation& op : result.history.operations()) {
    if (op.final_read) continue;
    ++operations;
    auto [it, inserted] = replicas_of.try_emplace(op.key);
    if (inserted) {
      for (const core::NodeId& id : ring.preference_list(core::token_of_key(op.key), n)) {
        it->second.push_back(index.at(id));
      }
    }
    const std::int64_t end_us = op.completed_us >= 0 ? op.completed_us : result.sim_time_us;
    const Worst worst =
        worst_over(result.fault_timeline, op.invoked_us, end_us, index.at(op.node), it->second);
    const config::QuorumSizes sizes = config::quorum_sizes(scenario.config, op.consistency);
    const std::uint32_t needed = op.op == core::ClientOp::get ? sizes.r : sizes.w;
    if (worst.entry_down) {
      ++entry_down;
      continue;
    }
    if (worst.unavailable + needed > n) {
      ++too_many;
      continue;
    }
    ++eligible;
    const bool ok = op.outcome == Outcome::ok;
    succeeded += ok ? 1 : 0;
    if (worst.unavailable > 0) {
      ++under_faults;
      under_faults_ok += ok ? 1 : 0;
    }
    if (!ok && check.examples.size() < check_examples_max) {
      check.examples.push_back("#" + std::to_string(op.index) + " " + op.key + " via " +
                               op.node + " with " + std::to_string(worst.unavailable) +
                               " replicas unavailable: " + std::string(core::code_name(op.code)) +
                               (op.message.empty() ? "" : " (" + op.message + ")"));
    }
  }
  check.counts = {{"operations", operations},
                  {"eligible", eligible},
                  {"succeeded", succeeded},
                  {"failed", eligible - succeeded},
                  {"excluded_entry_down", entry_down},
                  {"excluded_replicas_down", too_many},
                  {"under_faults", under_faults},
                  {"under_faults_succeeded", under_faults_ok}};
  check.ratios = {{"fraction", fraction(succeeded, eligible)},
                  {"under_faults_fraction", fraction(under_faults_ok, under_faults)}};
  if (spec.min) {
    check.ratios["min"] = *spec.min;
    check.ok = check.ratios["fraction"] >= *spec.min;
  }
  return check;
}

}  // namespace vigil::sim
