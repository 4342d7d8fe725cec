// The Store contract (store/store.h), checked the same way on every implementation: each
// TYPED_TEST runs once over MemoryStore and once over SqliteStore. A harness gives each test
// a fresh store and a way to crash it and come back: MemoryStore::crash() for the
// simulator's store; for SqliteStore, destroying the store without commit and reopening the
// same file (in a temp directory unique to the test, removed afterwards).

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "core/random.h"
#include "core/types.h"
#include "store/memory_store.h"
#include "store/sqlite_store.h"

namespace vigil::store {
namespace {

constexpr Token token_max = std::numeric_limits<Token>::max();

class MemoryHarness {
 public:
  Store& store() { return store_; }
  void crash_and_reopen() { store_.crash(); }
  // Damages the durable copy of `key` (its checksum no longer matches).
  void corrupt_key(const std::string& key) { ASSERT_TRUE(store_.corrupt_key(key).ok()); }

 private:
  MemoryStore store_;
};

class SqliteHarness {
 public:
  SqliteHarness() {
    std::string pattern = "/tmp/vigil-store-conformance-XXXXXX";
    const char* made = mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    directory_ = pattern;
    reopen();
  }
  ~SqliteHarness() {
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }
  SqliteHarness(const SqliteHarness&) = delete;
  SqliteHarness& operator=(const SqliteHarness&) = delete;

  Store& store() { return *store_; }
  void crash_and_reopen() {
    store_.reset();  // closes without commit: uncommitted changes roll back
    reopen();
  }
  // Damages the stored checksum of `key` behind SQLite's back (bit rot the store must catch),
  // with the store closed, then reopens it. Uncommitted changes are lost, as in a crash.
  void corrupt_key(const std::string& key) {
    store_.reset();
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((directory_ / "data" / "vigil.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* statement = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "UPDATE keys SET checksum = ~checksum WHERE key = ?1", -1,
                                 &statement, nullptr),
              SQLITE_OK);
    sqlite3_bind_blob(statement, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(statement), SQLITE_DONE);
    sqlite3_finalize(statement);
    EXPECT_EQ(sqlite3_changes(db), 1) << "no stored record for " << key;
    sqlite3_close_v2(db);
    reopen();
  }

 private:
  void reopen() {
    auto opened = SqliteStore::open((directory_ / "data" / "vigil.db").string());
    if (!opened) {
      ADD_FAILURE() << opened.status().to_string();
      std::abort();  // every test needs the store
    }
    store_ = std::move(opened).value();
  }

  std::filesystem::path directory_;
  std::unique_ptr<SqliteStore> store_;
};

template <typename Harness>
class StoreConformance : public ::testing::Test {
 protected:
  Store& store() { return harness_.store(); }
  void crash_and_reopen() { harness_.crash_and_reopen(); }
  void corrupt_key(const std::string& key) { harness_.corrupt_key(key); }

  void put(const WriteBatch& batch) {
    ASSERT_TRUE(store().apply(batch).ok());
    ASSERT_TRUE(store().commit().ok());
  }
  std::optional<KeyRecord> get(std::string_view key) {
    auto result = store().get(key);
    EXPECT_TRUE(result.ok()) << result.status().to_string();
    return result.ok() ? *result : std::nullopt;
  }
  std::vector<KeyRecord> scan(TokenRange range, std::size_t limit = 1'000'000,
                              const std::optional<KeyRecord>& after = std::nullopt) {
    auto result = store().scan(range, limit, after);
    EXPECT_TRUE(result.ok()) << result.status().to_string();
    return result.ok() ? *result : std::vector<KeyRecord>{};
  }
  // The state of `key`, "<absent>" when there is none.
  std::string state_of(std::string_view key) {
    const auto got = get(key);
    return got ? got->state : "<absent>";
  }
  std::uint64_t key_count() { return store().key_count().value(); }
  std::uint64_t hint_count() { return store().hint_count().value(); }

 private:
  Harness harness_;
};

using Harnesses = ::testing::Types<MemoryHarness, SqliteHarness>;
class HarnessNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, MemoryHarness> ? "memory" : "sqlite";
  }
};
TYPED_TEST_SUITE(StoreConformance, Harnesses, HarnessNames);

KeyRecord record(std::string key, std::string state) {
  return KeyRecord{std::move(key), 0, std::move(state)};
}

WriteBatch puts(std::vector<std::pair<std::string, std::string>> entries) {
  WriteBatch batch;
  for (auto& [key, state] : entries) batch.key_puts.push_back(record(key, state));
  return batch;
}

HintRecord hint(std::uint64_t id, std::string target, std::string key) {
  HintRecord h;
  h.id = id;
  h.target = std::move(target);
  h.key = key;
  h.created_us = 1'635'789'600'000'000 + static_cast<std::int64_t>(id);
  h.expires_us = h.created_us + 86'400'000'000;
  h.attempts = static_cast<std::uint32_t>(id % 5);
  h.state = "state-of-" + key;
  return h;
}

// Records with keys "k0".."k{n-1}", sorted by (token, key): the order every scan must give.
std::vector<KeyRecord> numbered_records(int n) {
  std::vector<KeyRecord> records;
  for (int i = 0; i < n; ++i) {
    const std::string key = "k" + std::to_string(i);
    records.push_back({key, core::token_of_key(key), "v" + std::to_string(i)});
  }
  std::sort(records.begin(), records.end(), [](const KeyRecord& a, const KeyRecord& b) {
    return std::tie(a.token, a.key) < std::tie(b.token, b.key);
  });
  return records;
}

// What a scan of `range` must return from `all` (sorted by (token, key)): in-range records in
// ring order, i.e. those after range.begin first.
std::vector<KeyRecord> expected_scan(const std::vector<KeyRecord>& all, TokenRange range) {
  std::vector<KeyRecord> first, second;
  for (const KeyRecord& r : all) {
    if (!token_in_range(range, r.token)) continue;
    (r.token > range.begin ? first : second).push_back(r);
  }
  first.insert(first.end(), second.begin(), second.end());
  return first;
}

TYPED_TEST(StoreConformance, EmptyStoreHasNothing) {
  EXPECT_EQ(this->get("absent"), std::nullopt);
  EXPECT_EQ(this->key_count(), 0u);
  EXPECT_EQ(this->hint_count(), 0u);
  EXPECT_TRUE(this->scan({0, 0}).empty());
  EXPECT_TRUE(this->store().hints_for("n1", 10).value().empty());
  EXPECT_TRUE(this->store().hints_after(0, 10).value().empty());
  EXPECT_EQ(this->store().get_meta("ring").value(), std::nullopt);
  EXPECT_FALSE(this->store().has_uncommitted());
  EXPECT_TRUE(this->store().commit().ok());  // nothing staged: ok
}

TYPED_TEST(StoreConformance, PutGetErase) {
  WriteBatch batch = puts({{"alpha", "state-a"}});
  batch.key_puts[0].token = 12345;  // wrong on purpose: the store computes tokens itself
  this->put(batch);
  const auto got = this->get("alpha");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->key, "alpha");
  EXPECT_EQ(got->token, core::token_of_key("alpha"));
  EXPECT_EQ(got->state, "state-a");

  this->put(puts({{"alpha", "state-b"}}));
  EXPECT_EQ(this->state_of("alpha"), "state-b");
  EXPECT_EQ(this->key_count(), 1u);

  WriteBatch erase;
  erase.key_erases = {"alpha", "never-existed"};
  this->put(erase);
  EXPECT_EQ(this->get("alpha"), std::nullopt);
  EXPECT_EQ(this->key_count(), 0u);
}

TYPED_TEST(StoreConformance, BinaryAndEmptyKeysAndStatesRoundTrip) {
  const std::string binary_key("a\0b\xff\x80", 5);
  const std::string binary_state("\0\x01\xfe\xff", 4);
  this->put(puts({{binary_key, binary_state}, {"", "empty key"}, {"empty state", ""}}));
  EXPECT_EQ(this->state_of(binary_key), binary_state);
  EXPECT_EQ(this->get(std::string("a\0b", 3)), std::nullopt);  // a prefix is another key
  EXPECT_EQ(this->state_of(""), "empty key");
  const auto empty_state = this->get("empty state");
  ASSERT_TRUE(empty_state.has_value());
  EXPECT_EQ(empty_state->state, "");
  EXPECT_EQ(this->key_count(), 3u);
}

TYPED_TEST(StoreConformance, WithinABatchFieldsApplyInOrder) {
  WriteBatch batch = puts({{"k", "first"}, {"k", "second"}, {"gone", "x"}});
  batch.key_erases = {"gone"};
  batch.hint_puts = {hint(1, "n1", "a"), hint(1, "n2", "b")};
  batch.meta_puts = {{"m", "1"}, {"m", "2"}};
  this->put(batch);
  EXPECT_EQ(this->state_of("k"), "second");
  EXPECT_EQ(this->get("gone"), std::nullopt);
  const auto hints = this->store().hints_after(0, 10).value();
  ASSERT_EQ(hints.size(), 1u);
  EXPECT_EQ(hints[0], hint(1, "n2", "b"));
  EXPECT_EQ(this->store().get_meta("m").value(), "2");
}

TYPED_TEST(StoreConformance, InvalidBatchIsRefusedWhole) {
  WriteBatch batch = puts({{"good-1", "a"}, {"good-2", "b"}});
  batch.key_puts.push_back(record(std::string(core::key_size_bytes_max + 1, 'x'), "c"));
  const Status status = this->store().apply(batch);
  EXPECT_EQ(status.code(), core::Code::invalid_argument);
  EXPECT_EQ(this->get("good-1"), std::nullopt);
  EXPECT_EQ(this->key_count(), 0u);
  EXPECT_FALSE(this->store().has_uncommitted());

  WriteBatch bad_target;
  bad_target.hint_puts = {hint(1, "not a node id!", "k")};
  EXPECT_EQ(this->store().apply(bad_target).code(), core::Code::invalid_argument);
  WriteBatch zero_id;
  zero_id.hint_puts = {hint(0, "n1", "k")};
  EXPECT_EQ(this->store().apply(zero_id).code(), core::Code::invalid_argument);
  WriteBatch bad_meta;
  bad_meta.meta_puts = {{"", "v"}};
  EXPECT_EQ(this->store().apply(bad_meta).code(), core::Code::invalid_argument);
  EXPECT_EQ(this->hint_count(), 0u);

  // A refused batch is not a failure of the store: it keeps taking writes.
  this->put(puts({{"after", "ok"}}));
  EXPECT_EQ(this->state_of("after"), "ok");
}

TYPED_TEST(StoreConformance, StagedChangesAreVisibleBeforeCommit) {
  this->put(puts({{"committed", "c"}}));
  WriteBatch batch = puts({{"staged", "s"}});
  batch.key_erases = {"committed"};
  batch.hint_puts = {hint(3, "n1", "staged")};
  batch.meta_puts = {{"epoch", "7"}};
  ASSERT_TRUE(this->store().apply(batch).ok());
  EXPECT_TRUE(this->store().has_uncommitted());
  EXPECT_EQ(this->state_of("staged"), "s");
  EXPECT_EQ(this->get("committed"), std::nullopt);
  EXPECT_EQ(this->key_count(), 1u);
  EXPECT_EQ(this->hint_count(), 1u);
  EXPECT_EQ(this->store().hints_for("n1", 10).value().size(), 1u);
  EXPECT_EQ(this->store().get_meta("epoch").value(), "7");
  EXPECT_EQ(this->scan({0, 0}).size(), 1u);
  ASSERT_TRUE(this->store().commit().ok());
  EXPECT_FALSE(this->store().has_uncommitted());
}

TYPED_TEST(StoreConformance, CrashKeepsEveryCommittedBatchAndDropsTheRest) {
  WriteBatch first = puts({{"k1", "v1"}, {"k2", "v2"}});
  first.hint_puts = {hint(1, "n1", "k1")};
  first.meta_puts = {{"epoch", "1"}};
  this->put(first);
  // Two batches under one commit: group commit makes both durable.
  ASSERT_TRUE(this->store().apply(puts({{"k3", "v3"}})).ok());
  ASSERT_TRUE(this->store().apply(puts({{"k4", "v4"}})).ok());
  ASSERT_TRUE(this->store().commit().ok());

  WriteBatch uncommitted = puts({{"k1", "overwritten"}, {"k5", "new"}});
  uncommitted.key_erases = {"k2"};
  uncommitted.hint_puts = {hint(2, "n2", "k5")};
  uncommitted.hint_erases = {1};
  uncommitted.meta_puts = {{"epoch", "2"}};
  ASSERT_TRUE(this->store().apply(uncommitted).ok());
  ASSERT_TRUE(this->store().apply(puts({{"k6", "also uncommitted"}})).ok());

  this->crash_and_reopen();
  EXPECT_FALSE(this->store().has_uncommitted());
  EXPECT_EQ(this->state_of("k1"), "v1");
  EXPECT_EQ(this->state_of("k2"), "v2");
  EXPECT_EQ(this->state_of("k3"), "v3");
  EXPECT_EQ(this->state_of("k4"), "v4");
  EXPECT_EQ(this->get("k5"), std::nullopt);
  EXPECT_EQ(this->get("k6"), std::nullopt);
  EXPECT_EQ(this->key_count(), 4u);
  EXPECT_EQ(this->store().hints_after(0, 10).value(), std::vector<HintRecord>{hint(1, "n1", "k1")});
  EXPECT_EQ(this->store().get_meta("epoch").value(), "1");
  EXPECT_EQ(this->scan({0, 0}).size(), 4u);

  // The store takes writes again after the crash, and they last.
  this->put(puts({{"k7", "v7"}}));
  this->crash_and_reopen();
  EXPECT_EQ(this->state_of("k7"), "v7");
  EXPECT_EQ(this->key_count(), 5u);
}

TYPED_TEST(StoreConformance, CrashAfterOverwritesRestoresTheCommittedValue) {
  this->put(puts({{"k", "committed"}}));
  ASSERT_TRUE(this->store().apply(puts({{"k", "staged-1"}})).ok());
  WriteBatch erase;
  erase.key_erases = {"k"};
  ASSERT_TRUE(this->store().apply(erase).ok());
  ASSERT_TRUE(this->store().apply(puts({{"k", "staged-2"}})).ok());
  EXPECT_EQ(this->state_of("k"), "staged-2");
  this->crash_and_reopen();
  EXPECT_EQ(this->state_of("k"), "committed");
  EXPECT_EQ(this->key_count(), 1u);
}

TYPED_TEST(StoreConformance, ScanReturnsRangesInRingOrder) {
  const std::vector<KeyRecord> all = numbered_records(300);
  WriteBatch batch;
  for (const KeyRecord& r : all) batch.key_puts.push_back(record(r.key, r.state));
  this->put(batch);

  const Token a = all[40].token, b = all[200].token;
  const std::vector<TokenRange> ranges = {
      {a, b},                                 // plain
      {b, a},                                 // wraps past 2^64-1
      {a, a},                                 // begin == end: whole ring, starting after a
      {0, 0},                                 // whole ring from 0
      {token_max, token_max},                 // whole ring, begin at the top
      {0, token_max},                         // everything but token 0
      {token_max, all[10].token},             // wraps, empty first span
      {a - 1, a},                             // exactly one token
      {a, a + 1},                             // likely empty
      {all.back().token, all.front().token},  // only the wrap-around gap's ends
  };
  for (const TokenRange& range : ranges) {
    SCOPED_TRACE(testing::Message() << "range (" << range.begin << ", " << range.end << "]");
    EXPECT_EQ(this->scan(range), expected_scan(all, range));
  }
  const std::vector<KeyRecord> whole_ring = this->scan({a, a});
  ASSERT_EQ(whole_ring.size(), all.size());
  EXPECT_EQ(whole_ring.front().key, all[41].key);  // starts after begin
  EXPECT_EQ(whole_ring.back().key, all[40].key);   // ends at begin's own token

  core::Random random(7);
  for (int i = 0; i < 50; ++i) {
    const TokenRange range{random.next_u64(), random.next_u64()};
    EXPECT_EQ(this->scan(range), expected_scan(all, range));
  }
}

TYPED_TEST(StoreConformance, ScanPagesResumeAfterTheLastRecord) {
  const std::vector<KeyRecord> all = numbered_records(101);
  WriteBatch batch;
  for (const KeyRecord& r : all) batch.key_puts.push_back(record(r.key, r.state));
  this->put(batch);

  for (const TokenRange range :
       {TokenRange{all[30].token, all[30].token}, TokenRange{all[90].token, all[20].token},
        TokenRange{all[5].token, all[70].token}}) {
    for (const std::size_t page_size : {std::size_t{1}, std::size_t{7}, std::size_t{1000}}) {
      std::vector<KeyRecord> paged;
      std::optional<KeyRecord> after;
      for (int pages = 0; pages < 200; ++pages) {
        const std::vector<KeyRecord> page = this->scan(range, page_size, after);
        ASSERT_LE(page.size(), page_size);
        if (page.empty()) break;
        paged.insert(paged.end(), page.begin(), page.end());
        after = page.back();
      }
      EXPECT_EQ(paged, expected_scan(all, range)) << "page size " << page_size;
    }
  }
  EXPECT_TRUE(this->scan({0, 0}, 0).empty());
}

TYPED_TEST(StoreConformance, ScanResumesBetweenKeysOfOneToken) {
  // Distinct keys never share a SHA-256 token in practice, so paging inside one token is
  // checked with `after` records that name a token and a key directly.
  const std::vector<KeyRecord> all = numbered_records(20);
  WriteBatch batch;
  for (const KeyRecord& r : all) batch.key_puts.push_back(record(r.key, r.state));
  this->put(batch);
  const KeyRecord& target = all[10];
  KeyRecord before_target{target.key.substr(0, 1), target.token, ""};  // a prefix: sorts first
  auto page = this->scan({0, 0}, 1, before_target);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].key, target.key);
  KeyRecord after_target{target.key + std::string(1, '\0'), target.token, ""};
  page = this->scan({0, 0}, 1, after_target);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].key, all[11].key);
}

TYPED_TEST(StoreConformance, ScanAfterARecordOutsideTheRangeIsRefused) {
  const std::vector<KeyRecord> all = numbered_records(10);
  const TokenRange range{all[2].token, all[5].token};
  const auto result = this->store().scan(range, 10, all[7]);
  EXPECT_EQ(result.status().code(), core::Code::invalid_argument);
}

TYPED_TEST(StoreConformance, ScanSeesStagedPutsAndErases) {
  const std::vector<KeyRecord> all = numbered_records(30);
  WriteBatch batch;
  for (const KeyRecord& r : all) batch.key_puts.push_back(record(r.key, r.state));
  this->put(batch);
  WriteBatch staged;
  staged.key_erases = {all[3].key, all[4].key};
  staged.key_puts = {record(all[5].key, "changed"), record("brand-new", "n")};
  ASSERT_TRUE(this->store().apply(staged).ok());

  std::vector<KeyRecord> expected;
  for (const KeyRecord& r : all) {
    if (r.key == all[3].key || r.key == all[4].key) continue;
    expected.push_back(r.key == all[5].key ? KeyRecord{r.key, r.token, "changed"} : r);
  }
  expected.push_back({"brand-new", core::token_of_key("brand-new"), "n"});
  std::sort(expected.begin(), expected.end(), [](const KeyRecord& a, const KeyRecord& b) {
    return std::tie(a.token, a.key) < std::tie(b.token, b.key);
  });
  EXPECT_EQ(this->scan({0, 0}), expected);
}

TYPED_TEST(StoreConformance, ScanCheckedReportsCorruptRecordsInPlace) {
  const std::vector<KeyRecord> all = numbered_records(40);
  WriteBatch batch;
  for (const KeyRecord& r : all) batch.key_puts.push_back(record(r.key, r.state));
  this->put(batch);
  this->corrupt_key(all[3].key);
  this->corrupt_key(all[17].key);

  auto scanned = this->store().scan_checked({0, 0}, 1000, std::nullopt);
  ASSERT_TRUE(scanned.ok()) << scanned.status().to_string();
  ASSERT_EQ(scanned->size(), all.size()) << "a damaged record does not end the page";
  for (std::size_t i = 0; i < all.size(); ++i) {
    const ScannedRecord& one = (*scanned)[i];
    const bool damaged = i == 3 || i == 17;
    EXPECT_EQ(one.corrupt, damaged) << all[i].key;
    EXPECT_EQ(one.record.key, all[i].key);
    EXPECT_EQ(one.record.token, all[i].token);
    EXPECT_EQ(one.record.state, damaged ? "" : all[i].state) << "damaged bytes never leave";
  }
  // Paging resumes after a corrupt record like after any other.
  std::optional<KeyRecord> after = (*scanned)[3].record;
  auto next = this->store().scan_checked({0, 0}, 1, after);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->size(), 1u);
  EXPECT_EQ((*next)[0].record, all[4]);
  EXPECT_FALSE((*next)[0].corrupt);

  // scan keeps its contract: the page fails naming the first damaged key it reaches...
  const auto failed = this->store().scan({0, 0}, 1000, std::nullopt);
  EXPECT_EQ(failed.status().code(), core::Code::corruption);
  EXPECT_NE(failed.status().message().find("'" + all[3].key + "'"), std::string::npos);
  // ...and a page that stops before it does not.
  EXPECT_EQ(this->scan({0, 0}, 3), std::vector<KeyRecord>(all.begin(), all.begin() + 3));
  // A rewrite heals the record.
  this->put(puts({{all[3].key, "fresh"}}));
  scanned = this->store().scan_checked({all[2].token, all[3].token}, 10, std::nullopt);
  ASSERT_TRUE(scanned.ok());
  ASSERT_EQ(scanned->size(), 1u);
  EXPECT_FALSE((*scanned)[0].corrupt);
  EXPECT_EQ((*scanned)[0].record.state, "fresh");
}

TYPED_TEST(StoreConformance, HintsByTargetAndAfterId) {
  WriteBatch batch;
  // Ids out of order, on both sides of 2^63, to check the order is the unsigned one.
  const std::uint64_t high = (std::uint64_t{1} << 63) + 5;
  batch.hint_puts = {hint(9, "n1", "a"), hint(2, "n2", "b"), hint(high, "n1", "c"),
                     hint(4, "n1", "d"), hint(7, "n3", "e"), hint(1, "n1", "f")};
  this->put(batch);
  EXPECT_EQ(this->hint_count(), 6u);

  auto ids = [](const std::vector<HintRecord>& hints) {
    std::vector<std::uint64_t> out;
    for (const HintRecord& h : hints) out.push_back(h.id);
    return out;
  };
  EXPECT_EQ(ids(this->store().hints_for("n1", 100).value()),
            (std::vector<std::uint64_t>{1, 4, 9, high}));
  EXPECT_EQ(ids(this->store().hints_for("n1", 2).value()), (std::vector<std::uint64_t>{1, 4}));
  EXPECT_TRUE(this->store().hints_for("n4", 100).value().empty());
  EXPECT_TRUE(this->store().hints_for("n1", 0).value().empty());
  EXPECT_EQ(ids(this->store().hints_after(0, 100).value()),
            (std::vector<std::uint64_t>{1, 2, 4, 7, 9, high}));
  EXPECT_EQ(ids(this->store().hints_after(4, 2).value()), (std::vector<std::uint64_t>{7, 9}));
  EXPECT_EQ(ids(this->store().hints_after(9, 100).value()), (std::vector<std::uint64_t>{high}));
  EXPECT_TRUE(this->store().hints_after(high, 100).value().empty());
  EXPECT_EQ(this->store().hints_for("n3", 10).value().front(), hint(7, "n3", "e"));

  // Replace by id (a new attempt count, or a new target) and erase.
  HintRecord retried = hint(4, "n2", "d");
  retried.attempts = 3;
  WriteBatch change;
  change.hint_puts = {retried};
  change.hint_erases = {9, 12345};
  this->put(change);
  EXPECT_EQ(ids(this->store().hints_for("n1", 100).value()), (std::vector<std::uint64_t>{1, high}));
  EXPECT_EQ(this->store().hints_for("n2", 100).value(),
            (std::vector<HintRecord>{hint(2, "n2", "b"), retried}));
  EXPECT_EQ(this->hint_count(), 5u);
}

TYPED_TEST(StoreConformance, MetaPutGetOverwrite) {
  EXPECT_EQ(this->store().get_meta("ring").value(), std::nullopt);
  WriteBatch batch;
  batch.meta_puts = {{"ring", std::string("\0tokens", 7)}, {"node_id", "n1"}};
  this->put(batch);
  EXPECT_EQ(this->store().get_meta("ring").value(), std::string("\0tokens", 7));
  EXPECT_EQ(this->store().get_meta("node_id").value(), "n1");
  WriteBatch overwrite;
  overwrite.meta_puts = {{"node_id", "n1-renamed"}};
  this->put(overwrite);
  this->crash_and_reopen();
  EXPECT_EQ(this->store().get_meta("node_id").value(), "n1-renamed");
  EXPECT_EQ(this->store().get_meta("nod").value(), std::nullopt);
}

TYPED_TEST(StoreConformance, CountsFollowStagedChangesAndCrashes) {
  this->put(puts({{"a", "1"}, {"b", "2"}}));
  WriteBatch hints;
  hints.hint_puts = {hint(1, "n1", "a")};
  this->put(hints);
  WriteBatch staged = puts({{"c", "3"}, {"a", "1b"}});
  staged.key_erases = {"b", "zzz"};
  staged.hint_puts = {hint(2, "n1", "c"), hint(1, "n1", "a")};
  ASSERT_TRUE(this->store().apply(staged).ok());
  EXPECT_EQ(this->key_count(), 2u);   // a, c
  EXPECT_EQ(this->hint_count(), 2u);  // 1, 2
  this->crash_and_reopen();
  EXPECT_EQ(this->key_count(), 2u);  // a, b
  EXPECT_EQ(this->hint_count(), 1u);
}

// The contract as a model: a committed map and a live map; commit copies live to committed,
// a crash copies committed to live. Random sequences of operations must leave the store and
// the model agreeing on every read after every step.
struct Model {
  std::map<std::string, std::string> live, durable;
  std::map<std::uint64_t, std::string> live_hints, durable_hints;  // id -> target
};

TYPED_TEST(StoreConformance, RandomOperationsMatchTheModel) {
  const bool passed = rc::check([] {
    TypeParam harness;
    Model model;
    const int steps = *rc::gen::inRange(1, 40);
    for (int step = 0; step < steps; ++step) {
      const int op = *rc::gen::inRange(0, 10);
      const std::string key = "key" + std::to_string(*rc::gen::inRange(0, 6));
      const std::uint64_t id = static_cast<std::uint64_t>(*rc::gen::inRange(1, 5));
      WriteBatch batch;
      if (op <= 3) {
        const std::string state = *rc::gen::container<std::string>(rc::gen::arbitrary<char>());
        batch.key_puts.push_back(record(key, state));
        model.live[key] = state;
      } else if (op <= 5) {
        batch.key_erases.push_back(key);
        model.live.erase(key);
      } else if (op == 6) {
        const std::string target = "n" + std::to_string(*rc::gen::inRange(1, 3));
        batch.hint_puts.push_back(hint(id, target, key));
        model.live_hints[id] = target;
      } else if (op == 7) {
        batch.hint_erases.push_back(id);
        model.live_hints.erase(id);
      } else if (op == 8) {
        RC_ASSERT(harness.store().commit().ok());
        model.durable = model.live;
        model.durable_hints = model.live_hints;
      } else {
        harness.crash_and_reopen();
        model.live = model.durable;
        model.live_hints = model.durable_hints;
      }
      if (!batch.empty()) RC_ASSERT(harness.store().apply(batch).ok());

      for (int k = 0; k < 7; ++k) {
        const std::string probe = "key" + std::to_string(k);
        const auto got = harness.store().get(probe);
        RC_ASSERT(got.ok());
        const auto it = model.live.find(probe);
        RC_ASSERT(got->has_value() == (it != model.live.end()));
        if (it != model.live.end()) RC_ASSERT((*got)->state == it->second);
      }
      RC_ASSERT(harness.store().key_count().value() == model.live.size());
      RC_ASSERT(harness.store().scan({0, 0}, 100, std::nullopt).value().size() ==
                model.live.size());
      const auto hints = harness.store().hints_after(0, 100).value();
      RC_ASSERT(hints.size() == model.live_hints.size());
      auto expected = model.live_hints.begin();
      for (const HintRecord& h : hints) {
        RC_ASSERT(h.id == expected->first);
        RC_ASSERT(h.target == expected->second);
        ++expected;
      }
    }
  });
  EXPECT_TRUE(passed);
}

}  // namespace
}  // namespace vigil::store
