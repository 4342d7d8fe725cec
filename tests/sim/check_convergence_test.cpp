// The convergence check: find_divergence over hand-built stores (equal replicas pass; a
// replica with another state, without the key, or with a damaged record is divergent),
// the verdict over a hand-built record, its scenario options, and a real run: sampling
// adds no event (the trace hash is the same with and without the check).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/ring/ring.h"
#include "sim/check_convergence.h"
#include "sim/scenario.h"
#include "sim/simulator.h"
#include "store/memory_store.h"

namespace vigil::sim {
namespace {

class ThreeReplicas : public ::testing::Test {
 protected:
  ThreeReplicas() : ring_(core::Ring::build(ids_, core::RingOptions{})) {}

  void put(std::size_t node, const std::string& key, const std::string& state) {
    store::WriteBatch batch;
    batch.key_puts.push_back({key, 0, state});
    ASSERT_TRUE(stores_[node].apply(batch).ok());
    ASSERT_TRUE(stores_[node].commit().ok());
  }
  void put_everywhere(const std::string& key, const std::string& state) {
    for (std::size_t node = 0; node < 3; ++node) put(node, key, state);
  }
  Divergence divergence() {
    return find_divergence({&stores_[0], &stores_[1], &stores_[2]}, ids_, ring_, 3);
  }

  std::vector<core::NodeId> ids_{"n1", "n2", "n3"};
  core::Ring ring_;
  store::MemoryStore stores_[3];
};

TEST_F(ThreeReplicas, EqualStoresPass) {
  for (int i = 0; i < 20; ++i) put_everywhere("k" + std::to_string(i), "s" + std::to_string(i));
  const Divergence found = divergence();
  EXPECT_EQ(found.keys, 20u);
  EXPECT_EQ(found.divergent, 0u);
  EXPECT_TRUE(found.examples.empty());
}

TEST_F(ThreeReplicas, OtherStatesMissingKeysAndDamagedRecordsDiverge) {
  for (int i = 0; i < 20; ++i) put_everywhere("k" + std::to_string(i), "s" + std::to_string(i));
  put(1, "k3", "newer");       // another state on one replica
  put(2, "only-here", "x");    // held by one replica, absent on the others
  ASSERT_TRUE(stores_[0].corrupt_key("k7").ok());  // bit rot
  const Divergence found = divergence();
  EXPECT_EQ(found.keys, 21u);
  EXPECT_EQ(found.divergent, 3u);
  ASSERT_EQ(found.examples.size(), 3u);
  bool named_absent = false;
  for (const std::string& example : found.examples) {
    named_absent = named_absent || example.find("only-here") != std::string::npos;
  }
  EXPECT_TRUE(named_absent);

  // Only committed state counts: a staged, uncommitted repair does not end the divergence.
  store::WriteBatch repair;
  repair.key_puts.push_back({"k3", 0, "newer"});
  ASSERT_TRUE(stores_[0].apply(repair).ok());
  ASSERT_TRUE(stores_[2].apply(repair).ok());
  EXPECT_EQ(divergence().divergent, 3u);
  ASSERT_TRUE(stores_[0].commit().ok());
  ASSERT_TRUE(stores_[2].commit().ok());
  EXPECT_EQ(divergence().divergent, 2u);
}

SimulationResult result_with(std::uint64_t divergent, std::int64_t converged_us) {
  SimulationResult result;
  result.convergence.recorded = true;
  result.convergence.heal_us = 30'000'000;
  result.convergence.converged_us = converged_us;
  result.convergence.samples = 7;
  result.convergence.keys = 100;
  result.convergence.divergent_keys = divergent;
  result.counters["node.ae_keys_sent"] = 30;
  result.counters["node.ae_bytes_sent"] = 3000;
  result.counters["node.ae_keys_different"] = 20;
  return result;
}

TEST(ConvergenceCheck, FailsWhileAnyKeyDivergesAndReportsTheFigures) {
  CheckSpec spec;
  spec.name = "convergence";
  CheckResult check = check_convergence(result_with(2, -1), spec);
  EXPECT_FALSE(check.ok);
  EXPECT_EQ(check.counts.at("divergent_keys"), 2u);
  EXPECT_FALSE(check.ratios.contains("converge_time_s"));

  check = check_convergence(result_with(0, 42'500'000), spec);
  EXPECT_TRUE(check.ok);
  EXPECT_EQ(check.counts.at("keys_streamed"), 30u);
  EXPECT_EQ(check.counts.at("bytes_streamed"), 3000u);
  EXPECT_DOUBLE_EQ(check.ratios.at("converge_time_s"), 12.5);
  EXPECT_DOUBLE_EQ(check.ratios.at("over_streaming_ratio"), 1.5);

  spec.max_of["converge_time_s"] = 10;
  EXPECT_FALSE(check_convergence(result_with(0, 42'500'000), spec).ok);
  spec.max_of["converge_time_s"] = 15;
  EXPECT_TRUE(check_convergence(result_with(0, 42'500'000), spec).ok);

  spec.max_of.clear();
  EXPECT_FALSE(check_convergence(SimulationResult{}, spec).ok)
      << "a run that recorded nothing proves nothing";
}

constexpr const char* small_run = R"(name: x
duration: 5s
quiesce: 5s
cluster: {nodes: 3, config: {quorum_settings: {N: 3, R: 2, W: 2}}}
workload: {clients: 2, keys: 10, rate: 40/s, mix: {get: 0.5, put: 0.5}}
expect: pass
)";

TEST(ConvergenceCheck, LoadsItsOptionsAndSamplingLeavesTheTraceAlone) {
  auto with = load_scenario(std::string(small_run) +
                                "checks: [{convergence: {max_converge_time: 90s}}]\n",
                            "x.yaml");
  ASSERT_TRUE(with.ok()) << with.status().to_string();
  ASSERT_EQ(with->checks.size(), 1u);
  EXPECT_DOUBLE_EQ(with->checks[0].max_of.at("converge_time_s"), 90.0);
  auto without = load_scenario(std::string(small_run) + "checks: []\n", "x.yaml");
  ASSERT_TRUE(without.ok());
  EXPECT_FALSE(
      load_scenario(std::string(small_run) + "checks: [{convergence: {max: 1}}]\n", "x.yaml")
          .ok());

  const SimulationResult sampled = simulate(*with, 3);
  const SimulationResult plain = simulate(*without, 3);
  EXPECT_EQ(sampled.trace_hash, plain.trace_hash);
  EXPECT_FALSE(plain.convergence.recorded);
  ASSERT_TRUE(sampled.convergence.recorded);
  EXPECT_GE(sampled.convergence.samples, 2u);
  EXPECT_EQ(sampled.convergence.keys, 10u);
  EXPECT_EQ(sampled.convergence.divergent_keys, 0u) << "no faults, N = nodes: replicas agree";
  EXPECT_TRUE(check_convergence(sampled, with->checks[0]).ok);
}

}  // namespace
}  // namespace vigil::sim
