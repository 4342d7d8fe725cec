// core::NodeDriver: the driving protocol written once. One driver for node n1 of a
// three-node ring over a MemoryStore; the other nodes are played by the test.

#include "core/node/node_driver.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/ring/ring.h"
#include "store/memory_store.h"
#include "store/typed_storage.h"

namespace vigil::core {
namespace {

constexpr std::int64_t start_us = 1'000'000;

class DriverTest : public ::testing::Test {
 protected:
  DriverTest() : storage_(store_) {
    RingOptions ring_options;
    ring_options.vnodes = 16;
    ring_ = Ring::build({"n1", "n2", "n3"}, ring_options);
  }

  // A driver for `id` over `storage`, started and flushed once.
  std::unique_ptr<NodeDriver> started(DriverOptions driver_options = {}, NodeId id = "n1",
                                      CommittableStorage* storage = nullptr) {
    NodeOptions options;
    options.id = std::move(id);
    auto driver = std::make_unique<NodeDriver>(options, ring_, storage ? *storage : storage_, 7,
                                               driver_options);
    driver->start();
    const DriverEffects first = driver->flush(now());
    EXPECT_EQ(first.commit, CommitOutcome::committed) << "the incarnation is made durable";
    EXPECT_EQ(first.inputs, 1u);
    return driver;
  }
  Now now() const { return Now{instant_from_micros(now_us_), 1'700'000'000'000'000 + now_us_}; }
  // A key whose preference list starts at n1 (n1 coordinates it).
  Key key_led_by_n1() const {
    for (int i = 0;; ++i) {
      const Key key = "k" + std::to_string(i);
      if (ring_.preference_list(token_of_key(key), 3).front() == "n1") return key;
    }
  }
  static ClientRequest put(RequestId id, const Key& key) {
    ClientRequest request;
    request.id = id;
    request.op = ClientOp::put;
    request.key = key;
    request.value = "v";
    request.consistency = Consistency::one;
    return request;
  }

  store::MemoryStore store_;
  store::TypedStorage storage_;
  Ring ring_;
  std::int64_t now_us_ = start_us;
};

TEST_F(DriverTest, AFlushWithNothingStagedDoesNotCommit) {
  auto driver = started();
  store_.fail_next_commit();  // would fire on the next commit that has something staged
  DriverEffects idle = driver->flush(now());
  EXPECT_EQ(idle.commit, CommitOutcome::none);
  EXPECT_EQ(idle.inputs, 0u);
  EXPECT_TRUE(idle.messages.empty());
  EXPECT_TRUE(idle.replies.empty());

  ClientRequest get;
  get.id = 1;
  get.op = ClientOp::get;
  get.key = key_led_by_n1();
  get.consistency = Consistency::quorum;
  driver->client_request(now(), get);  // a read stages nothing
  EXPECT_FALSE(storage_.has_uncommitted());
  DriverEffects read = driver->flush(now());
  EXPECT_EQ(read.commit, CommitOutcome::none);
  EXPECT_EQ(read.inputs, 1u);
  // R = 2: the local answer and one replica read (read_repair.probability 0.1 did not
  // pick this read for all N with this seed).
  EXPECT_EQ(read.messages.size(), 1u) << "a replica read to n2 or n3";
  EXPECT_TRUE(read.next_timeout.has_value()) << "the read's deadline";
}

TEST_F(DriverTest, ACommittedBatchReleasesEverythingInOneFlush) {
  auto driver = started();
  const Key key = key_led_by_n1();
  driver->client_request(now(), put(1, key));
  driver->client_request(now(), put(2, key + "x"));
  EXPECT_TRUE(storage_.has_uncommitted());
  const DriverEffects effects = driver->flush(now());
  EXPECT_EQ(effects.commit, CommitOutcome::committed);
  EXPECT_TRUE(effects.commit_status.ok());
  EXPECT_EQ(effects.inputs, 2u);
  EXPECT_FALSE(storage_.has_uncommitted());
  ASSERT_GE(effects.replies.size(), 1u);
  EXPECT_TRUE(effects.replies.front().status.ok()) << effects.replies.front().status.to_string();
  EXPECT_FALSE(effects.messages.empty());
}

TEST_F(DriverTest, AFailedCommitReleasesOnlyFailureAnswers) {
  auto driver = started();
  store_.fail_next_commit();
  driver->client_request(now(), put(1, key_led_by_n1()));
  DriverEffects effects = driver->flush(now());
  EXPECT_EQ(effects.commit, CommitOutcome::failed);
  EXPECT_EQ(effects.commit_status.code(), Code::io_error);
  ASSERT_EQ(effects.replies.size(), 1u);
  EXPECT_EQ(effects.replies[0].id, 1u);
  EXPECT_EQ(effects.replies[0].status.code(), Code::io_error);
  for (const Envelope& envelope : effects.messages) {
    EXPECT_FALSE(std::holds_alternative<ReplicaWrite>(envelope.message))
        << "a replica write of the failed batch left";
    if (const auto* reply = std::get_if<ReplicaWriteReply>(&envelope.message)) {
      EXPECT_NE(reply->status.code, Code::ok) << "an acknowledgement of the failed batch left";
    }
  }
  EXPECT_EQ(driver->node().counters().get("storage_failures"), 1u);

  // From now on writes are refused (nothing staged: no commit, so no second failure).
  driver->client_request(now(), put(3, key_led_by_n1()));
  const DriverEffects later = driver->flush(now());
  EXPECT_EQ(later.commit, CommitOutcome::none);
  ASSERT_EQ(later.replies.size(), 1u);
  EXPECT_EQ(later.replies[0].status.code(), Code::failed_precondition);
}

TEST_F(DriverTest, AFailedCommitTurnsAReplicaAcknowledgementIntoAnError) {
  auto coordinator = started();
  coordinator->client_request(now(), put(1, key_led_by_n1()));
  const DriverEffects sent = coordinator->flush(now());
  const Envelope* to_n2 = nullptr;
  for (const Envelope& envelope : sent.messages) {
    if (envelope.to == "n2" && std::holds_alternative<ReplicaWrite>(envelope.message)) {
      to_n2 = &envelope;
    }
  }
  ASSERT_NE(to_n2, nullptr);

  store::MemoryStore disk;
  store::TypedStorage storage(disk);
  auto replica = started({}, "n2", &storage);
  disk.fail_next_commit();
  replica->message(now(), *to_n2);
  const DriverEffects answered = replica->flush(now());
  EXPECT_EQ(answered.commit, CommitOutcome::failed);
  ASSERT_EQ(answered.messages.size(), 1u);
  const auto* reply = std::get_if<ReplicaWriteReply>(&answered.messages[0].message);
  ASSERT_NE(reply, nullptr);
  EXPECT_NE(reply->status.code, Code::ok) << "the acknowledgement of a lost write left";

  // The same write to a healthy n3 is acknowledged ok, after its commit.
  store::MemoryStore healthy_disk;
  store::TypedStorage healthy(healthy_disk);
  auto other = started({}, "n3", &healthy);
  Envelope to_n3 = *to_n2;
  to_n3.to = "n3";
  other->message(now(), to_n3);
  const DriverEffects acknowledged = other->flush(now());
  EXPECT_EQ(acknowledged.commit, CommitOutcome::committed);
  ASSERT_EQ(acknowledged.messages.size(), 1u);
  const auto* ok = std::get_if<ReplicaWriteReply>(&acknowledged.messages[0].message);
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->status.code, Code::ok);
}

TEST_F(DriverTest, InvariantChecksRunAfterEveryInputByDefault) {
  auto driver = started();
  EXPECT_EQ(driver->invariant_checks(), 1u) << "start is an input";
  driver->client_request(now(), put(1, key_led_by_n1()));
  driver->timeout(now());
  EXPECT_EQ(driver->invariant_checks(), 3u) << "checked at each input, before the flush";
  driver->flush(now());
  EXPECT_EQ(driver->invariant_checks(), 3u) << "a good commit is not an input";
}

TEST_F(DriverTest, InvariantChecksFollowTheSampledPolicy) {
  auto driver = started(DriverOptions{4});
  for (RequestId id = 1; id <= 10; ++id) {
    driver->client_request(now(), put(id, key_led_by_n1() + std::to_string(id)));
    driver->flush(now());
  }
  // 11 inputs (start and 10 requests): checked after the 4th and the 8th.
  EXPECT_EQ(driver->invariant_checks(), 2u);

  store::MemoryStore disk;
  store::TypedStorage storage(disk);
  auto never = started(DriverOptions{0}, "n2", &storage);
  never->client_request(now(), put(1, key_led_by_n1()));
  never->timeout(now());
  never->flush(now());
  EXPECT_EQ(never->invariant_checks(), 0u);
}

TEST_F(DriverTest, TheStorageFailureHandlingIsCheckedLikeAnInput) {
  auto driver = started();
  store_.fail_next_commit();
  driver->client_request(now(), put(1, key_led_by_n1()));
  EXPECT_EQ(driver->invariant_checks(), 2u);
  const DriverEffects effects = driver->flush(now());
  EXPECT_EQ(effects.commit, CommitOutcome::failed);
  EXPECT_EQ(effects.inputs, 1u) << "the failure handling is not one of the batch's inputs";
  EXPECT_EQ(driver->invariant_checks(), 3u);
}

TEST_F(DriverTest, TimeoutsFireDueTimersAndReportTheNextDeadline) {
  auto driver = started();
  driver->client_request(now(), put(1, key_led_by_n1()));
  const DriverEffects effects = driver->flush(now());
  ASSERT_TRUE(effects.next_timeout.has_value());
  now_us_ = to_micros(*effects.next_timeout);
  driver->timeout(now());
  const DriverEffects fired = driver->flush(now());
  EXPECT_EQ(fired.inputs, 1u);
  EXPECT_TRUE(!fired.next_timeout || *fired.next_timeout > instant_from_micros(now_us_));
}

}  // namespace
}  // namespace vigil::core
