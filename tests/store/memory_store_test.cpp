// MemoryStore's own promises beyond the shared contract: the disk faults the simulator
// injects (lost commit, failed commit, corrupted record), and what crash() does with them.

#include "store/memory_store.h"

#include <gtest/gtest.h>

#include <string>

#include "core/types.h"

namespace vigil::store {
namespace {

WriteBatch put(std::string key, std::string state) {
  WriteBatch batch;
  batch.key_puts.push_back({std::move(key), 0, std::move(state)});
  return batch;
}

HintRecord hint(std::uint64_t id, std::string target, std::string state) {
  HintRecord h;
  h.id = id;
  h.target = std::move(target);
  h.key = "k" + std::to_string(id);
  h.state = std::move(state);
  return h;
}

std::string state_of(MemoryStore& store, std::string_view key) {
  auto got = store.get(key);
  EXPECT_TRUE(got.ok()) << got.status().to_string();
  if (!got.ok() || !got->has_value()) return "<absent>";
  return (*got)->state;
}

TEST(MemoryStoreFaults, LostCommitReportsOkStaysVisibleAndVanishesAtCrash) {
  MemoryStore store;
  ASSERT_TRUE(store.apply(put("kept", "v1")).ok());
  ASSERT_TRUE(store.commit().ok());

  store.lose_next_commit();
  WriteBatch lost = put("kept", "v2");
  lost.key_puts.push_back({"lost", 0, "x"});
  lost.hint_puts = {hint(1, "n1", "h")};
  lost.meta_puts = {{"epoch", "2"}};
  ASSERT_TRUE(store.apply(lost).ok());
  EXPECT_TRUE(store.commit().ok());  // the disk lies
  EXPECT_FALSE(store.has_uncommitted());
  EXPECT_EQ(state_of(store, "kept"), "v2");  // the process still believes it
  EXPECT_EQ(state_of(store, "lost"), "x");
  EXPECT_EQ(store.hint_count().value(), 1u);

  store.crash();
  EXPECT_EQ(state_of(store, "kept"), "v1");
  EXPECT_EQ(state_of(store, "lost"), "<absent>");
  EXPECT_EQ(store.hint_count().value(), 0u);
  EXPECT_EQ(store.get_meta("epoch").value(), std::nullopt);
  EXPECT_EQ(store.key_count().value(), 1u);
}

TEST(MemoryStoreFaults, ALaterDurableCommitKeepsOnlyWhatItRewrote) {
  MemoryStore store;
  ASSERT_TRUE(store.apply(put("a", "a0")).ok());
  ASSERT_TRUE(store.apply(put("b", "b0")).ok());
  ASSERT_TRUE(store.commit().ok());

  store.lose_next_commit();
  ASSERT_TRUE(store.apply(put("a", "a1")).ok());
  ASSERT_TRUE(store.apply(put("b", "b1")).ok());
  ASSERT_TRUE(store.commit().ok());  // lost

  ASSERT_TRUE(store.apply(put("a", "a2")).ok());
  ASSERT_TRUE(store.commit().ok());  // durable

  store.crash();
  EXPECT_EQ(state_of(store, "a"), "a2");
  EXPECT_EQ(state_of(store, "b"), "b0");
}

TEST(MemoryStoreFaults, TwoLostCommitsRestoreTheOldestValue) {
  MemoryStore store;
  ASSERT_TRUE(store.apply(put("a", "durable")).ok());
  ASSERT_TRUE(store.commit().ok());
  for (const char* state : {"lost-1", "lost-2"}) {
    store.lose_next_commit();
    ASSERT_TRUE(store.apply(put("a", state)).ok());
    ASSERT_TRUE(store.commit().ok());
  }
  ASSERT_TRUE(store.apply(put("a", "staged")).ok());
  store.crash();
  EXPECT_EQ(state_of(store, "a"), "durable");
}

TEST(MemoryStoreFaults, CommitFaultsWaitForACommitWithSomethingStaged) {
  MemoryStore store;
  store.lose_next_commit();
  EXPECT_TRUE(store.commit().ok());  // nothing staged: the fault stays armed
  ASSERT_TRUE(store.apply(put("k", "v")).ok());
  EXPECT_TRUE(store.commit().ok());  // this one is lost
  ASSERT_TRUE(store.apply(put("j", "w")).ok());
  EXPECT_TRUE(store.commit().ok());  // durable again: the fault fired once
  store.crash();
  EXPECT_EQ(state_of(store, "k"), "<absent>");
  EXPECT_EQ(state_of(store, "j"), "w");
}

TEST(MemoryStoreFaults, ArmedFaultsOutliveACrash) {
  MemoryStore store;
  store.fail_next_commit();
  store.crash();
  ASSERT_TRUE(store.apply(put("k", "v")).ok());
  EXPECT_EQ(store.commit().code(), core::Code::io_error);
}

TEST(MemoryStoreFaults, FailedCommitIsStickyUntilCrash) {
  MemoryStore store;
  ASSERT_TRUE(store.apply(put("before", "b")).ok());
  ASSERT_TRUE(store.commit().ok());

  store.fail_next_commit();
  ASSERT_TRUE(store.apply(put("doomed", "d")).ok());
  const Status failed = store.commit();
  EXPECT_EQ(failed.code(), core::Code::io_error);
  EXPECT_EQ(store.apply(put("later", "l")), failed);  // sticky
  EXPECT_EQ(store.commit(), failed);
  EXPECT_EQ(state_of(store, "later"), "<absent>");  // refused, not staged
  EXPECT_EQ(state_of(store, "before"), "b");        // reads still work

  store.crash();  // a restarted process starts without the error
  EXPECT_EQ(state_of(store, "doomed"), "<absent>");
  ASSERT_TRUE(store.apply(put("after", "a")).ok());
  ASSERT_TRUE(store.commit().ok());
  store.crash();
  EXPECT_EQ(state_of(store, "after"), "a");
}

TEST(MemoryStoreFaults, CorruptedKeyIsReportedByNameNeverReturned) {
  MemoryStore store;
  const std::string secret = "secret-value-bytes";
  ASSERT_TRUE(store.apply(put("victim", secret)).ok());
  ASSERT_TRUE(store.apply(put("bystander", "fine")).ok());
  ASSERT_TRUE(store.commit().ok());
  ASSERT_TRUE(store.corrupt_key("victim").ok());

  const auto got = store.get("victim");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), core::Code::corruption);
  EXPECT_NE(got.status().message().find("victim"), std::string::npos);
  EXPECT_EQ(got.status().message().find("secret"), std::string::npos);
  EXPECT_EQ(state_of(store, "bystander"), "fine");
  const auto scanned = store.scan({0, 0}, 100, std::nullopt);
  EXPECT_EQ(scanned.status().code(), core::Code::corruption);

  // Repair is a write: the new record carries a good checksum.
  ASSERT_TRUE(store.apply(put("victim", "repaired")).ok());
  ASSERT_TRUE(store.commit().ok());
  EXPECT_EQ(state_of(store, "victim"), "repaired");
}

TEST(MemoryStoreFaults, CorruptingAnEmptyStateDamagesItsChecksum) {
  MemoryStore store;
  ASSERT_TRUE(store.apply(put("empty", "")).ok());
  ASSERT_TRUE(store.commit().ok());
  ASSERT_TRUE(store.corrupt_key("empty").ok());
  EXPECT_EQ(store.get("empty").status().code(), core::Code::corruption);
}

TEST(MemoryStoreFaults, CorruptionHitsTheDurableCopyUnderAStagedChange) {
  MemoryStore store;
  ASSERT_TRUE(store.apply(put("k", "durable")).ok());
  ASSERT_TRUE(store.commit().ok());
  ASSERT_TRUE(store.apply(put("k", "staged")).ok());
  ASSERT_TRUE(store.corrupt_key("k").ok());
  EXPECT_EQ(state_of(store, "k"), "staged");  // the staged value hides the disk
  store.crash();
  EXPECT_EQ(store.get("k").status().code(), core::Code::corruption);
}

TEST(MemoryStoreFaults, CorruptingWhatTheDiskDoesNotHoldIsNotFound) {
  MemoryStore store;
  EXPECT_EQ(store.corrupt_key("nothing").code(), core::Code::not_found);
  ASSERT_TRUE(store.apply(put("staged-only", "s")).ok());
  EXPECT_EQ(store.corrupt_key("staged-only").code(), core::Code::not_found);
  EXPECT_EQ(store.corrupt_hint(1).code(), core::Code::not_found);
}

TEST(MemoryStoreFaults, CorruptedHintIsReportedById) {
  MemoryStore store;
  WriteBatch batch;
  batch.hint_puts = {hint(7, "n2", "hint-state"), hint(8, "n2", "other")};
  ASSERT_TRUE(store.apply(batch).ok());
  ASSERT_TRUE(store.commit().ok());
  ASSERT_TRUE(store.corrupt_hint(7).ok());
  const auto for_target = store.hints_for("n2", 10);
  EXPECT_EQ(for_target.status().code(), core::Code::corruption);
  EXPECT_NE(for_target.status().message().find("hint 7"), std::string::npos);
  EXPECT_EQ(store.hints_after(0, 10).status().code(), core::Code::corruption);
  EXPECT_EQ(store.hints_after(7, 10).value().size(), 1u);  // hint 8 is intact
}

TEST(MemoryStoreFaults, HintIndexFollowsCrashes) {
  MemoryStore store;
  WriteBatch batch;
  batch.hint_puts = {hint(1, "n1", "a")};
  ASSERT_TRUE(store.apply(batch).ok());
  ASSERT_TRUE(store.commit().ok());
  WriteBatch move;
  move.hint_puts = {hint(1, "n2", "a")};  // same id, new target, not committed
  ASSERT_TRUE(store.apply(move).ok());
  EXPECT_TRUE(store.hints_for("n1", 10).value().empty());
  EXPECT_EQ(store.hints_for("n2", 10).value().size(), 1u);
  store.crash();
  EXPECT_EQ(store.hints_for("n1", 10).value().size(), 1u);
  EXPECT_TRUE(store.hints_for("n2", 10).value().empty());
}

TEST(MemoryStore, TwoStoresFedTheSameOperationsAgree) {
  // Determinism: ordered containers only, so identical inputs give identical walks.
  MemoryStore a, b;
  for (MemoryStore* store : {&a, &b}) {
    for (int i = 0; i < 500; ++i) {
      ASSERT_TRUE(store->apply(put("key-" + std::to_string(i * 7919 % 1000), "v")).ok());
      if (i % 50 == 49) {
        ASSERT_TRUE(store->commit().ok());
      }
    }
    store->crash();
  }
  EXPECT_EQ(a.scan({0, 0}, 1000, std::nullopt).value(), b.scan({0, 0}, 1000, std::nullopt).value());
  EXPECT_EQ(a.key_count().value(), 500u);
}

}  // namespace
}  // namespace vigil::store
