#pragma once
// `vigil bench repair --processes`: the repair benchmark on real processes (the simulated
// one is bench/repair_bench.h). A local 3-node cluster (N = 3, hinted handoff and read
// repair off, so only anti-entropy can bring a replica back) is filled with K keys through
// n1's client port; n3 is SIGKILLed, and F of the keys are erased from its SQLite file
// together with its persisted trees (a replica restored from an older copy: it rebuilds its
// trees from what it holds at start-up). n3 is restarted, `cluster repair` is requested on
// every node, and the time runs from the restart's return until the three nodes' tree roots
// (which hash their stores) are equal.
//
// The keys are written with Debian's hiredis, pipelined; the store is edited with
// store::SqliteStore while n3 is down.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"

namespace vigil::cli {

struct ProcessRepairOptions {
  std::uint64_t keys = 100000;
  double divergent_fraction = 0.01;
  std::uint64_t value_bytes = 100;
  std::string dir;      // parent of the run's temp directory; empty: the system temp dir
  std::string program;  // the vigil binary the nodes run; empty: this one
};

struct ProcessRepairFigures {
  std::uint64_t keys = 0;
  std::uint64_t keys_erased = 0;     // from n3's store: the keys that differ
  double fill_seconds = 0;           // writing K keys through n1 (pipelined, durable)
  double restart_seconds = 0;        // n3's restart until it answers and sees every member
  double repair_seconds = 0;         // from then until the tree roots are equal
  std::uint64_t keys_streamed = 0;   // ae_keys_received summed over the nodes (the run's delta)
  std::uint64_t state_bytes = 0;     // ae_bytes_sent + ae_bytes_received, summed (delta)
  std::uint64_t exchanges = 0;       // exchanges completed, summed (delta)
  double keys_per_second = 0;        // keys_erased / repair_seconds
  double over_streaming = 0;         // keys_streamed / keys_erased
  bool converged = false;            // the roots were equal within the bound
};

// Runs it; errors name the step (cluster start, fill, store edit, restart, repair) and keep
// the run's directory for inspection. The cluster is stopped in every case.
core::Result<ProcessRepairFigures> run_process_repair_bench(const ProcessRepairOptions& options);

std::string process_repair_text(const ProcessRepairFigures& figures);
nlohmann::json process_repair_json(const ProcessRepairFigures& figures);

}  // namespace vigil::cli
