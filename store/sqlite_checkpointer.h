#pragma once
// Checkpoints of SqliteStore's WAL, off the event loop. SQLite's automatic checkpoint runs
// inside the COMMIT that crosses wal_autocheckpoint, on the committing connection: an fsync
// of the WAL, a copy into the database and an fsync of the database, all on the node's
// only loop thread, every few hundred commits (the profile of a SET load showed the loop
// stalled there). So SqliteStore turns it off and the commit threads do it instead: after
// every `every`th synced commit, one of them runs a PASSIVE checkpoint on a connection of
// its own. PASSIVE never waits for the writer (WAL mode lets one checkpointer run beside
// one writer); the checkpointing connection syncs the WAL before and the database after
// (synchronous=NORMAL), so nothing durable depends on it: a failed or skipped checkpoint
// only lets the WAL grow until the next one, and is counted.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "core/status.h"

struct sqlite3;

namespace vigil::store {

class SqliteCheckpointer {
 public:
  // Opens its own connection to the database at `path`. io_error when it cannot.
  static core::Result<std::unique_ptr<SqliteCheckpointer>> open(const std::string& path,
                                                                std::uint64_t every);
  ~SqliteCheckpointer();
  SqliteCheckpointer(const SqliteCheckpointer&) = delete;
  SqliteCheckpointer& operator=(const SqliteCheckpointer&) = delete;

  // Called by a commit thread after a successful sync; thread-safe. Checkpoints when this
  // is the `every`th call since the last checkpoint and no other thread is checkpointing.
  void after_sync();

  std::uint64_t checkpoints() const { return checkpoints_.load(std::memory_order_relaxed); }
  std::uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }

 private:
  SqliteCheckpointer(sqlite3* db, std::uint64_t every) : db_(db), every_(every) {}

  sqlite3* db_;
  const std::uint64_t every_;
  std::mutex mutex_;  // one checkpoint at a time on db_
  std::atomic<std::uint64_t> syncs_{0};
  std::atomic<std::uint64_t> checkpoints_{0};
  std::atomic<std::uint64_t> failures_{0};
};

}  // namespace vigil::store
