// store::TypedStorage, the NodeStorage the node runs on: encoding, staging, and how damage
// is reported.

#include <gtest/gtest.h>

#include "core/wire/codec.h"
#include "store/memory_store.h"
#include "store/typed_storage.h"

namespace vigil::store {
namespace {

core::SiblingSet state_with(const core::Value& value) {
  core::SiblingSet state;
  core::VersionCounters counters;
  auto dot = state.write("n1", {}, value, 1000, core::ConflictMode::siblings, {}, counters);
  EXPECT_TRUE(dot.ok());
  return state;
}

TEST(TypedStorage, RoundTripsAStateAndStagesItUntilCommit) {
  MemoryStore store;
  TypedStorage storage(store);
  auto absent = storage.read_key("k");
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->has_value());

  const core::SiblingSet state = state_with("v");
  ASSERT_TRUE(storage.write_key("k", state).ok());
  EXPECT_TRUE(store.has_uncommitted()) << "staged, not committed";
  auto read = storage.read_key("k");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(**read, state);

  store.crash();  // never committed: gone
  EXPECT_FALSE(storage.read_key("k")->has_value());
  ASSERT_TRUE(storage.write_key("k", state).ok());
  ASSERT_TRUE(store.commit().ok());
  store.crash();
  EXPECT_EQ(**storage.read_key("k"), state);
}

TEST(TypedStorage, AnEmptyStateErasesTheKey) {
  MemoryStore store;
  TypedStorage storage(store);
  ASSERT_TRUE(storage.write_key("k", state_with("v")).ok());
  ASSERT_TRUE(storage.write_key("k", core::SiblingSet{}).ok());
  EXPECT_FALSE(storage.read_key("k")->has_value());
}

TEST(TypedStorage, ADamagedRecordIsCorruptionNeverData) {
  MemoryStore store;
  TypedStorage storage(store);
  ASSERT_TRUE(storage.write_key("k", state_with("v")).ok());
  ASSERT_TRUE(store.commit().ok());
  ASSERT_TRUE(store.corrupt_key("k").ok());
  auto read = storage.read_key("k");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), core::Code::corruption);
}

TEST(TypedStorage, BytesThatAreNotAStateAreCorruption) {
  MemoryStore store;
  TypedStorage storage(store);
  WriteBatch batch;
  batch.key_puts.push_back(KeyRecord{"k", core::token_of_key("k"), "not a sibling set"});
  ASSERT_TRUE(store.apply(batch).ok());
  auto read = storage.read_key("k");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), core::Code::corruption);
  EXPECT_NE(read.status().message().find("does not decode"), std::string::npos);
}

TEST(TypedStorage, MetaRoundTripsAndWritesFailAfterAFailedCommit) {
  MemoryStore store;
  TypedStorage storage(store);
  ASSERT_TRUE(storage.write_meta("node.incarnation", "7").ok());
  EXPECT_EQ(storage.read_meta("node.incarnation")->value_or(""), "7");
  EXPECT_FALSE(storage.read_meta("other")->has_value());

  store.fail_next_commit();
  EXPECT_EQ(store.commit().code(), core::Code::io_error);
  EXPECT_FALSE(storage.write_key("k", state_with("v")).ok());
  EXPECT_FALSE(storage.write_meta("node.incarnation", "8").ok());
}

}  // namespace
}  // namespace vigil::store
