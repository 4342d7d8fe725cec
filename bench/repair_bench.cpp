// The repair benchmark, part (a) and the report (bench/repair_bench.h has what it
// measures; part (b) is bench/repair_bench_writes.cpp).
//
// Theory of operation. The three stores are filled before any node exists, so that the
// nodes' trees are built the way a restarted node builds them (one scan of the store) and
// the divergence is exactly the keys left out: every kept key has byte-identical state on
// all three replicas (one SiblingSet written once by a fixed actor and stored three
// times). The missing keys are every 1/F-th key by index, so they spread over the ring the
// way hashed keys spread anyway. The node asked to repair is n1, which holds every key:
// it compares its tree with n2's (equal: nothing streamed) and n3's (which misses the
// keys), so the ideal stream is exactly the missing keys, once.
//
// The cluster: each node is driven by a core::NodeDriver, flushed after every input
// (commit in place, then drain), as the unit tests' harness does; messages go through one
// FIFO queue without latency; when it is empty, time jumps to the earliest timer. So the
// simulated time counts only what the protocol itself waits for (sync pacing under
// sync_process.bandwidth_limit and timers), not network latency, and the wall time is the
// CPU cost of the whole protocol on all three nodes, on one thread. Every anti-entropy
// message is also encoded with the wire codec, to count the bytes a real network would
// carry (that encoding is inside the wall time, as it would be in a real process).
// Membership is off (every peer alive), as are hints and read repair: nothing but
// anti-entropy runs.

#include "bench/repair_bench.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <variant>

#include "core/node/node_driver.h"
#include "core/wire/codec.h"
#include "store/memory_store.h"
#include "store/typed_storage.h"

namespace vigil::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr core::WallMicros wall_epoch_us = 1'700'000'000'000'000;
constexpr std::chrono::hours quiet_bound{1};  // simulated

core::NodeOptions bench_node_options(const core::NodeId& id) {
  core::NodeOptions options;
  options.id = id;
  options.membership.enabled = false;
  options.hints.enabled = false;
  options.read_repair_enabled = false;
  return options;
}

// The state every replica holds for `key`: one write by a fixed actor.
core::SiblingSet state_for(const core::Key& key, std::uint64_t value_bytes) {
  core::SiblingSet set;
  core::VersionCounters counters;
  core::Value value(value_bytes, 'v');
  const std::string tag = key.substr(0, std::min<std::size_t>(key.size(), value.size()));
  std::copy(tag.begin(), tag.end(), value.begin());
  auto dot = set.write("bench.1.000000", core::VectorClock{}, std::move(value), wall_epoch_us,
                       core::ConflictMode::siblings, core::SiblingLimits{}, counters);
  (void)dot;
  return set;
}

core::Key key_name(std::uint64_t index) { return "bench-" + std::to_string(index); }

bool is_anti_entropy(const core::Message& message) {
  return std::holds_alternative<core::AeTreeRequest>(message) ||
         std::holds_alternative<core::AeTreeReply>(message) ||
         std::holds_alternative<core::AeKeysRequest>(message) ||
         std::holds_alternative<core::AeKeysReply>(message) ||
         std::holds_alternative<core::AeSync>(message) ||
         std::holds_alternative<core::AeSyncReply>(message);
}

struct SimNode {
  std::unique_ptr<store::MemoryStore> store = std::make_unique<store::MemoryStore>();
  std::unique_ptr<store::TypedStorage> storage = std::make_unique<store::TypedStorage>(*store);
  std::unique_ptr<core::NodeDriver> driver;
};

class SimCluster {
 public:
  explicit SimCluster(std::vector<core::NodeId> ids) : ids_(std::move(ids)) {
    ring_ = core::Ring::build(ids_, core::RingOptions{});
    for (const core::NodeId& id : ids_) nodes_[id] = SimNode{};
  }
  store::TypedStorage& storage(const core::NodeId& id) { return *nodes_.at(id).storage; }
  store::MemoryStore& store(const core::NodeId& id) { return *nodes_.at(id).store; }
  core::Node& node(const core::NodeId& id) { return nodes_.at(id).driver->node(); }
  core::Now now() const {
    return core::Now{core::instant_from_micros(now_us_), wall_epoch_us + now_us_};
  }
  std::int64_t now_us() const { return now_us_; }
  std::uint64_t wire_bytes = 0;
  std::uint64_t ae_messages = 0;

  void start_nodes() {
    std::uint64_t seed = 1;
    for (const core::NodeId& id : ids_) {
      SimNode& sim = nodes_.at(id);
      sim.driver = std::make_unique<core::NodeDriver>(
          bench_node_options(id), ring_, *sim.storage, seed++,
          core::DriverOptions{core::production_invariant_interval, false, 1});
      sim.driver->start();
      flush(id);
    }
  }
  void act(const core::NodeId& id, void (core::Node::*action)(const core::Now&)) {
    (node(id).*action)(now());
    flush(id);
  }
  // Delivers messages and fires timers until every node is quiet; false past the bound.
  bool run_until_quiet() {
    const std::int64_t bound_us = now_us_ + std::chrono::microseconds(quiet_bound).count();
    while (true) {
      while (!queue_.empty()) {
        core::Envelope envelope = std::move(queue_.front());
        queue_.pop_front();
        const core::NodeId to = envelope.to;
        nodes_.at(to).driver->message(now(), std::move(envelope));
        flush(to);
      }
      if (quiet()) return true;
      std::optional<std::pair<core::Instant, core::NodeId>> next;
      for (const core::NodeId& id : ids_) {
        const auto at = node(id).poll_timeout();
        if (at && (!next || *at < next->first)) next = {{*at, id}};
      }
      if (!next || core::to_micros(next->first) > bound_us) return false;
      now_us_ = std::max(now_us_, core::to_micros(next->first));
      nodes_.at(next->second).driver->timeout(now());
      flush(next->second);
    }
  }

 private:
  bool quiet() {
    for (const core::NodeId& id : ids_) {
      if (node(id).anti_entropy_exchanges_pending() > 0) return false;
    }
    return queue_.empty();
  }
  void flush(const core::NodeId& id) {
    core::DriverEffects effects = nodes_.at(id).driver->flush(now());
    for (core::Envelope& envelope : effects.messages) {
      if (is_anti_entropy(envelope.message)) {
        ae_messages += 1;
        auto frame = core::encode_frame(envelope);
        if (frame.ok()) wire_bytes += frame->size();
      }
      queue_.push_back(std::move(envelope));
    }
  }

  std::vector<core::NodeId> ids_;
  core::Ring ring_;
  std::map<core::NodeId, SimNode> nodes_;
  std::deque<core::Envelope> queue_;
  std::int64_t now_us_ = 0;
};

core::Status fill(SimCluster& cluster, const RepairBenchOptions& options,
                  std::uint64_t& left_out) {
  const auto stride = static_cast<std::uint64_t>(1.0 / options.divergent_fraction);
  for (const core::NodeId id : {"n1", "n2", "n3"}) {
    store::TypedStorage& storage = cluster.storage(id);
    for (std::uint64_t i = 0; i < options.keys; ++i) {
      const bool leave_out = id == std::string("n3") && i % stride == stride / 2;
      if (leave_out) {
        left_out += 1;
        continue;
      }
      const core::Key key = key_name(i);
      if (core::Status written = storage.write_key(key, state_for(key, options.value_bytes));
          !written.ok()) {
        return written;
      }
    }
    if (core::Status begun = storage.begin_commit(); !begun.ok()) return begun;
    if (core::Status finished = storage.finish_commit(); !finished.ok()) return finished;
  }
  return core::Status::ok_status();
}

// Keys whose states are not equal on all three stores (absent counts as a state).
std::uint64_t unequal_keys(SimCluster& cluster, std::uint64_t keys) {
  std::uint64_t unequal = 0;
  for (std::uint64_t i = 0; i < keys; ++i) {
    const core::Key key = key_name(i);
    auto first = cluster.storage("n1").read_key(key);
    bool equal = first.ok();
    for (const core::NodeId id : {"n2", "n3"}) {
      auto other = cluster.storage(id).read_key(key);
      equal = equal && other.ok() && *other == *first;
    }
    unequal += equal ? 0 : 1;
  }
  return unequal;
}

std::uint64_t sum_counter(SimCluster& cluster, core::Counter counter) {
  std::uint64_t total = 0;
  for (const core::NodeId id : {"n1", "n2", "n3"}) {
    total += cluster.node(id).counters().get(counter);
  }
  return total;
}

core::Status run_repair(const RepairBenchOptions& options, RepairBenchResult& result) {
  SimCluster cluster({"n1", "n2", "n3"});
  if (core::Status filled = fill(cluster, options, result.keys_differed); !filled.ok()) {
    return filled;
  }
  const auto built = Clock::now();
  cluster.start_nodes();
  result.build_seconds = std::chrono::duration<double>(Clock::now() - built).count();
  const std::int64_t sim_start = cluster.now_us();
  const auto started = Clock::now();
  cluster.act("n1", &core::Node::request_anti_entropy);
  if (!cluster.run_until_quiet()) {
    return core::error(core::Code::timeout, "the cluster did not quiesce in a simulated hour");
  }
  result.repair_wall_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  result.repair_sim_seconds = static_cast<double>(cluster.now_us() - sim_start) / 1e6;
  result.keys_streamed = sum_counter(cluster, core::Counter::ae_keys_received);
  result.state_bytes = sum_counter(cluster, core::Counter::ae_bytes_sent) +
                       sum_counter(cluster, core::Counter::ae_bytes_received);
  result.keys_compared = sum_counter(cluster, core::Counter::ae_keys_compared);
  for (const core::NodeId id : {"n1", "n2", "n3"}) {
    result.exchanges += cluster.node(id).anti_entropy_exchanges_completed();
  }
  result.wire_bytes = cluster.wire_bytes;
  result.ae_messages = cluster.ae_messages;
  const double differed = static_cast<double>(std::max<std::uint64_t>(result.keys_differed, 1));
  result.keys_per_second = static_cast<double>(result.keys_differed) / result.repair_wall_seconds;
  result.over_streaming = static_cast<double>(result.keys_streamed) / differed;
  result.wire_bytes_per_divergent_key = static_cast<double>(result.wire_bytes) / differed;
  result.keys_unequal = unequal_keys(cluster, options.keys);
  result.stores_equal = result.keys_unequal == 0;
  return core::Status::ok_status();
}

}  // namespace

core::Result<RepairBenchResult> run_repair_bench(const RepairBenchOptions& options) {
  if (options.keys == 0 || options.keys > repair_bench_keys_max) {
    return core::error(core::Code::invalid_argument, "--keys must be 1.." +
                                                         std::to_string(repair_bench_keys_max));
  }
  if (!(options.divergent_fraction > 0 && options.divergent_fraction <= 0.5)) {
    return core::error(core::Code::invalid_argument, "--divergent-fraction must be in (0, 0.5]");
  }
  if (options.write_rounds == 0 || options.write_rounds > repair_bench_rounds_max) {
    return core::error(core::Code::invalid_argument, "--write-rounds must be 1.." +
                                                         std::to_string(repair_bench_rounds_max));
  }
  RepairBenchResult result;
  result.options = options;
  if (core::Status repaired = run_repair(options, result); !repaired.ok()) return repaired;
  if (options.write_path) {
    auto figures = run_write_path_bench(options);
    if (!figures) return figures.status();
    result.write_path = std::move(figures).value();
  }
  return result;
}

}  // namespace vigil::bench
