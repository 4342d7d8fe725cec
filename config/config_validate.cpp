// find_violations() and validate() of config/config.h.

#include "config/config.h"

#include <algorithm>
#include <cstddef>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "config/config_schema.h"
#include "config/password_hash.h"
#include "core/ring/ring.h"
#include "config/units.h"

// validate() runs in two passes: the bounds of each key, declared beside the key in
// config_schema.h, then the relations between keys. Both produce ConfigViolations that
// name YAML paths, so a loader can point at the line of the offending key while a Config
// built in code gets the same words without a line.

namespace vigil::config {

using core::Code;
using core::is_valid_node_id;

namespace {

using schema::Bounds;
using schema::DurationBounds;
using schema::RealBounds;

std::string quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

// ---- the bounds of each key -------------------------------------------------------------

std::string join_path(const std::vector<std::string_view>& parts, std::string_view last) {
  std::string path;
  for (const std::string_view part : parts) {
    path += part;
    path += '.';
  }
  path += last;
  return path;
}

class BoundsChecker {
 public:
  explicit BoundsChecker(std::vector<ConfigViolation>& out) : out_(out) {}

  template <typename Body>
  void section(std::string_view name, std::string_view /*doc*/, Body body) {
    path_.push_back(name);
    body();
    path_.pop_back();
  }

  template <typename Int>
  void count(std::string_view name, const Int& value, Bounds bounds, std::string_view) {
    whole(name, value, bounds, [](std::uint64_t v) { return std::to_string(v); });
  }
  void big_number(std::string_view name, const std::uint64_t& value, Bounds bounds,
                  std::string_view) {
    whole(name, value, bounds, format_whole_number);
  }
  void size(std::string_view name, const std::uint64_t& value, Bounds bounds, std::string_view) {
    whole(name, value, bounds, format_size_bytes);
  }
  void rate(std::string_view name, const std::uint64_t& value, Bounds bounds, std::string_view) {
    whole(name, value, bounds, format_rate_bytes_per_second);
  }

  void duration(std::string_view name, const Duration& value, DurationBounds bounds,
                std::string_view) {
    if (bounds == DurationBounds::positive && value.count() <= 0) {
      add(name, "must be positive (got " + format_duration(value) + ")");
    } else if (value.count() < 0) {
      add(name, "cannot be negative (got " + format_duration(value) + ")");
    }
  }

  void real(std::string_view name, const double& value, RealBounds bounds, std::string_view) {
    const bool low_ok = bounds.min_open ? value > bounds.min : value >= bounds.min;
    const bool high_ok = bounds.max_open ? value < bounds.max : value <= bounds.max;
    if (low_ok && high_ok) return;  // false for nan too
    std::string rule = (bounds.min_open ? "greater than " : "at least ") + format_real(bounds.min);
    if (bounds.max != std::numeric_limits<double>::infinity()) {
      rule += (bounds.max_open ? " and less than " : " and at most ") + format_real(bounds.max);
    }
    add(name, "must be " + rule + " (got " + format_real(value) + ")");
  }

  void flag(std::string_view, const bool&, std::string_view) {}

  template <typename E>
  void choice(std::string_view name, const E& value, std::string_view) {
    if (schema::enum_name(value) == "?") add(name, "is not a known value");
  }

  void quorum_size(std::string_view name, const QuorumSize& value, std::string_view) {
    if (value.kind == QuorumSize::Kind::count && value.count < 1) {
      add(name, std::string(name) + " must be at least 1 (got 0)");
    }
  }

  void node_id(std::string_view name, const NodeId& value, std::string_view) {
    if (!is_valid_node_id(value)) add(name, parse_node_id(value).status().message());
  }

  void address(std::string_view name, const Address& value, std::string_view) {
    const Status status = check_address(value);
    if (!status.ok()) add(name, status.message());
  }

  void text(std::string_view name, const std::string& value, std::string_view) {
    if (value.empty()) add(name, "must not be empty");
    if (value.size() > 4096) add(name, "is longer than 4096 bytes");
    if (value.find('\0') != std::string::npos) add(name, "must not contain a NUL byte");
  }

  // Empty means "none"; a path is checked here only for what no file system allows (the
  // node reads the file at start-up and names it in any error).
  void file_path(std::string_view name, const std::string& value, std::string_view) {
    if (value.size() > 4096) add(name, "is longer than 4096 bytes");
    if (value.find('\0') != std::string::npos) add(name, "must not contain a NUL byte");
  }

  void seeds(std::string_view name, const std::vector<SeedNode>& seeds, std::string_view) {
    std::map<NodeId, std::size_t> first_index;
    for (std::size_t i = 0; i < seeds.size(); ++i) {
      const std::string element = std::string(name) + "[" + std::to_string(i) + "]";
      if (!is_valid_node_id(seeds[i].id)) {
        add(element, parse_node_id(seeds[i].id).status().message());
      }
      const Status status = check_address(seeds[i].address);
      if (!status.ok()) add(element, status.message());
      const auto [it, inserted] = first_index.emplace(seeds[i].id, i);
      if (!inserted) {
        add(element, "node " + quoted(seeds[i].id) + " is listed twice (also at " +
                         std::string(name) + "[" + std::to_string(it->second) + "])");
      }
    }
  }

  // Names are what AUTH and ACL WHOAMI show: printable, no spaces, unique. A hash that does
  // not parse would make its user unable to log in, so it is refused here.
  void users(std::string_view name, const std::vector<Config::Security::User>& users,
             std::string_view) {
    std::map<std::string, std::size_t> first_index;
    for (std::size_t i = 0; i < users.size(); ++i) {
      const std::string element = std::string(name) + "[" + std::to_string(i) + "]";
      const std::string& user = users[i].name;
      const bool printable = std::all_of(user.begin(), user.end(),
                                         [](char c) { return c >= '!' && c <= '~'; });
      if (user.empty() || user.size() > 64 || !printable) {
        add(element + ".name",
            "must be 1-64 printable characters without spaces (got " +
                std::to_string(user.size()) + " bytes)");
      }
      const auto hash = parse_password_hash(users[i].password_hash);
      if (!hash.ok()) add(element + ".password_hash", hash.status().message());
      if (schema::enum_name(users[i].permissions) == "?") {
        add(element + ".permissions", "is not a known value");
      }
      const auto [it, inserted] = first_index.emplace(user, i);
      if (!inserted) {
        add(element + ".name", "user " + quoted(user) + " is listed twice (also at " +
                                   std::string(name) + "[" + std::to_string(it->second) + "])");
      }
    }
  }

  void fixed(std::string_view, std::string_view) {}

 private:
  template <typename Format>
  void whole(std::string_view name, std::uint64_t value, Bounds bounds, Format format) {
    if (value >= bounds.min && value <= bounds.max) return;
    if (bounds.max == std::numeric_limits<std::uint64_t>::max()) {
      add(name, "must be at least " + format(bounds.min) + " (got " + format(value) + ")");
    } else {
      add(name, "must be between " + format(bounds.min) + " and " + format(bounds.max) + " (got " +
                    format(value) + ")");
    }
  }

  void add(std::string_view name, std::string message) {
    out_.push_back({join_path(path_, name), "", std::move(message)});
  }

  std::vector<ConfigViolation>& out_;
  std::vector<std::string_view> path_;
};

// ---- relations between keys -------------------------------------------------------------

class Relations {
 public:
  explicit Relations(std::vector<ConfigViolation>& out) : out_(out) {}

  void add(std::string key_path, std::string other_key_path, std::string message) {
    out_.push_back({std::move(key_path), std::move(other_key_path), std::move(message)});
  }

  // `name` (value) must not exceed `limit_name` (limit).
  void at_most(std::string path, std::string other, std::string_view name, std::uint64_t value,
               std::string_view limit_name, std::uint64_t limit) {
    if (value <= limit) return;
    add(std::move(path), std::move(other),
        std::string(name) + " (" + std::to_string(value) + ") is greater than " +
            std::string(limit_name) + " (" + std::to_string(limit) + ")");
  }

  void not_longer(std::string path, std::string other, std::string_view name, Duration value,
                  std::string_view limit_name, Duration limit) {
    if (value <= limit) return;
    add(std::move(path), std::move(other),
        std::string(name) + " (" + format_duration(value) + ") is longer than " +
            std::string(limit_name) + " (" + format_duration(limit) + ")");
  }

 private:
  std::vector<ConfigViolation>& out_;
};

void check_quorums(const Config& c, Relations& check) {
  const auto& q = c.quorum_settings;
  check.at_most("quorum_settings.W", "quorum_settings.N", "W", q.w, "N", q.n);
  check.at_most("quorum_settings.R", "quorum_settings.N", "R", q.r, "N", q.n);
  const std::pair<std::string_view, const ConsistencyLevelConfig*> levels[] = {
      {"strong", &c.consistency_levels.strong},
      {"eventual", &c.consistency_levels.eventual},
      {"quorum", &c.consistency_levels.quorum},
  };
  for (const auto& [name, level] : levels) {
    const std::string prefix = "consistency_levels." + std::string(name) + ".";
    if (level->r.kind == QuorumSize::Kind::count) {
      check.at_most(prefix + "R", "quorum_settings.N", "R", level->r.count, "N", q.n);
    }
    if (level->w.kind == QuorumSize::Kind::count) {
      check.at_most(prefix + "W", "quorum_settings.N", "W", level->w.count, "N", q.n);
    }
  }
}

void check_timing(const Config& c, Relations& check) {
  check.not_longer("timing.replication_timeout", "timing.request_timeout", "replication_timeout",
                   c.timing.replication_timeout, "request_timeout", c.timing.request_timeout);
  const auto& g = c.gossip_protocol;
  check.not_longer("gossip_protocol.probe_timeout", "gossip_protocol.interval", "probe_timeout",
                   g.probe_timeout, "the gossip interval", g.interval);
  const auto& p = c.phi_accrual;
  check.at_most("phi_accrual.min_samples", "phi_accrual.window_size", "min_samples", p.min_samples,
                "window_size", p.window_size);
  const auto& f = c.failure_detector;
  if (f.failure_threshold <= f.suspicious_threshold) {
    check.add("failure_detector.failure_threshold", "failure_detector.suspicious_threshold",
              "failure_threshold (" + format_duration(f.failure_threshold) +
                  ") must be longer than suspicious_threshold (" +
                  format_duration(f.suspicious_threshold) + ")");
  }
  const auto& b = c.routing.retry_policy.backoff;
  if (b.max < b.initial) {
    check.add("routing.retry_policy.backoff.max", "routing.retry_policy.backoff.initial",
              "max (" + format_duration(b.max) + ") is shorter than initial (" +
                  format_duration(b.initial) + ")");
  }
  const auto& s = c.background_repair.schedule;
  if (s.offset >= s.interval) {
    check.add("background_repair.schedule.offset", "background_repair.schedule.interval",
              "offset (" + format_duration(s.offset) + ") must be shorter than interval (" +
                  format_duration(s.interval) + ")");
  }
  check.not_longer("background_repair.schedule.max_duration", "background_repair.schedule.interval",
                   "max_duration", s.max_duration, "interval", s.interval);
  // A hint older than the grace could replay a deleted value onto a replica that had
  // already dropped the tombstone (docs/deletes.md, Cassandra's max_hint_window <
  // gc_grace_seconds).
  // And a coordinator re-sends a write's old state to silent replicas until the request's
  // deadline: a grace shorter than that lets a late resend land after the tombstone went
  // (the simulator found it: deletes-partition with a 2 s grace and 5 s requests).
  if (c.tombstone_gc.mode != core::TombstoneGcMode::disabled) {
    check.not_longer("hint_storage.maintenance.expiry", "tombstone_gc.grace", "expiry",
                     c.hint_storage.maintenance.expiry, "the tombstone grace",
                     c.tombstone_gc.grace);
    check.not_longer("timing.request_timeout", "tombstone_gc.grace", "request_timeout",
                     c.timing.request_timeout, "the tombstone grace", c.tombstone_gc.grace);
  }
  const auto& v = c.vector_clock;
  check.not_longer("vector_clock.prune_young", "vector_clock.prune_old", "prune_young",
                   v.prune_young, "prune_old", v.prune_old);
}

void check_sizes(const Config& c, Relations& check) {
  // The same rule Ring::build asserts, for the largest ring a node may join, so a config
  // that passes here can never stop a node at ring construction.
  if (c.ring_configuration.virtual_nodes > 0) {
    const Status ring = check_ring_options(ring_options(c), core::ring_nodes_max);
    if (!ring.ok()) {
      check.add("token_distribution.min_spacing", "ring_configuration.virtual_nodes",
                ring.message());
    }
  }
  check.at_most("vector_clock.prune_small", "vector_clock.prune_big", "prune_small",
                c.vector_clock.prune_small, "prune_big", c.vector_clock.prune_big);
  const auto& l = c.limits;
  if (l.peer_send_queue_bytes_max < l.value_bytes_max) {
    check.add("limits.peer_send_queue_bytes_max", "limits.value_bytes_max",
              "peer_send_queue_bytes_max (" + format_size_bytes(l.peer_send_queue_bytes_max) +
                  ") is smaller than value_bytes_max (" + format_size_bytes(l.value_bytes_max) +
                  "): one value would not fit");
  }
}

void check_choices(const Config& c, Relations& check) {
  const auto& p = c.sync_process.priority_levels;
  const std::pair<std::string_view, Config::SyncWork> levels[] = {
      {"high", p.high}, {"medium", p.medium}, {"low", p.low}};
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (levels[i].second != levels[j].second) continue;
      check.add("sync_process.priority_levels." + std::string(levels[i].first),
                "sync_process.priority_levels." + std::string(levels[j].first),
                quoted(schema::enum_name(levels[i].second)) + " is listed at both " +
                    std::string(levels[j].first) + " and " + std::string(levels[i].first) +
                    "; each kind of sync work needs its own level");
    }
  }
  const auto& security = c.security;
  if (!security.cluster_secret_previous_file.empty() && security.cluster_secret_file.empty()) {
    check.add("security.cluster_secret_previous_file", "security.cluster_secret_file",
              "a previous secret needs a current one: set cluster_secret_file too");
  } else if (!security.cluster_secret_previous_file.empty() &&
             security.cluster_secret_previous_file == security.cluster_secret_file) {
    check.add("security.cluster_secret_previous_file", "security.cluster_secret_file",
              "names the same file as cluster_secret_file; the previous secret is another one");
  }
  if (security.admin_token_for_views && security.admin_token_file.empty()) {
    check.add("security.admin_token_for_views", "security.admin_token_file",
              "needs a token: set admin_token_file too");
  }
  const auto& tls = security.tls;
  // The key the error points at when cert_file or key_file is missing: the port that asked.
  const std::string tls_port = tls.client ? "security.tls.client"
                               : tls.peer ? "security.tls.peer"
                                          : "security.tls.admin";
  if (tls.any() && tls.cert_file.empty()) {
    check.add("security.tls.cert_file", tls_port,
              "a port uses TLS (client, peer or admin is true): set cert_file too");
  }
  if (tls.any() && tls.key_file.empty()) {
    check.add("security.tls.key_file", tls_port,
              "a port uses TLS (client, peer or admin is true): set key_file too");
  }
  if (tls.peer && tls.ca_file.empty()) {
    check.add("security.tls.ca_file", "security.tls.peer",
              "peers verify each other's certificates: set ca_file too");
  }
  const auto& n = c.node;
  const std::pair<std::string_view, const Address*> addresses[] = {
      {"listen", &n.listen}, {"client", &n.client}, {"admin", &n.admin}};
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (*addresses[i].second != *addresses[j].second) continue;
      check.add("node." + std::string(addresses[i].first),
                "node." + std::string(addresses[j].first),
                format_address(*addresses[i].second) + " is also the " +
                    std::string(addresses[j].first) + " address; each port needs its own");
    }
  }
}

}  // namespace

std::vector<ConfigViolation> find_violations(const Config& config) {
  std::vector<ConfigViolation> violations;
  BoundsChecker bounds(violations);
  schema::visit_config(bounds, config);
  // A key out of bounds usually breaks a relation too (a zero request_timeout is shorter
  // than replication_timeout); report the cause alone.
  if (!violations.empty()) return violations;
  Relations relations(violations);
  check_quorums(config, relations);
  check_timing(config, relations);
  check_sizes(config, relations);
  check_choices(config, relations);
  return violations;
}

Status validate(const Config& config) {
  const std::vector<ConfigViolation> violations = find_violations(config);
  if (violations.empty()) return {};
  return error(Code::invalid_argument,
               violations.front().key_path + ": " + violations.front().message);
}

}  // namespace vigil::config
