#pragma once
// A small NodeService for the client and admin port tests: one in-memory map with real
// causal contexts (a write whose context covers the key's clock replaces its values;
// otherwise the value becomes a sibling; a write without one under client.set_context:
// coordinator uses the key's own clock, as the coordinating replica does), replies posted to the loop (never from inside
// submit, as the contract says), and switches to answer `unavailable` (for every key or
// chosen ones), to hold the replies
// of chosen keys until release(), and to report membership and store figures.
// Everything but the atomics is touched only on the io_context's thread.

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "config/config.h"
#include "net/fault_filter.h"
#include "net/node_service.h"

namespace vigil::net::testing {

class FakeNodeService : public NodeService {
 public:
  FakeNodeService(boost::asio::io_context& io, config::Config config)
      : io_(io), config_(std::move(config)) {
    store_stats_.batch_size = Histogram(Histogram::size_bounds());
    store_stats_.commit_latency_seconds.observe(0.002);
    store_stats_.batch_size.observe(3);
    store_stats_.commits = 1;
  }

  void submit(core::ClientRequest request,
              std::function<void(const core::ClientReply&)> done) override {
    request.id = ++next_id_;
    requests_.push_back(request);
    core::ClientReply reply = answer(request);
    auto deliver = [done = std::move(done), reply] { done(reply); };
    if (held_keys_.count(request.key) > 0) {
      held_.push_back(std::move(deliver));
      return;
    }
    boost::asio::post(io_, std::move(deliver));
  }

  // Delivers the held replies, last held first (so they complete out of request order).
  void release() {
    while (!held_.empty()) {
      boost::asio::post(io_, std::move(held_.back()));
      held_.pop_back();
    }
  }

  const config::Config& config() const override { return config_; }
  CounterSnapshot counters() const override {
    core::NodeCounters counters;
    counters.add("quorum_failures", quorum_failures_);
    counters.add("hints_stored", 4);
    counters.add("hints_delivered", 3);
    counters.add("hints_expired", 1);
    counters.add("requests_get", gets_);
    return CounterSnapshot::of(counters);
  }
  std::vector<core::PeerStatus> members() const override {
    core::PeerStatus self{"n1", "127.0.0.1:7401", 2, 40, core::PeerState::alive, 0.0,
                          core::Duration{0}, 0, false, true};
    core::PeerStatus peer{"n2", "127.0.0.1:7402", 1, 37, core::PeerState::suspect, 9.5,
                          std::chrono::seconds(6), 1, false, false};
    return {self, peer};
  }
  std::map<core::NodeId, double> ring_ownership() const override {
    return {{"n1", 0.5}, {"n2", 0.5}};
  }
  // A ring of n1 and n2 with two tokens each (VRING's tests).
  RingView ring_view() const override {
    auto ring = core::Ring::from_tokens({{"n1", {100, 300}}, {"n2", {200, 400}}});
    return RingView{1, 0x1234, 2, ring.value()};
  }
  std::vector<PeerConnectionStatus> peer_connections() const override {
    return {{"n2", "127.0.0.1:7402", PeerConnectionState::backoff, 128}};
  }
  const StoreStats& store_stats() const override { return store_stats_; }
  core::WallMicros wall_now() const override { return wall_now_us; }
  // One tree of {n1, n2}: exchanged with n2 2.5 s before `now`; repair requests are
  // counted and each one queues an exchange.
  std::uint64_t tombstones_held() const override { return 3; }
  std::uint64_t hints_pending() const override { return 2; }
  std::vector<core::RouteStatus> routes() const override {
    return {core::RouteStatus{"n2", true, core::BreakerState::open, 0}};
  }
  AntiEntropyView anti_entropy() const override {
    AntiEntropyView view;
    view.now = core::instant_from_micros(10'000'000);
    view.exchanges_completed = 7;
    view.exchanges_pending = repairs_requested.load();
    core::TreeStatus tree;
    tree.replicas = {"n1", "n2"};
    tree.root_hash = 0x00ab'cdef'0123'4567;
    tree.keys = 42;
    tree.peers.push_back({"n2", core::instant_from_micros(7'500'000), "equal"});
    tree.peers.push_back({"n3", std::nullopt, ""});
    view.trees.push_back(tree);
    return view;
  }
  void request_repair() override { ++repairs_requested; }
  FaultFilter* fault_filter() override { return filter; }

  FaultFilter* filter = nullptr;  // as a node started with --enable-fault-injection has

  std::atomic<bool> unavailable{false};
  std::set<std::string> unavailable_keys;  // requests of these keys answer unavailable
  std::atomic<std::uint64_t> repairs_requested{0};
  core::WallMicros wall_now_us = 1'700'000'000'000'000;  // a fixed wall clock
  std::set<std::string> held_keys_;
  std::vector<core::ClientRequest> requests_;  // every request, in submit order

 private:
  struct Entry {
    std::vector<std::string> values;  // live siblings
    core::VectorClock clock;
    bool deleted = false;
  };

  core::ClientReply answer(const core::ClientRequest& request) {
    core::ClientReply reply;
    reply.id = request.id;
    reply.replicas_needed = 2;
    if (unavailable || unavailable_keys.count(request.key) > 0) {
      ++quorum_failures_;
      reply.status = core::error(core::Code::unavailable, "1 of 3 replicas reachable");
      reply.replicas_answered = 1;
      return reply;
    }
    reply.replicas_answered = 2;
    // Enumeration: the whole keyspace in one page (cursor 0, whatever the COUNT), and its
    // exact size as the estimate.
    if (request.op == core::ClientOp::scan || request.op == core::ClientOp::key_count) {
      for (const auto& [key, entry] : data_) {
        if (!entry.values.empty()) reply.keys.push_back(key);
      }
      reply.key_count = reply.keys.size();
      if (request.op == core::ClientOp::key_count) reply.keys.clear();
      return reply;
    }
    if (request.op == core::ClientOp::get) {
      ++gets_;
      auto it = data_.find(request.key);
      if (it == data_.end() || it->second.values.empty()) {
        reply.status = core::error(core::Code::not_found, "no such key");
        if (it != data_.end()) reply.context = it->second.clock;
        return reply;
      }
      reply.values = it->second.values;
      reply.context = it->second.clock;
      return reply;
    }
    Entry& entry = data_[request.key];
    // A plain write under client.set_context: coordinator takes the store's own clock.
    const bool from_coordinator =
        !request.context && config_.client.set_context == core::SetContext::coordinator;
    reply.existed = from_coordinator && !entry.values.empty();
    const core::VectorClock context =
        from_coordinator ? entry.clock : request.context.value_or(core::VectorClock{});
    if (context.includes(entry.clock)) entry.values.clear();  // the writer saw everything
    if (request.op == core::ClientOp::put) entry.values.push_back(request.value);
    entry.clock.merge(context);
    entry.clock.increment("n1", wall_now_us);
    reply.context = entry.clock;
    return reply;
  }

  boost::asio::io_context& io_;
  config::Config config_;
  StoreStats store_stats_;
  std::map<std::string, Entry> data_;
  std::deque<std::function<void()>> held_;
  std::uint64_t next_id_ = 0;
  std::uint64_t quorum_failures_ = 0;
  std::uint64_t gets_ = 0;
};

}  // namespace vigil::net::testing
