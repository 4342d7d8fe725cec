#pragma once
// NodeRuntime: one core::Node as a real process part, on one Asio io_context driven by one
// thread (the caller runs the io_context). It owns the node's SqliteStore, the peer
// transport and, once added, the client and admin ports, and implements NodeService for
// those ports. net/node_runtime.cpp has the theory of operation (the loop, group commit).
//
// The ring: the ids of node.seeds in their listed order, then this node's id when the list
// lacks it, joined in that order (core::Ring::build). Every node of a cluster must
// therefore list the same seeds in the same order (the ring digest gossip carries shows a
// node whose ring differs); a node alone (no seeds) is a ring of one.
//
// Peer addresses: node.seeds first; set_peer_address() overrides one; a peer the node sends
// to whose address is unknown is looked up in the node's membership view (gossip).
//
// Durability: every acknowledgement (client reply, replica ack) leaves only after the
// store commit covering it has returned ok (core::NodeDriver, core/node/node_driver.h).

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/node/node.h"
#include "core/node/node_driver.h"
#include "core/status.h"
#include "net/fault_filter.h"
#include "net/log.h"
#include "net/node_service.h"
#include "net/peer_handshake.h"

namespace vigil::net {

// Something the runtime owns beside the node and stops first at shutdown: the client
// (RESP) and admin (HTTP) ports (net/service_ports.h). stop() stops accepting and closes
// the port's connections; it is called once.
class RuntimePort {
 public:
  virtual ~RuntimePort() = default;
  virtual void stop() = 0;
};

struct RuntimeOptions {
  // Bind node.listen on port 0 (the OS picks a free port) instead of the configured one;
  // peer_address() tells which, set_peer_address() tells the other nodes (tests).
  bool listen_on_any_port = false;
  // The seed of the node's generator and the transport's jitter; by default drawn from
  // std::random_device at start and logged, so that one run can be told from another.
  std::optional<std::uint64_t> seed;
  // Logs the node's judgements of its peers (alive/suspect/failed changes) to stderr.
  bool log_peer_transitions = true;
  // The node's invariants are checked after every Kth input (core::DriverOptions; 1 =
  // every input, as the simulator does; 0 = never). docs/operations.md has the cost.
  std::uint64_t check_invariants_every = core::production_invariant_interval;
  // `vigil start --enable-fault-injection`: the node gets a FaultFilter (net/fault_filter.h)
  // that its admin port's POST /fault controls (partitions, loss, clock offset). Off in
  // production: without it nothing can be injected.
  bool fault_injection = false;
};

class NodeRuntime final : public NodeService {
 public:
  // Opens (creating) node.data_dir and its store <data_dir>/vigil.sqlite, builds the ring,
  // constructs the node and binds node.listen. Nothing runs until the caller runs `io`.
  // REQUIRES: validate(config).ok(). Errors: the store's (io_error, corruption,
  // failed_precondition: store/sqlite_store.h) prefixed with the path; io_error when
  // node.listen cannot be bound; invalid_argument when the ring cannot be built.
  static core::Result<std::unique_ptr<NodeRuntime>> open(boost::asio::io_context& io,
                                                         config::Config config,
                                                         RuntimeOptions options = {});
  // Without shutdown() first this is a crash: nothing more is committed (staged writes are
  // rolled back by the store), and callbacks of requests in flight are destroyed uncalled.
  ~NodeRuntime() override;
  NodeRuntime(const NodeRuntime&) = delete;
  NodeRuntime& operator=(const NodeRuntime&) = delete;

  // Where the peer transport listens (the bound port when listen_on_any_port).
  const config::Address& peer_address() const { return peer_address_; }
  void set_peer_address(const core::NodeId& peer, const config::Address& address);
  // The runtime owns `port` from now on and stops it at shutdown. Ports are destroyed
  // before anything else of the runtime (they hold a NodeService&).
  void add_port(std::unique_ptr<RuntimePort> port);

  // Graceful shutdown: stops the ports (no new client requests; submit() answers
  // unavailable), waits up to timing.request_timeout for requests already in flight
  // (peers are still served meanwhile so their quorums can finish), answers the rest
  // unavailable, commits what is staged, closes the transport and the store, then calls
  // `done` (on the loop, never from inside shutdown()). A second call only adds `done`.
  void shutdown(std::function<void()> done);
  bool is_closed() const { return phase_ == Phase::closed; }
  std::size_t requests_in_flight() const { return callbacks_.size(); }

  // NodeService.
  void submit(core::ClientRequest request,
              std::function<void(const core::ClientReply&)> done) override;
  const config::Config& config() const override { return config_; }
  CounterSnapshot counters() const override;
  std::vector<core::PeerStatus> members() const override;
  std::vector<core::RouteStatus> routes() const override;
  std::map<core::NodeId, double> ring_ownership() const override;
  RingView ring_view() const override;
  std::vector<PeerConnectionStatus> peer_connections() const override;
  const StoreStats& store_stats() const override { return store_stats_; }
  core::WallMicros wall_now() const override;
  AntiEntropyView anti_entropy() const override;
  std::uint64_t tombstones_held() const override;
  std::uint64_t hints_pending() const override;
  void request_repair() override;
  FaultFilter* fault_filter() override { return fault_filter_.get(); }

 private:
  struct Parts;
  enum class Phase : std::uint8_t { running, draining, closed };

  NodeRuntime(boost::asio::io_context& io, config::Config config, RuntimeOptions options,
              std::uint64_t seed);
  core::Status start();
  core::Result<std::vector<peer_handshake::Secret>> load_cluster_secrets() const;
  core::Now now() const;
  // One log event of this node (net/log.h).
  void log(LogLevel level, std::string_view event, const nlohmann::ordered_json& fields,
           std::string_view message) const;

  void on_envelope(core::Envelope envelope);
  void on_timer(std::uint64_t generation);
  void post_flush();
  void flush();
  // Carries out what a flush or a returned commit released; starts the commit's fsync on
  // the commit thread when one began.
  void release(core::DriverEffects effects);
  void count_commit(const core::DriverEffects& effects);
  // A commit thread finished commit number `number` with `status`; the driver hears of
  // returns in the order the commits began.
  void on_commit_returned(std::uint64_t number, core::Status status);
  void send_messages(const std::vector<core::Envelope>& messages);
  void deliver_replies(const std::vector<core::ClientReply>& replies);
  void arm_timer(std::optional<core::Instant> next);
  void log_peer_transitions(const std::vector<core::PeerTransition>& transitions);
  void learn_address(const core::NodeId& peer);
  void finish_shutdown();

  boost::asio::io_context& io_;
  config::Config config_;
  RuntimeOptions options_;
  std::uint64_t seed_;
  core::Ring ring_;
  config::Address peer_address_;
  std::unique_ptr<Parts> parts_;  // store, storage, driver (and node), transport, timers
  std::shared_ptr<FaultFilter> fault_filter_;  // only with RuntimeOptions::fault_injection

  Phase phase_ = Phase::running;
  std::map<core::RequestId, std::function<void(const core::ClientReply&)>> callbacks_;
  core::RequestId next_request_id_ = 1;
  bool flush_posted_ = false;
  std::optional<core::Instant> timer_armed_at_;
  std::uint64_t timer_generation_ = 0;
  std::uint64_t commits_begun_ = 0;     // numbers commits as they begin (from 1)
  std::uint64_t commits_reported_ = 0;  // returns the driver heard of, in order
  std::map<std::uint64_t, core::Status> commits_returned_;  // returned out of order
  std::deque<std::chrono::steady_clock::time_point> commit_started_;  // of those in flight
  std::vector<std::function<void()>> shutdown_callbacks_;
  StoreStats store_stats_{Histogram(), Histogram(Histogram::size_bounds())};
  CounterSnapshot closed_counters_;  // the node's last counters, once it is closed
  // Expires with the runtime: posted handlers hold a weak_ptr and do nothing after.
  std::shared_ptr<char> alive_ = std::make_shared<char>();
  std::vector<std::unique_ptr<RuntimePort>> ports_;  // last: destroyed first
};

}  // namespace vigil::net
