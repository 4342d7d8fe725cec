#pragma once
// SqliteStore's on-disk schema and the framework that migrates it. Internal to store/ (and
// its tests); nothing else touches SQLite.
//
// The version a database is at lives in a one-row table `schema_version`. A binary knows
// migrations 1..N; opening a database at version v < N runs steps v+1..N in order, in one
// transaction with the version bump (all or nothing); a database at v > N was written by a
// newer binary and is refused with failed_precondition rather than misread.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"

struct sqlite3;

namespace vigil::store::sqlite {

struct Migration {
  int version = 0;       // the schema version this step produces
  std::string_view sql;  // one or more statements
};

// The schema this binary writes, in order. REQUIRES of any list given to migrate():
// versions are 1, 2, 3, ... in order.
std::span<const Migration> migrations();
inline constexpr int schema_version_current = 1;

// Brings `db` to the last version of `steps`. failed_precondition when the database is at
// a newer version; io_error / corruption (with SQLite's message) when SQLite fails, and
// then nothing changed.
core::Status migrate(sqlite3* db, std::span<const Migration> steps);
// 0 for a database without the version table (new).
core::Result<int> read_schema_version(sqlite3* db);

// The Status for SQLite result `rc` of `what` on `db` (db may be null): corruption for
// SQLITE_CORRUPT / SQLITE_NOTADB, io_error otherwise, with SQLite's message.
core::Status sqlite_status(sqlite3* db, int rc, std::string_view what);
// Runs SQL without results. ok or sqlite_status().
core::Status exec(sqlite3* db, std::string_view sql);
// The settings every connection gets: WAL journal, synchronous=FULL (a commit returns after
// the WAL is fsynced: durable before acknowledgement). bench/ gives its raw baseline the
// same, so the comparison is like for like.
core::Status configure_connection(sqlite3* db);

// Tokens and hint ids are unsigned 64-bit; SQLite integers are signed. Flipping the top bit
// maps one onto the other preserving order, so range scans can use the index.
constexpr std::int64_t to_ordered_int64(std::uint64_t value) {
  return static_cast<std::int64_t>(value ^ (std::uint64_t{1} << 63));
}
constexpr std::uint64_t from_ordered_int64(std::int64_t value) {
  return static_cast<std::uint64_t>(value) ^ (std::uint64_t{1} << 63);
}
static_assert(to_ordered_int64(0) < to_ordered_int64(1));
static_assert(to_ordered_int64(0x7fffffffffffffffULL) < to_ordered_int64(0x8000000000000000ULL));
static_assert(from_ordered_int64(to_ordered_int64(0xfedcba9876543210ULL)) == 0xfedcba9876543210ULL);

}  // namespace vigil::store::sqlite
