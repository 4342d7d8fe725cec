#pragma once
// `vigil client bench`: load through vigil::Client, token-aware over every node of a
// cluster, for comparison with redis-benchmark against one node (docs/client-library.md,
// "Benchmark"). C threads each own one Client (so one connection per node per thread) and
// share N requests of one command (SET or GET) over K keys; every request is timed.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "client/client.h"

namespace vigil::cli {

struct ClientBenchOptions {
  ClientOptions client;
  std::uint32_t connections = 50;  // C: threads, each with its own Client
  std::uint64_t requests = 100'000;  // N per command
  std::uint64_t keys = 100'000;      // the keyspace: key:0 .. key:K-1
  std::uint32_t value_bytes = 100;
  std::vector<std::string> commands = {"set", "get"};
};

// Bounds (rule 7): what `vigil client bench` accepts.
inline constexpr std::uint32_t client_bench_connections_max = 1024;
inline constexpr std::uint64_t client_bench_requests_max = 100'000'000;
inline constexpr std::uint32_t client_bench_value_bytes_max = 1 << 20;

struct ClientBenchRow {
  std::string command;  // "SET", "GET"
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;  // requests that ended in a ClientError
  double seconds = 0;
  double requests_per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
  std::uint64_t retries = 0;
  double token_aware_fraction = 0;  // attempts sent to a preference-list node
  std::string first_error;          // the first ClientError's text, if any
};

// Runs each command in turn. Throws ClientError when the clients cannot start (no seed
// answers VRING).
std::vector<ClientBenchRow> run_client_bench(const ClientBenchOptions& options);

std::string format_client_bench_row(const ClientBenchRow& row, std::uint32_t connections);

}  // namespace vigil::cli
