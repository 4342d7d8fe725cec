#pragma once
// The production store: the Store contract on one SQLite database file in WAL mode, with
// commit() returning only once the batch is on disk (fsync of the WAL), so a node
// acknowledges only what survives power loss. Pipelined commit: begin_commit() is SQLite's
// COMMIT without its fsync, finish_commit() is the fsync of the WAL, which may run on
// another thread (the theory of operation in sqlite_store.cpp says why that equals
// synchronous=FULL). Everything else is used from one thread.

#include <atomic>
#include <memory>
#include <string>

#include "store/store.h"

struct sqlite3;

namespace vigil::store {
class SqliteCheckpointer;
}

namespace vigil::store {

class SqliteStore final : public Store {
 public:
  // Opens the database file at `path`, creating it and its parent directories when absent,
  // and migrates its schema to this binary's version (store/sqlite_schema.h).
  // io_error when the file cannot be created or opened; corruption when it is not a
  // database or SQLite finds it damaged; failed_precondition when its schema version is
  // newer than this binary knows. Messages carry SQLite's.
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path);

  // Closes the database. Changes staged and not committed are rolled back: the same as a
  // crash, the next open sees only committed batches.
  ~SqliteStore() override;

  Result<std::optional<KeyRecord>> get(std::string_view key) override;
  Result<std::vector<ScannedRecord>> scan_checked(TokenRange range, std::size_t limit,
                                                  const std::optional<KeyRecord>& after) override;
  Result<std::uint64_t> key_count() override;  // O(keys): SQLite counts
  Result<std::vector<HintRecord>> hints_for(const NodeId& target, std::size_t limit) override;
  Result<std::vector<HintRecord>> hints_after(std::uint64_t after_id, std::size_t limit) override;
  Result<std::uint64_t> hint_count() override;
  Result<std::optional<std::string>> get_meta(std::string_view name) override;
  // Stages inside one open transaction, begun by the first apply after a commit. An SQLite
  // failure part way through a batch rolls back everything staged (nothing of it was
  // acknowledged) and becomes the sticky error, as a failed commit does.
  Status apply(const WriteBatch& batch) override;
  // COMMIT of the open transaction (no fsync when the WAL could be synced separately).
  Status begin_commit() override;
  // fdatasync of the WAL: safe to call on another thread while the owning thread applies
  // and reads (it touches no SQLite state, only the WAL's file descriptor). An error is
  // sticky: the owning thread's next apply or commit reports it.
  Status finish_commit() override;
  bool has_uncommitted() const override { return in_transaction_; }
  // True when commits are split (the WAL is synced by finish_commit); false when SQLite
  // syncs inside COMMIT (synchronous=FULL), when the WAL file could not be opened.
  bool split_commit() const { return wal_fd_ >= 0; }
  // WAL checkpoints run on the commit threads, and those that failed (split commits only).
  std::uint64_t checkpoints() const;
  std::uint64_t checkpoint_failures() const;

  const std::string& path() const { return path_; }

 private:
  struct Statements;
  SqliteStore(std::string path, sqlite3* db);

  Status prepare();
  Status stage(const WriteBatch& batch);
  Status stage_keys(const WriteBatch& batch);
  Status stage_hints_and_meta(const WriteBatch& batch);
  // Makes `failure` the sticky error after rolling back what is staged; returns it.
  Status fail(Status failure);
  // Switches to split commits: opens the WAL file and syncs its directory once.
  Status open_wal_for_sync();
  // The sticky error, including a failed finish_commit() on the sync thread.
  Status sticky() const;

  std::string path_;
  sqlite3* db_ = nullptr;
  std::unique_ptr<Statements> statements_;
  bool in_transaction_ = false;
  Status sticky_error_;
  int wal_fd_ = -1;  // the WAL file, for finish_commit's fdatasync; -1: SQLite syncs itself
  // Set by finish_commit() on the sync thread, read by the owning thread.
  std::atomic<bool> sync_failed_{false};
  // Checkpoints the WAL on the commit threads (split commits only; null otherwise).
  std::unique_ptr<SqliteCheckpointer> checkpointer_;
};

}  // namespace vigil::store
