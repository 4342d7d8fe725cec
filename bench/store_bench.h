#pragma once
// `vigil bench store`: committed puts per second through SqliteStore with group commit,
// beside the rate of plain batched SQLite inserts of the same rows measured in the same run
// (same schema, same PRAGMAs, same batch size, one prepared statement, one transaction per
// batch). The ratio store/raw is the figure that travels between machines; absolute rates
// are the disk's.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace vigil::bench {

struct StoreBenchOptions {
  std::uint64_t rows = 50000;
  std::uint64_t batch = 100;        // puts per commit
  std::uint64_t value_bytes = 100;  // size of each state blob
  std::uint32_t rounds = 3;         // raw and store alternate; each keeps its best round
  std::string dir;                  // where the per-run temp directory goes; empty: system temp
};

inline constexpr std::uint64_t store_bench_rows_max = 100'000'000;
inline constexpr std::uint64_t store_bench_value_bytes_max = 1024 * 1024;
inline constexpr std::uint32_t store_bench_rounds_max = 100;

struct StoreBenchResult {
  StoreBenchOptions options;
  std::vector<double> store_round_seconds;  // every round, in order: the spread is the noise
  std::vector<double> raw_round_seconds;
  double store_seconds = 0;  // best round
  double raw_seconds = 0;    // best round
  double store_puts_per_second = 0;
  double raw_puts_per_second = 0;
  double ratio = 0;  // store / raw
  std::string sqlite_version;
};

// Runs the benchmark in a fresh directory under options.dir and removes it afterwards.
// invalid_argument for options out of bounds (rows, batch or rounds 0, over the maxima above);
// io_error / corruption when SQLite or the file system fails.
core::Result<StoreBenchResult> run_store_bench(const StoreBenchOptions& options);

std::string store_bench_text(const StoreBenchResult& result);
std::string store_bench_json(const StoreBenchResult& result);

}  // namespace vigil::bench
