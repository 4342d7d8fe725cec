#pragma once
// What anti-entropy is told (config/node_options.cpp maps merkle_tree, sync_process,
// background_repair and incremental_repair onto it; docs/configuration.md says how each
// key changes behaviour).

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "core/time.h"

namespace vigil::core {

// The three kinds of sync work, ordered by sync_process.priority_levels.
enum class SyncWork : std::uint8_t { missing_replicas, inconsistent_replicas, background_sync };

struct AntiEntropyOptions {
  // Not a config key: false keeps no trees at all (no upkeep on writes, nothing persisted,
  // nothing exchanged). `vigil bench repair` measures the write path with and without them.
  bool trees_enabled = true;
  // Vigil's own switch (sync_process.enabled): false keeps the trees but never exchanges
  // (the simulator shows `convergence` failing that way).
  bool exchanges_enabled = true;

  // merkle_tree
  std::uint32_t depth = 16;           // 2^depth leaf segments
  std::uint32_t bucket_size = 1000;   // a differing subtree this small is listed key by key
  Duration update_interval = std::chrono::hours(1);  // tree check against the data

  // sync_process
  Duration scan_interval = std::chrono::hours(6);
  std::uint32_t batch_size = 100;           // keys per sync message
  std::uint32_t concurrent_transfers = 3;   // sync messages in flight per node
  std::uint64_t bandwidth_bytes_per_second = 50ULL * 1024 * 1024;
  // Highest first: which work a free transfer slot goes to.
  std::array<SyncWork, 3> priority{SyncWork::missing_replicas, SyncWork::inconsistent_replicas,
                                   SyncWork::background_sync};

  // background_repair
  Duration background_interval = std::chrono::hours(24);
  Duration background_offset = std::chrono::hours(3);
  Duration background_max_duration = std::chrono::hours(6);
  std::uint32_t segments_per_run = 100;
  std::uint32_t keys_per_segment = 1000;
  std::uint64_t background_memory_bytes_max = 1024ULL * 1024 * 1024;
  // background_repair.resources.io_priority: the pass steps only while fewer client
  // requests than this are in flight here (low: 16, medium: 64, high: no limit).
  std::size_t background_yield_requests = 16;

  // incremental_repair
  double validation_probability = 0.01;  // records whose values a pass decodes and checks
  bool persist_trees = true;
  bool compress_trees = true;  // snappy
};

}  // namespace vigil::core
