// Explore's generator, shrinker and loop: runs are a function of (seed, index); fault j of
// a run is drawn from its own stream; every run's faults come from its swarm; the shrinker
// keeps only changes that fail the same way; and a short exploration of the general
// template passes on the protocol as it is (the ctest that stands for "explore finds
// nothing on a correct build").

#include "sim/explore.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>

namespace vigil::sim {
namespace {

const std::filesystem::path templates =
    std::filesystem::path(VIGIL_SOURCE_DIR) / "scenarios" / "explore";

Scenario general() {
  core::Result<Scenario> loaded = load_scenario_file((templates / "explore-general.yaml").string());
  EXPECT_TRUE(loaded.ok()) << loaded.status().message();
  return loaded.ok() ? *loaded : Scenario{};
}

bool same_unit(const FaultUnit& a, const FaultUnit& b) {
  return a.kind == b.kind && a.at == b.at && a.length == b.length && a.groups == b.groups &&
         a.from == b.from && a.to == b.to && a.node == b.node && a.skew == b.skew &&
         a.drift == b.drift && a.jump == b.jump && a.delay == b.delay && a.loss == b.loss &&
         a.duplicate == b.duplicate && a.clients == b.clients;
}

TEST(ExploreGenerate, ARunIsAFunctionOfSeedAndIndex) {
  const Scenario base = general();
  ExploreOptions options;
  options.seed = 7;
  for (std::uint64_t index = 0; index < 20; ++index) {
    const GeneratedRun a = generate_run(base, options, index);
    const GeneratedRun b = generate_run(base, options, index);
    EXPECT_EQ(a.swarm, b.swarm);
    EXPECT_EQ(a.run.seed, b.run.seed);
    ASSERT_EQ(a.run.units.size(), b.run.units.size());
    for (std::size_t j = 0; j < a.run.units.size(); ++j) {
      EXPECT_TRUE(same_unit(a.run.units[j], b.run.units[j]));
    }
    EXPECT_TRUE(case_scenario(a.run).has_value());
  }
  EXPECT_NE(generate_run(base, options, 0).run.seed, generate_run(base, options, 1).run.seed);
}

// Fault j comes from its own stream: allowing more faults per run adds faults and leaves
// the ones drawn before as they were.
TEST(ExploreGenerate, EachFaultHasItsOwnStream) {
  const Scenario base = general();
  ExploreOptions few;
  few.faults_max = 1;
  ExploreOptions many;
  many.faults_max = 12;
  int compared = 0;
  for (std::uint64_t index = 0; index < 30; ++index) {
    const GeneratedRun one = generate_run(base, few, index);
    const GeneratedRun more = generate_run(base, many, index);
    ASSERT_EQ(one.swarm, more.swarm);
    if (one.run.units.empty() || more.run.units.empty()) continue;
    EXPECT_TRUE(same_unit(one.run.units[0], more.run.units[0])) << index;
    ++compared;
  }
  EXPECT_GT(compared, 20);
}

TEST(ExploreGenerate, SwarmsVaryAndRunsUseOnlyTheirSwarm) {
  const Scenario base = general();
  ExploreOptions options;
  std::set<SwarmKind> seen;
  std::set<std::size_t> swarm_sizes;
  for (std::uint64_t index = 0; index < 200; ++index) {
    const GeneratedRun run = generate_run(base, options, index);
    ASSERT_FALSE(run.swarm.empty());
    swarm_sizes.insert(run.swarm.size());
    for (const FaultUnit& unit : run.run.units) {
      EXPECT_NE(std::find(run.swarm.begin(), run.swarm.end(), unit.kind), run.swarm.end());
      seen.insert(unit.kind);
    }
  }
  EXPECT_EQ(seen, all_swarm_kinds());  // every kind the simulator has is drawn
  EXPECT_GE(swarm_sizes.size(), 4U);   // swarms of many sizes, not always all kinds
  options.kinds = {SwarmKind::pause};
  for (std::uint64_t index = 0; index < 20; ++index) {
    const GeneratedRun run = generate_run(base, options, index);
    EXPECT_EQ(run.swarm, std::vector<SwarmKind>{SwarmKind::pause});
  }
}

// A stand-in for the simulator: a case "fails" while it crashes n2 (whatever else it does)
// and has at least 2 clients. The shrinker must find that and nothing more.
TEST(ExploreShrink, KeepsOnlyWhatTheFailureNeeds) {
  const Scenario base = general();
  ExploreCase failing;
  failing.base = base;
  failing.seed = 5;
  const auto unit = [](SwarmKind kind, const char* node, int at_ms, int length_ms) {
    FaultUnit u;
    u.kind = kind;
    u.node = node;
    u.at = std::chrono::milliseconds(at_ms);
    u.length = std::chrono::milliseconds(length_ms);
    return u;
  };
  failing.units = {
      unit(SwarmKind::pause, "n1", 1000, 500), unit(SwarmKind::crash, "n2", 6000, 3000),
      unit(SwarmKind::lose_write, "n4", 2000, 0), unit(SwarmKind::crash, "n5", 300, 700)};
  int runs = 0;
  const CaseRunner fake = [&](const Scenario& scenario, std::uint64_t seed) {
    ++runs;
    EXPECT_EQ(seed, 5U);
    RunVerdict verdict;
    const bool crashes_n2 =
        std::any_of(scenario.faults.begin(), scenario.faults.end(),
                    [](const Fault& f) { return f.kind == FaultKind::crash && f.node == "n2"; });
    verdict.failed = crashes_n2 && scenario.workload.clients >= 2;
    verdict.signature = verdict.failed ? "no_lost_writes" : "";
    verdict.faults = scenario.faults.size();
    return verdict;
  };
  RunVerdict failure = fake(*case_scenario(failing), 5);
  ASSERT_TRUE(failure.failed);
  const ShrinkResult shrunk = shrink_case(failing, failure, fake, 500);
  ASSERT_EQ(shrunk.smallest.units.size(), 1U);
  EXPECT_EQ(shrunk.smallest.units[0].node, "n2");
  EXPECT_EQ(shrunk.smallest.units[0].at, std::chrono::milliseconds(0));
  EXPECT_LT(shrunk.smallest.units[0].length, std::chrono::milliseconds(200));
  EXPECT_EQ(shrunk.smallest.base.workload.clients, 2U);
  EXPECT_EQ(shrunk.smallest.base.workload.keys, 1U);
  EXPECT_EQ(shrunk.smallest.base.nodes, 3U);  // N = 3 still fits
  EXPECT_LT(shrunk.smallest.base.duration, base.duration);
  EXPECT_EQ(shrunk.verdict.signature, "no_lost_writes");
  EXPECT_EQ(shrunk.attempts + 1, static_cast<std::uint32_t>(runs));
  // A budget is a budget.
  runs = 0;
  EXPECT_LE(shrink_case(failing, failure, fake, 3).attempts, 3U);
}

// The kinds issue 12 added (link, client_partition, burst): drawn when the swarm allows
// them, each a valid scenario entry that the writer and loader carry unchanged.
TEST(ExploreGenerate, DrawsLinksClientPartitionsAndBursts) {
  const Scenario base = general();
  ExploreOptions options;
  options.seed = 3;
  options.kinds = {SwarmKind::link, SwarmKind::client_partition, SwarmKind::burst};
  std::set<SwarmKind> drawn;
  for (std::uint64_t index = 0; index < 40; ++index) {
    const GeneratedRun run = generate_run(base, options, index);
    const std::optional<Scenario> scenario = case_scenario(run.run);
    ASSERT_TRUE(scenario);
    ASSERT_EQ(scenario->faults.size(), run.run.units.size());  // one entry per unit
    for (const FaultUnit& unit : run.run.units) {
      drawn.insert(unit.kind);
      EXPECT_GT(unit.length, Duration{0});
      switch (unit.kind) {
        case SwarmKind::link:
          ASSERT_EQ(unit.from.size(), 1U);
          ASSERT_EQ(unit.to.size(), 1U);
          EXPECT_NE(unit.from, unit.to);
          EXPECT_TRUE(unit.delay > Duration{0} || unit.loss > 0);
          break;
        case SwarmKind::client_partition:
          EXPECT_FALSE(unit.clients.empty());
          EXPECT_FALSE(unit.to.empty());
          for (const std::uint32_t client : unit.clients) {
            EXPECT_LT(client, base.workload.clients);
          }
          break;
        case SwarmKind::burst: EXPECT_TRUE(unit.loss > 0 || unit.duplicate > 0); break;
        default: ADD_FAILURE() << "a kind outside the swarm: " << swarm_kind_name(unit.kind);
      }
    }
  }
  EXPECT_EQ(drawn, options.kinds);
  EXPECT_EQ(parse_swarm_kind("client_partition"), SwarmKind::client_partition);
  EXPECT_EQ(all_swarm_kinds().size(), swarm_kind_count);
}

// Halving the clients takes the clients that are gone out of client partitions (a partition
// left with none goes), and removing a node drops a link that names it: every step stays a
// case the loader accepts.
TEST(ExploreShrink, ClientPartitionsAndLinksFollowFewerClientsAndNodes) {
  const Scenario base = general();  // 8 clients, 5 nodes
  ExploreCase failing;
  failing.base = base;
  failing.seed = 9;
  FaultUnit cut;
  cut.kind = SwarmKind::client_partition;
  cut.clients = {0, 5, 7};
  cut.to = {"n1", "n5"};
  cut.at = std::chrono::milliseconds(2000);
  cut.length = std::chrono::milliseconds(3000);
  FaultUnit far_link;
  far_link.kind = SwarmKind::link;
  far_link.from = {"n5"};
  far_link.to = {"n2"};
  far_link.loss = 0.5;
  far_link.at = std::chrono::milliseconds(1000);
  far_link.length = std::chrono::milliseconds(2000);
  failing.units = {far_link, cut};
  ASSERT_TRUE(case_scenario(failing));
  // Fails while some client is cut off from n1.
  const CaseRunner fake = [](const Scenario& scenario, std::uint64_t) {
    RunVerdict verdict;
    verdict.failed =
        std::any_of(scenario.faults.begin(), scenario.faults.end(), [](const Fault& f) {
          return f.kind == FaultKind::client_partition &&
                 std::find(f.nodes.begin(), f.nodes.end(), "n1") != f.nodes.end();
        });
    verdict.signature = verdict.failed ? "availability" : "";
    return verdict;
  };
  const RunVerdict failure = fake(*case_scenario(failing), 9);
  ASSERT_TRUE(failure.failed);
  const ShrinkResult shrunk = shrink_case(failing, failure, fake, 300);
  ASSERT_EQ(shrunk.smallest.units.size(), 1U);
  const FaultUnit& left = shrunk.smallest.units[0];
  EXPECT_EQ(left.kind, SwarmKind::client_partition);
  EXPECT_EQ(shrunk.smallest.base.workload.clients, 1U);
  EXPECT_EQ(left.clients, std::vector<std::uint32_t>{0});
  EXPECT_EQ(shrunk.smallest.base.nodes, 3U);
  EXPECT_EQ(left.to, std::vector<NodeId>{"n1"});  // n5 went with the node
  EXPECT_TRUE(case_scenario(shrunk.smallest));

  // A client partition naming only clients that go is dropped with them.
  ExploreCase only_high = failing;
  only_high.units = {cut};
  only_high.units[0].clients = {7};
  const CaseRunner always = [](const Scenario&, std::uint64_t) {
    RunVerdict verdict;
    verdict.failed = true;
    verdict.signature = "x";
    return verdict;
  };
  const ShrinkResult emptied = shrink_case(only_high, always(Scenario{}, 0), always, 300);
  EXPECT_TRUE(emptied.smallest.units.empty());
  EXPECT_EQ(emptied.smallest.base.workload.clients, 1U);
}

// The short exploration the test suite runs: 50 runs of the general template, every fault
// kind in the swarm, and none fails on the protocol as it is.
TEST(ExploreLoop, GeneralTemplatePassesFiftyRuns) {
  ExploreRunOptions options;
  options.runs = 50;
  options.generate.seed = 1;
  options.out_dir = ::testing::TempDir() + "explore-general";
  std::string failures;
  options.on_run = [&](const ExploredRun& run) {
    if (run.verdict.failed) {
      failures += "run " + std::to_string(run.index) + ": " + run.verdict.detail + "\n";
    }
  };
  options.keep_going = true;
  options.shrink_attempts_max = 0;
  const ExploreSummary summary = explore(general(), options);
  EXPECT_EQ(summary.runs, 50U);
  EXPECT_EQ(summary.failures, 0U) << failures;
}

}  // namespace
}  // namespace vigil::sim
