// Theory of operation. A NodeHost is what a process and its disk are to a real node.
//
// Driving: a core::NodeDriver (core/node/node_driver.h) owns node.h's protocol, the same
// one the Asio runtime uses. The host flushes after every input: one input, then a commit
// of whatever the node staged, then -- only after the commit -- the node's messages and
// client replies are released, or, when the commit failed, the failure answers the node
// put in their place. This is group commit with a group of one input: the simplest shape
// that is obviously correct. Batching several inputs per flush (as net/ does per
// event-loop turn) would change only the commit count, not what a client can observe,
// because nothing leaves before its commit either way. The driver checks the node's
// invariants after every Kth input (TigerBeetle; HostLimits::check_invariants_every), and
// the simulator checks every live node once more when the run ends.
//
// Timers: the node has one deadline (poll_timeout()); the host keeps exactly one pending
// timer event for it. When the deadline changes the generation is raised and a new event
// scheduled; the old event still fires but finds its generation stale and does nothing.
//
// Crash (FoundationDB's machine kill): the Node object is destroyed with everything
// volatile, MemoryStore::crash() drops whatever was not durably committed, inputs held by a
// pause are lost. Restart builds a new Node over the same store, seeded from (simulation
// seed, node, incarnation) so that a restarted node does not replay its old random choices;
// the node raises its own incarnation in storage so its request ids never repeat.
//
// Pause (a SIGSTOP, a long GC, a VM migration): the process keeps its state but runs
// nothing. Its inputs -- frames, client requests, its timer -- are held in arrival order
// and processed on resume, at the resume time, as a frozen process finds its socket
// buffers and overdue timers when it wakes.

#include "sim/node_host.h"

#include <utility>

#include "core/assert.h"
#include "sim/seeds.h"
#include "store/typed_storage.h"

namespace vigil::sim {

NodeHost::NodeHost(std::uint32_t index, core::NodeOptions options, core::Ring ring,
                   std::uint64_t seed, SimClock clock, HostLimits limits, DiskModel disk)
    : index_(index),
      options_(std::move(options)),
      ring_(std::move(ring)),
      seed_(seed),
      clock_(clock),
      limits_(limits),
      disk_(disk),
      disk_random_(derive_seed(seed, Stream::disk, index)) {
  start_process();
}

NodeHost::~NodeHost() = default;

void NodeHost::start_process() {
  storage_ = std::make_unique<store::TypedStorage>(store_);
  core::DriverOptions driver_options;
  driver_options.check_invariants_every = limits_.check_invariants_every;
  driver_options.pipelined = true;  // as production runs it
  driver_options.commits_in_flight_max = core::pipelined_commits_max;
  driver_ = std::make_unique<core::NodeDriver>(
      options_, ring_, *storage_, derive_seed(seed_, Stream::node, index_, incarnation_),
      driver_options);
}

void NodeHost::check_invariants() {
  VIGIL_ASSERT(state_ != ProcessState::crashed && driver_ != nullptr, "check of a crashed node");
  driver_->node().check_invariants();
  invariant_checks_ += 1;
}

core::Now NodeHost::now(std::int64_t now_us) const {
  return core::Now{core::instant_from_micros(now_us), clock_.wall_us(now_us)};
}

HostEffects NodeHost::start(std::int64_t now_us) {
  VIGIL_ASSERT(state_ == ProcessState::up && driver_ != nullptr, "start of a node not up");
  driver_->start();
  return finish_input(now_us);
}

HostEffects NodeHost::deliver(std::int64_t now_us, core::Envelope envelope) {
  VIGIL_ASSERT(state_ == ProcessState::up, "a frame delivered to a node that is not up");
  driver_->message(now(now_us), std::move(envelope));
  return finish_input(now_us);
}

HostEffects NodeHost::client_request(std::int64_t now_us, core::ClientRequest request) {
  VIGIL_ASSERT(state_ == ProcessState::up, "a client request to a node that is not up");
  driver_->client_request(now(now_us), std::move(request));
  return finish_input(now_us);
}

HostEffects NodeHost::timer(std::int64_t now_us, std::uint64_t generation) {
  VIGIL_ASSERT(state_ == ProcessState::up, "a timer fired in a node that is not up");
  if (generation != timer_generation_ || !timer_at_us_) return {};
  timer_at_us_.reset();
  driver_->timeout(now(now_us));  // asserts no timer is left due at now_us
  return finish_input(now_us);
}

HostEffects NodeHost::commit_returned(std::int64_t now_us, std::uint64_t generation) {
  VIGIL_ASSERT(state_ == ProcessState::up, "a commit returned in a node that is not up");
  if (generation != commit_generation_ || driver_->commits_in_flight() == 0) return {};
  const core::Status status = store_.finish_commit();
  return host_effects(now_us, driver_->commit_done(now(now_us), status));
}

HostEffects NodeHost::finish_input(std::int64_t now_us) {
  return host_effects(now_us, driver_->flush(now(now_us)));
}

HostEffects NodeHost::host_effects(std::int64_t now_us, core::DriverEffects flushed) {
  inputs_ += flushed.inputs;
  if (flushed.commit == core::CommitOutcome::started) commits_ += 1;
  if (flushed.commit == core::CommitOutcome::failed) commit_failures_ += 1;
  HostEffects effects;
  effects.messages = std::move(flushed.messages);
  effects.replies = std::move(flushed.replies);
  effects.transitions = std::move(flushed.transitions);
  if (flushed.commit == core::CommitOutcome::started) {
    const std::int64_t latency_us = disk_random_.uniform_range(
        core::to_micros(disk_.commit_latency.min), core::to_micros(disk_.commit_latency.max));
    // Commits return in the order they began (an fsync of the log covers what came before).
    last_commit_at_us_ = std::max(last_commit_at_us_, now_us + latency_us);
    effects.commit_at_us = last_commit_at_us_;
    effects.commit_generation = commit_generation_;
  }
  std::optional<std::int64_t> deadline;
  if (flushed.next_timeout) deadline = core::to_micros(*flushed.next_timeout);
  if (deadline != timer_at_us_) {
    timer_generation_ += 1;
    timer_at_us_ = deadline;
    if (deadline) {
      effects.timer_at_us = std::max(*deadline, now_us);
      effects.timer_generation = timer_generation_;
    }
  }
  return effects;
}

void NodeHost::crash() {
  VIGIL_ASSERT(state_ != ProcessState::crashed, "crash of a crashed node");
  for (const auto& entry : driver_->node().counters()) {
    retired_counters_.add(entry.counter, entry.value);
  }
  invariant_checks_ += driver_->invariant_checks();
  driver_.reset();
  storage_.reset();
  // A crash during fsyncs: of the commits in flight, a prefix may have reached the disk.
  const std::size_t in_flight = store_.commits_in_flight();
  const auto kept = static_cast<std::size_t>(
      in_flight == 0 ? 0 : disk_random_.uniform_range(0, static_cast<std::int64_t>(in_flight)));
  store_.crash(kept);
  commit_generation_ += 1;  // the returns of this life's commits are stale now
  held_.clear();
  timer_generation_ += 1;
  timer_at_us_.reset();
  state_ = ProcessState::crashed;
}

void NodeHost::restart() {
  VIGIL_ASSERT(state_ == ProcessState::crashed, "restart of a node that is not crashed");
  incarnation_ += 1;
  start_process();
  state_ = ProcessState::up;
}

void NodeHost::pause() {
  VIGIL_ASSERT(state_ == ProcessState::up, "pause of a node that is not up");
  pause_generation_ += 1;
  state_ = ProcessState::paused;
}

std::vector<Event> NodeHost::resume() {
  VIGIL_ASSERT(state_ == ProcessState::paused, "resume of a node that is not paused");
  state_ = ProcessState::up;
  return std::exchange(held_, {});
}

bool NodeHost::hold(Event event) {
  VIGIL_ASSERT(state_ == ProcessState::paused, "hold for a node that is not paused");
  if (held_.size() >= limits_.held_events_max) {
    held_dropped_ += 1;
    return false;
  }
  held_.push_back(std::move(event));
  return true;
}

std::vector<core::PeerStatus> NodeHost::members(std::int64_t now_us) const {
  if (!driver_) return {};
  return driver_->node().members(core::instant_from_micros(now_us));
}

void NodeHost::add_counters(std::map<std::string, std::uint64_t>& out) const {
  for (const auto& [counter, name, retired] : retired_counters_) {
    const std::uint64_t value = retired + (driver_ ? driver_->node().counters().get(counter) : 0);
    if (value > 0) out["node." + std::string(name)] += value;  // non-zero ones, in short
  }
  out["node_inputs"] += inputs_;
  out["store_commits"] += commits_;
  out["store_commit_failures"] += commit_failures_;
  out["paused_inputs_dropped"] += held_dropped_;
  out["invariant_checks"] += invariant_checks_ + (driver_ ? driver_->invariant_checks() : 0);
}

}  // namespace vigil::sim
