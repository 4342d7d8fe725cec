// SqliteStore's schema and migrations: theory of operation.
//
// Key records live in a WITHOUT ROWID table whose primary key is (token, key): the rows are
// the B-tree's leaves in ring order, so an anti-entropy scan of a token range is one index
// walk and a point read is one descent, with no second lookup through a rowid (SQLite's
// "WITHOUT ROWID optimization" note). Tokens are stored through to_ordered_int64 so
// integer order is ring order. Each blob has its xxhash64 beside it; the store checks it on
// every read.
//
// Migrations follow the usual numbered-steps scheme (Rails, Flyway): each step is the SQL
// that takes version v-1 to v; a database records the version it is at; opening runs the
// missing steps in order inside one IMMEDIATE transaction with the version bump, so a crash
// mid-migration leaves the old version intact and the next open retries.

#include "store/sqlite_schema.h"

#include <sqlite3.h>

#include <array>
#include <string>

namespace vigil::store::sqlite {
namespace {

constexpr std::string_view schema_v1 = R"sql(
CREATE TABLE keys (
  token    INTEGER NOT NULL,
  key      BLOB    NOT NULL,
  state    BLOB    NOT NULL,
  checksum INTEGER NOT NULL,
  PRIMARY KEY (token, key)
) WITHOUT ROWID;
CREATE TABLE hints (
  id         INTEGER PRIMARY KEY,
  target     TEXT    NOT NULL,
  key        BLOB    NOT NULL,
  created_us INTEGER NOT NULL,
  expires_us INTEGER NOT NULL,
  attempts   INTEGER NOT NULL,
  state      BLOB    NOT NULL,
  checksum   INTEGER NOT NULL
);
CREATE INDEX hints_by_target ON hints (target, id);
CREATE TABLE meta (
  name     BLOB    NOT NULL PRIMARY KEY,
  value    BLOB    NOT NULL,
  checksum INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

constexpr std::array<Migration, 1> all_migrations = {{{1, schema_v1}}};
static_assert(all_migrations.size() == schema_version_current);

constexpr std::string_view create_version_table =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    "id INTEGER PRIMARY KEY CHECK (id = 0), version INTEGER NOT NULL)";

core::Status write_schema_version(sqlite3* db, int version) {
  return exec(db, "INSERT OR REPLACE INTO schema_version (id, version) VALUES (0, " +
                      std::to_string(version) + ")");
}

core::Status run_steps(sqlite3* db, std::span<const Migration> steps) {
  core::Status status = exec(db, create_version_table);
  if (!status.ok()) return status;
  core::Result<int> version = read_schema_version(db);
  if (!version) return version.status();
  const int known = steps.empty() ? 0 : steps.back().version;
  if (*version > known) {
    return core::error(core::Code::failed_precondition,
                       "database schema version " + std::to_string(*version) +
                           " is newer than this binary knows (" + std::to_string(known) +
                           "): upgrade vigil");
  }
  for (const Migration& step : steps) {
    if (step.version <= *version) continue;
    status = exec(db, step.sql);
    if (!status.ok()) return status;
  }
  if (*version == known) return core::Status::ok_status();
  return write_schema_version(db, known);
}

}  // namespace

std::span<const Migration> migrations() {
  return all_migrations;
}

core::Status sqlite_status(sqlite3* db, int rc, std::string_view what) {
  const int primary = rc & 0xff;
  const core::Code code = primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB
                              ? core::Code::corruption
                              : core::Code::io_error;
  std::string message = "sqlite: " + std::string(what) + ": ";
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  message += " (code " + std::to_string(rc) + ")";
  return core::error(code, std::move(message));
}

core::Status exec(sqlite3* db, std::string_view sql) {
  const std::string text(sql);
  const int rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return sqlite_status(db, rc, text.substr(0, 60));
  return core::Status::ok_status();
}

namespace {

// One integer from a one-row query; `absent` when it returns no row.
core::Result<int> query_int(sqlite3* db, const char* sql, int absent) {
  sqlite3_stmt* statement = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &statement, nullptr);
  if (rc != SQLITE_OK) return sqlite_status(db, rc, "read schema version");
  rc = sqlite3_step(statement);
  const int value = rc == SQLITE_ROW ? sqlite3_column_int(statement, 0) : absent;
  core::Result<int> result = rc == SQLITE_ROW || rc == SQLITE_DONE
                                 ? core::Result<int>(value)
                                 : core::Result<int>(sqlite_status(db, rc, sql));
  sqlite3_finalize(statement);
  return result;
}

}  // namespace

core::Status configure_connection(sqlite3* db) {
  // journal_mode answers with the mode it is in; a database that cannot do WAL (e.g. on a
  // file system without shared memory) stays in another mode, which we refuse.
  // The page size of a new database (an existing one keeps its own). Measured, not
  // guessed: every commit appends each page it changed to the WAL, so smaller pages write
  // and sync fewer bytes, but 1 KiB pages made a SET load slower (3.9k against 5.5k SET/s
  // on the same machine: a deeper b-tree, more pages changed per key); 4 KiB stays.
  if (core::Status set = exec(db, "PRAGMA page_size = 4096"); !set.ok()) return set;
  sqlite3_stmt* statement = nullptr;
  int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &statement, nullptr);
  if (rc != SQLITE_OK) return sqlite_status(db, rc, "set WAL mode");
  rc = sqlite3_step(statement);
  const auto* mode = rc == SQLITE_ROW ? sqlite3_column_text(statement, 0) : nullptr;
  const std::string mode_text = mode != nullptr ? reinterpret_cast<const char*>(mode) : "";
  core::Status status = rc == SQLITE_ROW ? core::Status{} : sqlite_status(db, rc, "set WAL mode");
  sqlite3_finalize(statement);
  if (!status.ok()) return status;
  if (mode_text != "wal") {
    return core::error(core::Code::io_error,
                       "sqlite: the database refused WAL mode (journal mode '" + mode_text + "')");
  }
  // FULL, not NORMAL: in WAL mode NORMAL skips the fsync at commit, and a commit could be
  // lost on power failure after the node acknowledged it. (SqliteStore switches to NORMAL
  // only when it syncs the WAL itself before every acknowledgement: sqlite_store.cpp.)
  // The page cache: SQLite's default (2 MB) holds a tenth of a 100,000-key store, so most
  // reads of a key would go to the OS; 64 MB, and reads through mmap (no copy per page) up
  // to 256 MB of database.
  for (const char* pragma : {"PRAGMA synchronous = FULL", "PRAGMA cache_size = -65536",
                             "PRAGMA mmap_size = 268435456"}) {
    if (core::Status set = exec(db, pragma); !set.ok()) return set;
  }
  return core::Status::ok_status();
}

core::Result<int> read_schema_version(sqlite3* db) {
  core::Result<int> has_table = query_int(
      db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'", 0);
  if (!has_table || *has_table == 0) return has_table;
  return query_int(db, "SELECT version FROM schema_version WHERE id = 0", 0);
}

core::Status migrate(sqlite3* db, std::span<const Migration> steps) {
  for (std::size_t i = 0; i < steps.size(); ++i) {
    VIGIL_ASSERT(steps[i].version == static_cast<int>(i) + 1, "migrations are numbered 1, 2, ...");
  }
  core::Status status = exec(db, "BEGIN IMMEDIATE");
  if (!status.ok()) return status;
  status = run_steps(db, steps);
  if (status.ok()) status = exec(db, "COMMIT");
  if (!status.ok() && sqlite3_get_autocommit(db) == 0) {
    (void)exec(db, "ROLLBACK");  // the first error is the one to report
  }
  return status;
}

}  // namespace vigil::store::sqlite
