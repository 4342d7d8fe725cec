#pragma once
// Driving Debian's redis-benchmark and redis-server for `vigil bench cluster`: find the
// programs, run one to completion with a deadline, and read redis-benchmark's --csv output.

#include <chrono>
#include <string>
#include <vector>

#include "core/status.h"

namespace vigil::cli {

// One row of `redis-benchmark --csv` (7.x): "test","rps","avg_latency_ms","min_latency_ms",
// "p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms".
struct BenchmarkRow {
  std::string test;  // "SET", "GET"
  double requests_per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

// Every row of the CSV text. invalid_argument naming the line when the header lacks one of
// test/rps/p50_latency_ms/p99_latency_ms, a row has the wrong number of fields or a number
// does not parse, or there is no row; a line that is not CSV (redis-benchmark prints
// "Error from server: ..." on stdout, and exits 1) is an error quoting it: a run that saw
// errors has no figure.
core::Result<std::vector<BenchmarkRow>> parse_redis_benchmark_csv(const std::string& text);

// The server errors redis-benchmark reported ("Error from server: MESSAGE" lines, on
// either stream; it stops at the first one): the MESSAGEs, in order.
std::vector<std::string> redis_benchmark_errors(const std::string& output);
// Whether a server error is one a cluster may answer while a node is down: -UNAVAILABLE or
// -TIMEOUT (W or R not reached). Anything else during a node kill is a defect.
bool is_quorum_error(const std::string& message);

// The absolute path of `name` found in $PATH; not_found "NAME not found in PATH (HINT)".
core::Result<std::string> find_program(const std::string& name, const std::string& hint);

struct CapturedRun {
  int exit_code = -1;  // -1: killed at the deadline or by a signal
  std::string out;
  std::string err;
};
// Runs argv (argv[0] absolute) with stdin from /dev/null, collecting its output (each
// stream up to 16MB, the rest dropped); SIGKILL at `timeout`, reported as timeout.
core::Result<CapturedRun> run_captured(const std::vector<std::string>& argv,
                                       std::chrono::milliseconds timeout);

}  // namespace vigil::cli
