#pragma once
// One simulated node process (see node_host.cpp): a core::Node over a TypedStorage over a
// MemoryStore that outlives it (the disk), the node's wall clock, and its process state
// (up, crashed, paused). It drives the node through a core::NodeDriver, one flush per
// input, and hands the effects back to the simulator, which owns the network and the
// clients.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/node/client.h"
#include "core/wire/messages.h"
#include "core/node/node.h"
#include "core/node/node_driver.h"
#include "core/random.h"
#include "sim/scenario.h"
#include "core/ring/ring.h"
#include "sim/event_queue.h"
#include "sim/invariant_interval.h"
#include "sim/sim_clock.h"
#include "store/memory_store.h"

namespace vigil::store {
class TypedStorage;
}

namespace vigil::sim {

enum class ProcessState : std::uint8_t { up, crashed, paused };

// What one input made the node emit, ready to send.
struct HostEffects {
  std::vector<core::Envelope> messages;
  std::vector<core::ClientReply> replies;
  // Set when the node's timer changed: schedule a node_timer event (tag = generation) at
  // `at_us`. Earlier timer events of this node are stale from now on.
  std::optional<std::int64_t> timer_at_us;
  std::uint64_t timer_generation = 0;
  // Set when a commit began: schedule a node_commit event (tag = generation) at `at_us`.
  std::optional<std::int64_t> commit_at_us;
  std::uint64_t commit_generation = 0;
  // Peer state changes the node judged during the input (core::Node::take_peer_transitions).
  std::vector<core::PeerTransition> transitions;
};

struct HostLimits {
  std::size_t held_events_max = 100000;  // inputs waiting while paused; beyond: dropped
  // Not a bound but the checking depth; here so that the host has one options struct.
  std::uint64_t check_invariants_every = sim_invariant_interval;
};

class NodeHost {
 public:
  // The node starts up at once (incarnation 0). `seed` is the simulation seed: the node's
  // own generator is seeded from (seed, index, incarnation).
  NodeHost(std::uint32_t index, core::NodeOptions options, core::Ring ring, std::uint64_t seed,
           SimClock clock, HostLimits limits = {}, DiskModel disk = {});
  ~NodeHost();
  NodeHost(const NodeHost&) = delete;
  NodeHost& operator=(const NodeHost&) = delete;

  // Inputs. REQUIRES: state() == up.
  HostEffects start(std::int64_t now_us);  // call once after construction
  HostEffects deliver(std::int64_t now_us, core::Envelope envelope);
  HostEffects client_request(std::int64_t now_us, core::ClientRequest request);
  // A node_timer event: nothing happens (and no effects) when `generation` is stale.
  HostEffects timer(std::int64_t now_us, std::uint64_t generation);
  // A node_commit event: the oldest commit in flight is durable (or failed, by an armed
  // fault); nothing happens when `generation` is stale (a crash came first).
  HostEffects commit_returned(std::int64_t now_us, std::uint64_t generation);

  // Faults.
  // The process dies: the node and its volatile state go, the store loses what was not
  // durably committed, held inputs are dropped. REQUIRES: state() != crashed.
  void crash();
  // A new process over the same store; call start() next. REQUIRES: state() == crashed.
  void restart();
  // REQUIRES: state() == up. Inputs are held (hold()) until resume().
  void pause();
  // Returns the held inputs in arrival order, for the simulator to process now.
  // REQUIRES: state() == paused.
  std::vector<Event> resume();
  // Keeps an input that arrived while paused; false (and counted) at the bound.
  bool hold(Event event);

  // A full check of the node's invariants now (the end of a run). REQUIRES: not crashed.
  void check_invariants();

  ProcessState state() const { return state_; }
  std::uint32_t index() const { return index_; }
  const core::NodeId& id() const { return options_.id; }
  std::uint64_t incarnation() const { return incarnation_; }
  std::uint64_t pause_generation() const { return pause_generation_; }
  SimClock& clock() { return clock_; }
  store::MemoryStore& store() { return store_; }
  // The node's membership view (empty while crashed or with membership disabled).
  std::vector<core::PeerStatus> members(std::int64_t now_us) const;

  // The node's counters plus those of every earlier incarnation, and the host's own
  // (commits, commit failures, held, dropped, invariant checks).
  void add_counters(std::map<std::string, std::uint64_t>& out) const;

 private:
  core::Now now(std::int64_t now_us) const;
  // A new node (and its storage view) over store_, at the current incarnation.
  void start_process();
  // Flushes the driver after one input and schedules the node's timer.
  HostEffects finish_input(std::int64_t now_us);
  // Turns driver effects into host effects: counts, the timer, the commit event.
  HostEffects host_effects(std::int64_t now_us, core::DriverEffects flushed);

  std::uint32_t index_;
  core::NodeOptions options_;
  core::Ring ring_;
  std::uint64_t seed_;
  SimClock clock_;
  HostLimits limits_;
  DiskModel disk_;
  core::Random disk_random_;  // commit latencies and crash coins (Stream::disk)
  store::MemoryStore store_;
  std::unique_ptr<store::TypedStorage> storage_;
  std::unique_ptr<core::NodeDriver> driver_;  // null while crashed
  ProcessState state_ = ProcessState::up;
  std::uint64_t incarnation_ = 0;
  std::uint64_t pause_generation_ = 0;
  std::uint64_t timer_generation_ = 0;
  std::optional<std::int64_t> timer_at_us_;  // what the pending timer event is for
  std::uint64_t commit_generation_ = 0;      // raised by a crash: its commits never return
  std::int64_t last_commit_at_us_ = 0;       // when the newest commit in flight returns
  std::vector<Event> held_;
  core::NodeCounters retired_counters_;  // of earlier incarnations
  std::uint64_t commits_ = 0;
  std::uint64_t commit_failures_ = 0;
  std::uint64_t inputs_ = 0;
  std::uint64_t held_dropped_ = 0;
  // Full checks of the node's invariants: by the drivers of earlier lives, and at the end.
  std::uint64_t invariant_checks_ = 0;
};

}  // namespace vigil::sim
