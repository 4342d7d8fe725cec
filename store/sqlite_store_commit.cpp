// SqliteStore's commit, in the two halves of a pipelined group commit (store.h), and its
// failure path. The theory of operation is in sqlite_store.cpp ("Pipelined commit").

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "store/sqlite_checkpointer.h"
#include "store/sqlite_schema.h"
#include "store/sqlite_statement.h"
#include "store/sqlite_store.h"

namespace vigil::store {
namespace {

using sqlite::step_done;
using sqlite::Use;

// A PASSIVE checkpoint after every 64th synced commit: at a few hundred commits a second
// the WAL stays within a few MB (a commit of a busy batch appends ~100 pages).
constexpr std::uint64_t checkpoint_every_syncs = 64;

}  // namespace

Status SqliteStore::begin_commit() {
  if (Status status = sticky(); !status.ok()) return status;
  if (!in_transaction_) return Status::ok_status();
  Status status;
  {
    Use use(statements_->commit);
    status = step_done(db_, use, "commit");
  }  // reset before a rollback
  if (!status.ok()) return fail(std::move(status));
  in_transaction_ = false;
  return Status::ok_status();
}

Status SqliteStore::finish_commit() {
  if (wal_fd_ < 0) return Status::ok_status();  // COMMIT synced (synchronous=FULL)
  if (::fdatasync(wal_fd_) != 0) {
    const int code = errno;
    sync_failed_.store(true, std::memory_order_release);
    return core::error(core::Code::io_error,
                       "fdatasync of '" + path_ + "-wal': " + std::strerror(code));
  }
  checkpointer_->after_sync();
  return Status::ok_status();
}

Status SqliteStore::sticky() const {
  if (!sticky_error_.ok()) return sticky_error_;
  if (sync_failed_.load(std::memory_order_acquire)) {
    return core::error(core::Code::io_error, "an earlier fdatasync of the WAL failed");
  }
  return Status::ok_status();
}

Status SqliteStore::open_wal_for_sync() {
  const std::string wal = path_ + "-wal";
  const int fd = ::open(wal.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Status::ok_status();  // stays at FULL: SQLite syncs inside COMMIT
  std::filesystem::path parent = std::filesystem::path(path_).parent_path();
  if (parent.empty()) parent = ".";
  const int dir = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const bool dir_synced = dir >= 0 && ::fsync(dir) == 0;
  if (dir >= 0) ::close(dir);
  if (!dir_synced) {
    ::close(fd);
    return Status::ok_status();
  }
  auto checkpointer = SqliteCheckpointer::open(path_, checkpoint_every_syncs);
  if (!checkpointer.ok()) {
    ::close(fd);
    return checkpointer.status();
  }
  // NORMAL: COMMIT no longer syncs (finish_commit does). No automatic checkpoint: it would
  // run inside COMMIT, on the loop (store/sqlite_checkpointer.h).
  for (const char* pragma : {"PRAGMA synchronous = NORMAL", "PRAGMA wal_autocheckpoint = 0"}) {
    if (Status status = sqlite::exec(db_, pragma); !status.ok()) {
      ::close(fd);
      return status;
    }
  }
  checkpointer_ = std::move(checkpointer).value();
  wal_fd_ = fd;
  return Status::ok_status();
}

std::uint64_t SqliteStore::checkpoints() const {
  return checkpointer_ ? checkpointer_->checkpoints() : 0;
}

std::uint64_t SqliteStore::checkpoint_failures() const {
  return checkpointer_ ? checkpointer_->failures() : 0;
}

Status SqliteStore::fail(Status failure) {
  if (sqlite3_get_autocommit(db_) == 0) {
    Use rollback(statements_->rollback);
    (void)rollback.step();  // best effort: the first failure is the one to report
  }
  in_transaction_ = false;
  sticky_error_ = std::move(failure);
  return sticky_error_;
}

}  // namespace vigil::store
