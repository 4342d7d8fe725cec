#pragma once
// The configuration of one node: a plain struct whose defaults are the seed's values
// (seed/000: quorum_settings ... incremental_repair), plus Vigil's own sections (node,
// conflict_resolution, vector_clock, limits). config/config_yaml.h fills it from a YAML file
// that names only the keys it changes; docs/configuration.md lists every key.
//
// Members mirror the YAML keys (quorum_settings.N is `quorum_settings.n`); sizes are
// bytes and rates bytes per second, and their names say so (`max_memory_bytes`).
// A Config built in code (the simulator does) is checked with validate() exactly as a
// loaded one is.
//
// Defaults are written once. A key that core reads takes its default from core's option
// struct (NodeOptions, NodeOptions::Hints, MembershipOptions, SiblingLimits, ClockPruning,
// RingOptions) or its constants (core/types.h); only keys core never sees have their value
// here. The consistency levels stay formulas of N (NodeOptions holds their counts for N=3).
// tests/config/node_options_test.cpp checks node_options_from_config(Config{}) and
// ring_options(Config{}) give core's defaults, so the two cannot drift apart.

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "core/membership/membership.h"
#include "core/node/options.h"
#include "core/ring/ring.h"
#include "core/status.h"
#include "core/time.h"
#include "core/types.h"
#include "core/versions/version.h"
#include "core/wire/messages.h"

namespace vigil::config {

// The vocabulary the configuration is written in, shared with core (as store/store.h does).
using core::Duration;
using core::NodeId;
using core::Result;
using core::Status;

// invalid_argument "invalid node id "<text>" (1-64 characters of A-Z a-z 0-9 _ . -)" unless
// core::is_valid_node_id(text).
Result<NodeId> parse_node_id(std::string_view text);

// host:port. `host` is an IPv4 address, a DNS name, or an IPv6 address (written in
// brackets in text: "[::1]:7401"; stored without them).
struct Address {
  std::string host;
  std::uint16_t port = 0;
  friend bool operator==(const Address&, const Address&) = default;
};
// invalid_argument (naming what is wrong) unless `text` is host:port with a valid host
// and a port in 1..65535.
Result<Address> parse_address(std::string_view text);
std::string format_address(const Address& address);
// Status::ok_status() when the address could have come from parse_address.
Status check_address(const Address& address);

// Another node to contact at start-up, written "n2@127.0.0.1:7402".
struct SeedNode {
  NodeId id;
  Address address;
  friend bool operator==(const SeedNode&, const SeedNode&) = default;
};
Result<SeedNode> parse_seed_node(std::string_view text);
std::string format_seed_node(const SeedNode& seed);

// A quorum size of a consistency level: a fixed count or a formula of N.
struct QuorumSize {
  enum class Kind : std::uint8_t {
    count,     // `count` replicas
    all,       // "N"
    majority,  // "N/2 + 1"
  };
  Kind kind = Kind::count;
  std::uint32_t count = 1;  // meaningful when kind == count

  static constexpr QuorumSize fixed(std::uint32_t replicas) { return {Kind::count, replicas}; }
  static constexpr QuorumSize all() { return {Kind::all, 0}; }
  static constexpr QuorumSize majority() { return {Kind::majority, 0}; }
  // The number of replicas for `n` replicas per key (a count is returned as is).
  std::uint32_t resolve(std::uint32_t n) const;
  friend bool operator==(const QuorumSize&, const QuorumSize&) = default;
};
// "2", "N" or "N/2 + 1" (spaces optional when parsing).
Result<QuorumSize> parse_quorum_size(std::string_view text);
std::string format_quorum_size(const QuorumSize& size);

struct ConsistencyLevelConfig {
  QuorumSize r;
  QuorumSize w;
  friend bool operator==(const ConsistencyLevelConfig&, const ConsistencyLevelConfig&) = default;
};

// The configuration of one node. Section types are nested so that their names (Node,
// MerkleTree, VectorClock, ...) stay free for the state machines that read them.
struct Config {
  // Algorithm choices the seed names; each enum lists what Vigil accepts.
  enum class HashFunction : std::uint8_t { sha256 };  // written "SHA-256"
  enum class ChecksumFunction : std::uint8_t { xxhash };
  enum class PriorityLevel : std::uint8_t { low, medium, high };
  enum class SyncWork : std::uint8_t { missing_replicas, inconsistent_replicas, background_sync };
  enum class TokenStrategy : std::uint8_t { uniform };
  enum class RoutingStrategy : std::uint8_t { token_aware, round_robin };
  enum class RoutingFallback : std::uint8_t { round_robin, none };
  enum class RepairStrategy : std::uint8_t { merkle_tree };
  enum class TreeCompression : std::uint8_t { snappy, none };

  struct Node {
    NodeId id = "n1";
    Address listen{"127.0.0.1", 7401};  // node-to-node protocol
    Address client{"127.0.0.1", 6401};  // Redis protocol (RESP2) for clients
    Address admin{"127.0.0.1", 9401};   // admin HTTP (Prometheus metrics)
    std::string data_dir = "./data/n1";
    std::vector<SeedNode> seeds;  // may include this node itself (it is skipped)
    friend bool operator==(const Node&, const Node&) = default;
  };

  struct QuorumSettings {
    std::uint32_t n = core::NodeOptions{}.replicas;  // replicas per key
    std::uint32_t w = 2;  // write quorum of a request that names no consistency level
    std::uint32_t r = 2;  // read quorum of a request that names no consistency level
    friend bool operator==(const QuorumSettings&, const QuorumSettings&) = default;
  };

  struct ConsistencyLevels {
    ConsistencyLevelConfig strong{QuorumSize::all(), QuorumSize::all()};
    ConsistencyLevelConfig eventual{QuorumSize::fixed(1), QuorumSize::fixed(1)};
    ConsistencyLevelConfig quorum{QuorumSize::majority(), QuorumSize::majority()};
    friend bool operator==(const ConsistencyLevels&, const ConsistencyLevels&) = default;
  };

  struct Timing {
    Duration request_timeout = core::NodeOptions{}.request_timeout;
    Duration replication_timeout = core::NodeOptions{}.replication_timeout;
    Duration retry_interval = core::NodeOptions{}.retry_interval;
    std::uint32_t max_retries = core::NodeOptions{}.max_retries;
    friend bool operator==(const Timing&, const Timing&) = default;
  };

  struct HintStorage {
    struct Maintenance {
      Duration check_interval = core::NodeOptions::Hints{}.check_interval;
      Duration retry_interval = core::NodeOptions::Hints{}.retry_interval;
      std::uint32_t max_attempts = core::NodeOptions::Hints{}.max_attempts;
      Duration expiry = core::NodeOptions::Hints{}.expiry;  // also every hint's ttl
      friend bool operator==(const Maintenance&, const Maintenance&) = default;
    };
    Maintenance maintenance;
    // false: no sloppy quorum (held hints are still delivered)
    bool enabled = core::NodeOptions::Hints{}.enabled;
    // A hint's acknowledgement counts toward W (never at `all`; docs/failure-detection.md).
    bool count_toward_write_quorum = core::NodeOptions::Hints{}.count_toward_write_quorum;
    // Deliveries in flight per target.
    std::uint32_t replay_in_flight_max = core::NodeOptions::Hints{}.replay_in_flight_max;
    friend bool operator==(const HintStorage&, const HintStorage&) = default;
  };

  struct MerkleTree {
    std::uint32_t depth = 16;
    HashFunction hash_function = HashFunction::sha256;
    std::uint32_t bucket_size = 1000;  // keys per leaf bucket
    Duration update_interval = std::chrono::seconds(3600);
    friend bool operator==(const MerkleTree&, const MerkleTree&) = default;
  };

  struct SyncProcess {
    // Which work runs first; the three must be different.
    struct PriorityLevels {
      SyncWork high = SyncWork::missing_replicas;
      SyncWork medium = SyncWork::inconsistent_replicas;
      SyncWork low = SyncWork::background_sync;
      friend bool operator==(const PriorityLevels&, const PriorityLevels&) = default;
    };
    // Vigil's own: false keeps the trees but never exchanges them (for experiments; the
    // simulator shows `convergence` failing that way).
    bool enabled = core::AntiEntropyOptions{}.exchanges_enabled;
    Duration scan_interval = std::chrono::hours(6);
    std::uint32_t batch_size = 100;  // keys per transfer batch
    std::uint32_t concurrent_transfers = 3;
    std::uint64_t bandwidth_limit_bytes_per_second = 50ULL * 1024 * 1024;
    PriorityLevels priority_levels;
    friend bool operator==(const SyncProcess&, const SyncProcess&) = default;
  };

  struct GossipProtocol {
    Duration interval = core::MembershipOptions{}.gossip_interval;
    std::uint32_t fanout = core::MembershipOptions{}.fanout;
    std::uint32_t indirect_probes = core::MembershipOptions{}.indirect_probes;
    Duration probe_timeout = core::MembershipOptions{}.probe_timeout;
    friend bool operator==(const GossipProtocol&, const GossipProtocol&) = default;
  };

  struct PhiAccrual {
    double threshold = core::MembershipOptions{}.phi_threshold;
    std::uint32_t window_size = core::MembershipOptions{}.phi_window_size;
    std::uint32_t min_samples = core::MembershipOptions{}.phi_min_samples;
    double scale_factor = core::MembershipOptions{}.phi_scale_factor;
    Duration bootstrap_time = core::MembershipOptions{}.phi_bootstrap_time;
    // Vigil's addition (Akka's min-std-deviation): the floor of the fitted deviation.
    Duration min_std_deviation = core::MembershipOptions{}.phi_min_std_deviation;
    friend bool operator==(const PhiAccrual&, const PhiAccrual&) = default;
  };

  struct FailureDetector {
    Duration suspicious_threshold = core::MembershipOptions{}.suspicious_threshold;
    Duration failure_threshold = core::MembershipOptions{}.failure_threshold;
    Duration recovery_timeout = core::MembershipOptions{}.recovery_timeout;
    std::uint32_t max_failures = core::MembershipOptions{}.max_failures;
    friend bool operator==(const FailureDetector&, const FailureDetector&) = default;
  };

  struct RingConfiguration {
    struct Rebalance {
      std::uint32_t moves_per_second = 10;
      std::uint32_t batch_size = 1000;  // keys per streamed batch
      std::uint32_t concurrent_transfers = 3;
      friend bool operator==(const Rebalance&, const Rebalance&) = default;
    };
    std::uint32_t virtual_nodes = core::RingOptions{}.vnodes;
    HashFunction hash_function = HashFunction::sha256;
    Rebalance rebalance;
    friend bool operator==(const RingConfiguration&, const RingConfiguration&) = default;
  };

  struct TokenDistribution {
    TokenStrategy strategy = TokenStrategy::uniform;
    // Ring positions between tokens (written "1e12").
    std::uint64_t min_spacing = core::RingOptions{}.token_spacing_min;
    double rebalance_threshold = 0.1;
    friend bool operator==(const TokenDistribution&, const TokenDistribution&) = default;
  };

  struct Routing {
    struct Backoff {
      Duration initial = std::chrono::milliseconds(100);
      Duration max = std::chrono::seconds(1);
      double factor = 2.0;
      friend bool operator==(const Backoff&, const Backoff&) = default;
    };
    struct RetryPolicy {
      std::uint32_t max_retries = 3;
      Backoff backoff;
      friend bool operator==(const RetryPolicy&, const RetryPolicy&) = default;
    };
    RoutingStrategy strategy = RoutingStrategy::token_aware;
    RoutingFallback fallback = RoutingFallback::round_robin;
    RetryPolicy retry_policy;
    friend bool operator==(const Routing&, const Routing&) = default;
  };

  struct LoadBalancing {
    struct CircuitBreaker {
      std::uint32_t threshold = 5;  // consecutive failures that open the breaker
      Duration timeout = std::chrono::seconds(30);
      std::uint32_t half_open_requests = 3;
      friend bool operator==(const CircuitBreaker&, const CircuitBreaker&) = default;
    };
    Duration health_check_interval = std::chrono::seconds(5);
    CircuitBreaker circuit_breaker;
    friend bool operator==(const LoadBalancing&, const LoadBalancing&) = default;
  };

  struct ReadRepair {
    struct RepairPriority {
      PriorityLevel missing_replicas = PriorityLevel::high;
      PriorityLevel stale_replicas = PriorityLevel::medium;
      friend bool operator==(const RepairPriority&, const RepairPriority&) = default;
    };
    struct Throttling {
      std::uint32_t max_concurrent_repairs = 3;
      std::uint64_t bandwidth_limit_bytes_per_second = 10ULL * 1024 * 1024;
      friend bool operator==(const Throttling&, const Throttling&) = default;
    };
    bool enabled = core::NodeOptions{}.read_repair_enabled;
    double probability = core::NodeOptions{}.read_repair_probability;
    std::uint32_t max_repair_threads = 4;
    RepairPriority repair_priority;
    Throttling throttling;
    friend bool operator==(const ReadRepair&, const ReadRepair&) = default;
  };

  struct BackgroundRepair {
    struct Schedule {
      Duration interval = std::chrono::hours(24);
      Duration offset = std::chrono::hours(3);
      Duration max_duration = std::chrono::hours(6);
      friend bool operator==(const Schedule&, const Schedule&) = default;
    };
    struct Scope {
      std::uint32_t segments_per_run = 100;
      std::uint32_t keys_per_segment = 1000;
      friend bool operator==(const Scope&, const Scope&) = default;
    };
    struct Resources {
      std::uint64_t max_memory_bytes = 1024ULL * 1024 * 1024;
      std::uint32_t max_cpu = 2;
      PriorityLevel io_priority = PriorityLevel::low;
      friend bool operator==(const Resources&, const Resources&) = default;
    };
    Schedule schedule;
    Scope scope;
    Resources resources;
    friend bool operator==(const BackgroundRepair&, const BackgroundRepair&) = default;
  };

  struct IncrementalRepair {
    struct Validation {
      ChecksumFunction checksum = ChecksumFunction::xxhash;
      double probability = 0.01;
      friend bool operator==(const Validation&, const Validation&) = default;
    };
    struct Optimization {
      std::uint64_t bloom_filter_size_bytes = 100ULL * 1024 * 1024;
      double false_positive_rate = 0.01;
      friend bool operator==(const Optimization&, const Optimization&) = default;
    };
    struct Storage {
      bool persist_merkle_trees = true;
      TreeCompression compression = TreeCompression::snappy;
      friend bool operator==(const Storage&, const Storage&) = default;
    };
    RepairStrategy strategy = RepairStrategy::merkle_tree;
    Validation validation;
    Optimization optimization;
    Storage storage;
    friend bool operator==(const IncrementalRepair&, const IncrementalRepair&) = default;
  };

  // Tombstone collection (core/tombstones/tombstone_gc_options.h; docs/deletes.md).
  struct TombstoneGc {
    core::TombstoneGcMode mode = core::TombstoneGcOptions{}.mode;
    Duration grace = core::TombstoneGcOptions{}.grace;
    Duration scan_interval = core::TombstoneGcOptions{}.scan_interval;
    std::uint32_t keys_per_scan = core::TombstoneGcOptions{}.keys_per_scan;
    friend bool operator==(const TombstoneGc&, const TombstoneGc&) = default;
  };

  // Vigil's own version limits; sibling_limits() maps them onto core/versions/version.h.
  struct VectorClock {
    std::uint32_t siblings_max = static_cast<std::uint32_t>(core::SiblingLimits{}.siblings_max);
    std::uint32_t prune_small = static_cast<std::uint32_t>(core::ClockPruning{}.entries_small);
    std::uint32_t prune_big = static_cast<std::uint32_t>(core::ClockPruning{}.entries_big);
    Duration prune_young = core::ClockPruning{}.age_young;
    Duration prune_old = core::ClockPruning{}.age_old;
    friend bool operator==(const VectorClock&, const VectorClock&) = default;
  };

  // Bounds on what clients and peers can make a node hold (STYLE rule 7). The key and
  // value limits may lower, never raise, the compiled-in caps in core/types.h.
  struct Limits {
    std::uint64_t key_bytes_max = core::key_size_bytes_max;
    std::uint64_t value_bytes_max = core::NodeOptions{}.value_size_bytes_max;
    std::uint32_t client_connections_max = 1000;
    std::uint32_t requests_in_flight_max =
        static_cast<std::uint32_t>(core::NodeOptions{}.requests_in_flight_max);
    std::uint64_t peer_send_queue_bytes_max = 64ULL * 1024 * 1024;
    std::uint32_t hints_per_target_max = core::NodeOptions::Hints{}.per_target_max;
    friend bool operator==(const Limits&, const Limits&) = default;
  };

  // How a client port's plain commands behave (net/client_commands_data.cpp).
  struct Client {
    // Where a plain SET/DEL takes its causal context (core::SetContext): `coordinator`, one
    // round, the key's first healthy replica's own state; `read`, a quorum read first.
    core::SetContext set_context = core::NodeOptions{}.set_context;
    // KEYS walks the whole ring; it answers an error instead of a reply once more than
    // this many live keys were walked (net/client_commands_scan.cpp).
    std::uint32_t keys_max = 10000;
    friend bool operator==(const Client&, const Client&) = default;
  };

  // Who may use the client port, and what peers must prove (docs/security.md). No users:
  // the client port is open to anyone who can reach it, as before; no cluster secret: so is
  // the peer port. The node says so at start-up.
  struct Security {
    enum class Permission : std::uint8_t { read_only, read_write };
    struct User {
      std::string name;           // AUTH's username; `default` is the one AUTH <password> names
      std::string password_hash;  // config/password_hash.h: pbkdf2-sha256$ITER$SALT$KEY
      Permission permissions = Permission::read_write;
      friend bool operator==(const User&, const User&) = default;
    };
    std::vector<User> users;
    // Peers prove they hold this secret on every connection (net/peer_handshake.h). Empty:
    // no peer authentication, as before, and the node warns at start-up.
    std::string cluster_secret_file;
    // A second secret accepted (never offered first) while the cluster rotates its secret.
    std::string cluster_secret_previous_file;
    // A peer connection that has not finished its handshake by then is closed.
    Duration peer_handshake_timeout = std::chrono::seconds(2);
    // The token mutating admin endpoints require (`Authorization: Bearer <token>`);
    // empty: none, as before (the node warns at start-up).
    std::string admin_token_file;
    // true: GET /metrics and /status require the token too.
    bool admin_token_for_views = false;
    // TLS on each port (net/tls_stream.h, docs/security.md "TLS"). Certificate and key are
    // PEM files read at start-up; the peer port is mutual TLS, both sides verifying the
    // other's certificate against ca_file.
    struct Tls {
      bool client = false;  // the client (RESP) port
      bool peer = false;    // the peer port, dialing and accepting
      bool admin = false;   // the admin (HTTP) port
      std::string cert_file;  // this node's certificate chain (PEM)
      std::string key_file;   // its private key (PEM)
      std::string ca_file;    // the CA peers' certificates must chain to (PEM)
      // A connection whose TLS handshake has not finished by then is closed (counted).
      Duration handshake_timeout = std::chrono::seconds(5);
      bool any() const { return client || peer || admin; }
      friend bool operator==(const Tls&, const Tls&) = default;
    };
    Tls tls;
    friend bool operator==(const Security&, const Security&) = default;
  };

  Node node;
  QuorumSettings quorum_settings;
  ConsistencyLevels consistency_levels;
  Timing timing;
  HintStorage hint_storage;
  MerkleTree merkle_tree;
  SyncProcess sync_process;
  GossipProtocol gossip_protocol;
  PhiAccrual phi_accrual;
  FailureDetector failure_detector;
  RingConfiguration ring_configuration;
  TokenDistribution token_distribution;
  Routing routing;
  LoadBalancing load_balancing;
  ReadRepair read_repair;
  BackgroundRepair background_repair;
  IncrementalRepair incremental_repair;
  // Siblings by default: docs/configuration.md, "conflict_resolution", says why.
  core::ConflictMode conflict_resolution = core::NodeOptions{}.conflict_mode;
  Client client;
  TombstoneGc tombstone_gc;
  VectorClock vector_clock;
  Limits limits;
  Security security;
  friend bool operator==(const Config&, const Config&) = default;
};

// One thing wrong with a Config. `key_path` is the dotted YAML path of the offending key
// ("quorum_settings.R", "node.seeds[1]"); `other_key_path`, when not empty, is the key it
// conflicts with (a loader points at it when the offending key kept its default).
struct ConfigViolation {
  std::string key_path;
  std::string other_key_path;
  std::string message;  // without the path: "R (4) is greater than N (3)"
  friend bool operator==(const ConfigViolation&, const ConfigViolation&) = default;
};

// Every key out of its bounds, in the order of the keys in docs/configuration.md; when
// there is none, every broken relation between keys. Empty when the config is valid.
std::vector<ConfigViolation> find_violations(const Config& config);
// invalid_argument "<key_path>: <message>" for the first violation; ok when none.
Status validate(const Config& config);

// Keys set away from their default that cannot change behaviour in this design, each with
// the reason ("<key_path>: <why>"), for `vigil config check` and the start-up log
// (config_warnings.cpp; docs/configuration.md says the same). Empty when none is set.
std::vector<std::string> config_warnings(const Config& config);

// Resolved quorum sizes for one request.
struct QuorumSizes {
  std::uint32_t n = 0;
  std::uint32_t r = 0;
  std::uint32_t w = 0;
  friend bool operator==(const QuorumSizes&, const QuorumSizes&) = default;
};
// The sizes of a request that names no consistency level (quorum_settings).
QuorumSizes default_quorum_sizes(const Config& config);
// The sizes of a request at `level` (one = eventual, quorum, all = strong; default_level =
// quorum_settings, the level a client connection starts with).
// REQUIRES: validate(config).ok().
QuorumSizes quorum_sizes(const Config& config, core::Consistency level);

// What core/versions/version.h and core/ring/ring.h take, in one place.
core::SiblingLimits sibling_limits(const Config& config);
core::RingOptions ring_options(const Config& config);

}  // namespace vigil::config
