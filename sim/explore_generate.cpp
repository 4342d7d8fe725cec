// The generator of explore's runs: a swarm, a count, and one fault per stream.
//
// Every draw comes from a stream of its own, derived from the explore seed by purpose and
// index (sim/seeds.h): run i's swarm, its fault count, its fault j, its simulation seed.
// So fault j is the same whatever faults 0..j-1 were or whether they were kept, and a
// run is named by (explore seed, index) alone. Times and lengths are whole milliseconds,
// so a written case reads like one a person would write.

#include <algorithm>

#include "core/random.h"
#include "sim/explore.h"
#include "sim/seeds.h"

namespace vigil::sim {
namespace {

// Explore's purposes, mixed in as the stream index of Stream::faults under the run's seed.
enum class Purpose : std::uint64_t { swarm = 1, count = 2, fault = 3, simulation = 4, kind = 5 };

std::uint64_t stream_seed(std::uint64_t run_seed, Purpose purpose, std::uint64_t index = 0) {
  return derive_seed(run_seed, Stream::faults, static_cast<std::uint64_t>(purpose), index);
}

Duration millis(std::int64_t value) { return std::chrono::milliseconds(value); }

Duration draw_ms(core::Random& random, std::int64_t low_ms, std::int64_t high_ms) {
  return millis(random.uniform_range(low_ms, high_ms));
}

NodeId draw_node(core::Random& random, std::uint32_t nodes) {
  return "n" + std::to_string(1 + random.uniform(nodes));
}

// Partition shapes: each node lands in one of 2 or 3 groups (one lone node, majority and
// minority, three ways), redrawn until at least two groups are non-empty.
void draw_partition(core::Random& random, std::uint32_t nodes, FaultUnit& unit) {
  const std::uint64_t group_count = 2 + random.uniform(2);
  for (int tries = 0; tries < 8; ++tries) {
    std::vector<std::vector<NodeId>> groups(group_count);
    for (std::uint32_t n = 1; n <= nodes; ++n) {
      groups[random.uniform(group_count)].push_back("n" + std::to_string(n));
    }
    std::erase_if(groups, [](const auto& group) { return group.empty(); });
    if (groups.size() >= 2) {
      unit.groups = std::move(groups);
      return;
    }
  }
  // Nothing else drew two groups (a one-node cluster cannot be cut): isolate n1.
  unit.groups = {{"n1"}};
}

void draw_one_way(core::Random& random, std::uint32_t nodes, FaultUnit& unit) {
  for (std::uint32_t n = 1; n <= nodes; ++n) {
    const std::uint64_t side = random.uniform(3);  // from, to, neither
    if (side == 0) unit.from.push_back("n" + std::to_string(n));
    if (side == 1) unit.to.push_back("n" + std::to_string(n));
  }
  if (unit.from.empty()) unit.from.push_back(draw_node(random, nodes));
  if (unit.to.empty()) {
    for (std::uint32_t n = 1; n <= nodes; ++n) {
      const NodeId id = "n" + std::to_string(n);
      if (std::find(unit.from.begin(), unit.from.end(), id) == unit.from.end()) {
        unit.to.push_back(id);
        break;
      }
    }
  }
}

void draw_clock(core::Random& random, FaultUnit& unit) {
  const std::uint64_t what = 1 + random.uniform(7);  // a non-empty subset of skew, drift, jump
  const auto signed_ms = [&](std::int64_t max_ms) { return draw_ms(random, -max_ms, max_ms); };
  if (what & 1) unit.skew = signed_ms(5000);
  if (what & 2) unit.drift = static_cast<double>(random.uniform_range(-20, 20)) / 1000;
  if (what & 4) unit.jump = signed_ms(10000);
  if (unit.skew.count() == 0 && unit.drift == 0 && unit.jump.count() == 0) unit.skew = millis(1);
}

// One direction of one link: slower (5ms-1s more), lossier (5%-100%), or both.
void draw_link(core::Random& random, std::uint32_t nodes, FaultUnit& unit) {
  const std::uint32_t from = static_cast<std::uint32_t>(random.uniform(nodes));
  const std::uint32_t to =
      nodes < 2 ? from : (from + 1 + static_cast<std::uint32_t>(random.uniform(nodes - 1))) % nodes;
  unit.from = {"n" + std::to_string(1 + from)};
  unit.to = {"n" + std::to_string(1 + to)};
  const std::uint64_t what = 1 + random.uniform(3);  // latency, loss, both
  if (what & 1) unit.delay = draw_ms(random, 5, 1000);
  if (what & 2) unit.loss = static_cast<double>(random.uniform_range(5, 100)) / 100;
}

// Some clients (each with probability 1/2, at least one) cut off from some nodes (likewise).
void draw_client_partition(core::Random& random, const Scenario& base, FaultUnit& unit) {
  for (std::uint32_t c = 0; c < base.workload.clients; ++c) {
    if (random.chance(0.5)) unit.clients.push_back(c);
  }
  if (unit.clients.empty()) {
    unit.clients.push_back(static_cast<std::uint32_t>(random.uniform(base.workload.clients)));
  }
  for (std::uint32_t n = 1; n <= base.nodes; ++n) {
    if (random.chance(0.5)) unit.to.push_back("n" + std::to_string(n));
  }
  if (unit.to.empty()) unit.to.push_back(draw_node(random, base.nodes));
}

// Extra loss (5%-50%), duplication (5%-30%), or both, on every link.
void draw_burst(core::Random& random, FaultUnit& unit) {
  const std::uint64_t what = 1 + random.uniform(3);
  if (what & 1) unit.loss = static_cast<double>(random.uniform_range(5, 50)) / 100;
  if (what & 2) unit.duplicate = static_cast<double>(random.uniform_range(5, 30)) / 100;
}

FaultUnit draw_unit(core::Random& random, SwarmKind kind, const Scenario& base) {
  FaultUnit unit;
  unit.kind = kind;
  const std::int64_t duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(base.duration).count();
  unit.at = draw_ms(random, 0, std::max<std::int64_t>(0, duration_ms * 9 / 10 - 1));
  unit.node = draw_node(random, base.nodes);
  switch (kind) {
    case SwarmKind::partition:
      draw_partition(random, base.nodes, unit);
      unit.length = draw_ms(random, 500, 8000);
      break;
    case SwarmKind::one_way:
      draw_one_way(random, base.nodes, unit);
      unit.length = draw_ms(random, 500, 8000);
      break;
    case SwarmKind::crash: unit.length = draw_ms(random, 200, 10000); break;
    case SwarmKind::pause: unit.length = draw_ms(random, 100, 6000); break;
    case SwarmKind::clock: draw_clock(random, unit); break;
    case SwarmKind::clog:
      unit.delay = draw_ms(random, 5, 500);
      unit.length = draw_ms(random, 500, 8000);
      break;
    case SwarmKind::lose_write:
    case SwarmKind::corrupt: break;
    case SwarmKind::link:
      draw_link(random, base.nodes, unit);
      unit.length = draw_ms(random, 500, 8000);
      break;
    case SwarmKind::client_partition:
      draw_client_partition(random, base, unit);
      unit.length = draw_ms(random, 500, 8000);
      break;
    case SwarmKind::burst:
      draw_burst(random, unit);
      unit.length = draw_ms(random, 200, 5000);
      break;
  }
  return unit;
}

}  // namespace

GeneratedRun generate_run(const Scenario& base, const ExploreOptions& options,
                          std::uint64_t index) {
  const std::uint64_t run_seed = derive_seed(options.seed, Stream::faults, 0, index);
  std::vector<SwarmKind> allowed(options.kinds.begin(), options.kinds.end());
  GeneratedRun generated;
  generated.run.base = base;
  generated.run.base.faults.clear();
  generated.run.seed = core::Random(stream_seed(run_seed, Purpose::simulation)).next_u64();
  if (allowed.empty()) return generated;

  // The swarm: each allowed kind in with probability 1/2, at least one.
  core::Random swarm_random(stream_seed(run_seed, Purpose::swarm));
  for (const SwarmKind kind : allowed) {
    if (swarm_random.chance(0.5)) generated.swarm.push_back(kind);
  }
  if (generated.swarm.empty()) {
    generated.swarm.push_back(allowed[swarm_random.uniform(allowed.size())]);
  }
  const std::uint64_t count =
      1 + core::Random(stream_seed(run_seed, Purpose::count)).uniform(options.faults_max);
  for (std::uint64_t j = 0; j < count; ++j) {
    core::Random random(stream_seed(run_seed, Purpose::fault, j));
    const SwarmKind kind = generated.swarm[random.uniform(generated.swarm.size())];
    generated.run.units.push_back(draw_unit(random, kind, base));
    // A unit that clashes with the ones before it is left out (not redrawn).
    if (!case_scenario(generated.run)) generated.run.units.pop_back();
  }
  return generated;
}

}  // namespace vigil::sim
