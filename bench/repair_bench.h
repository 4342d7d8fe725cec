#pragma once
// `vigil bench repair` (issue 11's benchmark; docs/anti-entropy.md, "Measured"):
// (a) repair: three core::Nodes (N = 3, one replica set) over MemoryStores, filled directly
//     with K equal key states, one replica missing a fraction F of them; the trees are
//     built from the stores when the nodes are constructed; one node is asked to exchange
//     with its peers, and the cluster runs (messages in one FIFO queue, time moving only
//     to the next timer) until no exchange is pending and no message is queued. Reports
//     the wall and simulated time, keys/s, keys streamed against keys that differed
//     (over-streaming, ideally 1.0), bytes per divergent key, and whether the three
//     stores then hold equal states for every key.
// (b) write-path cost: W client writes through a one-node ring (N = R = W = 1; the
//     coordinator, the replica write, the tree upkeep and the commit, 100 writes per group
//     commit) with anti-entropy trees on and off, alternating rounds, over MemoryStore and
//     SqliteStore; each side keeps its best round.
// Real processes are not measured here (docs/anti-entropy.md says what is missing).

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace vigil::bench {

struct RepairBenchOptions {
  std::uint64_t keys = 100000;             // K
  double divergent_fraction = 0.01;        // F: keys left out of one replica
  std::uint64_t value_bytes = 100;         // per key
  std::uint64_t writes = 100000;           // W, per write-path round
  std::uint32_t write_rounds = 3;          // rounds of each side (on, off), alternating
  bool write_path = true;                  // run part (b)
  bool sqlite = true;                      // part (b) over SqliteStore too
  std::string dir;  // parent of SqliteStore's temp directory; empty: system temp
};

inline constexpr std::uint64_t repair_bench_keys_max = 10'000'000;
inline constexpr std::uint32_t repair_bench_rounds_max = 100;

struct WritePathFigures {
  std::string store;                     // "memory" or "sqlite"
  std::vector<double> on_round_seconds;  // every round, in order
  std::vector<double> off_round_seconds;
  double on_writes_per_second = 0;   // best round
  double off_writes_per_second = 0;  // best round
  double cost = 0;                   // 1 - on/off: the share of throughput the trees take
};

struct RepairBenchResult {
  RepairBenchOptions options;
  // (a)
  double build_seconds = 0;          // constructing the three nodes: trees rebuilt by scans
  double repair_wall_seconds = 0;    // request to quiet
  double repair_sim_seconds = 0;     // simulated time over the same span
  std::uint64_t keys_differed = 0;   // (key, replica) pairs that differed: keys missing on one
  std::uint64_t keys_streamed = 0;   // sum over nodes of ae_keys_received
  std::uint64_t state_bytes = 0;     // sum over nodes of ae_bytes_sent + ae_bytes_received
  std::uint64_t wire_bytes = 0;      // encoded frames of every anti-entropy message
  std::uint64_t ae_messages = 0;
  std::uint64_t exchanges = 0;       // exchanges completed, all nodes
  std::uint64_t keys_compared = 0;   // ae_keys_compared, all nodes
  double keys_per_second = 0;        // keys_differed / repair_wall_seconds
  double over_streaming = 0;         // keys_streamed / keys_differed
  double wire_bytes_per_divergent_key = 0;
  bool stores_equal = false;
  std::uint64_t keys_unequal = 0;    // keys whose states differ across the stores after
  // (b)
  std::vector<WritePathFigures> write_path;
};

// invalid_argument for options out of bounds; io_error when the temp directory or SQLite
// fails; timeout when the simulated cluster does not quiesce within a simulated hour.
core::Result<RepairBenchResult> run_repair_bench(const RepairBenchOptions& options);
// Part (b) alone (bench/repair_bench_writes.cpp).
core::Result<std::vector<WritePathFigures>> run_write_path_bench(const RepairBenchOptions& options);

std::string repair_bench_text(const RepairBenchResult& result);
std::string repair_bench_json(const RepairBenchResult& result);

}  // namespace vigil::bench
