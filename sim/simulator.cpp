// Theory of operation. simulate() runs real core::Node state machines -- the code that
// runs in production -- inside a world that is entirely a function of (scenario, seed):
// FoundationDB's simulation and TigerBeetle's VOPR, in the small.
//
// Time and order. Virtual time is an integer of microseconds that jumps from event to
// event; the event queue orders by (time, sequence), the sequence being the order in
// which events were scheduled. One thread, no clock reads, no pointer-ordered or hashed
// containers on any path that decides order: the same inputs give the same run.
//
// Randomness. One seed; every stream is derived from it by sim/seeds.h's splitmix64 chain
// (network; each node and incarnation; each client; fault jitter and targets; clocks), and
// bits are mapped by core::Random's documented algorithms, never std::*_distribution.
// Streams are separate so that, e.g., a client's choices do not shift when a fault changes
// how many messages the network drew for.
//
// The world. sim/network.h decides every frame's fate; every frame is encoded with the
// wire codec when sent and decoded on arrival (a decode failure is a codec bug and stops
// the run). sim/node_host.h is a node process with its disk: it drives core::Node by
// node.h's protocol, commits before releasing effects, and crashes, restarts and pauses.
// Clients and the scenario script are fibers (sim/fiber.h) that block in virtual time.
// Clients talk to nodes over a TCP-like link from outside the cluster (latency and clogs;
// no loss; partitions split the nodes, not the clients from them -- Jepsen's layout): a
// client of a node on the minority side sees its requests fail for lack of a quorum, a
// client of a crashed node has its connection refused or reset (unavailable), a client of
// a paused node waits, and every client gives up after request_timeout + 1 s.
//
// The run (the scenario script, simulation_faults.cpp): faults fire at their times plus
// a seeded jitter; at `duration` the workload stops, everything is healed (partitions and
// cuts, clogs, paused and crashed nodes; clock faults stay), clients finish, the cluster
// quiesces (10 s unless the scenario says otherwise), and one client reads every key at
// `all` (final_read in the history).
//
// Evidence. Every processed event is folded into the trace hash: xxhash64 chained over a
// fixed little-endian encoding of (time, kind, node, peer, tag) plus the frame bytes of a
// delivery, the request of a client request and the reply of a client reply. Two runs with
// equal hashes processed the same events with the same contents in the same order. An
// invariant failure anywhere prints the command that replays the run
// (core::set_assertion_context).

#include "sim/simulator.h"

#include <algorithm>
#include <iomanip>
#include <sstream>
#include <utility>

#include "core/assert.h"
#include "core/wire/codec.h"
#include "core/hash.h"
#include "config/node_options.h"
#include "sim/seeds.h"
#include "sim/simulation.h"

namespace vigil::sim {
namespace {

// The replay command for assertion messages; thread-local like the context pointer.
thread_local std::string replay_command;

std::string replay_context() {
  return replay_command;
}

class AssertionContextGuard {
 public:
  explicit AssertionContextGuard(std::string command) {
    replay_command = std::move(command);
    core::set_assertion_context(&replay_context);
  }
  ~AssertionContextGuard() {
    core::set_assertion_context(nullptr);
    replay_command.clear();
  }
  AssertionContextGuard(const AssertionContextGuard&) = delete;
  AssertionContextGuard& operator=(const AssertionContextGuard&) = delete;
};

std::string replay_line(const Scenario& scenario, std::uint64_t seed) {
  if (scenario.file.empty()) {
    return "replay: simulate() of the in-code scenario '" + scenario.name + "' with seed " +
           std::to_string(seed);
  }
  return "replay: vigil sim " + scenario.file + " --seed " + std::to_string(seed);
}

void put_u64(std::string& out, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
}

void put_u32(std::string& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
}

// The simulator addresses nodes by id: gossip carries ids as addresses. A scenario whose
// config names seeds gives every node those (by id); one that names none gives every node
// every other node, a static cluster that knows itself from the start.
void set_membership_addresses(core::NodeOptions& options, const Scenario& scenario,
                              const std::vector<core::NodeId>& ids) {
  options.address = options.id;
  options.seeds.clear();
  if (scenario.config.node.seeds.empty()) {
    for (const core::NodeId& id : ids) options.seeds.emplace_back(id, id);
  } else {
    for (const config::SeedNode& seed : scenario.config.node.seeds) {
      options.seeds.emplace_back(seed.id, seed.id);
    }
  }
}

config::Config node_config(const Scenario& scenario, const core::NodeId& id) {
  config::Config config = scenario.config;
  config.node.id = id;
  return config;
}

}  // namespace

Simulation::Simulation(const Scenario& scenario, std::uint64_t seed,
                       const SimulationOptions& options)
    : scenario_(scenario),
      seed_(seed),
      options_(options),
      queue_(limits_.events_max),
      fibers_(queue_),
      network_(scenario.nodes, scenario.network, derive_seed(seed, Stream::network)),
      fault_random_(derive_seed(seed, Stream::faults)) {
  const std::vector<core::NodeId> ids = scenario_node_ids(scenario);
  VIGIL_ASSERT(!ids.empty(), "a scenario needs a node");
  const core::Ring ring = core::Ring::build(ids, config::ring_options(scenario.config));
  // 2026-01-01T00:00:00Z, plus a per-node offset of up to 1 ms: clocks are never equal.
  constexpr core::WallMicros epoch_us = 1767225600LL * 1000000;
  for (std::uint32_t i = 0; i < ids.size(); ++i) {
    core::Random clock_random(derive_seed(seed, Stream::clock, i));
    core::NodeOptions node_options =
        config::node_options_from_config(node_config(scenario, ids[i]));
    set_membership_addresses(node_options, scenario, ids);
    if (scenario.adjust_node_options) scenario.adjust_node_options(node_options);  // tests only
    client_timeout_us_ =
        core::to_micros(node_options.request_timeout) + limits_.client_timeout_slack_us;
    hosts_.push_back(std::make_unique<NodeHost>(
        i, node_options, ring, seed, SimClock(epoch_us + clock_random.uniform_range(-1000, 1000)),
        HostLimits{.check_invariants_every = options.check_invariants_every}, scenario.disk));
    index_of_.emplace(ids[i], i);
    if (i == 0 && scenario.workload.routing && scenario.workload.pipeline == 0) {
      // The clients take the cluster's routing settings (node 0's: a scenario's nodes share
      // them) with the scenario's strategy; a slow call is one past replication_timeout.
      core::RoutingOptions routing = node_options.routing;
      routing.strategy = *scenario.workload.routing;
      routing_ = std::make_unique<ClientRouting>(
          routing, ring, node_options.replicas, ids, scenario.workload.clients,
          derive_seed(seed, Stream::client, scenario.workload.clients),
          node_options.replication_timeout);
    }
  }
}

Simulation::~Simulation() = default;

std::uint32_t Simulation::index_of(const core::NodeId& id) const {
  const auto it = index_of_.find(id);
  VIGIL_ASSERT(it != index_of_.end(), "a node id that is not in the cluster: " + id);
  return it->second;
}

SimulationResult Simulation::run() {
  const AssertionContextGuard context(replay_line(scenario_, seed_));
  for (std::uint32_t i = 0; i < hosts_.size(); ++i) apply_effects(i, hosts_[i]->start(0));
  note_fault_state();
  plan_faults();
  fibers_.spawn(
      "script", [this] { run_script(); }, 0);
  spawn_clients();
  while (!done_) {
    VIGIL_ASSERT(!queue_.empty(), "the event queue ran dry before the script ended");
    Event event = queue_.pop();
    sample_convergence_before(event.time_us);  // no event of its own: the trace is unchanged
    now_us_ = event.time_us;
    events_ += 1;
    record(event);
    if (options_.trace != nullptr) trace(event);
    if (options_.hash_log != nullptr || options_.first_difference != nullptr) note_hash(event);
    dispatch(std::move(event), false);
  }

  // The inputs since each node's last periodic check have not been checked yet.
  for (const auto& host : hosts_) {
    if (host->state() != ProcessState::crashed) host->check_invariants();
  }

  SimulationResult result;
  result.trace_hash = trace_hash_;
  result.sim_time_us = now_us_;
  result.events = events_;
  result.faults_injected = faults_injected_;
  result.counters = counters_;
  network_.counters().add_to(result.counters);
  if (routing_) routing_->add_counters(result.counters);
  for (const auto& host : hosts_) host->add_counters(result.counters);
  result.counters["events"] = events_;
  result.counters["events_queue_peak"] = queue_.length_peak();
  result.counters["fiber_switches"] = fibers_.switches();
  result.history = std::move(history_);
  result.hints_pending = std::move(hints_pending_);
  result.replica_values = std::move(replica_values_);
  for (const auto& [key, counter] : replica_counters_) result.replica_counters[key] = counter.value();
  result.fault_timeline = std::move(fault_timeline_);
  result.peer_transitions = std::move(peer_transitions_);
  result.crashes = std::move(crashes_);
  result.convergence = std::move(convergence_);
  result.tombstones = std::move(tombstones_);
  for (const auto& host : hosts_) result.final_views[host->id()] = host->members(now_us_);
  return result;
}

void Simulation::dispatch(Event event, bool resumed) {
  switch (event.kind) {
    case EventKind::deliver: on_deliver(std::move(event), resumed); return;
    case EventKind::node_timer: on_timer(event, resumed); return;
    case EventKind::node_commit: on_commit(event); return;
    case EventKind::client_request: on_client_request(std::move(event)); return;
    case EventKind::client_reply: on_client_reply(event); return;
    case EventKind::fiber_wake: fibers_.handle_event(event); return;
    case EventKind::fault: on_fault(event); return;
    case EventKind::resume:
      if (hosts_[event.node]->state() == ProcessState::paused &&
          hosts_[event.node]->pause_generation() == event.tag) {
        resume_node(event.node);
      }
      return;
  }
}

void Simulation::on_deliver(Event event, bool resumed) {
  const bool loopback = event.peer == event.node;
  if (!resumed && !loopback && !network_.arrive(event.peer, event.node)) return;
  NodeHost& host = *hosts_[event.node];
  if (host.state() == ProcessState::crashed) {
    count("messages_dropped_node_down");
    return;
  }
  if (host.state() == ProcessState::paused) {
    host.hold(std::move(event));
    return;
  }
  core::Result<core::Envelope> envelope = core::decode_frame(event.bytes);
  VIGIL_ASSERT(envelope.ok(),
               "a frame the codec encoded does not decode: " + envelope.status().to_string());
  VIGIL_ASSERT(envelope->to == host.id() && envelope->from == hosts_[event.peer]->id(),
               "a frame decoded with other addresses than it was sent with");
  apply_effects(event.node, host.deliver(now_us_, std::move(*envelope)));
}

void Simulation::on_timer(const Event& event, bool resumed) {
  (void)resumed;
  NodeHost& host = *hosts_[event.node];
  if (host.state() == ProcessState::crashed) return;  // stale: a crash raised the generation
  if (host.state() == ProcessState::paused) {
    host.hold(event);
    return;
  }
  apply_effects(event.node, host.timer(now_us_, event.tag));
}

void Simulation::on_commit(const Event& event) {
  NodeHost& host = *hosts_[event.node];
  if (host.state() == ProcessState::crashed) return;  // stale: a crash raised the generation
  if (host.state() == ProcessState::paused) {
    host.hold(event);  // the fsync returned; the frozen process sees it when it wakes
    return;
  }
  apply_effects(event.node, host.commit_returned(now_us_, event.tag));
}

void Simulation::apply_effects(std::uint32_t node, HostEffects effects) {
  for (const core::Envelope& envelope : effects.messages) send_message(node, envelope);
  for (core::ClientReply& reply : effects.replies) send_reply(node, std::move(reply));
  for (const core::PeerTransition& transition : effects.transitions) {
    peer_transitions_.push_back(PeerTransitionRecord{now_us_, hosts_[node]->id(), transition});
  }
  if (effects.timer_at_us) {
    queue_.push(
        Event::make(*effects.timer_at_us, EventKind::node_timer, node, effects.timer_generation));
  }
  if (effects.commit_at_us) {
    queue_.push(Event::make(*effects.commit_at_us, EventKind::node_commit, node,
                            effects.commit_generation));
  }
}

void Simulation::send_message(std::uint32_t from, const core::Envelope& envelope) {
  VIGIL_ASSERT(envelope.from == hosts_[from]->id(), "a node sent a frame in another's name");
  const std::uint32_t to = index_of(envelope.to);
  core::Result<std::string> frame = core::encode_frame(envelope);
  if (!frame.ok()) {
    // Only size may refuse a frame our own node built (a sibling set over the frame bound).
    VIGIL_ASSERT(frame.status().code() == core::Code::resource_exhausted,
                 "the codec refused a node's frame: " + frame.status().to_string());
    count("messages_dropped_too_large");
    return;
  }
  MessageFate fate;
  if (to == from) {
    fate.copies = 1;
    fate.arrive_us[0] = now_us_;
  } else {
    fate = network_.send(now_us_, from, to);
  }
  for (std::uint8_t copy = 0; copy < fate.copies; ++copy) {
    if (queue_.full()) {
      if (to != from) network_.abandon(from, to);
      count("messages_dropped_queue_full");
      continue;
    }
    Event event = Event::make(fate.arrive_us[copy], EventKind::deliver, to, 0);
    event.peer = from;
    event.bytes = copy + 1 < fate.copies ? *frame : std::move(*frame);
    queue_.push(std::move(event));
  }
}

void Simulation::record(const Event& event) {
  std::string& out = record_buffer_;
  out.clear();
  put_u64(out, static_cast<std::uint64_t>(event.time_us));
  out.push_back(static_cast<char>(event.kind));
  put_u32(out, event.node);
  put_u32(out, event.peer);
  put_u64(out, event.tag);
  const auto call = event.kind == EventKind::client_request || event.kind == EventKind::client_reply
                        ? calls_.find(event.tag)
                        : calls_.end();
  if (call != calls_.end() && event.kind == EventKind::client_request) {
    const core::ClientRequest& request = call->second.request;
    out.push_back(static_cast<char>(request.op));
    out.push_back(static_cast<char>(request.consistency));
    put_u32(out, static_cast<std::uint32_t>(request.key.size()));
    out += request.key;
    put_u32(out, static_cast<std::uint32_t>(request.value.size()));
    out += request.value;
  } else if (call != calls_.end()) {
    const core::ClientReply& reply = call->second.reply;
    out.push_back(static_cast<char>(reply.status.code()));
    for (const core::Value& value : reply.values) {
      put_u32(out, static_cast<std::uint32_t>(value.size()));
      out += value;
    }
  }
  trace_hash_ = core::xxhash64(out, trace_hash_);
  // Frames are hashed in place rather than copied into the buffer.
  if (!event.bytes.empty()) trace_hash_ = core::xxhash64(event.bytes, trace_hash_);
}

void Simulation::note_hash(const Event& event) {
  const std::uint64_t index = events_ - 1;
  if (options_.hash_log != nullptr && options_.hash_log->hashes.size() < options_.hash_log->max) {
    options_.hash_log->hashes.push_back(trace_hash_);
  }
  if (options_.first_difference == nullptr || options_.first_difference->has_value()) return;
  bool differs = options_.describe_event == index;
  if (const EventHashLog* earlier = options_.compare_with) {
    if (index < earlier->hashes.size()) {
      differs = differs || earlier->hashes[index] != trace_hash_;
    } else {
      // Past the earlier log: it stopped sooner (a difference) or was cut at its bound.
      differs = differs || earlier->hashes.size() < earlier->max;
    }
  }
  if (!differs) return;
  std::ostringstream line;
  trace(event, line);
  *options_.first_difference = SimulationOptions::Described{index, line.str()};
}

void Simulation::trace(const Event& event) { trace(event, *options_.trace); }

void Simulation::trace(const Event& event, std::ostream& out) {
  out << now_us_ / 1000000 << '.' << std::setw(6) << std::setfill('0') << now_us_ % 1000000
      << std::setfill(' ') << ' ' << event_kind_name(event.kind) << ' ';
  switch (event.kind) {
    case EventKind::deliver: {
      const std::size_t type =
          event.bytes.size() > 3 ? static_cast<std::uint8_t>(event.bytes[3]) : 255;
      out << hosts_[event.peer]->id() << "->" << hosts_[event.node]->id() << ' '
          << core::message_type_name(type) << ' ' << event.bytes.size() << 'B';
      break;
    }
    case EventKind::node_timer:
    case EventKind::node_commit: out << hosts_[event.node]->id(); break;
    case EventKind::client_request:
    case EventKind::client_reply: {
      out << '#' << event.tag << ' ' << hosts_[event.node]->id();
      const auto it = calls_.find(event.tag);
      if (it != calls_.end() && event.kind == EventKind::client_request) {
        static constexpr const char* op_names[] = {"get", "put", "del"};
        out << ' ' << op_names[static_cast<std::size_t>(it->second.request.op) % 3] << ' '
            << it->second.request.key;
      } else if (it != calls_.end()) {
        out << ' ' << it->second.reply.status.to_string();
      }
      break;
    }
    case EventKind::fiber_wake: out << "fiber " << event.node; break;
    case EventKind::fault: out << "action " << event.tag; break;
    case EventKind::resume: out << hosts_[event.node]->id(); break;
  }
  out << '\n';
}

SimulationResult simulate(const Scenario& scenario, std::uint64_t seed,
                          const SimulationOptions& options) {
  Simulation simulation(scenario, seed, options);
  return simulation.run();
}

}  // namespace vigil::sim
