// The anti-entropy trees' journal is staged once per commit (Node::stage_for_commit), not
// once per input: a batch of writes under one flush adds one journal row, and the trees a
// restarted node loads from snapshot + journal equal the ones it had.

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "core/node/node_driver.h"
#include "store/memory_store.h"
#include "store/typed_storage.h"

namespace vigil::core::testing {
namespace {

constexpr WallMicros wall_epoch_us = 1'700'000'000'000'000;

NodeOptions one_node() {
  NodeOptions options;
  options.id = "n1";
  options.replicas = 1;
  options.one = options.quorum = options.all = options.default_level = QuorumCounts{1, 1};
  options.membership.enabled = false;
  options.hints.enabled = false;
  options.read_repair_enabled = false;
  return options;
}

Now at(std::int64_t us) { return Now{instant_from_micros(us), wall_epoch_us + us}; }

class TreeJournal : public ::testing::Test {
 protected:
  std::unique_ptr<NodeDriver> start(DriverOptions driver_options) {
    auto driver = std::make_unique<NodeDriver>(one_node(), ring_, storage_, 7, driver_options);
    driver->start();
    settle(*driver);
    return driver;
  }
  // Flushes (and, pipelined, finishes every commit) until nothing is staged or in flight.
  void settle(NodeDriver& driver) {
    for (int i = 0; i < 10; ++i) {
      now_us_ += 1;
      const DriverEffects effects = driver.flush(at(now_us_));
      if (effects.commit == CommitOutcome::started) {
        ASSERT_TRUE(storage_.finish_commit().ok());
        (void)driver.commit_done(at(now_us_), Status::ok_status());
      }
      if (driver.commits_in_flight() == 0 && !storage_.has_uncommitted()) return;
    }
    FAIL() << "the driver did not settle";
  }
  void put_batch(NodeDriver& driver, int first, int count) {
    for (int i = first; i < first + count; ++i) {
      ClientRequest request;
      request.id = static_cast<std::uint64_t>(i) + 1;
      request.op = ClientOp::put;
      request.consistency = Consistency::one;
      request.key = "k-" + std::to_string(i);
      request.value = Value("v");
      driver.client_request(at(now_us_), std::move(request));
    }
    settle(driver);
  }
  bool journal_row(std::uint64_t seq) {
    auto row = storage_.read_meta("ae.journal." + std::to_string(seq));
    EXPECT_TRUE(row.ok());
    return row.ok() && row->has_value();
  }

  Ring ring_ = Ring::build({"n1"}, RingOptions{});
  store::MemoryStore store_;
  store::TypedStorage storage_{store_};
  std::int64_t now_us_ = 0;
};

TEST_F(TreeJournal, ABatchUnderOneFlushAddsOneRow) {
  auto driver = start(DriverOptions{1, false, 1});
  put_batch(*driver, 0, 50);
  EXPECT_TRUE(journal_row(1));
  EXPECT_FALSE(journal_row(2));  // per input, there would be 50
  put_batch(*driver, 50, 50);
  EXPECT_TRUE(journal_row(2));
  EXPECT_FALSE(journal_row(3));
}

TEST_F(TreeJournal, PipelinedCommitsEachCarryTheirRowAndARestartLoadsTheSameTrees) {
  std::uint64_t root = 0;
  {
    auto driver = start(DriverOptions{1, true, pipelined_commits_max});
    put_batch(*driver, 0, 30);
    put_batch(*driver, 30, 30);
    EXPECT_TRUE(journal_row(2));
    EXPECT_FALSE(journal_row(3));
    root = driver->node().anti_entropy_status().at(0).root_hash;
    ASSERT_NE(root, 0u);
  }
  auto restarted = start(DriverOptions{1, true, pipelined_commits_max});
  EXPECT_EQ(restarted->node().anti_entropy_status().at(0).root_hash, root);
  EXPECT_EQ(restarted->node().counters().get("ae_tree_rebuilds"), 0u);
}

}  // namespace
}  // namespace vigil::core::testing
