#pragma once
// A small in-test cluster of core::Nodes over MemoryStore + TypedStorage, each driven by a
// core::NodeDriver flushed after every input (commit, withdraw on failure, drain; the
// node's invariants checked after every input). Messages sit in one FIFO queue that the
// test pumps; time is manual and only moves when a test advances it, timer by timer.
// Network faults are filters: a node can be cut off (everything to and from it dropped),
// any message can be dropped by a predicate, and a test can hold every message to deliver
// later, reordered or twice.

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/node/node.h"
#include "core/node/node_driver.h"
#include "core/ring/ring.h"
#include "store/memory_store.h"
#include "store/typed_storage.h"

namespace vigil::core::testing {

inline constexpr WallMicros wall_epoch_us = 1'700'000'000'000'000;

class TestCluster {
 public:
  explicit TestCluster(std::size_t node_count, NodeOptions base = {}) : base_(std::move(base)) {
    for (std::size_t i = 1; i <= node_count; ++i) ids_.push_back("n" + std::to_string(i));
    RingOptions ring_options;
    ring_options.vnodes = 16;
    ring_ = Ring::build(ids_, ring_options);
    for (const NodeId& id : ids_) {
      stores_[id] = std::make_unique<store::MemoryStore>();
      storages_[id] = std::make_unique<store::TypedStorage>(*stores_[id]);
      start(id);
    }
  }

  const std::vector<NodeId>& ids() const { return ids_; }
  const Ring& ring() const { return ring_; }
  Node& node(const NodeId& id) { return drivers_.at(id)->node(); }
  NodeDriver& driver(const NodeId& id) { return *drivers_.at(id); }
  store::MemoryStore& store(const NodeId& id) { return *stores_.at(id); }
  store::TypedStorage& storage(const NodeId& id) { return *storages_.at(id); }
  Instant now_instant() const { return instant_from_micros(now_us_); }
  Now now(const NodeId& id) const {
    auto skew = skew_us_.find(id);
    return Now{now_instant(),
               wall_epoch_us + now_us_ + (skew == skew_us_.end() ? 0 : skew->second)};
  }
  void set_skew(const NodeId& id, std::int64_t skew_us) { skew_us_[id] = skew_us; }

  // The preference list of `key` (N from the base options).
  std::vector<NodeId> replicas_of(const Key& key) const {
    return ring_.preference_list(token_of_key(key), base_.replicas);
  }
  // The first key "k<i>" whose preference list does (or does not) hold `node`.
  Key key_with(const NodeId& node, bool on_list) const {
    for (int i = 0;; ++i) {
      const Key key = "k" + std::to_string(i);
      const auto list = replicas_of(key);
      const bool listed = std::find(list.begin(), list.end(), node) != list.end();
      if (listed == on_list) return key;
    }
  }

  // A crash and restart: uncommitted changes are lost, the node starts from its store.
  void restart(const NodeId& id) {
    drivers_.erase(id);
    transitions_.erase(id);
    stores_.at(id)->crash();
    start(id);
  }

  // --- network faults ---
  std::set<NodeId> down;                         // every message to or from these is dropped
  std::function<bool(const Envelope&)> drop_if;  // also dropped when this says so
  bool hold = false;  // when set, sent messages wait in `held` instead of the queue
  std::vector<Envelope> held;
  std::uint64_t dropped = 0;

  // --- inputs ---
  void client(const NodeId& at, ClientRequest request) {
    driver(at).client_request(now(at), std::move(request));
    flush(at);
  }
  void deliver(Envelope envelope) {
    const NodeId to = envelope.to;
    if (!drivers_.contains(to)) return;
    driver(to).message(now(to), std::move(envelope));
    flush(to);
  }
  // Calls `action` on node `id` as one input (e.g. Node::request_anti_entropy), then
  // flushes its driver so what it produced is committed and sent.
  void act(const NodeId& id, const std::function<void(Node&, const Now&)>& action) {
    action(node(id), now(id));
    flush(id);
  }
  // Delivers queued messages until none is left (no time passes).
  void settle() {
    for (int steps = 0; !queue_.empty(); ++steps) {
      ASSERT_LT(steps, 1000000) << "message storm";
      Envelope envelope = std::move(queue_.front());
      queue_.pop_front();
      deliver(std::move(envelope));
    }
  }
  // Moves time forward to `until`, firing every node's timers in time order and settling
  // the network after each.
  void advance_to(Instant until) {
    settle();
    while (true) {
      std::optional<std::pair<Instant, NodeId>> next;
      for (const NodeId& id : ids_) {
        auto at = node(id).poll_timeout();
        if (at && *at <= until && (!next || *at < next->first)) next = {{*at, id}};
      }
      if (!next) break;
      now_us_ = std::max(now_us_, to_micros(next->first));
      driver(next->second).timeout(now(next->second));
      flush(next->second);
      settle();
    }
    now_us_ = std::max(now_us_, to_micros(until));
  }
  void advance(Duration duration) { advance_to(now_instant() + duration); }

  // --- replies ---
  std::optional<ClientReply> reply(RequestId id) {
    auto it = replies_.find(id);
    if (it == replies_.end()) return std::nullopt;
    return it->second;
  }
  std::size_t replies_for(RequestId id) const {
    return reply_count_.count(id) ? reply_count_.at(id) : 0;
  }

  RequestId next_client_id() { return next_client_id_++; }

  // Sends a request and runs the cluster until it is answered (or fails the test).
  ClientReply run(const NodeId& at, ClientRequest request) {
    request.id = next_client_id();
    const RequestId id = request.id;
    client(at, std::move(request));
    settle();
    const Instant give_up = now_instant() + base_.request_timeout + std::chrono::seconds(1);
    while (!reply(id) && now_instant() < give_up) {
      std::optional<Instant> next;
      for (const NodeId& node_id : ids_) {
        auto t = node(node_id).poll_timeout();
        if (t && (!next || *t < *next)) next = t;
      }
      if (!next || *next > give_up) break;
      advance_to(*next);
    }
    auto answer = reply(id);
    EXPECT_TRUE(answer.has_value()) << "no reply to request " << id;
    return answer.value_or(ClientReply{});
  }

  ClientReply put(const NodeId& at, const Key& key, const Value& value,
                  std::optional<VectorClock> context = std::nullopt,
                  Consistency consistency = Consistency::quorum) {
    ClientRequest request;
    request.op = ClientOp::put;
    request.key = key;
    request.value = value;
    // emplace, as del() does: GCC 12 at -O3 reports the same false maybe-uninitialized here.
    if (context) request.context.emplace(std::move(*context));
    request.consistency = consistency;
    return run(at, std::move(request));
  }
  ClientReply get(const NodeId& at, const Key& key, Consistency consistency = Consistency::quorum) {
    ClientRequest request;
    request.op = ClientOp::get;
    request.key = key;
    request.consistency = consistency;
    return run(at, std::move(request));
  }
  ClientReply del(const NodeId& at, const Key& key, std::optional<VectorClock> context,
                  Consistency consistency = Consistency::quorum) {
    ClientRequest request;
    request.op = ClientOp::del;
    request.key = key;
    // emplace, not assignment of the optional: GCC 12 reports a false maybe-uninitialized
    // on moving a disengaged optional<VectorClock> (a vector inside) at -O2.
    if (context) request.context.emplace(std::move(*context));
    request.consistency = consistency;
    return run(at, std::move(request));
  }

  // What node `id` has committed or staged for `key`.
  std::optional<SiblingSet> stored(const NodeId& id, const Key& key) {
    auto state = storage(id).read_key(key);
    EXPECT_TRUE(state.ok()) << state.status().to_string();
    return state.ok() ? *state : std::nullopt;
  }

  std::uint64_t counter(const NodeId& id, CounterId name) {
    return node(id).counters().get(name);
  }
  std::uint64_t counter_sum(CounterId name) {
    std::uint64_t sum = 0;
    for (const NodeId& id : ids_) sum += counter(id, name);
    return sum;
  }

  std::size_t queued() const { return queue_.size(); }

  // The peer transitions node `id` judged since the last call (its driver drains them
  // from the node at every flush; they wait here).
  std::vector<PeerTransition> take_peer_transitions(const NodeId& id) {
    auto it = transitions_.find(id);
    if (it == transitions_.end()) return {};
    return std::exchange(it->second, {});
  }

 private:
  void start(const NodeId& id) {
    NodeOptions options = base_;
    options.id = id;
    drivers_[id] = std::make_unique<NodeDriver>(options, ring_, *storages_.at(id), seed_++);
    driver(id).start();
    flush(id);  // commits the incarnation
  }

  void flush(const NodeId& id) {
    DriverEffects effects = driver(id).flush(now(id));
    for (Envelope& envelope : effects.messages) route(std::move(envelope));
    for (ClientReply& r : effects.replies) {
      ++reply_count_[r.id];
      replies_[r.id] = std::move(r);
    }
    for (PeerTransition& t : effects.transitions) transitions_[id].push_back(std::move(t));
  }

  void route(Envelope envelope) {
    if (down.contains(envelope.from) || down.contains(envelope.to) ||
        (drop_if && drop_if(envelope))) {
      ++dropped;
      return;
    }
    if (hold) {
      held.push_back(std::move(envelope));
    } else {
      queue_.push_back(std::move(envelope));
    }
  }

  NodeOptions base_;
  std::vector<NodeId> ids_;
  Ring ring_;
  std::map<NodeId, std::unique_ptr<store::MemoryStore>> stores_;
  std::map<NodeId, std::unique_ptr<store::TypedStorage>> storages_;
  std::map<NodeId, std::unique_ptr<NodeDriver>> drivers_;
  std::map<NodeId, std::vector<PeerTransition>> transitions_;
  std::map<NodeId, std::int64_t> skew_us_;
  std::deque<Envelope> queue_;
  std::map<RequestId, ClientReply> replies_;
  std::map<RequestId, std::size_t> reply_count_;
  std::int64_t now_us_ = 1'000'000;
  std::uint64_t seed_ = 42;
  RequestId next_client_id_ = 1;
};

// The live values of a reply, sorted (sibling order is by dot, which tests need not know).
inline std::vector<Value> sorted_values(const ClientReply& reply) {
  std::vector<Value> values = reply.values;
  std::sort(values.begin(), values.end());
  return values;
}

}  // namespace vigil::core::testing
