// Explore proved on real bugs (issue 12's "Done means"): three protocol bugs, planted
// through NodeOptions::planted_bug (core/node/options.h: a test-only field no
// configuration or scenario file can set; only this binary sets it, through
// Scenario::adjust_node_options). For each, explore over a template with no faults of its
// own finds a failing run within a bounded number of runs, shrinks it to a scenario file
// of at most 3 faults, and that file, loaded again and run, fails the same way. The same
// runs pass without the bug (so it is the bug explore found, not the template).

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/node/options.h"
#include "sim/explore.h"

namespace vigil::sim {
namespace {

const std::filesystem::path templates =
    std::filesystem::path(VIGIL_SOURCE_DIR) / "scenarios" / "explore";

Scenario load_template(const char* name, core::PlantedBug bug) {
  core::Result<Scenario> loaded = load_scenario_file((templates / name).string());
  EXPECT_TRUE(loaded.ok()) << loaded.status().message();
  Scenario scenario = loaded.ok() ? *loaded : Scenario{};
  EXPECT_TRUE(scenario.faults.empty());
  if (bug != core::PlantedBug::none) {
    scenario.adjust_node_options = [bug](core::NodeOptions& options) {
      options.planted_bug = bug;
    };
  }
  return scenario;
}

struct Planted {
  const char* name;
  core::PlantedBug bug;
  const char* template_file;
  std::uint64_t runs_max;        // the bound: found within this many runs
  const char* signature_prefix;  // what fails
  bool lossless = false;         // the template's network without its message loss
};

void expect_found_and_shrunk(const Planted& planted) {
  ExploreRunOptions options;
  options.runs = planted.runs_max;
  options.generate.seed = 1;
  options.out_dir = ::testing::TempDir() + "explore-" + planted.name;
  options.template_stem = planted.name;
  options.shrink_attempts_max = 150;
  Scenario tmpl = load_template(planted.template_file, planted.bug);
  if (planted.lossless) tmpl.network.loss = 0;
  const ExploreSummary summary = explore(tmpl, options);
  ASSERT_EQ(summary.failures, 1U) << planted.name << ": not found in " << planted.runs_max
                                  << " runs";
  ASSERT_EQ(summary.shrunk.size(), 1U);
  const ShrunkFailure& failure = summary.shrunk.front();
  EXPECT_EQ(failure.shrunk.verdict.signature.rfind(planted.signature_prefix, 0), 0U)
      << failure.shrunk.verdict.signature;
  EXPECT_LE(failure.after.faults, 3U) << failure.file;
  EXPECT_LE(failure.after.faults, failure.before.faults);
  EXPECT_LE(failure.after.operations, failure.before.operations);
  EXPECT_TRUE(failure.replayed) << failure.file << " replayed as " << failure.replay_signature;
  std::printf("[ %s ] found at run %llu (%s), shrunk in %u runs: %zu faults, %llu ops, %.1f s "
              "-> %zu faults, %llu ops, %.1f s\n",
              planted.name, static_cast<unsigned long long>(failure.found.index),
              failure.shrunk.verdict.signature.c_str(), failure.shrunk.attempts,
              failure.before.faults, static_cast<unsigned long long>(failure.before.operations),
              failure.before.sim_seconds, failure.after.faults,
              static_cast<unsigned long long>(failure.after.operations), failure.after.sim_seconds);

  // Without the bug, the runs up to the one that failed pass.
  ExploreRunOptions clean = options;
  clean.runs = failure.found.index + 1;
  clean.keep_going = true;
  clean.shrink_attempts_max = 0;
  Scenario correct = load_template(planted.template_file, core::PlantedBug::none);
  if (planted.lossless) correct.network.loss = 0;
  const ExploreSummary without = explore(correct, clean);
  EXPECT_EQ(without.failures, 0U) << planted.name << ": the template fails without the bug";
}

TEST(ExplorePlanted, AckAfterWMinusOne) {
  expect_found_and_shrunk({"ack-w-minus-1", core::PlantedBug::ack_after_w_minus_1,
                           "explore-general.yaml", 5, "invariant"});
}

TEST(ExplorePlanted, MergeDropsConcurrentSibling) {
  expect_found_and_shrunk({"merge-drops-sibling", core::PlantedBug::merge_drops_sibling,
                           "explore-general.yaml", 20, "no_lost_writes"});
}

TEST(ExplorePlanted, HintErasedBeforeDeliveryAcknowledged) {
  expect_found_and_shrunk({"hint-erased-early", core::PlantedBug::hint_erased_before_ack,
                           "explore-hints.yaml", 40, "hints_drained"});
}

// Without message loss the bug needs faults to show: a delivery must be lost to a crash
// or a cut, which explore has to draw.
TEST(ExplorePlanted, HintErasedBeforeDeliveryAcknowledgedNeedsFaults) {
  expect_found_and_shrunk({"hint-erased-early-lossless", core::PlantedBug::hint_erased_before_ack,
                           "explore-hints.yaml", 100, "hints_drained", true});
}

}  // namespace
}  // namespace vigil::sim
