// Shrinking a failing case (explore.h): greedy passes over the case's parts, each change
// kept only when the run still fails the same way (the same signature), repeated until a
// round keeps nothing. The simulation seed never changes; every other draw of the run is
// per node, per client, per link or per fault (sim/seeds.h), so removing a fault leaves
// the rest of the run much as it was and a failure usually survives the removal of what
// did not cause it. What is tried, in turn:
//   1. dropping faults: halves, quarters, ..., then one at a time (ddmin's order);
//   2. each fault earlier (its time halved) and shorter (its length, a clog's delay halved);
//   3. fewer clients, keys and operations (each halved while the failure stays);
//   4. a shorter run (duration, then quiesce, halved; faults past the end are dropped);
//   5. fewer nodes (the last one removed while N replicas still fit; faults naming it
//      lose it, or go when nothing is left of them).

#include <algorithm>
#include <utility>

#include "sim/explore.h"

namespace vigil::sim {
namespace {

class Shrinker {
 public:
  Shrinker(ExploreCase best, RunVerdict verdict, const CaseRunner& runner,
           std::uint32_t attempts_max, const std::function<void(const std::string&)>& log)
      : best_(std::move(best)), verdict_(std::move(verdict)), runner_(runner),
        attempts_max_(attempts_max), log_(log) {}

  ShrinkResult run() {
    for (bool changed = true; changed && budget_left();) {
      changed = drop_faults();
      changed = earlier_and_shorter() || changed;
      changed = smaller_workload() || changed;
      changed = shorter_run() || changed;
      changed = fewer_nodes() || changed;
    }
    return ShrinkResult{best_, verdict_, attempts_};
  }

 private:
  bool budget_left() const { return attempts_ < attempts_max_; }

  // Keeps `candidate` when it still fails the same way.
  bool attempt(const ExploreCase& candidate, const std::string& what) {
    if (!budget_left()) return false;
    const std::optional<Scenario> scenario = case_scenario(candidate);
    if (!scenario) return false;  // the loader would refuse it: not a case
    ++attempts_;
    RunVerdict verdict = runner_(*scenario, candidate.seed);
    if (!verdict.failed || verdict.signature != verdict_.signature) return false;
    best_ = candidate;
    verdict_ = std::move(verdict);
    if (log_) log_(what);
    return true;
  }

  bool drop_faults() {
    bool changed = false;
    for (std::size_t chunk = std::max<std::size_t>(1, best_.units.size() / 2); chunk >= 1;) {
      bool dropped = false;
      for (std::size_t start = 0; start < best_.units.size() && budget_left();) {
        ExploreCase candidate = best_;
        const std::size_t end = std::min(start + chunk, candidate.units.size());
        candidate.units.erase(candidate.units.begin() + static_cast<std::ptrdiff_t>(start),
                              candidate.units.begin() + static_cast<std::ptrdiff_t>(end));
        if (attempt(candidate, "dropped " + std::to_string(end - start) + " fault(s)")) {
          dropped = changed = true;
        } else {
          start += chunk;
        }
      }
      if (!dropped) {
        if (chunk == 1) break;
        chunk /= 2;
      }
      if (best_.units.empty()) break;
    }
    return changed;
  }

  static Duration half(Duration value) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(value / 2);
  }

  bool earlier_and_shorter() {
    bool changed = false;
    for (std::size_t i = 0; i < best_.units.size() && budget_left(); ++i) {
      const std::string which = "fault " + std::to_string(i + 1);
      while (best_.units[i].at > Duration{0}) {
        ExploreCase candidate = best_;
        candidate.units[i].at = half(candidate.units[i].at);
        if (!attempt(candidate, which + " earlier")) break;
        changed = true;
      }
      while (best_.units[i].length >= std::chrono::milliseconds(200)) {
        ExploreCase candidate = best_;
        candidate.units[i].length = half(candidate.units[i].length);
        if (!attempt(candidate, which + " shorter")) break;
        changed = true;
      }
      while (best_.units[i].delay >= std::chrono::milliseconds(2)) {
        ExploreCase candidate = best_;
        candidate.units[i].delay = half(candidate.units[i].delay);
        if (!attempt(candidate, which + " less delay")) break;
        changed = true;
      }
    }
    return changed;
  }

  // Halves `field` of the workload while the failure stays (and it stays at least `low`).
  template <typename T>
  bool halve(T Workload::*field, T low, const std::string& what) {
    bool changed = false;
    while (best_.base.workload.*field / 2 >= low) {
      ExploreCase candidate = best_;
      candidate.base.workload.*field = candidate.base.workload.*field / 2;
      if (!attempt(candidate, "fewer " + what)) break;
      changed = true;
    }
    return changed;
  }

  // Half the clients; client partitions lose the clients that are gone (and go when none
  // is left).
  bool fewer_clients() {
    bool changed = false;
    while (best_.base.workload.clients / 2 >= 1 && budget_left()) {
      ExploreCase candidate = best_;
      const std::uint32_t clients = candidate.base.workload.clients / 2;
      candidate.base.workload.clients = clients;
      for (FaultUnit& unit : candidate.units) {
        std::erase_if(unit.clients, [&](std::uint32_t client) { return client >= clients; });
      }
      std::erase_if(candidate.units, [](const FaultUnit& unit) {
        return unit.kind == SwarmKind::client_partition && unit.clients.empty();
      });
      if (!attempt(candidate, "fewer clients")) break;
      changed = true;
    }
    return changed;
  }

  bool smaller_workload() {
    bool changed = fewer_clients();
    changed = halve(&Workload::keys, 1U, "keys") || changed;
    return halve(&Workload::rate_per_s, 1.0, "operations (rate)") || changed;
  }

  bool shorter_run() {
    bool changed = false;
    while (best_.base.duration >= std::chrono::seconds(2)) {
      ExploreCase candidate = best_;
      candidate.base.duration = half(candidate.base.duration);
      std::erase_if(candidate.units,
                    [&](const FaultUnit& unit) { return unit.at >= candidate.base.duration; });
      if (!attempt(candidate, "shorter duration")) break;
      changed = true;
    }
    while (best_.base.quiesce >= std::chrono::seconds(2)) {
      ExploreCase candidate = best_;
      candidate.base.quiesce = half(candidate.base.quiesce);
      if (!attempt(candidate, "shorter quiesce")) break;
      changed = true;
    }
    return changed;
  }

  // The case without node n<nodes>; false when a fault would be left meaningless.
  static void remove_last_node(ExploreCase& run) {
    const NodeId gone = "n" + std::to_string(run.base.nodes);
    run.base.nodes -= 1;
    std::vector<FaultUnit> kept;
    for (FaultUnit unit : run.units) {
      const auto drop = [&](std::vector<NodeId>& nodes) { std::erase(nodes, gone); };
      for (auto& group : unit.groups) drop(group);
      std::erase_if(unit.groups, [](const auto& group) { return group.empty(); });
      drop(unit.from);
      drop(unit.to);
      // Kinds that name their nodes in groups/from/to rather than `node`.
      const bool cut = unit.kind == SwarmKind::partition || unit.kind == SwarmKind::one_way ||
                       unit.kind == SwarmKind::link ||
                       unit.kind == SwarmKind::client_partition ||
                       unit.kind == SwarmKind::burst;
      if (!cut && unit.node == gone) continue;
      if (unit.kind == SwarmKind::partition && unit.groups.size() < 2) continue;
      if ((unit.kind == SwarmKind::one_way || unit.kind == SwarmKind::link) &&
          (unit.from.empty() || unit.to.empty())) {
        continue;
      }
      if (unit.kind == SwarmKind::client_partition && unit.to.empty()) continue;
      kept.push_back(std::move(unit));
    }
    run.units = std::move(kept);
  }

  bool fewer_nodes() {
    bool changed = false;
    while (best_.base.nodes > best_.base.config.quorum_settings.n && budget_left()) {
      ExploreCase candidate = best_;
      remove_last_node(candidate);
      if (!attempt(candidate, "fewer nodes")) break;
      changed = true;
    }
    return changed;
  }

  ExploreCase best_;
  RunVerdict verdict_;
  const CaseRunner& runner_;
  std::uint32_t attempts_max_;
  const std::function<void(const std::string&)>& log_;
  std::uint32_t attempts_ = 0;
};

}  // namespace

ShrinkResult shrink_case(const ExploreCase& failing, const RunVerdict& failure,
                         const CaseRunner& runner, std::uint32_t attempts_max,
                         const std::function<void(const std::string&)>& log) {
  return Shrinker(failing, failure, runner, attempts_max, log).run();
}

}  // namespace vigil::sim
