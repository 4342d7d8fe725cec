// SqliteStore's own promises beyond the shared contract: checksums catch bytes damaged on
// disk behind SQLite's back; reopening keeps what was committed; the schema version is
// recorded and a newer one is refused; migrations run the missing steps in order, all or
// nothing; SQLite's failures become Statuses and a failed write is sticky.

#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/types.h"
#include "store/sqlite_schema.h"

#include <thread>

#include "tests/support/temp_directory.h"

namespace vigil::store {
namespace {

using testing_support::TempDirectory;

std::unique_ptr<SqliteStore> open_store(const std::string& path) {
  auto opened = SqliteStore::open(path);
  EXPECT_TRUE(opened.ok()) << opened.status().to_string();
  return opened.ok() ? std::move(opened).value() : nullptr;
}

// The state of `key`, "<absent>" when there is none, "<error>" when the read fails.
std::string state_of(Store& store, std::string_view key) {
  const auto got = store.get(key);
  if (!got.ok()) return "<error>";
  return got->has_value() ? (*got)->state : "<absent>";
}

WriteBatch put(std::string key, std::string state) {
  WriteBatch batch;
  batch.key_puts.push_back({std::move(key), 0, std::move(state)});
  return batch;
}

// A plain SQLite connection, for tests that reach under the store.
class Raw {
 public:
  explicit Raw(const std::string& path) { EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK); }
  ~Raw() { sqlite3_close_v2(db_); }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;
  sqlite3* db() const { return db_; }

  void exec(const std::string& sql) {
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << sql << ": " << (error != nullptr ? error : "");
    sqlite3_free(error);
  }
  std::string text(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr), SQLITE_OK) << sql;
    std::string out;
    if (sqlite3_step(statement) == SQLITE_ROW) {
      const void* data = sqlite3_column_blob(statement, 0);
      out.assign(static_cast<const char*>(data),
                 static_cast<std::size_t>(sqlite3_column_bytes(statement, 0)));
    }
    sqlite3_finalize(statement);
    return out;
  }
  // Rewrites one blob column of one row, leaving the stored checksum as it was.
  void set_blob(const std::string& sql, const std::string& bytes) {
    sqlite3_stmt* statement = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr), SQLITE_OK) << sql;
    sqlite3_bind_blob(statement, 1, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(statement), SQLITE_DONE);
    EXPECT_EQ(sqlite3_changes(db_), 1);
    sqlite3_finalize(statement);
  }

 private:
  sqlite3* db_ = nullptr;
};

TEST(SqliteStore, CorruptedBlobOnDiskIsDetectedAfterReopen) {
  TempDirectory dir{"vigil-sqlite-store-test"};
  const std::string path = dir.file("node.db");
  const std::string secret = "the-original-secret-state";
  {
    auto store = open_store(path);
    WriteBatch batch = put("victim", secret);
    batch.key_puts.push_back({"bystander", 0, "fine"});
    HintRecord hint{5, "n2", "victim", 1, 2, 0, "hint-state"};
    batch.hint_puts = {hint};
    batch.meta_puts = {{"epoch", "3"}};
    ASSERT_TRUE(store->apply(batch).ok());
    ASSERT_TRUE(store->commit().ok());
  }
  {
    Raw raw(path);
    std::string flipped = secret;
    flipped[3] = static_cast<char>(flipped[3] ^ 0x01);
    raw.set_blob("UPDATE keys SET state = ?1 WHERE key = CAST('victim' AS BLOB)", flipped);
    raw.set_blob("UPDATE hints SET state = ?1", "hint-statf");
    raw.set_blob("UPDATE meta SET value = ?1", "4");
  }
  auto store = open_store(path);
  const auto got = store->get("victim");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), core::Code::corruption);
  EXPECT_NE(got.status().message().find("'victim'"), std::string::npos);
  EXPECT_EQ(got.status().message().find("secret"), std::string::npos);
  EXPECT_EQ(state_of(*store, "bystander"), "fine");
  EXPECT_EQ(store->scan({0, 0}, 10, std::nullopt).status().code(), core::Code::corruption);
  const auto hints = store->hints_for("n2", 10);
  EXPECT_EQ(hints.status().code(), core::Code::corruption);
  EXPECT_NE(hints.status().message().find("hint 5"), std::string::npos);
  EXPECT_EQ(store->get_meta("epoch").status().code(), core::Code::corruption);
}

TEST(SqliteStore, ReopenKeepsCommittedDataAndDropsTheOpenTransaction) {
  TempDirectory dir{"vigil-sqlite-store-test"};
  const std::string path = dir.file("a/b/c/node.db");  // parents are created
  {
    auto store = open_store(path);
    ASSERT_TRUE(store->apply(put("durable", "d")).ok());
    ASSERT_TRUE(store->commit().ok());
    ASSERT_TRUE(store->apply(put("staged", "s")).ok());
    EXPECT_TRUE(store->has_uncommitted());
  }
  auto store = open_store(path);
  EXPECT_EQ(state_of(*store, "durable"), "d");
  EXPECT_EQ(store->get("staged").value(), std::nullopt);
  EXPECT_FALSE(store->has_uncommitted());
}

TEST(SqliteStore, DatabaseIsInWalModeWithTheSchemaVersionRecorded) {
  TempDirectory dir{"vigil-sqlite-store-test"};
  const std::string path = dir.file("node.db");
  { auto store = open_store(path); }
  Raw raw(path);
  EXPECT_EQ(raw.text("PRAGMA journal_mode"), "wal");  // WAL is persistent in the file
  EXPECT_EQ(raw.text("SELECT CAST(version AS TEXT) FROM schema_version"),
            std::to_string(sqlite::schema_version_current));
  EXPECT_EQ(sqlite::read_schema_version(raw.db()).value(), sqlite::schema_version_current);
  // The keys table is clustered on (token, key): no rowid.
  EXPECT_NE(raw.text("SELECT sql FROM sqlite_master WHERE name = 'keys'").find("WITHOUT ROWID"),
            std::string::npos);
}

TEST(SqliteStore, TokensAreStoredInRingOrder) {
  TempDirectory dir{"vigil-sqlite-store-test"};
  const std::string path = dir.file("node.db");
  {
    auto store = open_store(path);
    WriteBatch batch;
    for (int i = 0; i < 64; ++i) batch.key_puts.push_back({"k" + std::to_string(i), 0, "v"});
    ASSERT_TRUE(store->apply(batch).ok());
    ASSERT_TRUE(store->commit().ok());
  }
  // SQLite's own ORDER BY token must be unsigned token order.
  Raw raw(path);
  sqlite3_stmt* statement = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw.db(), "SELECT token, key FROM keys ORDER BY token", -1,
                               &statement, nullptr),
            SQLITE_OK);
  Token previous = 0;
  int rows = 0;
  while (sqlite3_step(statement) == SQLITE_ROW) {
    const Token token = sqlite::from_ordered_int64(sqlite3_column_int64(statement, 0));
    const std::string key(static_cast<const char*>(sqlite3_column_blob(statement, 1)),
                          static_cast<std::size_t>(sqlite3_column_bytes(statement, 1)));
    EXPECT_EQ(token, core::token_of_key(key));
    EXPECT_LE(previous, token);
    previous = token;
    ++rows;
  }
  sqlite3_finalize(statement);
  EXPECT_EQ(rows, 64);
}

TEST(SqliteStore, NewerSchemaVersionIsRefused) {
  TempDirectory dir{"vigil-sqlite-store-test"};
  const std::string path = dir.file("node.db");
  { auto store = open_store(path); }
  {
    Raw raw(path);
    raw.exec("UPDATE schema_version SET version = " +
             std::to_string(sqlite::schema_version_current + 1));
  }
  const auto opened = SqliteStore::open(path);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), core::Code::failed_precondition);
  EXPECT_NE(opened.status().message().find("newer"), std::string::npos);
}

constexpr sqlite::Migration step_1{1, "CREATE TABLE t1 (x INTEGER)"};
constexpr sqlite::Migration step_2{2, "CREATE TABLE t2 (y INTEGER); INSERT INTO t2 VALUES (2)"};
// Depends on step 2, so it only works when the steps run in order.
constexpr sqlite::Migration step_3{3, "INSERT INTO t1 SELECT y + 1 FROM t2"};
constexpr sqlite::Migration broken_3{3, "INSERT INTO no_such_table VALUES (1)"};

TEST(SqliteSchema, MigrationsRunTheMissingStepsInOrder) {
  TempDirectory dir{"vigil-sqlite-store-test"};
  Raw raw(dir.file("m.db"));
  EXPECT_EQ(sqlite::read_schema_version(raw.db()).value(), 0);
  const sqlite::Migration first[] = {step_1};
  ASSERT_TRUE(sqlite::migrate(raw.db(), first).ok());
  EXPECT_EQ(sqlite::read_schema_version(raw.db()).value(), 1);
  // Step 1 would fail if it ran again (t1 exists): only 2 and 3 run, in that order.
  const sqlite::Migration all[] = {step_1, step_2, step_3};
  const Status status = sqlite::migrate(raw.db(), all);
  ASSERT_TRUE(status.ok()) << status.to_string();
  EXPECT_EQ(sqlite::read_schema_version(raw.db()).value(), 3);
  EXPECT_EQ(raw.text("SELECT CAST(x AS TEXT) FROM t1"), "3");
  // At the latest version, migrating again changes nothing.
  ASSERT_TRUE(sqlite::migrate(raw.db(), all).ok());
  EXPECT_EQ(raw.text("SELECT CAST(count(*) AS TEXT) FROM t1"), "1");
}

TEST(SqliteSchema, AFailedStepLeavesTheOldVersionWhole) {
  TempDirectory dir{"vigil-sqlite-store-test"};
  Raw raw(dir.file("m.db"));
  const sqlite::Migration first[] = {step_1};
  ASSERT_TRUE(sqlite::migrate(raw.db(), first).ok());
  const sqlite::Migration broken[] = {step_1, step_2, broken_3};
  const Status status = sqlite::migrate(raw.db(), broken);
  EXPECT_EQ(status.code(), core::Code::io_error);
  EXPECT_NE(status.message().find("no_such_table"), std::string::npos);  // SQLite's message
  EXPECT_EQ(sqlite::read_schema_version(raw.db()).value(), 1);
  EXPECT_EQ(raw.text("SELECT name FROM sqlite_master WHERE name = 't2'"), "");  // rolled back
}

TEST(SqliteSchema, OlderBinaryRefusesNewerDatabase) {
  TempDirectory dir{"vigil-sqlite-store-test"};
  Raw raw(dir.file("m.db"));
  const sqlite::Migration all[] = {step_1, step_2, step_3};
  ASSERT_TRUE(sqlite::migrate(raw.db(), all).ok());
  const sqlite::Migration older[] = {step_1, step_2};
  EXPECT_EQ(sqlite::migrate(raw.db(), older).code(), core::Code::failed_precondition);
  EXPECT_EQ(sqlite::read_schema_version(raw.db()).value(), 3);
}

TEST(SqliteStore, AFileThatIsNotADatabaseIsCorruption) {
  TempDirectory dir{"vigil-sqlite-store-test"};
  const std::string path = dir.file("garbage.db");
  std::ofstream(path) << std::string(8192, 'G');
  const auto opened = SqliteStore::open(path);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), core::Code::corruption);
  EXPECT_NE(opened.status().message().find("not a database"), std::string::npos);
}

TEST(SqliteStore, APathThatCannotBeOpenedIsIoError) {
  TempDirectory dir{"vigil-sqlite-store-test"};
  std::filesystem::create_directories(dir.file("a-directory"));
  const auto opened = SqliteStore::open(dir.file("a-directory"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), core::Code::io_error);
  std::ofstream(dir.file("a-file")) << "x";
  const auto under_a_file = SqliteStore::open(dir.file("a-file/node.db"));
  ASSERT_FALSE(under_a_file.ok());
  EXPECT_EQ(under_a_file.status().code(), core::Code::io_error);
}

TEST(SqliteStore, AFailedApplyRollsBackAndIsSticky) {
  TempDirectory dir{"vigil-sqlite-store-test"};
  const std::string path = dir.file("node.db");
  { auto store = open_store(path); }
  {
    // A trigger makes SQLite itself fail part way through a batch.
    Raw raw(path);
    raw.exec(
        "CREATE TRIGGER poison BEFORE INSERT ON keys WHEN NEW.key = CAST('poison' AS BLOB) "
        "BEGIN SELECT RAISE(ABORT, 'poisoned row'); END");
  }
  {
    auto store = open_store(path);
    ASSERT_TRUE(store->apply(put("committed", "c")).ok());
    ASSERT_TRUE(store->commit().ok());
    ASSERT_TRUE(store->apply(put("staged", "s")).ok());
    WriteBatch batch = put("first-of-batch", "f");
    batch.key_puts.push_back({"poison", 0, "p"});
    const Status failed = store->apply(batch);
    EXPECT_EQ(failed.code(), core::Code::io_error);
    EXPECT_NE(failed.message().find("poisoned row"), std::string::npos);
    EXPECT_FALSE(store->has_uncommitted());
    EXPECT_EQ(store->get("first-of-batch").value(), std::nullopt);  // no half batch
    EXPECT_EQ(store->get("staged").value(), std::nullopt);          // rolled back with it
    EXPECT_EQ(state_of(*store, "committed"), "c");                  // reads still work
    EXPECT_EQ(store->apply(put("later", "l")), failed);             // sticky
    EXPECT_EQ(store->commit(), failed);
  }
  auto store = open_store(path);  // a new process starts clean
  ASSERT_TRUE(store->apply(put("after", "a")).ok());
  ASSERT_TRUE(store->commit().ok());
  EXPECT_EQ(store->key_count().value(), 2u);
}

// Lowers this process's file size limit for one scope, so writes past it fail with EFBIG
// (SIGXFSZ ignored) as on a full disk.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    previous_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &previous_);
    rlimit lowered = previous_;
    lowered.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &lowered);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &previous_);
    std::signal(SIGXFSZ, previous_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit previous_{};
  void (*previous_handler_)(int) = nullptr;
};

TEST(SqliteStore, AFailedCommitIsStickyAndLosesOnlyTheFailedBatch) {
  TempDirectory dir{"vigil-sqlite-store-test"};
  const std::string path = dir.file("node.db");
  {
    auto store = open_store(path);
    ASSERT_TRUE(store->apply(put("committed", "c")).ok());
    ASSERT_TRUE(store->commit().ok());
    // 1 MB fits SQLite's page cache, so nothing reaches the WAL before COMMIT writes it.
    ASSERT_TRUE(store->apply(put("big", std::string(1 << 20, 'b'))).ok());
    Status failed;
    {
      const auto wal_bytes = std::filesystem::file_size(path + "-wal");
      FileSizeLimit limit(wal_bytes + 4096);
      failed = store->commit();
    }
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.code(), core::Code::io_error) << failed.to_string();
    EXPECT_NE(failed.message().find("commit"), std::string::npos);
    EXPECT_EQ(store->apply(put("later", "l")), failed);
    EXPECT_EQ(store->commit(), failed);
    EXPECT_EQ(state_of(*store, "committed"), "c");
  }
  auto store = open_store(path);
  EXPECT_EQ(state_of(*store, "committed"), "c");
  EXPECT_EQ(store->get("big").value(), std::nullopt);
  ASSERT_TRUE(store->apply(put("after", "a")).ok());
  ASSERT_TRUE(store->commit().ok());
}

}  // namespace
}  // namespace vigil::store

namespace vigil::store {
namespace {

// Pipelined commit: begin_commit() is COMMIT without the fsync and finish_commit() the fsync
// of the WAL, which may run on another thread while the owner stages the next batch.
TEST(SqliteStore, SplitCommitsSyncTheWalOnAnotherThreadWhileTheNextBatchStages) {
  TempDirectory dir{"vigil-sqlite-store-test"};
  const std::string path = dir.file("node.db");
  {
    auto store = open_store(path);
    ASSERT_TRUE(store->split_commit()) << "the WAL could be opened for syncing";
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(store->apply(put("k" + std::to_string(i), "v")).ok());
      ASSERT_TRUE(store->begin_commit().ok());
      Status synced;
      std::thread sync([&] { synced = store->finish_commit(); });
      ASSERT_TRUE(store->apply(put("next" + std::to_string(i), "n")).ok());  // meanwhile
      sync.join();
      ASSERT_TRUE(synced.ok()) << synced.to_string();
    }
    ASSERT_TRUE(store->commit().ok());
    EXPECT_GE(store->checkpoints(), 1u) << "the commit threads checkpoint the WAL";
    EXPECT_EQ(store->checkpoint_failures(), 0u);
  }
  auto store = open_store(path);
  EXPECT_EQ(state_of(*store, "k199"), "v");
  EXPECT_EQ(state_of(*store, "next199"), "n");
}

}  // namespace
}  // namespace vigil::store
