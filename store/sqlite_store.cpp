// SqliteStore: theory of operation.
//
// Group commit is one SQLite transaction: the first apply() after a commit opens it (BEGIN
// IMMEDIATE, so the write lock is taken up front and a second process on the same file
// fails at once instead of at commit), every apply() writes into it, and commit() ends it;
// with WAL and synchronous=FULL that is one append and one fsync of the WAL per commit,
// however many batches it covers. Reads on the same connection see the open transaction,
// which is "staged changes are visible". Closing without commit rolls the transaction back,
// which is exactly what a crash does to it.
//
// Every statement is prepared once at open and reset after each use (SQLite's advice for
// repeated statements); binds point at the caller's bytes (SQLITE_STATIC) and are cleared
// before the bytes can go away.
//
// Pipelined commit (store.h's begin_commit/finish_commit). After opening, the connection
// runs at synchronous=NORMAL and keeps a file descriptor of its own on the WAL file. In WAL
// mode, FULL differs from NORMAL by exactly one step: the fsync of the WAL at the end of
// every COMMIT (SQLite's documentation of PRAGMA synchronous; NORMAL still syncs the WAL
// before every checkpoint and the database after it). begin_commit() runs COMMIT, which
// appends the transaction's frames to the WAL with a commit marker and returns without an
// fsync; finish_commit() is that missing fdatasync, done on the WAL file, so a commit that
// returned from finish_commit() is on disk exactly as under FULL, and the node acknowledges
// nothing before it (core::NodeDriver). fdatasync touches no SQLite state, so it runs on the
// runtime's commit thread while the event loop goes on applying the next batch into a new
// transaction; frames it writes meanwhile are simply synced early. The WAL file is synced
// against the same inode SQLite writes (it is never replaced while a connection is open),
// and its directory is synced once when it is opened, so the file itself survives power
// loss. If the WAL cannot be opened the store stays at FULL and finish_commit() is a no-op.
//
// Failure: SQLite rolls back on some errors by itself and not on others, and either way the
// store can no longer say what the disk holds; so a failed apply or commit rolls back what is
// staged and becomes the sticky error (LevelDB's bg_error), refusing later writes until the
// process reopens the database. Reads keep working.

#include "store/sqlite_store.h"

#include <sqlite3.h>


#include <filesystem>
#include <limits>
#include <system_error>
#include <utility>

#include "core/hash.h"
#include "core/types.h"
#include "store/sqlite_checkpointer.h"  // the destructor ends it
#include "store/sqlite_schema.h"
#include "store/sqlite_statement.h"

namespace vigil::store {
namespace {

using sqlite::from_ordered_int64;
using sqlite::sqlite_status;
using sqlite::Statement;
using sqlite::step_done;
using sqlite::to_ordered_int64;
using sqlite::Use;

std::int64_t sql_limit(std::size_t limit) {
  constexpr auto max = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(limit < max ? limit : max);
}

std::int64_t sql_checksum(std::string_view blob) {
  return static_cast<std::int64_t>(core::xxhash64(blob));
}

Status checksum_mismatch(std::string what) {
  return core::error(core::Code::corruption, "checksum mismatch in " + std::move(what));
}

// Columns: token, key, state, checksum. A checksum mismatch marks the record (scan_checked)
// instead of failing the page, and drops its bytes.
Result<ScannedRecord> scanned_key_row(const Use& row) {
  ScannedRecord scanned{KeyRecord{row.bytes(1), from_ordered_int64(row.integer(0)), row.bytes(2)},
                        false};
  if (sql_checksum(scanned.record.state) != row.integer(3)) {
    scanned.corrupt = true;
    scanned.record.state.clear();
  }
  return scanned;
}

constexpr const char* hint_columns =
    "id, target, key, created_us, expires_us, attempts, state, checksum";

Result<HintRecord> hint_row(const Use& row) {
  HintRecord hint;
  hint.id = from_ordered_int64(row.integer(0));
  hint.target = row.bytes(1);
  hint.key = row.bytes(2);
  hint.created_us = row.integer(3);
  hint.expires_us = row.integer(4);
  hint.attempts = static_cast<std::uint32_t>(row.integer(5));
  hint.state = row.bytes(6);
  if (sql_checksum(hint.state) != row.integer(7)) {
    return checksum_mismatch("hint " + std::to_string(hint.id));
  }
  return hint;
}

// Steps `use` to the end, appending each row that `parse` accepts; stops at `limit`.
template <typename Record, typename Parse>
Status collect(sqlite3* db, Use& use, std::size_t limit, std::vector<Record>& out, Parse parse,
               std::string_view what) {
  while (out.size() < limit) {
    const int rc = use.step();
    if (rc == SQLITE_DONE) return Status::ok_status();
    if (rc != SQLITE_ROW) return sqlite_status(db, rc, what);
    Result<Record> record = parse(use);
    if (!record) return record.status();
    out.push_back(std::move(record).value());
  }
  return Status::ok_status();
}

Result<std::uint64_t> count(sqlite3* db, const Statement& statement, std::string_view what) {
  Use use(statement);
  const int rc = use.step();
  if (rc != SQLITE_ROW) return sqlite_status(db, rc, what);
  return static_cast<std::uint64_t>(use.integer(0));
}


}  // namespace


SqliteStore::SqliteStore(std::string path, sqlite3* db)
    : path_(std::move(path)), db_(db), statements_(std::make_unique<Statements>()) {}

SqliteStore::~SqliteStore() {
  if (in_transaction_ && sqlite3_get_autocommit(db_) == 0) {
    Use rollback(statements_->rollback);
    (void)rollback.step();  // nothing to report to: the next open sees the last commit
  }
  statements_.reset();  // finalize before close
  checkpointer_.reset();  // its connection first: the last to close checkpoints the WAL
  sqlite3_close_v2(db_);
  if (wal_fd_ >= 0) ::close(wal_fd_);
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code error;
    std::filesystem::create_directories(parent, error);
    if (error) {
      return core::error(core::Code::io_error,
                         "cannot create directory '" + parent.string() + "': " + error.message());
    }
  }
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status status = sqlite_status(db, rc, "open '" + path + "'");
    sqlite3_close_v2(db);  // a handle is returned even on failure
    return status;
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, db));
  sqlite3_extended_result_codes(db, 1);
  if (Status status = sqlite::configure_connection(db); !status.ok()) return status;
  if (Status status = sqlite::migrate(db, sqlite::migrations()); !status.ok()) return status;
  if (Status status = store->prepare(); !status.ok()) return status;
  if (Status status = store->open_wal_for_sync(); !status.ok()) return status;
  return store;
}

Status SqliteStore::prepare() {
  const std::string select_hints = std::string("SELECT ") + hint_columns + " FROM hints ";
  const std::string put_hint = std::string("INSERT OR REPLACE INTO hints (") + hint_columns +
                               ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
  const std::pair<Statement*, std::string> all[] = {
      {&statements_->begin, "BEGIN IMMEDIATE"},
      {&statements_->commit, "COMMIT"},
      {&statements_->rollback, "ROLLBACK"},
      {&statements_->key_get, "SELECT state, checksum FROM keys WHERE token = ?1 AND key = ?2"},
      {&statements_->key_put,
       "INSERT OR REPLACE INTO keys (token, key, state, checksum) VALUES (?1, ?2, ?3, ?4)"},
      {&statements_->key_erase, "DELETE FROM keys WHERE token = ?1 AND key = ?2"},
      {&statements_->key_scan,
       "SELECT token, key, state, checksum FROM keys WHERE (token, key) >= (?1, ?2) AND "
       "token <= ?3 ORDER BY token, key LIMIT ?4"},
      {&statements_->key_count, "SELECT count(*) FROM keys"},
      {&statements_->hint_put, put_hint},
      {&statements_->hint_erase, "DELETE FROM hints WHERE id = ?1"},
      {&statements_->hints_for, select_hints + "WHERE target = ?1 ORDER BY id LIMIT ?2"},
      {&statements_->hints_after, select_hints + "WHERE id > ?1 ORDER BY id LIMIT ?2"},
      {&statements_->hint_count, "SELECT count(*) FROM hints"},
      {&statements_->meta_get, "SELECT value, checksum FROM meta WHERE name = ?1"},
      {&statements_->meta_put,
       "INSERT OR REPLACE INTO meta (name, value, checksum) VALUES "
       "(?1, ?2, ?3)"},
  };
  for (const auto& [statement, sql] : all) {
    if (Status status = statement->prepare(db_, sql.c_str()); !status.ok()) return status;
  }
  return Status::ok_status();
}

Result<std::optional<KeyRecord>> SqliteStore::get(std::string_view key) {
  const Token token = core::token_of_key(key);
  Use use(statements_->key_get);
  use.bind(1, to_ordered_int64(token)).bind(2, key);
  const int rc = use.step();
  if (rc == SQLITE_DONE) return std::optional<KeyRecord>{};
  if (rc != SQLITE_ROW) return sqlite_status(db_, rc, "get key '" + describe_key(key) + "'");
  std::string state = use.bytes(0);
  if (sql_checksum(state) != use.integer(1)) {
    return checksum_mismatch("key '" + describe_key(key) + "'");
  }
  return std::optional<KeyRecord>{KeyRecord{std::string(key), token, std::move(state)}};
}

Result<std::vector<ScannedRecord>> SqliteStore::scan_checked(
    TokenRange range, std::size_t limit, const std::optional<KeyRecord>& after) {
  Result<std::vector<ScanSpan>> spans = scan_spans(range, after);
  if (!spans) return spans.status();
  std::vector<ScannedRecord> records;
  for (const ScanSpan& span : *spans) {
    if (records.size() >= limit) break;
    Use use(statements_->key_scan);
    use.bind(1, to_ordered_int64(span.first_token))
        .bind(2, span.first_key)
        .bind(3, to_ordered_int64(span.last_token))
        .bind(4, sql_limit(limit - records.size()));
    if (Status status = collect(db_, use, limit, records, scanned_key_row, "scan");
        !status.ok()) {
      return status;
    }
  }
  return records;
}

Result<std::uint64_t> SqliteStore::key_count() {
  return count(db_, statements_->key_count, "count keys");
}

Result<std::vector<HintRecord>> SqliteStore::hints_for(const NodeId& target, std::size_t limit) {
  std::vector<HintRecord> hints;
  Use use(statements_->hints_for);
  use.bind_text(1, target).bind(2, sql_limit(limit));
  if (Status status = collect(db_, use, limit, hints, hint_row, "hints for target"); !status.ok()) {
    return status;
  }
  return hints;
}

Result<std::vector<HintRecord>> SqliteStore::hints_after(std::uint64_t after_id,
                                                         std::size_t limit) {
  std::vector<HintRecord> hints;
  Use use(statements_->hints_after);
  use.bind(1, to_ordered_int64(after_id)).bind(2, sql_limit(limit));
  if (Status status = collect(db_, use, limit, hints, hint_row, "hints after id"); !status.ok()) {
    return status;
  }
  return hints;
}

Result<std::uint64_t> SqliteStore::hint_count() {
  return count(db_, statements_->hint_count, "count hints");
}

Result<std::optional<std::string>> SqliteStore::get_meta(std::string_view name) {
  Use use(statements_->meta_get);
  use.bind(1, name);
  const int rc = use.step();
  if (rc == SQLITE_DONE) return std::optional<std::string>{};
  if (rc != SQLITE_ROW) return sqlite_status(db_, rc, "get meta '" + describe_key(name) + "'");
  std::string value = use.bytes(0);
  if (sql_checksum(value) != use.integer(1)) {
    return checksum_mismatch("meta '" + describe_key(name) + "'");
  }
  return std::optional<std::string>{std::move(value)};
}

Status SqliteStore::apply(const WriteBatch& batch) {
  if (Status status = sticky(); !status.ok()) return status;
  if (Status status = validate_batch(batch); !status.ok()) return status;
  if (batch.empty()) return Status::ok_status();
  if (!in_transaction_) {
    // Nothing is staged yet, so a refused BEGIN (another writer) loses nothing: not sticky.
    Use begin(statements_->begin);
    if (Status status = step_done(db_, begin, "begin"); !status.ok()) return status;
    in_transaction_ = true;
  }
  if (Status status = stage(batch); !status.ok()) return fail(std::move(status));
  return Status::ok_status();
}

Status SqliteStore::stage(const WriteBatch& batch) {
  if (Status status = stage_keys(batch); !status.ok()) return status;
  return stage_hints_and_meta(batch);
}

Status SqliteStore::stage_keys(const WriteBatch& batch) {
  for (const KeyRecord& record : batch.key_puts) {
    Use use(statements_->key_put);
    use.bind(1, to_ordered_int64(core::token_of_key(record.key)))
        .bind(2, record.key)
        .bind(3, record.state)
        .bind(4, sql_checksum(record.state));
    if (Status status = step_done(db_, use, "put key"); !status.ok()) return status;
  }
  for (const Key& key : batch.key_erases) {
    Use use(statements_->key_erase);
    use.bind(1, to_ordered_int64(core::token_of_key(key))).bind(2, key);
    if (Status status = step_done(db_, use, "erase key"); !status.ok()) return status;
  }
  return Status::ok_status();
}

Status SqliteStore::stage_hints_and_meta(const WriteBatch& batch) {
  for (const HintRecord& hint : batch.hint_puts) {
    Use use(statements_->hint_put);
    use.bind(1, to_ordered_int64(hint.id))
        .bind_text(2, hint.target)
        .bind(3, hint.key)
        .bind(4, hint.created_us)
        .bind(5, hint.expires_us)
        .bind(6, static_cast<std::int64_t>(hint.attempts))
        .bind(7, hint.state)
        .bind(8, sql_checksum(hint.state));
    if (Status status = step_done(db_, use, "put hint"); !status.ok()) return status;
  }
  for (const std::uint64_t id : batch.hint_erases) {
    Use use(statements_->hint_erase);
    use.bind(1, to_ordered_int64(id));
    if (Status status = step_done(db_, use, "erase hint"); !status.ok()) return status;
  }
  for (const auto& [name, value] : batch.meta_puts) {
    Use use(statements_->meta_put);
    use.bind(1, name).bind(2, value).bind(3, sql_checksum(value));
    if (Status status = step_done(db_, use, "put meta"); !status.ok()) return status;
  }
  return Status::ok_status();
}


}  // namespace vigil::store
