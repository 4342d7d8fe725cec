#pragma once
// What the tombstone collector is told (config/node_options.cpp maps the tombstone_gc
// section onto it; docs/deletes.md gives the rules and where they come from).

#include <chrono>
#include <cstdint>

#include "core/time.h"

namespace vigil::core {

// When a tombstone may be collected (ScyllaDB's tombstone_gc modes, Cassandra's
// gc_grace_seconds, Riak's delete_mode).
enum class TombstoneGcMode : std::uint8_t {
  // Safe: a tombstone older than `grace` is collected only when every replica of the key's
  // preference list answered that it holds exactly the same state (Riak's reaper), and
  // each replica drops it only if its state still hashes the same (condition (c)).
  replicas,
  // Cassandra's classic rule, on one replica's word: a tombstone older than `grace` is
  // dropped locally without asking anyone. A replica that missed the delete brings the
  // value back (a "zombie"); shipped to show that (scenarios/deletes-gc-too-early.yaml).
  timeout,
  // Tombstones are kept for ever (Riak's delete_mode: keep).
  disabled,
};

struct TombstoneGcOptions {
  TombstoneGcMode mode = TombstoneGcMode::replicas;
  // How long a tombstone is kept at least, from when this node first saw it. Must be at
  // least hint_storage.maintenance.expiry (the config check refuses less): a hint older than
  // the grace would otherwise replay a deleted value onto a replica that had dropped the
  // tombstone.
  Duration grace = std::chrono::hours(24);
  // The collector's pace: every scan_interval it looks at the next keys_per_scan keys of
  // its store (in ring order, wrapping), so a tombstone is found again after a restart and
  // no list of candidates has to be kept on disk.
  Duration scan_interval = std::chrono::seconds(10);
  std::uint32_t keys_per_scan = 1000;
  // Collection rounds (queries to the replicas) in flight at once; more candidates wait.
  std::uint32_t rounds_in_flight_max = 64;
  // Candidates remembered between scans; past it, a candidate is forgotten (counted) and
  // found again by a later scan.
  std::uint32_t candidates_max = 100000;
};

}  // namespace vigil::core
