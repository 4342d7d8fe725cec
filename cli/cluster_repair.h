#pragma once
// `vigil cluster repair`: start anti-entropy exchanges on nodes now (POST /repair on each
// node's admin port) and wait until they have finished, reading each node's GET /status
// (docs/operations.md, "Repair"). cli/command_cluster.cpp parses the flags and prints.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli/cluster_layout.h"
#include "core/status.h"

namespace vigil::cli {

// What repair reads of one node's /status: anti_entropy.exchanges_* and the counters it
// reports deltas of.
struct RepairSnapshot {
  std::uint64_t exchanges_completed = 0;
  std::uint64_t exchanges_pending = 0;
  bool has_peers = false;                   // some tree of the node has another replica
  std::uint64_t repaired_missing = 0;       // ae_keys_repaired_missing
  std::uint64_t repaired_inconsistent = 0;  // ae_keys_repaired_inconsistent
  std::uint64_t repaired_background = 0;    // ae_keys_repaired_background
  std::uint64_t exchanges_failed = 0;       // ae_exchanges_failed
  std::uint64_t exchanges_skipped = 0;      // ae_exchanges_skipped_peer_down
};

// Parses a /status body; invalid_argument naming what is missing.
core::Result<RepairSnapshot> repair_snapshot_from_status(const std::string& body);

struct NodeRepair {
  std::string id;
  std::uint64_t exchanges_finished = 0;  // exchanges_completed after - before
  std::uint64_t exchanges_failed = 0;    // of those, failed (the ae_exchanges_failed delta)
  std::uint64_t exchanges_skipped = 0;   // not run: the peer was down
  std::uint64_t repaired_missing = 0;
  std::uint64_t repaired_inconsistent = 0;
  std::uint64_t repaired_background = 0;
  double seconds = 0;  // from the POST until the node was seen done
};

struct ClusterRepairOptions {
  std::optional<std::string> node;                               // unset: every node of the cluster
  std::chrono::milliseconds timeout{std::chrono::seconds(300)};  // for all nodes together
  std::chrono::milliseconds poll_interval{200};
};

// Reads every chosen node's /status, POSTs /repair to each, then polls /status until
// each shows exchanges_pending == 0 and exchanges_completed above its value before the
// POST (a node whose trees have no other replica only needs pending == 0). Errors:
// invalid_argument for an unknown --node; unavailable naming the node whose admin port
// does not answer; timeout naming the nodes still not done, with their pending and
// finished counts; failed_precondition naming a node on which no exchange could run (its
// peers were all down). The results are in layout order.
core::Result<std::vector<NodeRepair>> cluster_repair(const ClusterLayout& layout,
                                                     const ClusterRepairOptions& options);

// "n1  exchanges 2 (0 failed)  keys repaired 1000 missing, 0 inconsistent, 0 background  1.2s"
std::string cluster_repair_text(const std::vector<NodeRepair>& nodes);

}  // namespace vigil::cli
