#pragma once
// What a node is told: its options (from the configuration, config/node_options.h maps a
// Config onto NodeOptions) and the time every input arrives with. Shared by core::Node
// (core/node/node.h) and its parts.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/antientropy/antientropy_options.h"
#include "core/membership/membership.h"
#include "core/routing/routing_options.h"
#include "core/time.h"
#include "core/tombstones/tombstone_gc_options.h"
#include "core/types.h"
#include "core/versions/version.h"

namespace vigil::core {

// The two clocks an input arrives with (see time.h).
struct Now {
  Instant monotonic;
  WallMicros wall_us = 0;
};

// R and W of one consistency level.
struct QuorumCounts {
  std::uint32_t read = 2;   // R
  std::uint32_t write = 2;  // W
};

// Where a plain put/del (a ClientRequest without a context) takes its causal context from
// (client.set_context). `coordinator`: the coordinating replica's own state of the key
// (Riak's coordinating vnode), so the write supersedes everything the coordinator holds and
// is coordinated on the key's first healthy preference-list node. `read`: the client read
// first and passes that context; a put/del without one supersedes nothing.
enum class SetContext : std::uint8_t { coordinator, read };

// Protocol bugs planted on purpose, for tests of the simulator's bug finding only
// (tests/sim/explore_planted_test.cpp). NodeOptions::planted_bug is never set from a
// configuration (config/node_options.h does not know it) or a scenario file; only a test
// sets it, through Scenario::adjust_node_options. Each is a one-line change at its place.
enum class PlantedBug : std::uint8_t {
  none,
  ack_after_w_minus_1,      // coordinator_write.cpp: ok after W-1 acknowledgements
  merge_drops_sibling,      // replica.cpp: a replica's merge resolves concurrent versions
                            // by timestamp, dropping the loser (in siblings mode)
  hint_erased_before_ack,   // hints.cpp: a hint is erased when its delivery is sent
};

// What a node needs from the configuration (config/node_options.h maps a Config onto this).
// Constructor REQUIRES (asserted): 1 <= every read/write count <= replicas; every duration
// > 0; key_size_bytes_max in 1..core::key_size_bytes_max; value_size_bytes_max <=
// core::value_size_bytes_max; requests_in_flight_max >= 1.
struct NodeOptions {
  NodeId id;
  std::uint32_t replicas = 3;  // N
  QuorumCounts one{1, 1};      // also `eventual`
  QuorumCounts quorum{2, 2};
  QuorumCounts all{3, 3};  // also `strong`
  // quorum_settings.R/W: the level a client connection starts with (Consistency::default_level).
  QuorumCounts default_level{2, 2};
  Duration request_timeout = std::chrono::seconds(5);
  // A replica (or forwarded-to coordinator) silent this long is sent the request again;
  // further resends follow every retry_interval, at most max_retries in all.
  Duration replication_timeout = std::chrono::seconds(2);
  Duration retry_interval = std::chrono::milliseconds(100);
  std::uint32_t max_retries = 3;
  ConflictMode conflict_mode = ConflictMode::siblings;
  SetContext set_context = SetContext::coordinator;
  SiblingLimits sibling_limits;
  // Stale replicas seen by a read (in its quorum or answering later, until the request's
  // deadline) are always sent the merged state. The probability is Cassandra's
  // read_repair_chance: the chance that a read asks all N replicas; otherwise it asks only
  // the ones R needs, and more when one fails or stays silent (coordinator_read.cpp).
  // With read_repair_enabled false a read never asks beyond R.
  bool read_repair_enabled = true;
  double read_repair_probability = 0.1;
  // Read repair's budget (seed 4.1; core/coordinator/read_repair.cpp). Only repairs sent to
  // peers spend it; merging into this node's own store is free. A repair over either bound
  // is dropped and counted, never queued.
  struct ReadRepair {
    // read_repair.max_repair_threads: answered reads kept waiting for late answers so as
    // to repair them (the `repairing` state), at once. Over it an answered read finishes
    // at once (read_repair_waits_dropped). No thread exists in core/: a repair task is such
    // a read.
    std::uint32_t max_tasks = 4;
    // throttling.max_concurrent_repairs: repair ReplicaWrites sent and neither
    // acknowledged nor past replication_timeout, per coordinating node.
    std::uint32_t max_in_flight = 3;
    // throttling.bandwidth_limit: a token bucket over the encoded size of the repaired
    // state plus the key, refilled at this rate, holding at most one second's worth.
    std::uint64_t bandwidth_bytes_per_second = 10ULL * 1024 * 1024;
    // repair_priority as ranks (low 0, medium 1, high 2): within one read the higher rank
    // spends the budget first, the preference-list order breaks ties. `missing`: the
    // replica answered not_found or corruption; `stale`: it holds something older.
    std::uint8_t missing_rank = 2;
    std::uint8_t stale_rank = 1;
  };
  ReadRepair read_repair;
  std::size_t key_size_bytes_max = core::key_size_bytes_max;
  std::size_t value_size_bytes_max = 1024 * 1024;
  // Bound on requests this node coordinates or forwards at once (client and peer);
  // refusals are resource_exhausted and counted.
  std::size_t requests_in_flight_max = 10000;

  // Membership and failure detection (core/membership/membership.h). `address` is this node's
  // node-to-node address as gossip carries it; `seeds` the (id, address) pairs it gossips
  // with first (the simulator uses ids as addresses).
  std::string address;
  std::vector<std::pair<NodeId, std::string>> seeds;
  MembershipOptions membership;

  // Hinted handoff (Dynamo 4.6; seed section 2.1; docs/failure-detection.md).
  struct Hints {
    bool enabled = true;  // false: a down replica just does not answer (no sloppy quorum)
    // Whether a hint's acknowledgement counts toward W (Dynamo's sloppy quorum). Never for
    // Consistency::all: `all` means every replica of the preference list has it durable.
    bool count_toward_write_quorum = true;
    Duration check_interval = std::chrono::minutes(1);
    Duration retry_interval = std::chrono::minutes(5);
    std::uint32_t max_attempts = 5;
    Duration expiry = std::chrono::hours(24);  // every hint's ttl
    // Pacing of replay to a returning node: at most this many deliveries in flight per
    // target; the next goes when one is answered (a returning node is not flooded).
    std::uint32_t replay_in_flight_max = 16;
    // Bound on hints kept for one target; a hint over it is refused (the coordinator
    // counts the replica as not answered) and counted as hints_refused_backlog.
    std::uint32_t per_target_max = 100000;
  };
  Hints hints;

  // Routing (core/routing/, docs/routing.md): the circuit breakers and health checks the
  // coordinator consults when it picks a forward target or a hint fallback, and the retry
  // policy its forward retries follow. routing.strategy and fallback are not used inside a
  // node (a forward's candidates are the key's preference list); the simulator's clients and
  // client libraries use them.
  RoutingOptions routing;

  // Anti-entropy: trees, exchanges, background repair (core/antientropy/).
  AntiEntropyOptions anti_entropy;
  TombstoneGcOptions tombstone_gc;

  PlantedBug planted_bug = PlantedBug::none;  // tests only (above)
};

}  // namespace vigil::core
