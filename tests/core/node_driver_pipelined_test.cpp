// core::NodeDriver in pipelined mode (DriverOptions::pipelined): flush() begins a commit and
// releases only what may precede it; commit_done() releases what the commit covered. One
// driver for n1 of a three-node ring over a MemoryStore, whose begin/finish halves the
// test calls as the environment would.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/node/node_driver.h"
#include "core/ring/ring.h"
#include "store/memory_store.h"
#include "store/typed_storage.h"

namespace vigil::core {
namespace {

class PipelinedDriverTest : public ::testing::Test {
 protected:
  explicit PipelinedDriverTest(std::size_t depth = 1) : storage_(store_) {
    RingOptions ring_options;
    ring_options.vnodes = 16;
    ring_ = Ring::build({"n1", "n2", "n3"}, ring_options);
    NodeOptions options;
    options.id = "n1";
    DriverOptions driver_options;
    driver_options.pipelined = true;
    driver_options.commits_in_flight_max = depth;
    driver_ = std::make_unique<NodeDriver>(options, ring_, storage_, 7, driver_options);
    driver_->start();
    const DriverEffects first = driver_->flush(now());
    EXPECT_EQ(first.commit, CommitOutcome::started) << "the incarnation's commit";
    EXPECT_TRUE(first.messages.empty()) << "nothing leaves before the new identity is durable";
    const DriverEffects done = driver_->commit_done(now(), store_.finish_commit());
    EXPECT_EQ(done.commit, CommitOutcome::committed);
  }
  Now now() const { return Now{instant_from_micros(1'000'000), 1'700'000'000'000'000}; }
  // The `skip`th key whose preference list starts at n1 (n1 coordinates it).
  Key key_led_by_n1(int skip = 0) const {
    for (int i = 0;; ++i) {
      const Key key = "k" + std::to_string(i);
      if (ring_.preference_list(token_of_key(key), 3).front() != "n1") continue;
      if (skip-- == 0) return key;
    }
  }
  static ClientRequest put(RequestId id, const Key& key, Consistency consistency) {
    ClientRequest request;
    request.id = id;
    request.op = ClientOp::put;
    request.key = key;
    request.value = "v";
    request.consistency = consistency;
    return request;
  }
  static std::size_t count_replica_writes(const DriverEffects& effects) {
    std::size_t n = 0;
    for (const Envelope& envelope : effects.messages) {
      n += std::holds_alternative<ReplicaWrite>(envelope.message) ? 1 : 0;
    }
    return n;
  }

  store::MemoryStore store_;
  store::TypedStorage storage_;
  Ring ring_;
  std::unique_ptr<NodeDriver> driver_;
};

TEST_F(PipelinedDriverTest, ReplicaWritesLeaveBeforeTheCommitAndTheReplyAfterIt) {
  driver_->client_request(now(), put(1, key_led_by_n1(), Consistency::one));
  const DriverEffects begun = driver_->flush(now());
  EXPECT_EQ(begun.commit, CommitOutcome::started);
  EXPECT_EQ(count_replica_writes(begun), 2u) << "the fsyncs overlap: replicas get it now";
  EXPECT_TRUE(begun.replies.empty()) << "W=1 is met locally, but not before the commit";
  EXPECT_EQ(store_.commits_in_flight(), 1u);

  const DriverEffects done = driver_->commit_done(now(), store_.finish_commit());
  EXPECT_EQ(done.commit, CommitOutcome::committed);
  ASSERT_EQ(done.replies.size(), 1u);
  EXPECT_TRUE(done.replies[0].status.ok()) << done.replies[0].status.to_string();
}

TEST_F(PipelinedDriverTest, WhatArrivesDuringACommitWaitsForTheNextOne) {
  const Key key = key_led_by_n1();
  driver_->client_request(now(), put(1, key, Consistency::one));
  ASSERT_EQ(driver_->flush(now()).commit, CommitOutcome::started);
  // Batch k+1 stages while batch k is being made durable.
  driver_->client_request(now(), put(2, key_led_by_n1(1), Consistency::one));
  const DriverEffects during = driver_->flush(now());
  EXPECT_EQ(during.commit, CommitOutcome::none) << "one commit in flight at a time";
  EXPECT_TRUE(during.replies.empty());
  EXPECT_TRUE(storage_.has_uncommitted());

  const DriverEffects first = driver_->commit_done(now(), store_.finish_commit());
  EXPECT_EQ(first.commit, CommitOutcome::started) << "the next batch's commit begins at once";
  ASSERT_EQ(first.replies.size(), 1u);
  EXPECT_EQ(first.replies[0].id, 1u);
  const DriverEffects second = driver_->commit_done(now(), store_.finish_commit());
  ASSERT_EQ(second.replies.size(), 1u);
  EXPECT_EQ(second.replies[0].id, 2u);
  EXPECT_EQ(driver_->commits_in_flight(), 0u);
}

TEST_F(PipelinedDriverTest, AFailedCommitWithdrawsEverythingHeld) {
  const Key key = key_led_by_n1();
  driver_->client_request(now(), put(1, key, Consistency::one));
  ASSERT_EQ(driver_->flush(now()).commit, CommitOutcome::started);
  driver_->client_request(now(), put(2, key_led_by_n1(1), Consistency::one));
  (void)driver_->flush(now());
  store_.fail_next_commit();
  const DriverEffects failed = driver_->commit_done(now(), store_.finish_commit());
  EXPECT_EQ(failed.commit, CommitOutcome::failed);
  ASSERT_EQ(failed.replies.size(), 2u) << "both clients answered once, with the failure";
  for (const ClientReply& reply : failed.replies) {
    EXPECT_EQ(reply.status.code(), Code::io_error) << reply.status.to_string();
  }
  EXPECT_EQ(driver_->commits_in_flight(), 0u);
}

TEST_F(PipelinedDriverTest, ACrashDuringTheCommitLosesTheBatchOrKeepsIt) {
  const Key key = key_led_by_n1();
  driver_->client_request(now(), put(1, key, Consistency::one));
  ASSERT_EQ(driver_->flush(now()).commit, CommitOutcome::started);
  driver_.reset();
  store_.crash(/*in_flight_kept=*/0);
  EXPECT_FALSE(store_.get(key).value().has_value()) << "the commit in flight was lost";
}

class DeepPipelineTest : public PipelinedDriverTest {
 protected:
  DeepPipelineTest() : PipelinedDriverTest(2) {}
};

TEST_F(DeepPipelineTest, TwoCommitsInFlightReturnInOrder) {
  const Key key = key_led_by_n1();
  driver_->client_request(now(), put(1, key, Consistency::one));
  ASSERT_EQ(driver_->flush(now()).commit, CommitOutcome::started);
  driver_->client_request(now(), put(2, key_led_by_n1(1), Consistency::one));
  ASSERT_EQ(driver_->flush(now()).commit, CommitOutcome::started) << "room for a second";
  driver_->client_request(now(), put(3, key_led_by_n1(2), Consistency::one));
  EXPECT_EQ(driver_->flush(now()).commit, CommitOutcome::none) << "but not a third";
  EXPECT_EQ(driver_->commits_in_flight(), 2u);

  const DriverEffects first = driver_->commit_done(now(), store_.finish_commit());
  ASSERT_EQ(first.replies.size(), 1u);
  EXPECT_EQ(first.replies[0].id, 1u);
  EXPECT_EQ(first.commit, CommitOutcome::started) << "the third batch takes the free slot";
  const DriverEffects second = driver_->commit_done(now(), store_.finish_commit());
  ASSERT_EQ(second.replies.size(), 1u);
  EXPECT_EQ(second.replies[0].id, 2u);
  const DriverEffects third = driver_->commit_done(now(), store_.finish_commit());
  ASSERT_EQ(third.replies.size(), 1u);
  EXPECT_EQ(third.replies[0].id, 3u);
}

TEST_F(DeepPipelineTest, ACrashKeepsAPrefixOfTheCommitsInFlight) {
  const Key key = key_led_by_n1();
  driver_->client_request(now(), put(1, key, Consistency::one));
  ASSERT_EQ(driver_->flush(now()).commit, CommitOutcome::started);
  driver_->client_request(now(), put(2, key_led_by_n1(1), Consistency::one));
  ASSERT_EQ(driver_->flush(now()).commit, CommitOutcome::started);
  driver_.reset();
  store_.crash(/*in_flight_kept=*/1);
  EXPECT_TRUE(store_.get(key).value().has_value()) << "the older commit reached the disk";
  EXPECT_FALSE(store_.get(key_led_by_n1(1)).value().has_value()) << "the newer did not";
}

TEST_F(DeepPipelineTest, AFailureWithdrawsEveryCommitInFlight) {
  const Key key = key_led_by_n1();
  driver_->client_request(now(), put(1, key, Consistency::one));
  ASSERT_EQ(driver_->flush(now()).commit, CommitOutcome::started);
  driver_->client_request(now(), put(2, key_led_by_n1(1), Consistency::one));
  ASSERT_EQ(driver_->flush(now()).commit, CommitOutcome::started);
  store_.fail_next_commit();
  const DriverEffects failed = driver_->commit_done(now(), store_.finish_commit());
  EXPECT_EQ(failed.commit, CommitOutcome::failed);
  ASSERT_EQ(failed.replies.size(), 2u);
  for (const ClientReply& reply : failed.replies) {
    EXPECT_EQ(reply.status.code(), Code::io_error) << reply.status.to_string();
  }
  EXPECT_EQ(driver_->commits_in_flight(), 1u) << "the second still returns, and is ignored";
  const DriverEffects late = driver_->commit_done(now(), store_.finish_commit());
  EXPECT_TRUE(late.replies.empty());
  EXPECT_EQ(driver_->commits_in_flight(), 0u);
}

}  // namespace
}  // namespace vigil::core
