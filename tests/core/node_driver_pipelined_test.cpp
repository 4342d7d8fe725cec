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
  PipelinedDriverTest() : storage_(store_) {
    RingOptions ring_options;
    ring_options.vnodes = 16;
    ring_ = Ring::build({"n1", "n2", "n3"}, ring_options);
    NodeOptions options;
    options.id = "n1";
    DriverOptions driver_options;
    driver_options.pipelined = true;
    driver_ = std::make_unique<NodeDriver>(options, ring_, storage_, 7, driver_options);
    driver_->start();
    const DriverEffects first = driver_->flush(now());
    EXPECT_EQ(first.commit, CommitOutcome::started) << "the incarnation's commit";
    EXPECT_TRUE(first.messages.empty()) << "nothing leaves before the new identity is durable";
    const DriverEffects done = driver_->commit_done(now(), store_.finish_commit());
    EXPECT_EQ(done.commit, CommitOutcome::committed);
  }
  Now now() const { return Now{instant_from_micros(1'000'000), 1'700'000'000'000'000}; }
  Key key_led_by_n1() const {
    for (int i = 0;; ++i) {
      const Key key = "k" + std::to_string(i);
      if (ring_.preference_list(token_of_key(key), 3).front() == "n1") return key;
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
  EXPECT_TRUE(store_.commit_in_flight());

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
  driver_->client_request(now(), put(2, key + "x", Consistency::one));
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
  EXPECT_FALSE(driver_->commit_in_flight());
}

TEST_F(PipelinedDriverTest, AFailedCommitWithdrawsEverythingHeld) {
  const Key key = key_led_by_n1();
  driver_->client_request(now(), put(1, key, Consistency::one));
  ASSERT_EQ(driver_->flush(now()).commit, CommitOutcome::started);
  driver_->client_request(now(), put(2, key + "x", Consistency::one));
  (void)driver_->flush(now());
  store_.fail_next_commit();
  const DriverEffects failed = driver_->commit_done(now(), store_.finish_commit());
  EXPECT_EQ(failed.commit, CommitOutcome::failed);
  ASSERT_EQ(failed.replies.size(), 2u) << "both clients answered once, with the failure";
  for (const ClientReply& reply : failed.replies) {
    EXPECT_EQ(reply.status.code(), Code::io_error) << reply.status.to_string();
  }
  EXPECT_FALSE(driver_->commit_in_flight());
}

TEST_F(PipelinedDriverTest, ACrashDuringTheCommitLosesTheBatchOrKeepsIt) {
  const Key key = key_led_by_n1();
  driver_->client_request(now(), put(1, key, Consistency::one));
  ASSERT_EQ(driver_->flush(now()).commit, CommitOutcome::started);
  driver_.reset();
  store_.crash(/*in_flight_survives=*/false);
  EXPECT_FALSE(store_.get(key).value().has_value()) << "the commit in flight was lost";
}

}  // namespace
}  // namespace vigil::core
