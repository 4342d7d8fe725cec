#pragma once
// The workload's ClientPort (sim/workload.h) over real RESP connections, for `vigil chaos`:
// the simulator's client code (run_client, run_final_reads) runs unchanged against real
// nodes, and the history it records is the simulator's (sim/history.h), in run time.
//
// Threads. The workload code is written for fibers: sequential, blocking calls, many
// operations in flight. Here each client and each operation is a thread, and one mutex
// (the port's `lock`) is held while workload code runs and released only while a thread
// blocks (a call on the network, a sleep): the workload's state (its generators, the
// history) is then touched by one thread at a time, as under the simulator's scheduler.
// Whoever else changes what calls read (the runner's ChaosNetwork, node restarts) holds
// the same lock.
//
// Calls. A get is `VGET`; a put with a context `VSET` (an empty context: a blind write),
// without one a plain `SET`; a delete `VDEL` or `DEL` likewise (docs/client-protocol.md).
// Each connection is set to its consistency level once (`CONSISTENCY`), pooled per node
// and level, and dropped when its node restarts. Outcomes follow the simulator's client:
// a refused connection or a reset is `unavailable` (indeterminate: a write may have taken
// effect), no reply within the client timeout is a client timeout, a client cut off from
// a node (client_partition) waits out its timeout without sending.

#include <hiredis/hiredis.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/chaos_plan.h"
#include "config/config.h"
#include "sim/workload.h"

namespace vigil::cli {

struct ChaosClientOptions {
  std::vector<core::NodeId> ids;
  std::vector<config::Address> addresses;  // each node's client (RESP) port
  std::chrono::milliseconds client_timeout{6000};
  std::chrono::milliseconds connect_timeout{1000};
  std::uint32_t operations_in_flight_max = 32;  // per client; arrivals beyond are skipped
};

class ChaosClientPort final : public sim::ClientPort {
 public:
  // `network` is read under lock() for client cuts; it outlives the port.
  ChaosClientPort(ChaosClientOptions options, const ChaosNetwork& network);
  ~ChaosClientPort() override;

  // The lock the workload runs under (see the header comment).
  std::mutex& lock() { return lock_; }

  // Starts one thread per workload client running sim::run_client. REQUIRES: lock() not
  // held by the caller.
  void start_clients(const sim::Workload& workload, std::uint64_t seed);
  // Clients stop starting operations.
  void stop() { stopping_ = true; }
  // Joins the client threads and waits up to `timeout` for the operations in flight;
  // returns how many were still running. REQUIRES: lock() not held.
  std::size_t finish(std::chrono::milliseconds timeout);
  // Node `node` was restarted: its pooled connections are stale. REQUIRES: lock() held.
  void node_restarted(std::size_t node);

  // What the clients saw, as counters: client_requests, client_timeouts,
  // client_connections_refused, client_connections_reset, client_requests_cut_off,
  // operations_started, operations_skipped_in_flight_max. REQUIRES: lock() held.
  const std::map<std::string, std::uint64_t>& counters() const { return counters_; }

  // sim::ClientPort. Called with lock() held (by the workload code).
  std::int64_t now_us() const override;
  void sleep_until(std::int64_t time_us) override;
  std::optional<core::ClientReply> call(std::uint32_t node, core::ClientRequest request) override;
  bool start_operation(std::uint32_t client, std::function<void()> operation) override;
  bool stopping() const override { return stopping_; }
  std::uint32_t node_count() const override {
    return static_cast<std::uint32_t>(options_.ids.size());
  }
  const core::NodeId& node_id(std::uint32_t node) const override { return options_.ids[node]; }
  sim::History& history() override { return history_; }

 private:
  struct Connection {
    redisContext* context = nullptr;
    std::uint64_t generation = 0;
  };
  using PoolKey = std::pair<std::uint32_t, core::Consistency>;

  // Runs `request` on a connection of its own (lock released meanwhile).
  std::optional<core::ClientReply> exchange(std::uint32_t node, const core::ClientRequest& request);
  void count(const std::string& name) { counters_[name] += 1; }
  void reap_finished();

  ChaosClientOptions options_;
  const ChaosNetwork& network_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::mutex lock_;
  std::condition_variable idle_;  // operations_live_ reached 0
  std::atomic<bool> stopping_{false};
  sim::History history_;
  std::map<std::string, std::uint64_t> counters_;
  std::map<PoolKey, std::vector<Connection>> pool_;
  std::vector<std::uint64_t> generation_;  // per node, bumped at each restart
  std::vector<std::thread> client_threads_;
  std::map<std::uint64_t, std::thread> operation_threads_;
  std::vector<std::uint64_t> finished_;  // operation threads done, to join
  std::uint64_t next_operation_ = 0;
  std::vector<std::uint32_t> in_flight_;  // per client
  std::size_t operations_live_ = 0;
};

}  // namespace vigil::cli
