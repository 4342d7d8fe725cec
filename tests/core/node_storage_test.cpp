// store::TypedStorage, the NodeStorage the node runs on: encoding, staging, and how damage
// is reported.

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

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

// scan_keys pages through a range, wrapping past 2^64-1, with the stored bytes as they are
// and damaged records reported in place.
TEST(TypedStorage, ScanKeysPagesAWrappingRangeAndReportsCorruptRecordsInPlace) {
  MemoryStore store;
  TypedStorage storage(store);
  std::vector<core::ScannedKey> all;  // in ring order
  for (int i = 0; i < 60; ++i) {
    const core::Key key = "key" + std::to_string(i);
    const core::SiblingSet state = state_with("v" + std::to_string(i));
    ASSERT_TRUE(storage.write_key(key, state).ok());
    all.push_back({key, core::token_of_key(key), core::encode_sibling_set(state), false});
  }
  std::sort(all.begin(), all.end(), [](const core::ScannedKey& a, const core::ScannedKey& b) {
    return std::tie(a.token, a.key) < std::tie(b.token, b.key);
  });
  ASSERT_TRUE(store.commit().ok());
  ASSERT_TRUE(store.corrupt_key(all[55].key).ok());
  all[55].encoded.clear();
  all[55].corrupt = true;

  // (all[40], all[10]]: wraps, so it holds all[41..59] then all[0..10].
  const core::KeyRange range{all[40].token, all[10].token};
  std::vector<core::ScannedKey> expected(all.begin() + 41, all.end());
  expected.insert(expected.end(), all.begin(), all.begin() + 11);
  for (const std::size_t page_size : {std::size_t{1}, std::size_t{4}, std::size_t{100}}) {
    std::vector<core::ScannedKey> paged;
    std::optional<std::pair<core::Token, core::Key>> after;
    for (int pages = 0; pages < 100; ++pages) {
      auto page = storage.scan_keys(range, page_size, after);
      ASSERT_TRUE(page.ok()) << page.status().to_string();
      ASSERT_LE(page->size(), page_size);
      if (page->empty()) break;
      paged.insert(paged.end(), page->begin(), page->end());
      after = std::make_pair(page->back().token, page->back().key);
    }
    EXPECT_EQ(paged, expected) << "page size " << page_size;
  }
  // Staged writes are seen; resuming outside the range is refused.
  ASSERT_TRUE(storage.write_key(all[0].key, state_with("changed")).ok());
  auto first = storage.scan_keys({all[59].token, all[0].token}, 10, std::nullopt);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].encoded, core::encode_sibling_set(state_with("changed")));
  const auto refused = storage.scan_keys(range, 10, std::make_pair(all[20].token, all[20].key));
  EXPECT_EQ(refused.status().code(), core::Code::invalid_argument);
}

}  // namespace
}  // namespace vigil::store
