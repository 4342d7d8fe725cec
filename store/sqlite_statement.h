#pragma once
// SqliteStore's prepared statements: prepared once at open, used many times (SQLite's
// advice for repeated statements). Private to store/ (sqlite_store.cpp and
// sqlite_store_commit.cpp share them).

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "store/sqlite_schema.h"
#include "store/sqlite_store.h"

namespace vigil::store::sqlite {

using core::Status;

class Statement {
 public:
  Statement() = default;
  ~Statement() { sqlite3_finalize(statement_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Status prepare(sqlite3* db, const char* sql) {
    const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement_, nullptr);
    if (rc != SQLITE_OK) return sqlite_status(db, rc, std::string("prepare: ") + sql);
    return Status::ok_status();
  }
  sqlite3_stmt* get() const { return statement_; }

 private:
  sqlite3_stmt* statement_ = nullptr;
};

// One use of a cached statement: bind, step, read columns; reset and unbind at scope end.
class Use {
 public:
  explicit Use(const Statement& statement) : statement_(statement.get()) {}
  ~Use() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

  Use& bind(int index, std::int64_t value) {
    keep_first(sqlite3_bind_int64(statement_, index, value));
    return *this;
  }
  Use& bind(int index, std::string_view bytes) {
    static constexpr char empty = 0;  // a null pointer would bind NULL, not an empty blob
    const char* data = bytes.empty() ? &empty : bytes.data();
    keep_first(sqlite3_bind_blob64(statement_, index, data, bytes.size(), SQLITE_STATIC));
    return *this;
  }
  Use& bind_text(int index, std::string_view text) {
    keep_first(sqlite3_bind_text64(statement_, index, text.empty() ? "" : text.data(), text.size(),
                                   SQLITE_STATIC, SQLITE_UTF8));
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error (a failed bind included).
  int step() { return bind_rc_ != SQLITE_OK ? bind_rc_ : sqlite3_step(statement_); }

  std::int64_t integer(int column) const { return sqlite3_column_int64(statement_, column); }
  std::string bytes(int column) const {
    const void* data = sqlite3_column_blob(statement_, column);
    const int size = sqlite3_column_bytes(statement_, column);
    if (data == nullptr || size <= 0) return {};
    return std::string(static_cast<const char*>(data), static_cast<std::size_t>(size));
  }

 private:
  void keep_first(int rc) {
    if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  }
  sqlite3_stmt* statement_;
  int bind_rc_ = SQLITE_OK;
};

inline Status step_done(sqlite3* db, Use& use, std::string_view what) {
  const int rc = use.step();
  return rc == SQLITE_DONE ? Status::ok_status() : sqlite_status(db, rc, what);
}

}  // namespace vigil::store::sqlite

namespace vigil::store {

struct SqliteStore::Statements {
  sqlite::Statement begin, commit, rollback;
  sqlite::Statement key_get, key_put, key_erase, key_scan, key_count;
  sqlite::Statement hint_put, hint_erase, hints_for, hints_after, hint_count;
  sqlite::Statement meta_get, meta_put;
};

}  // namespace vigil::store
