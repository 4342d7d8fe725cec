// Behaviour is pinned: every shipped scenario, over seeds 1-5, gives the trace hash recorded
// in tests/data/trace_hashes.txt. The trace hash covers every event the simulator processed
// and every frame's bytes (sim/simulator.cpp), so a refactor that changes what any node
// sends, when, or what a client is answered changes it.
//
// When a change of behaviour is intended, regenerate the fixture on purpose and say why in
// the commit: scripts/trace-hashes.sh > tests/data/trace_hashes.txt
// A scenario file added later without lines here fails too, so the fixture stays complete.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include "sim/report.h"
#include "sim/run.h"
#include "sim/scenario.h"

namespace vigil::sim {
namespace {

const std::filesystem::path source_dir(VIGIL_SOURCE_DIR);

// scenario name -> seed -> hash, as written by format_trace_hash.
using Fixture = std::map<std::string, std::map<std::uint64_t, std::string>>;

Fixture load_fixture() {
  Fixture fixture;
  std::ifstream in(source_dir / "tests" / "data" / "trace_hashes.txt");
  std::string name;
  std::uint64_t seed = 0;
  std::string hash;
  while (in >> name >> seed >> hash) fixture[name][seed] = hash;
  return fixture;
}

std::vector<std::string> scenario_stems() {
  std::vector<std::string> stems;
  for (const auto& entry : std::filesystem::directory_iterator(source_dir / "scenarios")) {
    if (entry.path().extension() == ".yaml") stems.push_back(entry.path().stem().string());
  }
  std::sort(stems.begin(), stems.end());
  return stems;
}

class TraceHashFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(TraceHashFixture, SeedsOneToFiveGiveTheRecordedHashes) {
  const std::string stem = GetParam();
  const auto scenario =
      load_scenario_file((source_dir / "scenarios" / (stem + ".yaml")).string());
  ASSERT_TRUE(scenario.ok()) << scenario.status().message();
  const Fixture fixture = load_fixture();
  const auto recorded = fixture.find(scenario->name);
  ASSERT_NE(recorded, fixture.end()) << "no recorded hashes for " << scenario->name;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const auto expected = recorded->second.find(seed);
    ASSERT_NE(expected, recorded->second.end()) << scenario->name << " seed " << seed;
    const RunRecord record = run_scenario(*scenario, seed);
    EXPECT_EQ(format_trace_hash(record.trace_hash), expected->second)
        << scenario->name << " seed " << seed << ": behaviour changed; replay with "
        << "vigil sim scenarios/" << stem << ".yaml --seed " << seed
        << " --trace FILE, and compare with the tree before";
  }
}

// A test name may not contain '-'.
std::string test_name(const ::testing::TestParamInfo<std::string>& stem) {
  std::string name = stem.param;
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(Scenarios, TraceHashFixture, ::testing::ValuesIn(scenario_stems()),
                         test_name);

TEST(TraceHashFixtureFile, CoversEveryScenarioAndNothingElse) {
  std::set<std::string> names;
  for (const std::string& stem : scenario_stems()) {
    const auto scenario =
        load_scenario_file((source_dir / "scenarios" / (stem + ".yaml")).string());
    ASSERT_TRUE(scenario.ok()) << scenario.status().message();
    names.insert(scenario->name);
  }
  std::set<std::string> recorded;
  for (const auto& [name, seeds] : load_fixture()) {
    recorded.insert(name);
    EXPECT_EQ(seeds.size(), 5u) << name;
  }
  EXPECT_EQ(recorded, names);
}

}  // namespace
}  // namespace vigil::sim
