// The node configuration (config/config.h, config/config_yaml.h, `vigil config`): defaults are
// the seed's, a file changes only the keys it names, every kind of bad input is refused
// with file:line:column and key path, and the defaults file loads back to the defaults.

#include "config/config.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <sys/wait.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/config_yaml.h"
#include "config/password_hash.h"
#include "config/units.h"

namespace vigil::config {
namespace {

using core::Code;
using core::ConflictMode;
using core::Consistency;
using core::RingOptions;
using core::SiblingLimits;
using core::value_size_bytes_max;

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::uint64_t mb = 1024 * 1024;

// Every YAML block of seed/000_f28a602ab84b929f.txt, verbatim and in order; the seed
// writes hint_storage in JSON, so its maintenance block is transcribed to YAML.
constexpr const char* seed_yaml = R"(
quorum_settings:
  N: 3  # Total replicas
  W: 2  # Write quorum
  R: 2  # Read quorum

consistency_levels:
  strong:
    R: "N"
    W: "N"
  eventual:
    R: 1
    W: 1
  quorum:
    R: "N/2 + 1"
    W: "N/2 + 1"

timing:
  request_timeout: 5s
  replication_timeout: 2s
  retry_interval: 100ms
  max_retries: 3

hint_storage:
  maintenance:
    check_interval: "1m"
    retry_interval: "5m"
    max_attempts: 5
    expiry: "24h"

merkle_tree:
  depth: 16
  hash_function: "SHA-256"
  bucket_size: 1000
  update_interval: 3600s

sync_process:
  scan_interval: 6h
  batch_size: 100
  concurrent_transfers: 3
  bandwidth_limit: "50MB/s"
  priority_levels:
    high: "missing_replicas"
    medium: "inconsistent_replicas"
    low: "background_sync"

gossip_protocol:
  interval: 1s
  fanout: 3
  indirect_probes: 2
  probe_timeout: 500ms

phi_accrual:
  threshold: 8.0
  window_size: 100
  min_samples: 10
  scale_factor: 1.0
  bootstrap_time: 30s

failure_detector:
  suspicious_threshold: 5s
  failure_threshold: 15s
  recovery_timeout: 30s
  max_failures: 3

ring_configuration:
  virtual_nodes: 128
  hash_function: "SHA-256"
  rebalance:
    moves_per_second: 10
    batch_size: 1000
    concurrent_transfers: 3

token_distribution:
  strategy: "uniform"
  min_spacing: "1e12"
  rebalance_threshold: 0.1

routing:
  strategy: "token_aware"
  fallback: "round_robin"
  retry_policy:
    max_retries: 3
    backoff:
      initial: 100ms
      max: 1s
      factor: 2

load_balancing:
  health_check_interval: 5s
  circuit_breaker:
    threshold: 5
    timeout: 30s
    half_open_requests: 3

read_repair:
  enabled: true
  probability: 0.1
  max_repair_threads: 4
  repair_priority:
    missing_replicas: "high"
    stale_replicas: "medium"
  throttling:
    max_concurrent_repairs: 3
    bandwidth_limit: "10MB/s"

background_repair:
  schedule:
    interval: 24h
    offset: 3h
    max_duration: 6h
  scope:
    segments_per_run: 100
    keys_per_segment: 1000
  resources:
    max_memory: "1GB"
    max_cpu: 2
    io_priority: "low"

incremental_repair:
  strategy: "merkle_tree"
  validation:
    checksum: "xxhash"
    probability: 0.01
  optimization:
    bloom_filter_size: "100MB"
    false_positive_rate: 0.01
  storage:
    persist_merkle_trees: true
    compression: "snappy"
)";

Config load(std::string_view text) {
  Result<Config> result = config_from_yaml(text, "node.yaml");
  EXPECT_TRUE(result.ok()) << result.status().message();
  return result.ok() ? std::move(result).value() : Config{};
}

// The whole error message of a refused document ("<loaded>" if it was accepted).
std::string refusal(std::string_view text) {
  const Result<Config> result = config_from_yaml(text, "node.yaml");
  if (result.ok()) return "<loaded>";
  EXPECT_EQ(result.status().code(), Code::invalid_argument);
  return result.status().message();
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

const std::filesystem::path source_dir = VIGIL_SOURCE_DIR;

// ---- defaults -------------------------------------------------------------------------

TEST(ConfigDefaults, TheSeedsOwnYamlLoadsToExactlyTheDefaults) {
  EXPECT_EQ(load(seed_yaml), Config{});
}

TEST(ConfigDefaults, AreTheSeedsValues) {
  const Config c;
  EXPECT_EQ(c.quorum_settings.n, 3u);
  EXPECT_EQ(c.quorum_settings.w, 2u);
  EXPECT_EQ(c.quorum_settings.r, 2u);
  EXPECT_EQ(c.consistency_levels.strong.r, QuorumSize::all());
  EXPECT_EQ(c.consistency_levels.eventual.w, QuorumSize::fixed(1));
  EXPECT_EQ(c.consistency_levels.quorum.r, QuorumSize::majority());
  EXPECT_EQ(c.timing.request_timeout, seconds(5));
  EXPECT_EQ(c.timing.replication_timeout, seconds(2));
  EXPECT_EQ(c.timing.retry_interval, milliseconds(100));
  EXPECT_EQ(c.timing.max_retries, 3u);
  EXPECT_EQ(c.hint_storage.maintenance.check_interval, minutes(1));
  EXPECT_EQ(c.hint_storage.maintenance.retry_interval, minutes(5));
  EXPECT_EQ(c.hint_storage.maintenance.max_attempts, 5u);
  EXPECT_EQ(c.hint_storage.maintenance.expiry, hours(24));
  EXPECT_EQ(c.merkle_tree.depth, 16u);
  EXPECT_EQ(c.merkle_tree.bucket_size, 1000u);
  EXPECT_EQ(c.merkle_tree.update_interval, seconds(3600));
  EXPECT_EQ(c.sync_process.scan_interval, hours(6));
  EXPECT_EQ(c.sync_process.bandwidth_limit_bytes_per_second, 50 * mb);
  EXPECT_EQ(c.sync_process.priority_levels.medium, Config::SyncWork::inconsistent_replicas);
  EXPECT_EQ(c.gossip_protocol.interval, seconds(1));
  EXPECT_EQ(c.gossip_protocol.fanout, 3u);
  EXPECT_EQ(c.gossip_protocol.indirect_probes, 2u);
  EXPECT_EQ(c.gossip_protocol.probe_timeout, milliseconds(500));
  EXPECT_EQ(c.phi_accrual.threshold, 8.0);
  EXPECT_EQ(c.phi_accrual.window_size, 100u);
  EXPECT_EQ(c.phi_accrual.min_samples, 10u);
  EXPECT_EQ(c.phi_accrual.bootstrap_time, seconds(30));
  EXPECT_EQ(c.failure_detector.suspicious_threshold, seconds(5));
  EXPECT_EQ(c.failure_detector.failure_threshold, seconds(15));
  EXPECT_EQ(c.failure_detector.recovery_timeout, seconds(30));
  EXPECT_EQ(c.failure_detector.max_failures, 3u);
  EXPECT_EQ(c.ring_configuration.virtual_nodes, 128u);
  EXPECT_EQ(c.ring_configuration.rebalance.moves_per_second, 10u);
  EXPECT_EQ(c.token_distribution.min_spacing, 1000000000000u);
  EXPECT_EQ(c.token_distribution.rebalance_threshold, 0.1);
  EXPECT_EQ(c.routing.retry_policy.backoff.initial, milliseconds(100));
  EXPECT_EQ(c.routing.retry_policy.backoff.max, seconds(1));
  EXPECT_EQ(c.routing.retry_policy.backoff.factor, 2.0);
  EXPECT_EQ(c.load_balancing.health_check_interval, seconds(5));
  EXPECT_EQ(c.load_balancing.circuit_breaker.threshold, 5u);
  EXPECT_EQ(c.load_balancing.circuit_breaker.timeout, seconds(30));
  EXPECT_EQ(c.load_balancing.circuit_breaker.half_open_requests, 3u);
  EXPECT_TRUE(c.read_repair.enabled);
  EXPECT_EQ(c.read_repair.probability, 0.1);
  EXPECT_EQ(c.read_repair.repair_priority.missing_replicas, Config::PriorityLevel::high);
  EXPECT_EQ(c.read_repair.throttling.bandwidth_limit_bytes_per_second, 10 * mb);
  EXPECT_EQ(c.background_repair.schedule.interval, hours(24));
  EXPECT_EQ(c.background_repair.schedule.offset, hours(3));
  EXPECT_EQ(c.background_repair.schedule.max_duration, hours(6));
  EXPECT_EQ(c.background_repair.scope.segments_per_run, 100u);
  EXPECT_EQ(c.background_repair.resources.max_memory_bytes, 1024 * mb);
  EXPECT_EQ(c.incremental_repair.validation.probability, 0.01);
  EXPECT_EQ(c.incremental_repair.optimization.bloom_filter_size_bytes, 100 * mb);
  EXPECT_EQ(c.incremental_repair.storage.compression, Config::TreeCompression::snappy);
  EXPECT_EQ(c.conflict_resolution, ConflictMode::siblings);
  EXPECT_EQ(c.vector_clock.siblings_max, 100u);
  EXPECT_EQ(c.vector_clock.prune_old, seconds(86400));
  EXPECT_EQ(c.limits.value_bytes_max, mb);
}

TEST(ConfigDefaults, AreValid) {
  EXPECT_TRUE(find_violations(Config{}).empty());
  EXPECT_TRUE(validate(Config{}).ok());
}

TEST(ConfigDefaults, EmptyDocumentsGiveTheDefaults) {
  EXPECT_EQ(load(""), Config{});
  EXPECT_EQ(load("# nothing but a comment\n"), Config{});
  EXPECT_EQ(load("---\n"), Config{});
  EXPECT_EQ(load("timing:\n"), Config{});  // an empty section keeps its defaults
}

// ---- loading --------------------------------------------------------------------------

TEST(ConfigLoad, APartialFileChangesOnlyTheKeysItNames) {
  const Config loaded = load(
      "timing:\n"
      "  request_timeout: 10s\n"
      "routing:\n"
      "  retry_policy:\n"
      "    backoff:\n"
      "      max: 2s\n"
      "conflict_resolution: timestamp\n"
      "client:\n"
      "  set_context: read\n");
  Config expected;
  expected.timing.request_timeout = seconds(10);
  expected.routing.retry_policy.backoff.max = seconds(2);
  expected.conflict_resolution = ConflictMode::timestamp;
  expected.client.set_context = core::SetContext::read;
  EXPECT_EQ(loaded, expected);
  EXPECT_EQ(config_keys_changed(loaded), 4u);
}

TEST(ConfigLoad, NodeIdentityAndAddresses) {
  const Config c = load(
      "node:\n"
      "  id: n2\n"
      "  listen: \"[::1]:7402\"\n"
      "  client: localhost:6402\n"
      "  admin: 0.0.0.0:9402\n"
      "  data_dir: /var/lib/vigil/n2\n"
      "  seeds: [n1@127.0.0.1:7401, n3@db-3.example.com:7403]\n");
  EXPECT_EQ(c.node.id, "n2");
  EXPECT_EQ(c.node.listen, (Address{"::1", 7402}));
  EXPECT_EQ(c.node.client, (Address{"localhost", 6402}));
  EXPECT_EQ(c.node.admin, (Address{"0.0.0.0", 9402}));
  EXPECT_EQ(c.node.data_dir, "/var/lib/vigil/n2");
  ASSERT_EQ(c.node.seeds.size(), 2u);
  EXPECT_EQ(c.node.seeds[1], (SeedNode{"n3", {"db-3.example.com", 7403}}));
}

TEST(ConfigLoad, ConsistencyLevelsAcceptNumbersAndTheTwoExpressions) {
  const Config c = load(
      "quorum_settings: {N: 5, R: 3, W: 3}\n"
      "consistency_levels:\n"
      "  strong: {R: N, W: \"N/2+1\"}\n"
      "  eventual: {R: 2, W: \" N / 2 + 1 \"}\n");
  EXPECT_EQ(c.consistency_levels.strong.r, QuorumSize::all());
  EXPECT_EQ(c.consistency_levels.strong.w, QuorumSize::majority());
  EXPECT_EQ(c.consistency_levels.eventual.r, QuorumSize::fixed(2));
  EXPECT_EQ(c.consistency_levels.eventual.w, QuorumSize::majority());
  EXPECT_EQ(quorum_sizes(c, Consistency::all), (QuorumSizes{5, 5, 3}));
  EXPECT_EQ(quorum_sizes(c, Consistency::one), (QuorumSizes{5, 2, 3}));
  EXPECT_EQ(quorum_sizes(c, Consistency::quorum), (QuorumSizes{5, 3, 3}));
  EXPECT_EQ(default_quorum_sizes(c), (QuorumSizes{5, 3, 3}));
}

TEST(ConfigLoad, QuorumSizesOfTheDefaults) {
  const Config c;
  EXPECT_EQ(quorum_sizes(c, Consistency::one), (QuorumSizes{3, 1, 1}));
  EXPECT_EQ(quorum_sizes(c, Consistency::quorum), (QuorumSizes{3, 2, 2}));
  EXPECT_EQ(quorum_sizes(c, Consistency::all), (QuorumSizes{3, 3, 3}));
  EXPECT_EQ(QuorumSize::majority().resolve(4), 3u);
  EXPECT_EQ(QuorumSize::majority().resolve(1), 1u);
}

TEST(ConfigLoad, MapsOntoSiblingLimitsAndRingOptions) {
  const Config c = load(
      "vector_clock: {siblings_max: 7, prune_small: 3, prune_big: 4, prune_young: 1s,"
      " prune_old: 2h}\n"
      "ring_configuration: {virtual_nodes: 16}\n"
      "token_distribution: {min_spacing: 5e9}\n");
  const SiblingLimits limits = sibling_limits(c);
  EXPECT_EQ(limits.siblings_max, 7u);
  EXPECT_EQ(limits.pruning.entries_small, 3u);
  EXPECT_EQ(limits.pruning.entries_big, 4u);
  EXPECT_EQ(limits.pruning.age_young, seconds(1));
  EXPECT_EQ(limits.pruning.age_old, hours(2));
  const RingOptions ring = ring_options(c);
  EXPECT_EQ(ring.vnodes, 16u);
  EXPECT_EQ(ring.token_spacing_min, 5000000000u);

  // The defaults map onto the defaults of version.h and ring.h.
  const SiblingLimits defaults = sibling_limits(Config{});
  const SiblingLimits version_defaults;
  EXPECT_EQ(defaults.siblings_max, version_defaults.siblings_max);
  EXPECT_EQ(defaults.pruning.entries_small, version_defaults.pruning.entries_small);
  EXPECT_EQ(defaults.pruning.entries_big, version_defaults.pruning.entries_big);
  EXPECT_EQ(defaults.pruning.age_young, version_defaults.pruning.age_young);
  EXPECT_EQ(defaults.pruning.age_old, version_defaults.pruning.age_old);
  EXPECT_EQ(ring_options(Config{}).vnodes, RingOptions{}.vnodes);
  EXPECT_EQ(ring_options(Config{}).token_spacing_min, RingOptions{}.token_spacing_min);
}

TEST(ConfigLoad, TheExampleFileLoads) {
  const std::string text = read_file(source_dir / "config/example-node.yaml");
  ASSERT_FALSE(text.empty());
  const Config c = load(text);
  EXPECT_EQ(c.node.seeds.size(), 3u);
  EXPECT_EQ(c.conflict_resolution, ConflictMode::siblings);
}

// ---- errors: file:line:column: key.path: what ----------------------------------------

TEST(ConfigErrors, UnknownKeySuggestsTheClosestKnownKey) {
  EXPECT_EQ(refusal("timing:\n  request_timout: 5s\n"),
            "node.yaml:2:3: timing.request_timout: unknown key; did you mean "
            "\"request_timeout\"?");
  EXPECT_EQ(refusal("quorum_setings:\n  N: 3\n"),
            "node.yaml:1:1: quorum_setings: unknown key; did you mean \"quorum_settings\"?");
  EXPECT_EQ(refusal("quorum_settings:\n  n: 3\n"),
            "node.yaml:2:3: quorum_settings.n: unknown key; did you mean \"N\"?");
  EXPECT_EQ(refusal("quorum_settings:\n  X: 3\n"),
            "node.yaml:2:3: quorum_settings.X: unknown key (known keys here: N, W, R)");
}

TEST(ConfigErrors, WrongType) {
  EXPECT_EQ(refusal("quorum_settings:\n  N: [1, 2]\n"),
            "node.yaml:2:6: quorum_settings.N: expected a whole number, got a list");
  EXPECT_EQ(refusal("quorum_settings:\n  N: three\n"),
            "node.yaml:2:6: quorum_settings.N: \"three\": expected a whole number (e.g. 3 or "
            "1e12)");
  EXPECT_EQ(refusal("timing: 5s\n"),
            "node.yaml:1:9: timing: expected a section of keys, got a single value");
  EXPECT_EQ(refusal("read_repair:\n  enabled: yes\n"),
            "node.yaml:2:12: read_repair.enabled: \"yes\": expected true or false");
  EXPECT_EQ(refusal("merkle_tree:\n  hash_function: MD5\n"),
            "node.yaml:2:18: merkle_tree.hash_function: \"MD5\": expected one of \"SHA-256\"");
  EXPECT_EQ(refusal("client:\n  set_context: write\n"),
            "node.yaml:2:16: client.set_context: \"write\": expected one of \"coordinator\", "
            "\"read\"");
  EXPECT_EQ(refusal("timing:\n  request_timeout:\n"),
            "node.yaml:2:3: timing.request_timeout: expected a duration such as 5s, got nothing");
  EXPECT_EQ(refusal("- a\n- b\n"),
            "node.yaml:1:1: expected a mapping of sections (e.g. \"timing:\"), got a list");
  EXPECT_EQ(refusal("quorum_settings:\n  N: 4294967296\n"),
            "node.yaml:2:6: quorum_settings.N: \"4294967296\": too large (at most 4294967295)");
}

TEST(ConfigErrors, ZeroOrNegativeWherePositiveIsNeeded) {
  EXPECT_EQ(refusal("gossip_protocol:\n  fanout: 0\n"),
            "node.yaml:2:11: gossip_protocol.fanout: must be at least 1 (got 0)");
  EXPECT_EQ(refusal("timing:\n  request_timeout: 0s\n"),
            "node.yaml:2:20: timing.request_timeout: must be positive (got 0s)");
  EXPECT_EQ(refusal("timing:\n  request_timeout: -5s\n"),
            "node.yaml:2:20: timing.request_timeout: \"-5s\": a duration cannot be negative");
  EXPECT_EQ(refusal("timing:\n  max_retries: -1\n"),
            "node.yaml:2:16: timing.max_retries: \"-1\": cannot be negative");
  EXPECT_EQ(refusal("phi_accrual:\n  threshold: 0\n"),
            "node.yaml:2:14: phi_accrual.threshold: must be greater than 0.0 (got 0.0)");
  EXPECT_EQ(refusal("sync_process:\n  bandwidth_limit: 0B/s\n"),
            "node.yaml:2:20: sync_process.bandwidth_limit: must be at least 1B/s (got 0B/s)");
}

TEST(ConfigErrors, ProbabilityOutsideZeroToOne) {
  EXPECT_EQ(refusal("read_repair:\n  probability: 1.5\n"),
            "node.yaml:2:16: read_repair.probability: must be at least 0.0 and at most 1.0 "
            "(got 1.5)");
  EXPECT_EQ(refusal("incremental_repair:\n  validation:\n    probability: -0.01\n"),
            "node.yaml:3:18: incremental_repair.validation.probability: must be at least 0.0 "
            "and at most 1.0 (got -0.01)");
  EXPECT_EQ(refusal("incremental_repair:\n  optimization:\n    false_positive_rate: 1\n"),
            "node.yaml:3:26: incremental_repair.optimization.false_positive_rate: must be "
            "greater than 0.0 and less than 1.0 (got 1.0)");
}

TEST(ConfigErrors, ReadOrWriteQuorumGreaterThanN) {
  EXPECT_EQ(refusal("quorum_settings:\n  N: 3\n  W: 2\n  R: 4\n"),
            "node.yaml:4:6: quorum_settings.R: R (4) is greater than N (3)");
  EXPECT_EQ(refusal("consistency_levels:\n  eventual:\n    W: 5\n"),
            "node.yaml:3:8: consistency_levels.eventual.W: W (5) is greater than N (3)");
}

TEST(ConfigErrors, ARelationBrokenByLoweringNPointsAtN) {
  // R and W keep their defaults (2); the file only lowered N, so N's line is named.
  EXPECT_EQ(refusal("quorum_settings:\n  N: 1\n"),
            "node.yaml:2:6: quorum_settings.W: W (2) is greater than N (1)\n"
            "node.yaml:2:6: quorum_settings.R: R (2) is greater than N (1)");
}

TEST(ConfigErrors, ReadOrWriteQuorumBelowOne) {
  EXPECT_EQ(refusal("quorum_settings:\n  W: 0\n"),
            "node.yaml:2:6: quorum_settings.W: must be at least 1 (got 0)");
  EXPECT_EQ(refusal("consistency_levels:\n  quorum:\n    R: 0\n"),
            "node.yaml:3:8: consistency_levels.quorum.R: R must be at least 1 (got 0)");
  EXPECT_EQ(refusal("consistency_levels:\n  strong:\n    R: N/3\n"),
            "node.yaml:3:8: consistency_levels.strong.R: \"N/3\": expected a number, \"N\" or "
            "\"N/2 + 1\"");
}

TEST(ConfigErrors, UnparsableDurationSizeAndRate) {
  EXPECT_EQ(refusal("gossip_protocol:\n  interval: 5x\n"),
            "node.yaml:2:13: gossip_protocol.interval: \"5x\": unknown unit \"x\" (expected us, "
            "ms, s, m, h, d)");
  EXPECT_EQ(refusal("background_repair:\n  resources:\n    max_memory: 1.5GB\n"),
            "node.yaml:3:17: background_repair.resources.max_memory: \"1.5GB\": fractions are "
            "not accepted; use a smaller unit");
  EXPECT_EQ(refusal("read_repair:\n  throttling:\n    bandwidth_limit: 10MB\n"),
            "node.yaml:3:22: read_repair.throttling.bandwidth_limit: \"10MB\": expected a size "
            "per second, e.g. 50MB/s");
  EXPECT_EQ(refusal("limits:\n  value_bytes_max: 99999999999TB\n"),
            "node.yaml:2:20: limits.value_bytes_max: \"99999999999TB\": too large (at most "
            "16777215TB)");
}

TEST(ConfigErrors, MalformedYamlGivesTheParsersPosition) {
  EXPECT_EQ(refusal("timing:\n  request_timeout: [5s\n"),
            "node.yaml:3:1: malformed YAML: end of sequence flow not found");
  EXPECT_EQ(refusal("timing:\n  a: 1\n b: 2\n"),
            "node.yaml:3:2: malformed YAML: end of map not found");
  EXPECT_EQ(refusal("node: *missing\n"),
            "node.yaml:1:7: malformed YAML: the referenced anchor is not defined");
  EXPECT_EQ(refusal("timing: {}\n---\ntiming: {}\n"),
            "node.yaml:2:1: only one YAML document is allowed; a second one starts here");
}

// yaml-cpp 0.7's LoadAll never returns on this input and its Load takes it for an empty
// document; the loader must refuse it, promptly.
TEST(ConfigErrors, AStrayLeadingCommaIsMalformedNotAHang) {
  EXPECT_EQ(refusal(","), "node.yaml:1:1: malformed YAML: unexpected \",\"");
  EXPECT_EQ(refusal(",\352\n-"), "node.yaml:1:1: malformed YAML: unexpected \",\"");
  EXPECT_EQ(refusal("---\n,\n"), "node.yaml:2:1: malformed YAML: unexpected \",\"");
}

TEST(ConfigErrors, DuplicateKey) {
  EXPECT_EQ(refusal("timing:\n  max_retries: 1\n  max_retries: 2\n"),
            "node.yaml:3:3: timing.max_retries: duplicate key (first at line 2)");
}

TEST(ConfigErrors, InvalidNodeId) {
  EXPECT_EQ(refusal("node:\n  id: \"n 1\"\n"),
            "node.yaml:2:7: node.id: invalid node id \"n 1\" (1-64 characters of A-Z a-z 0-9 _ "
            ". -)");
  EXPECT_EQ(refusal("node:\n  id: " + std::string(65, 'a') + "\n"),
            "node.yaml:2:7: node.id: invalid node id \"" + std::string(65, 'a') +
                "\" (1-64 characters of A-Z a-z 0-9 _ . -)");
  EXPECT_EQ(refusal("node:\n  seeds: [\"n/2@127.0.0.1:7402\"]\n"),
            "node.yaml:2:11: node.seeds[0]: \"n/2@127.0.0.1:7402\": invalid node id \"n/2\" "
            "(1-64 characters of A-Z a-z 0-9 _ . -)");
}

TEST(ConfigErrors, BadAddress) {
  EXPECT_EQ(refusal("node:\n  listen: 127.0.0.1\n"),
            "node.yaml:2:11: node.listen: \"127.0.0.1\": missing port; expected host:port, e.g. "
            "127.0.0.1:7401");
  EXPECT_EQ(refusal("node:\n  client: 127.0.0.1:99999\n"),
            "node.yaml:2:11: node.client: \"127.0.0.1:99999\": port must be a number from 1 to "
            "65535");
  EXPECT_EQ(refusal("node:\n  admin: 300.1.1.1:80\n"),
            "node.yaml:2:10: node.admin: \"300.1.1.1:80\": \"300.1.1.1\" is not a valid IPv4 "
            "address");
  EXPECT_EQ(refusal("node:\n  admin: \"::1:80\"\n"),
            "node.yaml:2:10: node.admin: \"::1:80\": write an IPv6 address in brackets, e.g. "
            "[::1]:7401");
  EXPECT_EQ(refusal("node:\n  admin: bad_host:80\n"),
            "node.yaml:2:10: node.admin: \"bad_host:80\": \"bad_host\" is not a valid host name "
            "(labels of A-Z a-z 0-9 -)");
  EXPECT_EQ(refusal("node:\n  seeds: [n2@127.0.0.1:7402, n3]\n"),
            "node.yaml:2:30: node.seeds[1]: \"n3\": expected id@host:port, e.g. "
            "n2@127.0.0.1:7402");
  EXPECT_EQ(refusal("node:\n  client: 127.0.0.1:7401\n"),
            "node.yaml:2:11: node.client: 127.0.0.1:7401 is also the listen address; each port "
            "needs its own");
}

TEST(ConfigErrors, OtherRelations) {
  EXPECT_EQ(refusal("node:\n  seeds: [a@h:1, b@h:2, a@h:3]\n"),
            "node.yaml:2:25: node.seeds[2]: node \"a\" is listed twice (also at seeds[0])");
  EXPECT_EQ(refusal("timing:\n  replication_timeout: 6s\n"),
            "node.yaml:2:24: timing.replication_timeout: replication_timeout (6s) is longer than "
            "request_timeout (5s)");
  EXPECT_EQ(refusal("failure_detector:\n  failure_threshold: 5s\n"),
            "node.yaml:2:22: failure_detector.failure_threshold: failure_threshold (5s) must be "
            "longer than suspicious_threshold (5s)");
  EXPECT_EQ(refusal("sync_process:\n  priority_levels:\n    low: missing_replicas\n"),
            "node.yaml:3:10: sync_process.priority_levels.low: \"missing_replicas\" is listed at "
            "both high and low; each kind of sync work needs its own level");
  EXPECT_EQ(refusal("limits:\n  peer_send_queue_bytes_max: 512KB\n"),
            "node.yaml:2:30: limits.peer_send_queue_bytes_max: peer_send_queue_bytes_max (512KB) "
            "is smaller than value_bytes_max (1MB): one value would not fit");
  EXPECT_EQ(refusal("limits:\n  value_bytes_max: 32MB\n"),
            "node.yaml:2:20: limits.value_bytes_max: must be between 1B and 16MB (got 32MB)");
  // A hint older than the grace could replay a deleted value (docs/deletes.md); the error
  // names the expiry and points at the grace, the key that was set.
  EXPECT_EQ(refusal("tombstone_gc:\n  grace: 1h\n"),
            "node.yaml:2:10: hint_storage.maintenance.expiry: expiry (24h) is longer than the "
            "tombstone grace (1h)");
  EXPECT_TRUE(find_violations([] {
                Config config;
                config.tombstone_gc.grace = std::chrono::hours(1);
                config.tombstone_gc.mode = core::TombstoneGcMode::disabled;
                return config;
              }()).empty())
      << "kept for ever: no hint can outlive the tombstone";
  EXPECT_EQ(refusal("hint_storage:\n  format: {ttl: duration}\n"),
            "node.yaml:2:3: hint_storage.format: cannot be configured: The hint record "
            "(target_node, key, value, timestamp, ttl) is fixed; ttl = expiry; remove this key");
}

TEST(ConfigErrors, EveryProblemIsReportedInFileOrder) {
  EXPECT_EQ(refusal("gossip_protocol:\n  fanout: x\n"
                    "timing:\n  bogus: 1\n  request_timeout: 1y\n"),
            "node.yaml:2:11: gossip_protocol.fanout: \"x\": expected a whole number (e.g. 3 or "
            "1e12)\n"
            "node.yaml:4:3: timing.bogus: unknown key (known keys here: request_timeout, "
            "replication_timeout, retry_interval, max_retries)\n"
            "node.yaml:5:20: timing.request_timeout: \"1y\": unknown unit \"y\" (expected us, ms, "
            "s, m, h, d)");
}

TEST(ConfigErrors, AreCappedAtAFixedCount) {
  std::string text = "timing:\n";
  for (int i = 0; i < 30; ++i) text += "  bogus" + std::to_string(i) + ": 1\n";
  const std::string message = refusal(text);
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'),
            static_cast<std::ptrdiff_t>(config_errors_max));
  EXPECT_NE(message.find("node.yaml: ... and 10 more problems"), std::string::npos);
}

TEST(ConfigErrors, ManyUnknownKeysAreCountedAll) {
  std::string text = "timing:\n";
  for (int i = 0; i < 3000; ++i) text += "  bogus" + std::to_string(i) + ": 1\n";
  const std::string message = refusal(text);
  EXPECT_EQ(message.substr(0, message.find('\n')),
            "node.yaml:2:3: timing.bogus0: unknown key (known keys here: request_timeout, "
            "replication_timeout, retry_interval, max_retries)");
  EXPECT_NE(message.find("node.yaml: ... and 2980 more problems"), std::string::npos);
}

TEST(ConfigErrors, OversizedTextIsRefusedBeforeParsing) {
  const std::string text(config_text_bytes_max + 1, '#');
  EXPECT_EQ(refusal(text), "node.yaml: larger than 1MB; not a configuration file?");
}

TEST(ConfigErrors, AParsedNodeWithoutPositionsNamesTheKeyOnly) {
  YAML::Node document;
  document["quorum_settings"]["R"] = 4;
  const Result<Config> result = config_from_yaml(document, "scenario node n1");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            "scenario node n1: quorum_settings.R: R (4) is greater than N (3)");
}

TEST(ConfigErrors, ValidateNamesTheKeyPathOfACodeBuiltConfig) {
  Config c;
  c.quorum_settings.r = 4;
  EXPECT_EQ(validate(c).message(), "quorum_settings.R: R (4) is greater than N (3)");
  c = Config{};
  c.node.id = "";
  EXPECT_EQ(validate(c).message(),
            "node.id: invalid node id \"\" (1-64 characters of A-Z a-z 0-9 _ . -)");
  c = Config{};
  c.read_repair.probability = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(validate(c).code(), Code::invalid_argument);
  c = Config{};
  c.node.seeds.push_back({"n2", {"", 1}});
  EXPECT_EQ(validate(c).message(), "node.seeds[0]: empty host");
}

// No input makes the loader throw or crash: every text gives a Config or an error.
RC_GTEST_PROP(ConfigErrors, ArbitraryTextNeverThrows, (const std::string& text)) {
  const Result<Config> result = config_from_yaml(text, "fuzz.yaml");
  if (!result.ok()) RC_ASSERT(result.status().message().rfind("fuzz.yaml", 0) == 0);
}

RC_GTEST_PROP(ConfigErrors, MutatedDefaultsNeverThrow, ()) {
  std::string text = config_defaults_yaml();
  const auto edits = *rc::gen::inRange(1, 6);
  for (int i = 0; i < edits; ++i) {
    const auto at = *rc::gen::inRange<std::size_t>(0, text.size());
    const char replacement = *rc::gen::element(':', '-', ' ', '\n', '[', '{', '"', '0', 'x', '#');
    text[at] = replacement;
  }
  const Result<Config> result = config_from_yaml(text, "fuzz.yaml");
  if (!result.ok()) RC_ASSERT(result.status().message().rfind("fuzz.yaml", 0) == 0);
}

// ---- the defaults file ----------------------------------------------------------------

TEST(ConfigDefaultsFile, LoadsBackToExactlyTheDefaults) {
  EXPECT_EQ(load(config_defaults_yaml()), Config{});
}

TEST(ConfigDefaultsFile, NamesEveryKeyWithAComment) {
  const std::string text = config_defaults_yaml();
  const auto keys = config_key_values(Config{});
  EXPECT_GT(keys.size(), 90u);
  for (const auto& [path, value] : keys) {
    const std::string name = path.substr(path.rfind('.') + 1);
    // The key as a whole word: "threshold: 5" must not match "suspicious_threshold: 5s".
    const std::string wanted = name + ": " + value;
    std::size_t at = text.find(wanted);
    const auto whole_word = [&](std::size_t i) {
      const char before = text[i - 1];
      const char after = text[i + wanted.size()];
      return (before == ' ' || before == '\n') && (after == ' ' || after == '\n');
    };
    while (at != std::string::npos && !whole_word(at)) at = text.find(wanted, at + 1);
    ASSERT_NE(at, std::string::npos) << path << " = " << value << " is not in the defaults file";
    // Its comment is on the same line or on the line above.
    const std::size_t line_start = text.rfind('\n', at) + 1;
    const std::string line = text.substr(line_start, text.find('\n', at) - line_start);
    const std::size_t previous_start = text.rfind('\n', line_start - 2) + 1;
    const std::string previous = text.substr(previous_start, line_start - previous_start);
    const bool commented = line.find("  # ") != std::string::npos ||
                           previous.find_first_not_of(' ') == previous.find('#');
    EXPECT_TRUE(commented) << path << " has no comment";
  }
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end - start);
    EXPECT_LE(line.size(), 100u) << line;
    start = end + 1;
  }
}

Config a_changed_config() {
  Config c;
  c.node.id = "node-7.b_x";
  c.node.listen = {"::1", 7407};
  c.node.client = {"db.example.com", 6407};
  c.node.data_dir = "/tmp/with \"quotes\" and # hash: and \\ backslash";
  c.node.seeds = {{"n1", {"127.0.0.1", 7401}}, {"n8", {"fe80::1", 7408}}};
  c.quorum_settings = {5, 4, 3};
  c.consistency_levels.strong.w = QuorumSize::majority();
  c.consistency_levels.eventual.r = QuorumSize::fixed(2);
  c.timing.retry_interval = std::chrono::microseconds(1500);
  c.merkle_tree.depth = 20;
  c.sync_process.priority_levels = {Config::SyncWork::background_sync,
                                    Config::SyncWork::missing_replicas,
                                    Config::SyncWork::inconsistent_replicas};
  c.phi_accrual.threshold = 12.345;
  c.token_distribution.min_spacing = 123456789;
  c.routing.fallback = Config::RoutingFallback::none;
  c.routing.retry_policy.backoff.factor = 1.5;
  c.read_repair.enabled = false;
  c.background_repair.resources.max_memory_bytes = 1536;
  c.incremental_repair.storage.compression = Config::TreeCompression::none;
  c.conflict_resolution = ConflictMode::timestamp;
  c.limits.value_bytes_max = value_size_bytes_max;
  c.limits.peer_send_queue_bytes_max = value_size_bytes_max;
  return c;
}

TEST(ConfigDefaultsFile, AChangedConfigRoundTripsToo) {
  const Config c = a_changed_config();
  ASSERT_TRUE(validate(c).ok()) << validate(c).message();
  EXPECT_EQ(load(config_to_yaml(c)), c);
  EXPECT_EQ(config_keys_changed(c), 25u);
}

RC_GTEST_PROP(ConfigDefaultsFile, ValidConfigsRoundTrip, ()) {
  Config c;
  c.quorum_settings.n = *rc::gen::inRange<std::uint32_t>(1, 10);
  c.quorum_settings.r = *rc::gen::inRange<std::uint32_t>(1, c.quorum_settings.n + 1);
  c.quorum_settings.w = *rc::gen::inRange<std::uint32_t>(1, c.quorum_settings.n + 1);
  c.consistency_levels.eventual.r = QuorumSize::fixed(1);
  c.timing.request_timeout = Duration{*rc::gen::inRange<std::int64_t>(2000000, 1LL << 50)};
  // The tombstone grace must cover a request (docs/deletes.md).
  c.tombstone_gc.grace = std::max(c.tombstone_gc.grace, c.timing.request_timeout);
  c.gossip_protocol.fanout = *rc::gen::arbitrary<std::uint32_t>();
  c.phi_accrual.scale_factor = *rc::gen::inRange(1, 1000000) / 1000.0;
  c.token_distribution.min_spacing = *rc::gen::inRange<std::uint64_t>(0, 1ULL << 40);
  c.background_repair.resources.max_memory_bytes = *rc::gen::arbitrary<std::uint64_t>();
  c.read_repair.throttling.bandwidth_limit_bytes_per_second = *rc::gen::arbitrary<std::uint64_t>();
  c.node.data_dir =
      *rc::gen::nonEmpty(rc::gen::container<std::string>(rc::gen::inRange<char>(' ', '~')));
  c.node.id = *rc::gen::element<std::string>("a", "n1", "node-9", "x.y_z");
  RC_PRE(validate(c).ok());
  const Result<Config> back = config_from_yaml(config_to_yaml(c), "round-trip.yaml");
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == c);
}

// ---- addresses ------------------------------------------------------------------------

TEST(ConfigAddress, ParseAndFormat) {
  EXPECT_EQ(*parse_address("127.0.0.1:7401"), (Address{"127.0.0.1", 7401}));
  EXPECT_EQ(*parse_address("[::1]:1"), (Address{"::1", 1}));
  EXPECT_EQ(*parse_address("a-b.example:65535"), (Address{"a-b.example", 65535}));
  EXPECT_EQ(format_address({"::1", 7401}), "[::1]:7401");
  EXPECT_EQ(format_address({"127.0.0.1", 7401}), "127.0.0.1:7401");
  EXPECT_FALSE(parse_address("127.0.0.1:0").ok());
  EXPECT_FALSE(parse_address("127.0.0.1:").ok());
  EXPECT_FALSE(parse_address(":7401").ok());
  EXPECT_FALSE(parse_address("1.2.3:7401").ok());
  EXPECT_FALSE(parse_address("1.2.3.4.5:7401").ok());
  EXPECT_FALSE(parse_address("-host:7401").ok());
  EXPECT_FALSE(parse_address("[::1]7401").ok());
  EXPECT_FALSE(parse_address("[zz::1]:7401").ok());
  EXPECT_FALSE(parse_address("host:+80").ok());
  EXPECT_EQ(*parse_seed_node("n2@[::1]:7402"), (SeedNode{"n2", {"::1", 7402}}));
  EXPECT_EQ(format_seed_node({"n2", {"::1", 7402}}), "n2@[::1]:7402");
}

// ---- the documentation ----------------------------------------------------------------

TEST(ConfigDocs, EveryKeyIsDocumented) {
  const std::string docs = read_file(source_dir / "docs/configuration.md");
  ASSERT_FALSE(docs.empty());
  for (const auto& [path, value] : config_key_values(Config{})) {
    EXPECT_NE(docs.find("`" + path + "`"), std::string::npos)
        << path << " is not in docs/configuration.md";
  }
}

// ---- `vigil config` -------------------------------------------------------------------

struct VigilRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

VigilRun run_vigil(const std::string& arguments) {
  const std::filesystem::path err_path =
      std::filesystem::temp_directory_path() / ("vigil_config_test_" + std::to_string(getpid()));
  const std::string command =
      std::string(VIGIL_BINARY) + " " + arguments + " 2>" + err_path.string();
  VigilRun run;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  for (std::size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) run.out.append(buffer, n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.err = read_file(err_path);
  std::filesystem::remove(err_path);
  return run;
}

class ConfigCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(VIGIL_BINARY)) {
      GTEST_SKIP() << "the vigil binary is not built: " << VIGIL_BINARY;
    }
  }
};

TEST_F(ConfigCommand, CheckAcceptsAGoodFile) {
  const std::string path = (source_dir / "config/example-node.yaml").string();
  const VigilRun run = run_vigil("config check " + path);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, path +
                         ": ok (node n1, listen 127.0.0.1:7401, client 127.0.0.1:6401, "
                         "admin 127.0.0.1:9401, N=3 R=2 W=2, conflict_resolution siblings, "
                         "3 seeds, 1 key changed from defaults)\n");
  EXPECT_EQ(run.err, "");
}

TEST_F(ConfigCommand, CheckRefusesABadFileWithExitTwo) {
  const std::string path = (source_dir / "tests/data/config/r_greater_than_n.yaml").string();
  const VigilRun run = run_vigil("config check " + path);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, path + ":4:6: quorum_settings.R: R (4) is greater than N (3)\n");

  const std::string unknown = (source_dir / "tests/data/config/unknown_key.yaml").string();
  EXPECT_EQ(run_vigil("config check " + unknown).err,
            unknown +
                ":2:3: timing.request_timout: unknown key; did you mean "
                "\"request_timeout\"?\n");
  const std::string malformed = (source_dir / "tests/data/config/malformed.yaml").string();
  EXPECT_EQ(run_vigil("config check " + malformed).err,
            malformed + ":3:1: malformed YAML: end of sequence flow not found\n");
}

TEST_F(ConfigCommand, CheckRefusesAFileItCannotRead) {
  const VigilRun missing = run_vigil("config check /nonexistent/node.yaml");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err, "/nonexistent/node.yaml: cannot read: No such file or directory\n");
  const VigilRun directory = run_vigil("config check " + source_dir.string());
  EXPECT_EQ(directory.exit_code, 2);
  EXPECT_NE(directory.err.find("cannot read"), std::string::npos) << directory.err;
}

TEST_F(ConfigCommand, DefaultsPrintsTheFileThatLoadsBackToTheDefaults) {
  const VigilRun run = run_vigil("config defaults");
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.out, config_defaults_yaml());
  EXPECT_EQ(load(run.out), Config{});
}

// hash-password reads stdin and prints a hash that verifies that password (and only it).
TEST_F(ConfigCommand, HashPasswordPrintsAHashOfStdin) {
  const std::filesystem::path input =
      std::filesystem::temp_directory_path() / ("vigil_hash_input_" + std::to_string(getpid()));
  std::ofstream(input) << "pass phrase\n";
  const VigilRun run = run_vigil("config hash-password --iterations 1000 < " + input.string());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_FALSE(run.out.empty());
  const Result<PasswordHash> hash = parse_password_hash(run.out.substr(0, run.out.size() - 1));
  ASSERT_TRUE(hash.ok()) << hash.status().to_string() << " in " << run.out;
  EXPECT_EQ(hash->iterations, 1000u);
  EXPECT_TRUE(verify_password(*hash, "pass phrase"));
  EXPECT_FALSE(verify_password(*hash, "pass phrase\n"));
  EXPECT_EQ(run_vigil("config hash-password < /dev/null").exit_code, 2);
  EXPECT_EQ(run_vigil("config hash-password --iterations 10 < " + input.string()).exit_code, 2);
  std::filesystem::remove(input);
}

}  // namespace
}  // namespace vigil::config
