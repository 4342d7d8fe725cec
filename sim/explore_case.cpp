// A case as a scenario: the units written as fault entries, checked by the loader itself.
//
// The case goes through the scenario writer and load_scenario, rather than being turned
// into Fault values here, so that every case explore runs is exactly a file `vigil sim`
// would accept and run the same way: the loader sorts the entries and refuses a schedule
// it could only misread (sim/scenario_faults.cpp), and a refusal makes the case invalid
// (the generator leaves that fault out, the shrinker that change).

#include <algorithm>
#include <utility>

#include "sim/explore.h"
#include "sim/scenario_writer.h"

namespace vigil::sim {
namespace {

constexpr const char* kind_names[swarm_kind_count] = {
    "partition", "one_way", "crash", "pause", "clock", "clog", "lose_write", "corrupt",
    "link",      "client_partition", "burst"};

Fault entry(Duration at, FaultKind kind, const NodeId& node = {}) {
  Fault fault;
  fault.at = at;
  fault.kind = kind;
  fault.node = node;
  return fault;
}

// The unit's entries: what it does at `at`, and what undoes it at at + length when that is
// within the run (else the end-of-run heal does). Undoing entries sort before doing ones
// at the same time (a restart then a pause of the node is valid; the other way is not).
void expand(const FaultUnit& unit, Duration duration, std::vector<std::pair<Fault, int>>& out) {
  const Duration end = unit.at + unit.length;
  switch (unit.kind) {
    case SwarmKind::partition:
    case SwarmKind::one_way: {
      Fault cut = entry(unit.at, unit.kind == SwarmKind::partition ? FaultKind::partition
                                                                   : FaultKind::one_way);
      cut.groups = unit.groups;
      cut.from = unit.from;
      cut.to = unit.to;
      out.emplace_back(std::move(cut), 1);
      if (end < duration) out.emplace_back(entry(end, FaultKind::heal), 0);
      return;
    }
    case SwarmKind::crash:
      out.emplace_back(entry(unit.at, FaultKind::crash, unit.node), 1);
      if (end < duration) out.emplace_back(entry(end, FaultKind::restart, unit.node), 0);
      return;
    case SwarmKind::pause: {
      Fault pause = entry(unit.at, FaultKind::pause, unit.node);
      pause.length = unit.length;
      out.emplace_back(std::move(pause), 1);
      return;
    }
    case SwarmKind::clock: {
      Fault clock = entry(unit.at, FaultKind::clock, unit.node);
      clock.skew = unit.skew;
      clock.drift = unit.drift;
      clock.jump = unit.jump;
      out.emplace_back(std::move(clock), 1);
      return;
    }
    case SwarmKind::clog: {
      Fault clog = entry(unit.at, FaultKind::clog, unit.node);
      clog.delay = unit.delay;
      clog.length = unit.length;
      out.emplace_back(std::move(clog), 1);
      return;
    }
    case SwarmKind::lose_write:
      out.emplace_back(entry(unit.at, FaultKind::lose_write, unit.node), 1);
      return;
    case SwarmKind::corrupt:
      out.emplace_back(entry(unit.at, FaultKind::corrupt, unit.node), 1);
      return;
    case SwarmKind::link: {
      Fault link = entry(unit.at, FaultKind::link);
      link.from = unit.from;
      link.to = unit.to;
      link.delay = unit.delay;
      link.loss = unit.loss;
      link.length = unit.length;
      out.emplace_back(std::move(link), 1);
      return;
    }
    case SwarmKind::client_partition: {
      Fault cut = entry(unit.at, FaultKind::client_partition);
      cut.clients = unit.clients;
      cut.nodes = unit.to;
      cut.length = unit.length;
      out.emplace_back(std::move(cut), 1);
      return;
    }
    case SwarmKind::burst: {
      Fault burst = entry(unit.at, FaultKind::burst);
      burst.loss = unit.loss;
      burst.duplicate = unit.duplicate;
      burst.length = unit.length;
      out.emplace_back(std::move(burst), 1);
      return;
    }
  }
}

}  // namespace

const char* swarm_kind_name(SwarmKind kind) {
  return kind_names[static_cast<std::size_t>(kind)];
}

std::optional<SwarmKind> parse_swarm_kind(std::string_view name) {
  for (std::size_t i = 0; i < swarm_kind_count; ++i) {
    if (name == kind_names[i]) return static_cast<SwarmKind>(i);
  }
  return std::nullopt;
}

std::set<SwarmKind> all_swarm_kinds() {
  std::set<SwarmKind> kinds;
  for (std::size_t i = 0; i < swarm_kind_count; ++i) kinds.insert(static_cast<SwarmKind>(i));
  return kinds;
}

std::optional<Scenario> case_scenario(const ExploreCase& run) {
  std::vector<std::pair<Fault, int>> entries;
  for (const FaultUnit& unit : run.units) expand(unit, run.base.duration, entries);
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return a.first.at != b.first.at ? a.first.at < b.first.at : a.second < b.second;
  });
  Scenario scenario = run.base;
  scenario.faults.clear();
  for (auto& [fault, order] : entries) scenario.faults.push_back(std::move(fault));
  scenario.seed = run.seed;
  core::Result<Scenario> loaded = load_scenario(write_scenario(scenario), scenario.name);
  if (!loaded.ok()) return std::nullopt;
  loaded->file = run.base.file;
  loaded->adjust_node_options = run.base.adjust_node_options;
  return std::move(*loaded);
}

}  // namespace vigil::sim

namespace vigil::sim {

CaseSize case_size(const Scenario& scenario) {
  const double duration_s = std::chrono::duration<double>(scenario.duration).count();
  const double quiesce_s = std::chrono::duration<double>(scenario.quiesce).count();
  return CaseSize{scenario.faults.size(),
                  static_cast<std::uint64_t>(scenario.workload.rate_per_s * duration_s + 0.5),
                  duration_s + quiesce_s};
}

}  // namespace vigil::sim
