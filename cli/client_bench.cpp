// `vigil client bench` (client_bench.h). Each phase starts its C threads together behind a
// barrier, so the clock measures only the requests; latencies are kept per thread and
// merged after, so no lock is taken on the request path.

#include "cli/client_bench.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

namespace vigil::cli {

namespace {

using Clock = std::chrono::steady_clock;

struct Worker {
  std::unique_ptr<Client> client;
  std::vector<double> latencies_ms;
  std::uint64_t errors = 0;
  std::string first_error;
};

double percentile(const std::vector<double>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  const auto index = static_cast<std::size_t>(fraction * static_cast<double>(sorted.size() - 1));
  return sorted[index];
}

void run_requests(Worker& worker, const ClientBenchOptions& options, const std::string& command,
                  std::atomic<std::uint64_t>& next, const std::string& value) {
  for (;;) {
    const std::uint64_t i = next.fetch_add(1);
    if (i >= options.requests) return;
    const std::string key = "key:" + std::to_string(i % options.keys);
    const auto start = Clock::now();
    try {
      if (command == "set") {
        worker.client->set(key, value);
      } else {
        (void)worker.client->get(key);
      }
    } catch (const ClientError& error) {
      if (worker.errors++ == 0) worker.first_error = error.what();
    }
    const std::chrono::duration<double, std::milli> elapsed = Clock::now() - start;
    worker.latencies_ms.push_back(elapsed.count());
  }
}

}  // namespace

std::vector<ClientBenchRow> run_client_bench(const ClientBenchOptions& options) {
  std::vector<Worker> workers(options.connections);
  for (Worker& worker : workers) worker.client = std::make_unique<Client>(options.client);
  const std::string value(options.value_bytes, 'x');
  std::vector<ClientBenchRow> rows;
  for (const std::string& command : options.commands) {
    ClientStats before;
    for (Worker& worker : workers) {
      worker.latencies_ms.clear();
      worker.latencies_ms.reserve(options.requests / options.connections + 1);
      worker.errors = 0;
      worker.first_error.clear();
      const ClientStats stats = worker.client->stats();
      before.attempts += stats.attempts;
      before.retries += stats.retries;
      before.token_aware += stats.token_aware;
    }
    std::atomic<std::uint64_t> next{0};
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (Worker& worker : workers) {
      threads.emplace_back([&, command] { run_requests(worker, options, command, next, value); });
    }
    for (std::thread& thread : threads) thread.join();
    const std::chrono::duration<double> elapsed = Clock::now() - start;

    ClientBenchRow row;
    row.command = command == "set" ? "SET" : "GET";
    std::vector<double> latencies;
    ClientStats after;
    for (Worker& worker : workers) {
      latencies.insert(latencies.end(), worker.latencies_ms.begin(), worker.latencies_ms.end());
      row.errors += worker.errors;
      if (row.first_error.empty()) row.first_error = worker.first_error;
      const ClientStats stats = worker.client->stats();
      after.attempts += stats.attempts;
      after.retries += stats.retries;
      after.token_aware += stats.token_aware;
    }
    std::sort(latencies.begin(), latencies.end());
    row.requests = latencies.size();
    row.seconds = elapsed.count();
    row.requests_per_second = row.seconds > 0 ? static_cast<double>(row.requests) / row.seconds : 0;
    row.p50_ms = percentile(latencies, 0.50);
    row.p99_ms = percentile(latencies, 0.99);
    row.max_ms = latencies.empty() ? 0 : latencies.back();
    row.retries = after.retries - before.retries;
    const std::uint64_t attempts = after.attempts - before.attempts;
    row.token_aware_fraction =
        attempts == 0 ? 0
                      : static_cast<double>(after.token_aware - before.token_aware) /
                            static_cast<double>(attempts);
    rows.push_back(row);
  }
  return rows;
}

std::string format_client_bench_row(const ClientBenchRow& row, std::uint32_t connections) {
  std::string line = fmt::format(
      "{}: {} requests, {} connections: {:.0f} requests/s, p50 {:.3f} ms, p99 {:.3f} ms, max "
      "{:.3f} ms, {} errors, {} retries, {:.1f}% token-aware",
      row.command, row.requests, connections, row.requests_per_second, row.p50_ms, row.p99_ms,
      row.max_ms, row.errors, row.retries, 100.0 * row.token_aware_fraction);
  if (!row.first_error.empty()) line += "\n  first error: " + row.first_error;
  return line;
}

}  // namespace vigil::cli
