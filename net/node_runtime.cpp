// NodeRuntime: theory of operation.
//
// The loop. Everything runs on the io_context's one thread (FoundationDB's Net2 over
// boost::asio, without its globals): a client request (submit), a peer's envelope (the
// transport's handler) and the node's timer are each one input, handed to the node at once
// with Now{steady clock, system clock}. An input never sends anything itself: it marks the
// batch dirty and, if no flush is pending, posts one. Asio runs the handlers that were
// ready before the post first, so every input that arrived in the same turn of the loop
// (a burst of frames, a pipeline of client commands) joins the batch.
//
// Group commit (core::NodeDriver, core/node/node_driver.h, owns node.h's driving protocol;
// Dynamo's durable writes, LevelDB's and PostgreSQL's group commit): the flush asks the
// driver to commit the store once for the whole batch when the node staged anything, and
// only then to hand over the node's messages (to the transport), replies (to the waiting
// callbacks) and next deadline (the one timer). A failed commit makes the driver call
// handle_storage_failure() before the drain, which swaps every acknowledgement of the
// batch for a failure answer; the node then refuses writes until restarted. The cost of
// durability is one fsync per loop turn, not per request: under load, batches grow and
// fsyncs per request fall (StoreStats records both; the commit latency is the time of the
// driver's flush, which beyond the commit only moves the node's outboxes). The driver also
// checks the node's invariants every RuntimeOptions::check_invariants_every inputs.
//
// Shutdown: the ports stop first (no new clients); requests already in flight get up to
// request_timeout to finish while the node keeps serving peers (a coordinator that went
// quiet now would fail its peers' quorums for no reason); the rest are answered
// unavailable; the last staged writes are committed; transport and store close.

#include "net/node_runtime.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <filesystem>
#include <random>
#include <system_error>
#include <utility>

#include "config/cluster_secret.h"
#include "config/node_options.h"
#include "core/node/node_membership.h"
#include "core/random.h"
#include "net/log.h"
#include "net/node_runtime_parts.h"
#include "net/peer_transport.h"
#include "net/tls_stream.h"
#include "store/sqlite_store.h"
#include "store/typed_storage.h"

namespace vigil::net {

namespace asio = boost::asio;

namespace {

std::uint64_t random_device_seed() {
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

// The ids of node.seeds in listed order, then this node's when absent (header).
std::vector<core::NodeId> ring_members(const config::Config& config) {
  std::vector<core::NodeId> ids;
  for (const config::SeedNode& seed : config.node.seeds) {
    if (std::find(ids.begin(), ids.end(), seed.id) == ids.end()) ids.push_back(seed.id);
  }
  if (std::find(ids.begin(), ids.end(), config.node.id) == ids.end()) {
    ids.push_back(config.node.id);
  }
  return ids;
}

core::ClientReply unavailable_reply(core::RequestId id, const std::string& why) {
  core::ClientReply reply;
  reply.id = id;
  reply.status = core::error(core::Code::unavailable, why);
  return reply;
}

}  // namespace

core::Result<std::unique_ptr<NodeRuntime>> NodeRuntime::open(asio::io_context& io,
                                                             config::Config config,
                                                             RuntimeOptions options) {
  const core::Status valid = config::validate(config);
  VIGIL_ASSERT(valid.ok(), "NodeRuntime::open on an invalid config: " + valid.message());
  const std::uint64_t seed = options.seed ? *options.seed : random_device_seed();
  std::unique_ptr<NodeRuntime> runtime(
      new NodeRuntime(io, std::move(config), std::move(options), seed));
  core::Status started = runtime->start();
  if (!started.ok()) return started;
  return runtime;
}

NodeRuntime::NodeRuntime(asio::io_context& io, config::Config config, RuntimeOptions options,
                         std::uint64_t seed)
    : io_(io), config_(std::move(config)), options_(std::move(options)), seed_(seed) {}

core::Status NodeRuntime::start() {
  const std::vector<core::NodeId> members = ring_members(config_);
  const core::RingOptions ring_options = config::ring_options(config_);
  if (core::Status ring_ok = core::check_ring_options(ring_options, members.size());
      !ring_ok.ok()) {
    return core::error(core::Code::invalid_argument, "cannot build the ring: " + ring_ok.message());
  }
  ring_ = core::Ring::build(members, ring_options);

  std::uint64_t seed_state = seed_;
  const std::uint64_t node_seed = core::splitmix64(seed_state);
  PeerTransportOptions transport_options;
  transport_options.self = config_.node.id;
  transport_options.send_queue_bytes_max = config_.limits.peer_send_queue_bytes_max;
  transport_options.backoff_initial = config_.routing.retry_policy.backoff.initial;
  transport_options.backoff_max = config_.routing.retry_policy.backoff.max;
  transport_options.backoff_factor = config_.routing.retry_policy.backoff.factor;
  // A peer not connected within the time a replica is given to answer is of no use to
  // the request that dialed it.
  transport_options.connect_timeout = config_.timing.replication_timeout;
  transport_options.inbound_connections_max = core::ring_nodes_max;
  transport_options.seed = core::splitmix64(seed_state);
  core::Result<std::vector<peer_handshake::Secret>> secrets = load_cluster_secrets();
  if (!secrets.ok()) return secrets.status();
  transport_options.cluster_secrets = std::move(secrets).value();
  transport_options.handshake_timeout = config_.security.peer_handshake_timeout;
  if (config_.security.tls.peer) {
    // Mutual TLS on the peer port (net/tls_stream.h): the files are read once, here.
    auto dial = make_tls_context(config_.security.tls, TlsContextKind::peer_dial);
    if (!dial.ok()) return dial.status();
    auto accept = make_tls_context(config_.security.tls, TlsContextKind::peer_accept);
    if (!accept.ok()) return accept.status();
    transport_options.tls_dial = std::move(dial).value();
    transport_options.tls_accept = std::move(accept).value();
    transport_options.tls_handshake_timeout = config_.security.tls.handshake_timeout;
  }
  if (options_.fault_injection) {
    fault_filter_ = std::make_shared<FaultFilter>(core::splitmix64(seed_state));
    transport_options.fault_filter = fault_filter_;
    log(LogLevel::warning, "fault_injection_enabled", nullptr,
        "fault injection is enabled (--enable-fault-injection): POST /fault on the admin port "
        "can partition this node and move its clock; never run a production node so");
  }
  std::weak_ptr<char> alive = alive_;
  parts_ = std::make_unique<Parts>(io_, transport_options, [this, alive](core::Envelope e) {
    if (!alive.expired()) on_envelope(std::move(e));
  });

  // The store, in its directory.
  std::error_code directory_error;
  std::filesystem::create_directories(config_.node.data_dir, directory_error);
  if (directory_error) {
    return core::error(core::Code::io_error, "cannot create the data directory " +
                                                 config_.node.data_dir + ": " +
                                                 directory_error.message());
  }
  const std::string store_path =
      (std::filesystem::path(config_.node.data_dir) / "vigil.sqlite").string();
  core::Result<std::unique_ptr<store::SqliteStore>> store = store::SqliteStore::open(store_path);
  if (!store.ok()) {
    return core::Status(store.status().code(), store_path + ": " + store.status().message());
  }
  parts_->store = std::move(store).value();
  parts_->storage = std::make_unique<store::TypedStorage>(*parts_->store);

  // The peer port before the node: its address is what the node gossips.
  config::Address listen = config_.node.listen;
  if (options_.listen_on_any_port) listen.port = 0;
  core::Result<config::Address> bound = parts_->transport.listen(listen);
  if (!bound.ok()) return bound.status();
  peer_address_ = *bound;
  for (const config::SeedNode& seed : config_.node.seeds) {
    if (seed.id != config_.node.id) parts_->transport.set_peer_address(seed.id, seed.address);
  }

  core::NodeOptions node_options = config::node_options_from_config(config_);
  // Gossip carries the configured host (a name stays a name; peers dial what operators
  // wrote) with the port actually bound.
  node_options.address =
      config::format_address(config::Address{config_.node.listen.host, peer_address_.port});
  parts_->driver =
      std::make_unique<core::NodeDriver>(node_options, ring_, *parts_->storage, node_seed,
                                         core::DriverOptions{options_.check_invariants_every,
                                                             /*pipelined=*/true,
                                                             core::pipelined_commits_max});

  std::string ring_text;
  for (const core::NodeId& id : members) ring_text += (ring_text.empty() ? "" : ",") + id;
  log(LogLevel::info, "starting",
      {{"listen", config::format_address(peer_address_)},
       {"client", config::format_address(config_.node.client)},
       {"admin", config::format_address(config_.node.admin)},
       {"data", store_path},
       {"ring", members},
       {"seed", std::to_string(seed_)}},  // a string: JSON readers hold numbers as doubles
      fmt::format("starting: peers on {}, client {}, admin {}, data {}, ring [{}], seed {}",
                  config::format_address(peer_address_),
                  config::format_address(config_.node.client),
                  config::format_address(config_.node.admin), store_path, ring_text, seed_));
  // As Redis' protected mode warns: without users, anyone who reaches the client port may
  // read and write every key (docs/security.md). Only the count of users is logged, never
  // a password or its hash.
  if (config_.security.users.empty()) {
    log(LogLevel::warning, "client_port_unauthenticated",
        {{"client", config::format_address(config_.node.client)}},
        fmt::format("the client port {} is unauthenticated: no security.users are configured, "
                    "so anyone who can reach it may read and write every key",
                    config::format_address(config_.node.client)));
  } else {
    log(LogLevel::info, "client_auth_required", {{"users", config_.security.users.size()}},
        fmt::format("the client port requires AUTH ({} users configured)",
                    config_.security.users.size()));
  }
  if (config_.security.cluster_secret_file.empty()) {
    log(LogLevel::warning, "peer_port_unauthenticated",
        {{"listen", config::format_address(peer_address_)}},
        fmt::format("the peer port {} is unauthenticated: no security.cluster_secret_file is "
                    "configured, so anyone who can reach it may act as a node of the cluster",
                    config::format_address(peer_address_)));
  }
  // The constructor staged the node's new incarnation: commit it before anything leaves.
  parts_->driver->start();
  post_flush();
  return core::Status::ok_status();
}

// The secrets of security.cluster_secret_file (then the previous one), read once at
// start-up. Only the files' names are ever logged.
core::Result<std::vector<peer_handshake::Secret>> NodeRuntime::load_cluster_secrets() const {
  std::vector<peer_handshake::Secret> secrets;
  for (const std::string* path : {&config_.security.cluster_secret_file,
                                  &config_.security.cluster_secret_previous_file}) {
    if (path->empty()) continue;
    core::Result<config::ClusterSecretFile> file = config::read_cluster_secret(*path);
    if (!file.ok()) {
      return core::Status(file.status().code(),
                          (path == &config_.security.cluster_secret_file
                               ? "security.cluster_secret_file: "
                               : "security.cluster_secret_previous_file: ") +
                              file.status().message());
    }
    if (file->readable_by_others) {
      log(LogLevel::warning, "cluster_secret_file_readable", {{"file", *path}},
          fmt::format("the cluster secret file {} may be read by other users (chmod 600 it)",
                      *path));
    }
    secrets.push_back(peer_handshake::make_secret(std::move(file->secret)));
  }
  if (secrets.size() == 2 && secrets[0].id == secrets[1].id) {
    return core::error(core::Code::invalid_argument,
                       "security.cluster_secret_previous_file holds the same secret as "
                       "security.cluster_secret_file");
  }
  if (!secrets.empty()) {
    log(LogLevel::info, "peer_auth_required", {{"secrets", secrets.size()}},
        fmt::format("peers must prove they hold the cluster secret ({} accepted)",
                    secrets.size()));
  }
  return secrets;
}

NodeRuntime::~NodeRuntime() {
  ports_.clear();
  alive_.reset();
  if (parts_) {
    parts_->transport.close();
    parts_->commit_threads.join();  // its fsync uses the store
    parts_->driver.reset();
    parts_->storage.reset();
    parts_->store.reset();
  }
}

void NodeRuntime::log(LogLevel level, std::string_view event, const nlohmann::ordered_json& fields,
                      std::string_view message) const {
  log_event(config_.node.id, level, event, fields, message);
}

core::Now NodeRuntime::now() const {
  const auto monotonic = std::chrono::duration_cast<core::Duration>(
      std::chrono::steady_clock::now().time_since_epoch());
  return core::Now{core::Instant{monotonic}, wall_now()};
}

core::WallMicros NodeRuntime::wall_now() const {
  const core::WallMicros real = std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
  // The only wall clock the node reads: a fault filter's clock offset applies to it all.
  return fault_filter_ ? fault_filter_->wall(real, steady_instant()) : real;
}

void NodeRuntime::set_peer_address(const core::NodeId& peer, const config::Address& address) {
  if (phase_ != Phase::closed) parts_->transport.set_peer_address(peer, address);
}

void NodeRuntime::add_port(std::unique_ptr<RuntimePort> port) {
  if (phase_ != Phase::running) {
    port->stop();
    return;
  }
  ports_.push_back(std::move(port));
}

// --- inputs ---------------------------------------------------------------------------

void NodeRuntime::submit(core::ClientRequest request,
                         std::function<void(const core::ClientReply&)> done) {
  if (phase_ != Phase::running) {
    std::weak_ptr<char> alive = alive_;
    asio::post(io_, [alive, done = std::move(done)] {
      if (!alive.expired()) done(unavailable_reply(0, "the node is shutting down"));
    });
    return;
  }
  request.id = next_request_id_++;
  callbacks_.emplace(request.id, std::move(done));
  parts_->driver->client_request(now(), std::move(request));
  post_flush();
}

void NodeRuntime::request_repair() {
  if (phase_ != Phase::running) return;
  // One input, handed to the node directly (the driver has no call for it); the flush
  // below commits whatever it staged and carries its messages and next deadline out, as
  // for any other input.
  parts_->driver->node().request_anti_entropy(now());
  post_flush();
}

void NodeRuntime::on_envelope(core::Envelope envelope) {
  if (phase_ == Phase::closed) return;
  parts_->driver->message(now(), std::move(envelope));
  post_flush();
}

void NodeRuntime::on_timer(std::uint64_t generation) {
  if (phase_ == Phase::closed || generation != timer_generation_) return;
  timer_armed_at_.reset();
  parts_->driver->timeout(now());
  post_flush();
}

void NodeRuntime::post_flush() {
  if (flush_posted_) return;
  flush_posted_ = true;
  std::weak_ptr<char> alive = alive_;
  asio::post(io_, [this, alive] {
    if (!alive.expired()) flush();
  });
}

void NodeRuntime::send_messages(const std::vector<core::Envelope>& messages) {
  for (const core::Envelope& envelope : messages) {
    if (!parts_->transport.knows_peer(envelope.to)) learn_address(envelope.to);
    parts_->transport.send(envelope);
  }
}

void NodeRuntime::deliver_replies(const std::vector<core::ClientReply>& replies) {
  for (const core::ClientReply& reply : replies) {
    const auto it = callbacks_.find(reply.id);
    if (it == callbacks_.end()) continue;  // answered unavailable at shutdown already
    auto done = std::move(it->second);
    callbacks_.erase(it);
    done(reply);
  }
}

void NodeRuntime::learn_address(const core::NodeId& peer) {
  for (const core::PeerStatus& member : parts_->driver->node().members(now().monotonic)) {
    if (member.id != peer || member.address.empty()) continue;
    const core::Result<config::Address> address = config::parse_address(member.address);
    if (address.ok()) {
      parts_->transport.set_peer_address(peer, *address);
    } else {
      log(LogLevel::warning, "peer_address_unusable",
          {{"peer", peer}, {"address", member.address}, {"error", address.status().message()}},
          fmt::format("peer {} gossips an unusable address: {}", peer,
                      address.status().message()));
    }
    return;
  }
}

void NodeRuntime::arm_timer(std::optional<core::Instant> next) {
  if (next == timer_armed_at_) return;
  timer_armed_at_ = next;
  const std::uint64_t generation = ++timer_generation_;
  if (!next) {
    parts_->timer.cancel();
    return;
  }
  // Instants are steady-clock microseconds (now()), so the deadline maps back exactly.
  parts_->timer.expires_at(std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(next->time_since_epoch())));
  std::weak_ptr<char> alive = alive_;
  parts_->timer.async_wait([this, alive, generation](const boost::system::error_code& error) {
    if (!error && !alive.expired()) on_timer(generation);
  });
}

void NodeRuntime::log_peer_transitions(const std::vector<core::PeerTransition>& transitions) {
  for (const core::PeerTransition& transition : transitions) {
    if (!options_.log_peer_transitions) continue;
    const std::string_view to = core::peer_state_name(transition.to);
    const std::string_view from = core::peer_state_name(transition.from);
    log(transition.to == core::PeerState::alive ? LogLevel::info : LogLevel::warning,
        "peer_state", {{"peer", transition.peer}, {"state", to}, {"previous", from}},
        fmt::format("peer {} is {} (was {})", transition.peer, to, from));
  }
}

// --- shutdown -------------------------------------------------------------------------------

void NodeRuntime::shutdown(std::function<void()> done) {
  std::weak_ptr<char> alive = alive_;
  if (phase_ == Phase::closed) {
    asio::post(io_, [alive, done = std::move(done)] {
      if (!alive.expired()) done();
    });
    return;
  }
  shutdown_callbacks_.push_back(std::move(done));
  if (phase_ == Phase::draining) return;
  phase_ = Phase::draining;
  log(LogLevel::info, "shutting_down", {{"requests_in_flight", callbacks_.size()}},
      fmt::format("shutting down: {} client requests in flight", callbacks_.size()));
  for (const auto& port : ports_) port->stop();
  parts_->drain_timer.expires_after(config_.timing.request_timeout);
  parts_->drain_timer.async_wait([this, alive](const boost::system::error_code& error) {
    if (!error && !alive.expired() && phase_ == Phase::draining) finish_shutdown();
  });
  post_flush();  // a flush finds nothing in flight and finishes at once
}

void NodeRuntime::finish_shutdown() {
  parts_->drain_timer.cancel();
  if (!callbacks_.empty()) {
    log(LogLevel::warning, "shutdown_requests_abandoned",
        {{"requests_in_flight", callbacks_.size()}},
        fmt::format("answering {} requests still in flight unavailable", callbacks_.size()));
  }
  // Stop taking peer input first, so nothing new is staged after the last commit.
  phase_ = Phase::closed;
  parts_->transport.close();
  parts_->timer.cancel();
  auto pending = std::move(callbacks_);
  callbacks_.clear();
  for (auto& [id, done] : pending) done(unavailable_reply(id, "the node is shutting down"));
  // The last commits: those in flight (their fsyncs on the commit threads are waited for,
  // then done once more here: fdatasync is idempotent), then what is staged. What they
  // release has nowhere to go.
  parts_->commit_threads.join();
  core::DriverEffects last = parts_->driver->flush(now());
  while (parts_->driver->commits_in_flight() > 0) {
    last = parts_->driver->commit_done(now(), parts_->store->finish_commit());
  }
  if (last.commit == core::CommitOutcome::failed) {
    log(LogLevel::error, "last_commit_failed", {{"error", last.commit_status.to_string()}},
        "the last commit failed: " + last.commit_status.to_string());
  }
  closed_counters_ = counters();
  parts_->driver.reset();
  parts_->storage.reset();
  parts_->store.reset();
  log(LogLevel::info, "stopped", nullptr, "stopped");
  std::weak_ptr<char> alive = alive_;
  for (auto& done : std::exchange(shutdown_callbacks_, {})) {
    asio::post(io_, [alive, done = std::move(done)] {
      if (!alive.expired()) done();
    });
  }
}

// --- NodeService views ---------------------------------------------------------------------

CounterSnapshot NodeRuntime::counters() const {
  if (!parts_->driver) return closed_counters_;
  CounterSnapshot counters = CounterSnapshot::of(parts_->driver->node().counters());
  parts_->transport.counters().add_to(counters);
  counters.add("commits", "Store commits.", store_stats_.commits);
  counters.add("commit_failures", "Store commits that failed.", store_stats_.commit_failures);
  return counters;
}

std::vector<core::PeerStatus> NodeRuntime::members() const {
  if (!parts_->driver) return {};
  return parts_->driver->node().members(now().monotonic);
}

std::vector<core::RouteStatus> NodeRuntime::routes() const {
  if (!parts_->driver) return {};
  return parts_->driver->node().routes(now().monotonic);
}

AntiEntropyView NodeRuntime::anti_entropy() const {
  AntiEntropyView view;
  view.now = now().monotonic;
  if (!parts_->driver) return view;
  const core::Node& node = parts_->driver->node();
  view.exchanges_completed = node.anti_entropy_exchanges_completed();
  view.exchanges_pending = node.anti_entropy_exchanges_pending();
  view.trees = node.anti_entropy_status();
  return view;
}

std::uint64_t NodeRuntime::tombstones_held() const {
  return parts_->driver ? parts_->driver->node().tombstones_held() : 0;
}

std::uint64_t NodeRuntime::hints_pending() const {
  return parts_->driver ? parts_->driver->node().hints_pending() : 0;
}

std::map<core::NodeId, double> NodeRuntime::ring_ownership() const {
  return ring_.ownership();
}

RingView NodeRuntime::ring_view() const {
  // One ring for the process's life (built in start()), so its version is 1.
  return RingView{1, core::ring_digest(ring_), config_.quorum_settings.n, ring_};
}

std::vector<PeerConnectionStatus> NodeRuntime::peer_connections() const {
  return parts_->transport.connections();
}

}  // namespace vigil::net
