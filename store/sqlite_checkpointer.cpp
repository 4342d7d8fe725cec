#include "store/sqlite_checkpointer.h"

#include <sqlite3.h>

#include "store/sqlite_schema.h"

namespace vigil::store {

core::Result<std::unique_ptr<SqliteCheckpointer>> SqliteCheckpointer::open(
    const std::string& path, std::uint64_t every) {
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    core::Status status = sqlite::sqlite_status(db, rc, "open '" + path + "' to checkpoint");
    sqlite3_close_v2(db);
    return status;
  }
  std::unique_ptr<SqliteCheckpointer> checkpointer(new SqliteCheckpointer(db, every));
  // NORMAL: a checkpoint syncs the WAL before it copies and the database after.
  if (core::Status status = sqlite::exec(db, "PRAGMA synchronous = NORMAL"); !status.ok()) {
    return status;
  }
  // The writer holds the write lock for whole batches: a checkpoint that meets a lock
  // gives up at once (PASSIVE) rather than stalling a commit thread.
  sqlite3_busy_timeout(db, 0);
  return checkpointer;
}

SqliteCheckpointer::~SqliteCheckpointer() {
  sqlite3_close_v2(db_);
}

void SqliteCheckpointer::after_sync() {
  if (syncs_.fetch_add(1, std::memory_order_relaxed) + 1 < every_) return;
  std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return;  // another thread is at it
  syncs_.store(0, std::memory_order_relaxed);
  int log_frames = 0;
  int checkpointed = 0;
  const int rc = sqlite3_wal_checkpoint_v2(db_, "main", SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                           &checkpointed);
  if (rc == SQLITE_OK) {
    checkpoints_.fetch_add(1, std::memory_order_relaxed);
  } else {
    failures_.fetch_add(1, std::memory_order_relaxed);  // the WAL grows until the next one
  }
}

}  // namespace vigil::store
