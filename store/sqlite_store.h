#pragma once
// The production store: the Store contract on one SQLite database file in WAL mode with
// synchronous=FULL, so commit() returns only once the batch is on disk (fsync of the WAL),
// and a node acknowledges only what survives power loss. One SqliteStore owns its
// connection and is used from one thread.

#include <memory>
#include <string>

#include "store/store.h"

struct sqlite3;

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
  Result<std::vector<KeyRecord>> scan(TokenRange range, std::size_t limit,
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
  Status commit() override;
  bool has_uncommitted() const override { return in_transaction_; }

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

  std::string path_;
  sqlite3* db_ = nullptr;
  std::unique_ptr<Statements> statements_;
  bool in_transaction_ = false;
  Status sticky_error_;
};

}  // namespace vigil::store
