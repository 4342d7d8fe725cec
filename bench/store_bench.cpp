// The store benchmark: theory of operation.
//
// What it answers: how much of SQLite's own batched-insert rate survives the store's
// layers (batch validation, SHA-256 token and xxhash64 checksum per record, the Store
// interface, statement caching). Both sides write the same pre-generated rows into a fresh
// database with the same schema (the store's own migrations) and PRAGMAs (the store's own
// configure_connection: WAL, synchronous=FULL), B rows per transaction, so both pay one WAL
// fsync per batch. The raw side's token and checksum are computed before its clock starts:
// it is SQLite's ceiling, and everything the store does beyond it counts against the store.
//
// Rounds alternate raw and store (and which of them goes first) so that drift in the disk's
// speed hits both; each side keeps its best round (the least disturbed by the rest of the
// machine). On a real disk the fsync per batch and the random B-tree page writes (tokens are
// hashes) dominate both sides; on tmpfs (--dir /dev/shm) fsync is free and the ratio shows
// the store's CPU overhead alone.

#include "bench/store_bench.h"
#include "bench/run_directory.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <system_error>
#include <vector>

#include "core/hash.h"
#include "core/random.h"
#include "core/types.h"
#include "store/sqlite_schema.h"
#include "store/sqlite_store.h"

namespace vigil::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Row {
  std::string key;
  std::string state;
  std::int64_t token = 0;     // ordered, as stored
  std::int64_t checksum = 0;  // as stored
};

std::vector<Row> make_rows(const StoreBenchOptions& options) {
  core::Random random(0x5647'0001);
  std::vector<Row> rows(options.rows);
  for (std::uint64_t i = 0; i < options.rows; ++i) {
    Row& row = rows[i];
    row.key = fmt::format("bench-key-{:012}", i);
    row.state.resize(options.value_bytes);
    for (char& byte : row.state) byte = static_cast<char>(random.next_u64() & 0xff);
    row.token = store::sqlite::to_ordered_int64(core::token_of_key(row.key));
    row.checksum = static_cast<std::int64_t>(core::xxhash64(row.state));
  }
  return rows;
}

core::Status check(sqlite3* db, int rc, int expected, const char* what) {
  return rc == expected ? core::Status{} : store::sqlite::sqlite_status(db, rc, what);
}

struct RawConnection {
  sqlite3* db = nullptr;
  sqlite3_stmt* begin = nullptr;
  sqlite3_stmt* commit = nullptr;
  sqlite3_stmt* insert = nullptr;
  ~RawConnection() {
    sqlite3_finalize(begin);
    sqlite3_finalize(commit);
    sqlite3_finalize(insert);
    sqlite3_close_v2(db);
  }
};

core::Status open_raw(const std::string& path, RawConnection& raw) {
  // The flags SqliteStore::open uses.
  int rc =
      sqlite3_open_v2(path.c_str(), &raw.db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) return store::sqlite::sqlite_status(raw.db, rc, "open raw");
  if (core::Status s = store::sqlite::configure_connection(raw.db); !s.ok()) return s;
  if (core::Status s = store::sqlite::migrate(raw.db, store::sqlite::migrations()); !s.ok()) {
    return s;
  }
  const char* insert = "INSERT INTO keys (token, key, state, checksum) VALUES (?1, ?2, ?3, ?4)";
  for (auto [sql, statement] : {std::pair{"BEGIN IMMEDIATE", &raw.begin},
                                std::pair{"COMMIT", &raw.commit}, std::pair{insert, &raw.insert}}) {
    rc = sqlite3_prepare_v2(raw.db, sql, -1, statement, nullptr);
    if (rc != SQLITE_OK) return store::sqlite::sqlite_status(raw.db, rc, sql);
  }
  return core::Status{};
}

core::Status raw_insert(const RawConnection& raw, const Row& row) {
  sqlite3_bind_int64(raw.insert, 1, row.token);
  sqlite3_bind_blob64(raw.insert, 2, row.key.data(), row.key.size(), SQLITE_STATIC);
  sqlite3_bind_blob64(raw.insert, 3, row.state.data(), row.state.size(), SQLITE_STATIC);
  sqlite3_bind_int64(raw.insert, 4, row.checksum);
  const int rc = sqlite3_step(raw.insert);
  sqlite3_reset(raw.insert);
  return check(raw.db, rc, SQLITE_DONE, "raw insert");
}

core::Status raw_step(sqlite3* db, sqlite3_stmt* statement, const char* what) {
  const int rc = sqlite3_step(statement);
  sqlite3_reset(statement);
  return check(db, rc, SQLITE_DONE, what);
}

core::Result<double> run_raw(const std::string& path, const std::vector<Row>& rows,
                             std::uint64_t batch) {
  RawConnection raw;
  if (core::Status status = open_raw(path, raw); !status.ok()) return status;
  const Clock::time_point start = Clock::now();
  for (std::size_t first = 0; first < rows.size(); first += batch) {
    if (core::Status s = raw_step(raw.db, raw.begin, "raw begin"); !s.ok()) return s;
    const std::size_t last = std::min<std::size_t>(rows.size(), first + batch);
    for (std::size_t i = first; i < last; ++i) {
      if (core::Status s = raw_insert(raw, rows[i]); !s.ok()) return s;
    }
    if (core::Status s = raw_step(raw.db, raw.commit, "raw commit"); !s.ok()) return s;
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// One apply() per put, as a node stages one client write at a time, and one commit() per
// `batch` puts: group commit.
core::Result<double> run_store(const std::string& path, const std::vector<Row>& rows,
                               std::uint64_t batch) {
  core::Result<std::unique_ptr<store::SqliteStore>> opened = store::SqliteStore::open(path);
  if (!opened) return opened.status();
  store::SqliteStore& sqlite_store = **opened;
  const Clock::time_point start = Clock::now();
  for (std::size_t first = 0; first < rows.size(); first += batch) {
    const std::size_t last = std::min<std::size_t>(rows.size(), first + batch);
    for (std::size_t i = first; i < last; ++i) {
      store::WriteBatch write;
      write.key_puts.push_back({rows[i].key, 0, rows[i].state});
      if (core::Status s = sqlite_store.apply(write); !s.ok()) return s;
    }
    if (core::Status s = sqlite_store.commit(); !s.ok()) return s;
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

core::Status validate(const StoreBenchOptions& options) {
  if (options.rows == 0 || options.rows > store_bench_rows_max) {
    return core::error(core::Code::invalid_argument,
                       fmt::format("--rows must be in [1, {}]", store_bench_rows_max));
  }
  if (options.batch == 0 || options.batch > store_bench_rows_max) {
    return core::error(core::Code::invalid_argument,
                       fmt::format("--batch must be in [1, {}]", store_bench_rows_max));
  }
  if (options.value_bytes > store_bench_value_bytes_max) {
    return core::error(core::Code::invalid_argument, fmt::format("--value-bytes must be at most {}",
                                                                 store_bench_value_bytes_max));
  }
  if (options.rounds == 0 || options.rounds > store_bench_rounds_max) {
    return core::error(core::Code::invalid_argument,
                       fmt::format("--rounds must be in [1, {}]", store_bench_rounds_max));
  }
  return core::Status{};
}

}  // namespace

core::Result<StoreBenchResult> run_store_bench(const StoreBenchOptions& options) {
  if (core::Status status = validate(options); !status.ok()) return status;
  core::Result<std::unique_ptr<RunDirectory>> directory =
      RunDirectory::create(options.dir, "vigil-bench-store");
  if (!directory) return directory.status();
  const std::vector<Row> rows = make_rows(options);

  StoreBenchResult result;
  result.options = options;
  result.sqlite_version = sqlite3_libversion();
  for (std::uint32_t round = 0; round < options.rounds; ++round) {
    // A fresh database per side and round: every round inserts into an empty table. The
    // side that goes first alternates, so neither always meets the warmer (or fuller) disk.
    const std::string raw_path = (*directory)->file(fmt::format("raw-{}.db", round));
    const std::string store_path = (*directory)->file(fmt::format("store-{}.db", round));
    core::Result<double> raw = 0.0, stored = 0.0;
    if (round % 2 == 0) {
      raw = run_raw(raw_path, rows, options.batch);
      if (raw) stored = run_store(store_path, rows, options.batch);
    } else {
      stored = run_store(store_path, rows, options.batch);
      if (stored) raw = run_raw(raw_path, rows, options.batch);
    }
    if (!raw) return raw.status();
    if (!stored) return stored.status();
    result.raw_round_seconds.push_back(*raw);
    result.store_round_seconds.push_back(*stored);
    // Each round's files go before the next, so the disk fills the same way every round.
    std::error_code ignored;
    for (const std::string& path : {raw_path, store_path}) {
      for (const char* suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(path + suffix, ignored);
    }
  }
  result.raw_seconds =
      *std::min_element(result.raw_round_seconds.begin(), result.raw_round_seconds.end());
  result.store_seconds =
      *std::min_element(result.store_round_seconds.begin(), result.store_round_seconds.end());
  const auto count = static_cast<double>(options.rows);
  result.raw_puts_per_second = count / result.raw_seconds;
  result.store_puts_per_second = count / result.store_seconds;
  result.ratio = result.store_puts_per_second / result.raw_puts_per_second;
  return result;
}

std::string store_bench_text(const StoreBenchResult& result) {
  const StoreBenchOptions& o = result.options;
  return fmt::format(
      "store bench: {} rows, {} puts per commit, {}-byte values, best of {} rounds, "
      "SQLite {} (WAL, synchronous=FULL)\n"
      "  SqliteStore  {:>12.0f} committed puts/s  ({:.3f} s)\n"
      "  raw SQLite   {:>12.0f} inserts/s         ({:.3f} s)\n"
      "  store / raw  {:>12.1f} %\n"
      "  every round (s): store {:.3f}; raw {:.3f}\n",
      o.rows, o.batch, o.value_bytes, o.rounds, result.sqlite_version, result.store_puts_per_second,
      result.store_seconds, result.raw_puts_per_second, result.raw_seconds, 100.0 * result.ratio,
      fmt::join(result.store_round_seconds, " "), fmt::join(result.raw_round_seconds, " "));
}

std::string store_bench_json(const StoreBenchResult& result) {
  const StoreBenchOptions& o = result.options;
  const nlohmann::json json = {
      {"bench", "store"},
      {"rows", o.rows},
      {"batch", o.batch},
      {"value_bytes", o.value_bytes},
      {"rounds", o.rounds},
      {"sqlite_version", result.sqlite_version},
      {"store_puts_per_second", result.store_puts_per_second},
      {"raw_puts_per_second", result.raw_puts_per_second},
      {"store_seconds", result.store_seconds},
      {"raw_seconds", result.raw_seconds},
      {"ratio", result.ratio},
      {"store_round_seconds", result.store_round_seconds},
      {"raw_round_seconds", result.raw_round_seconds},
  };
  return json.dump();
}

}  // namespace vigil::bench
