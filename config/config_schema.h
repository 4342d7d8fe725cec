#pragma once
// Internal to config/config*.cpp: every configuration key declared once, with its YAML name,
// its per-key bounds and the comment `vigil config defaults` prints. Three visitors walk
// this one list, so they cannot drift apart: the YAML reader (config_yaml.cpp), the YAML
// writer (config_yaml.cpp) and the bounds check of validate() (config.cpp). Relations
// between keys (R <= N, ...) are checked in config.cpp.
//
// A visitor provides section(name, doc, body) and one method per kind of value below; the
// config is `Config&` for the reader and `const Config&` for the others.

#include <array>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

#include "core/wire/codec.h"
#include "config/config.h"

namespace vigil::config::schema {

// Inclusive bounds of a whole number (the field's type bounds it further).
struct Bounds {
  std::uint64_t min = 0;
  std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
};
inline constexpr Bounds at_least_one{1};

enum class DurationBounds : std::uint8_t { positive, non_negative };

struct RealBounds {
  double min = 0;
  double max = std::numeric_limits<double>::infinity();
  bool min_open = false;  // min itself is not allowed
  bool max_open = false;
};
inline constexpr RealBounds probability{0.0, 1.0, false, false};
inline constexpr RealBounds positive_real{0.0, std::numeric_limits<double>::infinity(), true,
                                          false};
inline constexpr RealBounds open_unit{0.0, 1.0, true, true};

template <typename E>
struct EnumName {
  E value;
  std::string_view name;
};

using C = Config;
inline constexpr std::array<EnumName<C::HashFunction>, 1> hash_function_names{{
    {C::HashFunction::sha256, "SHA-256"},
}};
inline constexpr std::array<EnumName<C::ChecksumFunction>, 1> checksum_names{{
    {C::ChecksumFunction::xxhash, "xxhash"},
}};
inline constexpr std::array<EnumName<C::PriorityLevel>, 3> priority_names{{
    {C::PriorityLevel::low, "low"},
    {C::PriorityLevel::medium, "medium"},
    {C::PriorityLevel::high, "high"},
}};
inline constexpr std::array<EnumName<C::SyncWork>, 3> sync_work_names{{
    {C::SyncWork::missing_replicas, "missing_replicas"},
    {C::SyncWork::inconsistent_replicas, "inconsistent_replicas"},
    {C::SyncWork::background_sync, "background_sync"},
}};
inline constexpr std::array<EnumName<C::TokenStrategy>, 1> token_strategy_names{{
    {C::TokenStrategy::uniform, "uniform"},
}};
inline constexpr std::array<EnumName<C::RoutingStrategy>, 2> routing_strategy_names{{
    {C::RoutingStrategy::token_aware, "token_aware"},
    {C::RoutingStrategy::round_robin, "round_robin"},
}};
inline constexpr std::array<EnumName<C::RoutingFallback>, 2> routing_fallback_names{{
    {C::RoutingFallback::round_robin, "round_robin"},
    {C::RoutingFallback::none, "none"},
}};
inline constexpr std::array<EnumName<C::RepairStrategy>, 1> repair_strategy_names{{
    {C::RepairStrategy::merkle_tree, "merkle_tree"},
}};
inline constexpr std::array<EnumName<C::TreeCompression>, 2> compression_names{{
    {C::TreeCompression::snappy, "snappy"},
    {C::TreeCompression::none, "none"},
}};
inline constexpr std::array<EnumName<core::ConflictMode>, 2> conflict_mode_names{{
    {core::ConflictMode::timestamp, "timestamp"},
    {core::ConflictMode::siblings, "siblings"},
}};
inline constexpr std::array<EnumName<core::SetContext>, 2> set_context_names{{
    {core::SetContext::coordinator, "coordinator"},
    {core::SetContext::read, "read"},
}};
inline constexpr std::array<EnumName<C::Security::Permission>, 2> permission_names{{
    {C::Security::Permission::read_only, "read-only"},
    {C::Security::Permission::read_write, "read-write"},
}};
inline constexpr std::array<EnumName<core::TombstoneGcMode>, 3> tombstone_gc_mode_names{{
    {core::TombstoneGcMode::replicas, "replicas"},
    {core::TombstoneGcMode::timeout, "timeout"},
    {core::TombstoneGcMode::disabled, "disabled"},
}};

// enum_names(E{}) finds the table of an enum type by overloading.
constexpr std::span<const EnumName<C::HashFunction>> enum_names(C::HashFunction) {
  return hash_function_names;
}
constexpr std::span<const EnumName<C::ChecksumFunction>> enum_names(C::ChecksumFunction) {
  return checksum_names;
}
constexpr std::span<const EnumName<C::PriorityLevel>> enum_names(C::PriorityLevel) {
  return priority_names;
}
constexpr std::span<const EnumName<C::SyncWork>> enum_names(C::SyncWork) {
  return sync_work_names;
}
constexpr std::span<const EnumName<C::TokenStrategy>> enum_names(C::TokenStrategy) {
  return token_strategy_names;
}
constexpr std::span<const EnumName<C::RoutingStrategy>> enum_names(C::RoutingStrategy) {
  return routing_strategy_names;
}
constexpr std::span<const EnumName<C::RoutingFallback>> enum_names(C::RoutingFallback) {
  return routing_fallback_names;
}
constexpr std::span<const EnumName<C::RepairStrategy>> enum_names(C::RepairStrategy) {
  return repair_strategy_names;
}
constexpr std::span<const EnumName<C::TreeCompression>> enum_names(C::TreeCompression) {
  return compression_names;
}
constexpr std::span<const EnumName<core::ConflictMode>> enum_names(core::ConflictMode) {
  return conflict_mode_names;
}
constexpr std::span<const EnumName<core::SetContext>> enum_names(core::SetContext) {
  return set_context_names;
}
constexpr std::span<const EnumName<C::Security::Permission>> enum_names(C::Security::Permission) {
  return permission_names;
}
constexpr std::span<const EnumName<core::TombstoneGcMode>> enum_names(core::TombstoneGcMode) {
  return tombstone_gc_mode_names;
}

template <typename E>
std::string_view enum_name(E value) {
  for (const auto& entry : enum_names(E{})) {
    if (entry.value == value) return entry.name;
  }
  return "?";  // only for a value cast from outside the enum; validate() reports it
}

// Sections and keys in file order. The comments are what `vigil config defaults` prints;
// docs/configuration.md says more, and which feature reads each key.
template <typename Visitor, typename Cfg>
void visit_config(Visitor& v, Cfg& c) {
  using DB = DurationBounds;
  v.section("node", "Identity and addresses of this node.", [&] {
    auto& s = c.node;
    v.node_id("id", s.id, "Unique name of this node: 1-64 characters of A-Z a-z 0-9 _ . -");
    v.address("listen", s.listen, "host:port for the node-to-node protocol");
    v.address("client", s.client, "host:port for clients (Redis protocol, RESP2)");
    v.address("admin", s.admin, "host:port for the admin HTTP port (Prometheus metrics)");
    v.text("data_dir", s.data_dir, "Directory of this node's durable state");
    v.seeds("seeds", s.seeds,
            "Nodes to contact at start-up, each id@host:port; this node may be listed too");
  });
  v.section("quorum_settings", "Replication (Dynamo's N, R, W).", [&] {
    auto& s = c.quorum_settings;
    v.count("N", s.n, at_least_one, "Replicas of every key");
    v.count("W", s.w, at_least_one, "Write quorum when a request names no consistency level");
    v.count("R", s.r, at_least_one, "Read quorum when a request names no consistency level");
  });
  v.section("consistency_levels",
            "Per-request levels. R and W are a number, \"N\" or \"N/2 + 1\" (of quorum N).", [&] {
              auto& s = c.consistency_levels;
              v.section("strong", "Also called `all`.", [&] {
                v.quorum_size("R", s.strong.r, "Replies needed for a read");
                v.quorum_size("W", s.strong.w, "Acknowledgements needed for a write");
              });
              v.section("eventual", "Also called `one`.", [&] {
                v.quorum_size("R", s.eventual.r, "Replies needed for a read");
                v.quorum_size("W", s.eventual.w, "Acknowledgements needed for a write");
              });
              v.section("quorum", "", [&] {
                v.quorum_size("R", s.quorum.r, "Replies needed for a read");
                v.quorum_size("W", s.quorum.w, "Acknowledgements needed for a write");
              });
            });
  v.section("timing", "Client request deadlines and coordinator retries.", [&] {
    auto& s = c.timing;
    v.duration("request_timeout", s.request_timeout, DB::positive,
               "A client request fails with `timeout` after this long");
    v.duration("replication_timeout", s.replication_timeout, DB::positive,
               "How long a coordinator waits for replica acknowledgements");
    v.duration("retry_interval", s.retry_interval, DB::positive,
               "Wait before re-sending to a replica that did not answer");
    v.count("max_retries", s.max_retries, Bounds{0, 100}, "Re-sends per replica and request");
  });
  v.section("hint_storage", "Hinted handoff: writes held for a replica that is down.", [&] {
    v.fixed("format",
            "The hint record (target_node, key, value, timestamp, ttl) is fixed; ttl = expiry");
    v.section("maintenance", "", [&] {
      auto& s = c.hint_storage.maintenance;
      v.duration("check_interval", s.check_interval, DB::positive,
                 "How often held hints are checked for a recovered target");
      v.duration("retry_interval", s.retry_interval, DB::positive,
                 "Wait between two delivery attempts of one hint");
      v.count("max_attempts", s.max_attempts, Bounds{1, 1000},
              "Delivery attempts before a hint is dropped (and counted)");
      v.duration("expiry", s.expiry, DB::positive, "A hint older than this is dropped");
    });
    auto& h = c.hint_storage;
    v.flag("enabled", h.enabled, "Sloppy quorum: cover a down replica with a hint");
    v.flag("count_toward_write_quorum", h.count_toward_write_quorum,
           "A hint's acknowledgement counts toward W (never at `all`)");
    v.count("replay_in_flight_max", h.replay_in_flight_max, Bounds{1, 10000},
            "Hint deliveries in flight per target node");
  });
  v.section("merkle_tree", "Anti-entropy hash trees over token ranges.", [&] {
    auto& s = c.merkle_tree;
    v.count("depth", s.depth, Bounds{1, 20}, "Levels below the root (2^depth leaves)");
    v.choice("hash_function", s.hash_function, "Hash of tree nodes");
    v.count("bucket_size", s.bucket_size, at_least_one, "Keys per leaf bucket");
    v.duration("update_interval", s.update_interval, DB::positive,
               "How often trees are brought up to date");
  });
  v.section("sync_process", "Merkle exchange between replicas and the transfers it starts.", [&] {
    auto& s = c.sync_process;
    v.flag("enabled", s.enabled, "Exchange trees with the other replicas (Vigil's own key)");
    v.duration("scan_interval", s.scan_interval, DB::positive,
               "How often each range is compared with its replicas");
    v.count("batch_size", s.batch_size, at_least_one, "Keys per transfer batch");
    v.count("concurrent_transfers", s.concurrent_transfers, at_least_one,
            "Transfers in flight at once");
    v.rate("bandwidth_limit", s.bandwidth_limit_bytes_per_second, at_least_one,
           "Transfer bandwidth cap");
    v.section("priority_levels", "Order of sync work; each kind exactly once.", [&] {
      auto& p = s.priority_levels;
      v.choice("high", p.high, "Runs first");
      v.choice("medium", p.medium, "Runs second");
      v.choice("low", p.low, "Runs when nothing else waits");
    });
  });
  v.section("gossip_protocol", "Membership gossip and SWIM-style probes.", [&] {
    auto& s = c.gossip_protocol;
    v.duration("interval", s.interval, DB::positive, "Gossip round period");
    v.count("fanout", s.fanout, at_least_one, "Peers contacted per round");
    v.count("indirect_probes", s.indirect_probes, Bounds{0, 16},
            "Peers asked to probe a node that missed a direct probe (0: none)");
    v.duration("probe_timeout", s.probe_timeout, DB::positive,
               "A probe unanswered this long has failed; at most the gossip interval");
  });
  v.section("phi_accrual", "Phi accrual failure detector (Hayashibara et al.).", [&] {
    auto& s = c.phi_accrual;
    v.real("threshold", s.threshold, positive_real, "Phi above which a node is suspected");
    v.count("window_size", s.window_size, Bounds{1, 10000}, "Heartbeat intervals kept per peer");
    v.count("min_samples", s.min_samples, at_least_one,
            "Intervals needed before phi is computed; at most window_size");
    v.real("scale_factor", s.scale_factor, positive_real, "Multiplies every computed phi");
    v.duration("bootstrap_time", s.bootstrap_time, DB::non_negative,
               "phi counts for a peer only this long after it was first heard of");
    v.duration("min_std_deviation", s.min_std_deviation, DB::positive,
               "Floor of the standard deviation of heartbeat intervals phi assumes");
  });
  v.section("failure_detector", "Node states alive -> suspect -> failed.", [&] {
    auto& s = c.failure_detector;
    v.duration("suspicious_threshold", s.suspicious_threshold, DB::positive,
               "Silence after which a node is suspect");
    v.duration("failure_threshold", s.failure_threshold, DB::positive,
               "Silence after which a node is failed; more than suspicious_threshold");
    v.duration("recovery_timeout", s.recovery_timeout, DB::positive,
               "After a node returns, phi counts for it only this long later");
    v.count("max_failures", s.max_failures, at_least_one,
            "Failed probe rounds in a row that make a node suspect");
  });
  v.section("ring_configuration", "Consistent-hash ring.", [&] {
    auto& s = c.ring_configuration;
    v.count("virtual_nodes", s.virtual_nodes, Bounds{1, 4096}, "Tokens per node");
    v.choice("hash_function", s.hash_function, "Hash that places keys on the ring");
    v.section("rebalance", "Data streamed when nodes join or leave.", [&] {
      auto& r = s.rebalance;
      v.count("moves_per_second", r.moves_per_second, at_least_one,
              "Range moves started per second");
      v.count("batch_size", r.batch_size, at_least_one, "Keys per streamed batch");
      v.count("concurrent_transfers", r.concurrent_transfers, at_least_one,
              "Streams in flight at once");
    });
  });
  v.section("token_distribution", "How tokens are placed on the ring.", [&] {
    auto& s = c.token_distribution;
    v.choice("strategy", s.strategy, "Balanced placement (core/ring/ring.h)");
    v.big_number("min_spacing", s.min_spacing, Bounds{},
                 "Least distance between two tokens on the 2^64 ring");
    v.real("rebalance_threshold", s.rebalance_threshold, probability,
           "Ownership imbalance (fraction of the mean) that triggers a rebalance");
  });
  v.section("routing", "Choosing the node that handles a client request.", [&] {
    auto& s = c.routing;
    v.choice("strategy", s.strategy, "token_aware: send to a replica of the key");
    v.choice("fallback", s.fallback, "When no replica is reachable");
    v.section("retry_policy", "", [&] {
      auto& r = s.retry_policy;
      v.count("max_retries", r.max_retries, Bounds{0, 100}, "Retries of one request");
      v.section("backoff", "Exponential backoff between retries.", [&] {
        auto& b = r.backoff;
        v.duration("initial", b.initial, DB::positive, "First wait");
        v.duration("max", b.max, DB::positive, "Longest wait; at least initial");
        v.real("factor", b.factor, RealBounds{1.0}, "Each wait is the previous times this");
      });
    });
  });
  v.section("load_balancing", "Peer health checks and circuit breakers.", [&] {
    auto& s = c.load_balancing;
    v.duration("health_check_interval", s.health_check_interval, DB::positive,
               "How often each peer is checked");
    v.section("circuit_breaker", "", [&] {
      auto& b = s.circuit_breaker;
      v.count("threshold", b.threshold, at_least_one, "Failures in a row that open the breaker");
      v.duration("timeout", b.timeout, DB::positive, "How long it stays open");
      v.count("half_open_requests", b.half_open_requests, at_least_one,
              "Trial requests let through when half open");
    });
  });
  v.section("read_repair", "Writing the merged version back after a divergent read.", [&] {
    auto& s = c.read_repair;
    v.flag("enabled", s.enabled, "Repair stale replicas seen by a read");
    v.real("probability", s.probability, probability,
           "Chance of also repairing replicas a read did not wait for");
    v.count("max_repair_threads", s.max_repair_threads, at_least_one,
            "Repair tasks running at once");
    v.section("repair_priority", "", [&] {
      auto& p = s.repair_priority;
      v.choice("missing_replicas", p.missing_replicas, "A replica without the key");
      v.choice("stale_replicas", p.stale_replicas, "A replica with an older version");
    });
    v.section("throttling", "", [&] {
      auto& t = s.throttling;
      v.count("max_concurrent_repairs", t.max_concurrent_repairs, at_least_one,
              "Repair writes in flight at once");
      v.rate("bandwidth_limit", t.bandwidth_limit_bytes_per_second, at_least_one,
             "Repair bandwidth cap");
    });
  });
  v.section("background_repair", "Scheduled full Merkle repair.", [&] {
    auto& s = c.background_repair;
    v.section("schedule", "", [&] {
      auto& t = s.schedule;
      v.duration("interval", t.interval, DB::positive, "Time between two runs");
      v.duration("offset", t.offset, DB::non_negative,
                 "Delay of the first run after start-up; less than interval");
      v.duration("max_duration", t.max_duration, DB::positive,
                 "A run stops after this long; at most interval");
    });
    v.section("scope", "", [&] {
      auto& t = s.scope;
      v.count("segments_per_run", t.segments_per_run, at_least_one, "Token-range segments per run");
      v.count("keys_per_segment", t.keys_per_segment, at_least_one, "Keys per segment");
    });
    v.section("resources", "", [&] {
      auto& t = s.resources;
      v.size("max_memory", t.max_memory_bytes, at_least_one, "Memory a run may use");
      v.count("max_cpu", t.max_cpu, at_least_one,
              "Cores a run may use (cannot matter: the node's protocol is single-threaded)");
      v.choice("io_priority", t.io_priority, "Disk priority of repair work");
    });
  });
  v.section("incremental_repair", "Checksums and bloom filters that cut repair work.", [&] {
    auto& s = c.incremental_repair;
    v.choice("strategy", s.strategy, "How differences are found");
    v.section("validation", "", [&] {
      auto& t = s.validation;
      v.choice("checksum", t.checksum, "Checksum of stored values");
      v.real("probability", t.probability, probability,
             "Share of records the background pass also decodes and checks value by value");
    });
    v.section("optimization", "", [&] {
      auto& t = s.optimization;
      v.size("bloom_filter_size", t.bloom_filter_size_bytes, at_least_one,
             "Bloom filter memory (cannot matter: tictac trees skip unchanged ranges)");
      v.real("false_positive_rate", t.false_positive_rate, open_unit,
             "Bloom filter false-positive rate (cannot matter, as bloom_filter_size)");
    });
    v.section("storage", "", [&] {
      auto& t = s.storage;
      v.flag("persist_merkle_trees", t.persist_merkle_trees, "Keep trees across restarts");
      v.choice("compression", t.compression, "Compression of persisted trees");
    });
  });
  v.choice("conflict_resolution", c.conflict_resolution,
           "siblings: keep concurrent writes for the client to merge (no write lost);\n"
           "timestamp: the latest timestamp wins (concurrent writes are discarded)");
  v.section("client", "How the client port's plain commands behave.", [&] {
    auto& s = c.client;
    v.choice("set_context", s.set_context,
             "coordinator: a plain SET/DEL is one round, coordinated on the key's first\n"
             "healthy replica with that replica's state as its context;\n"
             "read: a plain SET/DEL reads at the connection's level first, then writes");
    v.count("keys_max", s.keys_max, Bounds{1, 1000000},
            "Live keys KEYS may walk before it answers an error (use SCAN past it)");
  });
  v.section("tombstone_gc", "Collection of delete tombstones (docs/deletes.md).", [&] {
    auto& s = c.tombstone_gc;
    v.choice("mode", s.mode,
             "replicas: collect once every replica holds the same tombstone (safe);\n"
             "timeout: collect on this replica's word after the grace (Cassandra's\n"
             "gc_grace_seconds: a replica that missed the delete resurrects the value);\n"
             "disabled: keep tombstones for ever");
    v.duration("grace", s.grace, DB::non_negative,
               "Keep a tombstone at least this long; at least hint_storage.maintenance.expiry");
    v.duration("scan_interval", s.scan_interval, DB::positive,
               "How often the collector looks at the next keys of its store");
    v.count("keys_per_scan", s.keys_per_scan, Bounds{1, 1000000}, "Keys looked at per scan");
  });
  v.section("vector_clock", "Bounds on versions (Riak's names in brackets).", [&] {
    auto& s = c.vector_clock;
    // At most what the codec decodes, so every sibling set a node keeps can be replicated.
    v.count("siblings_max", s.siblings_max, Bounds{1, core::siblings_decoded_max},
            "Concurrent versions kept per key (max_siblings)");
    v.count("prune_small", s.prune_small, at_least_one,
            "Clocks with at most this many entries are never pruned (small_vclock)");
    v.count("prune_big", s.prune_big, at_least_one,
            "Clocks are pruned down to this many entries (big_vclock)");
    v.duration("prune_young", s.prune_young, DB::non_negative,
               "Entries younger than this are never pruned (young_vclock)");
    v.duration("prune_old", s.prune_old, DB::non_negative,
               "Entries older than this are pruned (old_vclock)");
  });
  v.section("limits", "Bounds on what clients and peers can make this node hold.", [&] {
    auto& s = c.limits;
    v.size("key_bytes_max", s.key_bytes_max, Bounds{1, core::key_size_bytes_max},
           "Longest key accepted (at most 64KB)");
    v.size("value_bytes_max", s.value_bytes_max, Bounds{1, core::value_size_bytes_max},
           "Longest value accepted (at most 16MB)");
    v.count("client_connections_max", s.client_connections_max, at_least_one,
            "Client connections open at once; more are refused");
    v.count("requests_in_flight_max", s.requests_in_flight_max, at_least_one,
            "Requests this node coordinates at once; more are refused");
    v.size("peer_send_queue_bytes_max", s.peer_send_queue_bytes_max, at_least_one,
           "Bytes queued for one peer; at least value_bytes_max");
    v.count("hints_per_target_max", s.hints_per_target_max, at_least_one,
            "Hints held for one down node; more are refused and counted");
  });
  v.section("security", "Who may use the client and peer ports (docs/security.md).", [&] {
    v.users("users", c.security.users,
            "Client users, each {name, password_hash, permissions: read-only|read-write};\n"
            "password_hash from `vigil config hash-password`. None: no AUTH, anyone may\n"
            "read and write (the node warns at start-up)");
    v.file_path("cluster_secret_file", c.security.cluster_secret_file,
                "File holding the secret peers prove they share (`openssl rand -hex 32`);\n"
                "empty: peers are not authenticated (the node warns at start-up)");
    v.file_path("cluster_secret_previous_file", c.security.cluster_secret_previous_file,
                "A second secret also accepted while the cluster rotates; empty: none");
    v.duration("peer_handshake_timeout", c.security.peer_handshake_timeout, DB::positive,
               "A peer connection not authenticated by then is closed");
    v.file_path("admin_token_file", c.security.admin_token_file,
                "File holding the token (16..1024 bytes) POST /repair and POST /fault require\n"
                "as `Authorization: Bearer <token>`; empty: the admin port is open");
    v.flag("admin_token_for_views", c.security.admin_token_for_views,
           "true: GET /metrics, /status and /fault require the token too");
    v.section("tls", "TLS on the node's ports (docs/security.md, \"TLS\").", [&] {
      auto& t = c.security.tls;
      v.flag("client", t.client, "true: the client (RESP) port speaks only TLS");
      v.flag("peer", t.peer,
             "true: peer connections are mutual TLS (both sides verify against ca_file)");
      v.flag("admin", t.admin, "true: the admin (HTTP) port speaks only HTTPS");
      v.file_path("cert_file", t.cert_file,
                  "This node's certificate chain (PEM); needed when any port uses TLS");
      v.file_path("key_file", t.key_file, "The certificate's private key (PEM, mode 0600)");
      v.file_path("ca_file", t.ca_file,
                  "CA certificates (PEM) a peer's certificate must chain to; needed with peer");
      v.duration("handshake_timeout", t.handshake_timeout, DB::positive,
                 "A connection whose TLS handshake has not finished by then is closed");
    });
  });
}

}  // namespace vigil::config::schema
