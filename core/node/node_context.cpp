// The context every part of a node shares: options checked once, the node's identity.
//
// Theory of operation (node.h, "Epochs"). The constructor reads the epoch stored in meta,
// takes the next one and stages it, so this life's request ids, hint ids and dots differ
// from every earlier life's. When the stored epoch cannot be read, one drawn from the
// seeded generator stands in: a reuse is then left to chance (2^-24), not to certainty.
// The epoch is taken again (renew_actor) when a write finds its local record corrupt.

#include "core/node/node_context.h"

#include <string>
#include <utility>

#include "core/assert.h"

namespace vigil::core {

namespace {

void check_options(const NodeOptions& options, const Ring& ring) {
  VIGIL_ASSERT(is_valid_node_id(options.id), "invalid node id '" + options.id + "'");
  VIGIL_ASSERT(ring.contains(options.id), "node " + options.id + " is not in the ring");
  VIGIL_ASSERT(options.replicas >= 1, "replicas (N) must be at least 1");
  for (const QuorumCounts& counts :
       {options.one, options.quorum, options.all, options.default_level}) {
    VIGIL_ASSERT(counts.read >= 1 && counts.read <= options.replicas, "R must be in 1..N");
    VIGIL_ASSERT(counts.write >= 1 && counts.write <= options.replicas, "W must be in 1..N");
  }
  VIGIL_ASSERT(options.request_timeout > Duration::zero(), "request_timeout must be > 0");
  VIGIL_ASSERT(options.replication_timeout > Duration::zero(), "replication_timeout must be > 0");
  VIGIL_ASSERT(options.retry_interval > Duration::zero(), "retry_interval must be > 0");
  VIGIL_ASSERT(
      options.key_size_bytes_max >= 1 && options.key_size_bytes_max <= core::key_size_bytes_max,
      "key_size_bytes_max out of range");
  VIGIL_ASSERT(options.value_size_bytes_max <= core::value_size_bytes_max,
               "value_size_bytes_max out of range");
  VIGIL_ASSERT(options.requests_in_flight_max >= 1, "requests_in_flight_max must be >= 1");
}

// A decimal count; nullopt when the text is anything else.
std::optional<std::uint64_t> parse_count(const std::string& text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

// The stored epoch; when it cannot be read, one drawn from the seeded generator, so a
// reuse of an earlier life's ids and dots is left to chance (2^-24), not to certainty.
std::uint64_t stored_epoch(NodeStorage& storage, Random& random, NodeCounters& counters) {
  auto stored = storage.read_meta(incarnation_meta_name);
  if (stored.ok() && !stored->has_value()) return 0;
  if (stored.ok()) {
    if (auto parsed = parse_count(**stored); parsed && *parsed < incarnation_max) return *parsed;
  }
  counters.add("storage_corruption");
  return random.uniform(incarnation_max);
}

// "<id>.<epoch>.<6 hex digits>", a valid node id (the id is shortened when all would not
// fit). The epoch keeps names distinct while storage keeps its word; the random part, from
// the seeded generator, keeps them distinct by chance (2^-24) when a lying disk dropped the
// epoch's own commit, because each life of a node gets its own seed.
NodeId actor_name(const NodeId& id, std::uint64_t epoch, Random& random) {
  static constexpr char hex_digits[] = "0123456789abcdef";
  std::string tag;
  std::uint64_t bits = random.next_u64();
  for (int i = 0; i < 6; ++i, bits >>= 4) tag += hex_digits[bits & 0xf];
  const std::string suffix = "." + std::to_string(epoch) + "." + tag;
  constexpr std::size_t node_id_size_max = 64;
  return id.substr(0, node_id_size_max - suffix.size()) + suffix;
}

}  // namespace

NodeContext::NodeContext(NodeOptions options_in, Ring ring_in, NodeStorage& storage_in,
                         std::uint64_t seed)
    : options(std::move(options_in)),
      ring(std::move(ring_in)),
      storage(storage_in),
      random(seed),
      // The first health check is due one interval after the zero instant: under the
      // simulator that is one interval into the run; in production, whose monotonic clock
      // is far from zero, at the first timeout, which re-reads what the node starts with.
      router(options.routing, counters, Instant{}),
      outbox(options.id) {
  check_options(options, ring);
  std::vector<NodeId> peers;
  for (const NodeId& node : ring.nodes()) {
    if (node != options.id) peers.push_back(node);
  }
  router.handle_nodes(peers);
  epoch_max = stored_epoch(storage, random, counters);
  renew_actor();
  incarnation = epoch_max;
}

void NodeContext::renew_actor() {
  epoch_max = epoch_max + 1 >= incarnation_max ? 1 : epoch_max + 1;
  actor = actor_name(self(), epoch_max, random);
  const std::string text = std::to_string(epoch_max);
  identity_staged = true;
  if (!storage.write_meta(incarnation_meta_name, text).ok()) {
    counters.add("storage_write_errors");
  }
}

Status NodeContext::stage_key(const Key& key, const SiblingSet* before, bool before_unknown,
                              const SiblingSet& after) {
  const KeyWrite write = make_key_write(key, after);  // token and encoding, once
  if (Status written = storage.write_key(write); !written.ok()) return written;
  for (KeyStateListener* listener : key_states) {
    listener->note_write(write, before, before_unknown);
  }
  return Status::ok_status();
}

void NodeContext::note_corrupt(const Key& key) {
  for (KeyStateListener* listener : key_states) listener->note_corrupt(key);
}

bool NodeContext::peer_is_up(const NodeId& peer) const {
  return membership == nullptr || membership->state_of(peer) == PeerState::alive;
}

void add_version_counters(NodeCounters& counters, const VersionCounters& version_counters) {
  if (version_counters.siblings_dropped > 0) {
    counters.add("siblings_dropped", version_counters.siblings_dropped);
  }
  if (version_counters.dot_conflicts > 0) {
    counters.add("dot_conflicts", version_counters.dot_conflicts);
  }
  if (version_counters.clock_entries_pruned > 0) {
    counters.add("clock_entries_pruned", version_counters.clock_entries_pruned);
  }
}

WireStatus to_wire(const Status& status) {
  return WireStatus{status.code(), status.message()};
}

Status from_wire(const WireStatus& status) {
  if (status.code == Code::ok) return Status::ok_status();
  return Status(status.code, status.message);
}

Status check_key(const NodeOptions& options, const Key& key) {
  if (key.empty() || key.size() > options.key_size_bytes_max) {
    return error(Code::invalid_argument,
                 "key size " + std::to_string(key.size()) + " bytes is outside 1.." +
                     std::to_string(options.key_size_bytes_max) + " (key_size_bytes_max)");
  }
  return Status::ok_status();
}

}  // namespace vigil::core
