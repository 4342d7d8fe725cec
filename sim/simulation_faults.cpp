// The scenario script and the fault actions of a simulation.
//
// The script is a fiber that reads like the scenario file: sleep until a fault's time,
// inject it, ..., sleep until `duration`, stop the workload, heal everything, wait for the
// clients to finish, let the cluster quiesce (the scenario's `quiesce`), read every key. Injecting schedules a fault
// event at the current time rather than acting from the fiber, so every fault is an event
// in the trace and runs on the scheduler's stack like every other input.
//
// Fault times get a seeded jitter of up to fault_jitter_us_max, so that different seeds
// hit different moments of the protocol (mid-commit, mid-quorum) with the same script;
// the jitter never reorders faults (a crash and a restart written at one time stay in
// order). Faults at or after `duration` are not injected (counted as faults_skipped).
//
// Fault semantics where the scenario could be read two ways:
// - `heal` heals the network (partitions and one-way cuts); the end of the run heals
//   everything: network, clogs, paused nodes (resumed) and crashed nodes (restarted).
// - A partition replaces the previous partition; one-way cuts add up until a heal.
// - Crashing a crashed node, restarting or resuming a node that is up, and pausing a node
//   that is not up do nothing (counted as faults_ignored).
// - A clock fault sets the skew when `skew` is non-zero, sets the drift when `drift` is
//   non-zero, and jumps when `jump` is non-zero; one with all three zero resets skew and
//   drift to zero. Clock faults survive the final heal (a clock is not "healed").
// - `link`, `burst` and `client_partition` last their `for` (a later one on the same link,
//   the next burst, a later cut of the same client and node replaces the earlier); `heal`
//   leaves them, the end of the run ends them.
// - `corrupt` damages the durable copy of one key record of the node, chosen uniformly
//   from the fault stream among the records it holds.

#include <algorithm>
#include <utility>

#include "core/assert.h"
#include "sim/simulation.h"

namespace vigil::sim {

void Simulation::plan_faults() {
  const std::int64_t duration_us = core::to_micros(scenario_.duration);
  std::int64_t previous_us = 0;
  for (const Fault& fault : scenario_.faults) {
    const std::int64_t jitter_us = fault_random_.uniform_range(0, limits_.fault_jitter_us_max);
    const std::int64_t at_us = std::max(previous_us, core::to_micros(fault.at) + jitter_us);
    if (at_us >= duration_us) {
      count("faults_skipped");
      continue;
    }
    actions_.push_back(FaultAction{at_us, &fault});
    previous_us = at_us;
  }
  actions_.push_back(FaultAction{duration_us, nullptr});  // the end-of-run heal
}

void Simulation::run_script() {
  for (std::size_t i = 0; i < actions_.size(); ++i) {
    fibers_.sleep_until(std::max(actions_[i].at_us, now_us_));
    if (actions_[i].fault == nullptr) stopping_ = true;  // the end: the workload stops
    queue_.push(Event::make(now_us_, EventKind::fault, 0, i));
  }
  // Operations in flight finish: at most a read-modify-write's two calls, each bounded by
  // the client timeout; clients stop at their next arrival.
  const std::int64_t join_deadline_us = now_us_ + 3 * client_timeout_us_;
  while (workload_fibers_ > 0 && now_us_ < join_deadline_us) {
    fibers_.sleep_until(now_us_ + limits_.client_poll_us);
  }
  if (workload_fibers_ > 0) count("workload_fibers_unfinished", workload_fibers_);
  fibers_.sleep_until(now_us_ + core::to_micros(scenario_.quiesce));
  finish_convergence();
  snapshot_replicas();
  snapshot_tombstones();
  count("final_reads_unanswered_keys", run_final_reads(*this, scenario_.workload));
  done_ = true;
}

void Simulation::on_fault(const Event& event) {
  VIGIL_ASSERT(event.tag < actions_.size(), "a fault event for no planned action");
  const FaultAction& action = actions_[event.tag];
  if (action.fault == nullptr) {
    heal_everything();
    start_convergence_sampling();
  } else {
    faults_injected_ += 1;
    apply_fault(*action.fault);
  }
  note_fault_state();
}

std::vector<std::uint32_t> Simulation::node_indices(const std::vector<core::NodeId>& ids) const {
  std::vector<std::uint32_t> indices;
  indices.reserve(ids.size());
  for (const core::NodeId& id : ids) indices.push_back(index_of(id));
  return indices;
}

void Simulation::apply_fault(const Fault& fault) {
  switch (fault.kind) {
    case FaultKind::partition: {
      std::vector<std::vector<std::uint32_t>> groups;
      for (const auto& group : fault.groups) groups.push_back(node_indices(group));
      network_.partition(groups);
      count("faults_partition");
      return;
    }
    case FaultKind::one_way:
      network_.cut_one_way(node_indices(fault.from), node_indices(fault.to));
      count("faults_one_way");
      return;
    case FaultKind::heal:
      network_.heal();
      count("faults_heal");
      return;
    case FaultKind::clog:
      network_.clog(node_index(fault.node), core::to_micros(fault.delay),
                    now_us_ + core::to_micros(fault.length));
      count("faults_clog");
      return;
    case FaultKind::link:
      network_.degrade_link(node_index(fault.from.at(0)), node_index(fault.to.at(0)),
                            core::to_micros(fault.delay), fault.loss,
                            now_us_ + core::to_micros(fault.length));
      count("faults_link");
      return;
    case FaultKind::burst:
      network_.burst(fault.loss, fault.duplicate, now_us_ + core::to_micros(fault.length));
      count("faults_burst");
      return;
    case FaultKind::client_partition:
      cut_clients(fault.clients, node_indices(fault.nodes),
                  now_us_ + core::to_micros(fault.length));
      count("faults_client_partition");
      return;
    default: break;
  }
  const std::uint32_t node = node_index(fault.node);
  NodeHost& host = *hosts_[node];
  switch (fault.kind) {
    case FaultKind::crash:
      if (host.state() == ProcessState::crashed) break;
      crash_node(node);
      return;
    case FaultKind::restart:
      if (host.state() != ProcessState::crashed) break;
      restart_node(node);
      return;
    case FaultKind::pause:
      if (host.state() != ProcessState::up) break;
      host.pause();
      count("node_pauses");
      queue_.push(Event::make(now_us_ + core::to_micros(fault.length), EventKind::resume, node,
                              host.pause_generation()));
      return;
    case FaultKind::clock: {
      const bool reset = fault.skew.count() == 0 && fault.drift == 0 && fault.jump.count() == 0;
      if (fault.skew.count() != 0 || reset) host.clock().set_skew_us(fault.skew.count());
      if (fault.drift != 0 || reset) host.clock().set_drift(now_us_, fault.drift);
      if (fault.jump.count() != 0) host.clock().jump_us(fault.jump.count());
      count("faults_clock");
      return;
    }
    case FaultKind::lose_write:
      host.store().lose_next_commit();
      disk_faulted_.insert(node);
      count("faults_lose_write");
      return;
    case FaultKind::corrupt: corrupt_record(node); return;
    default: break;
  }
  count("faults_ignored");
}

void Simulation::crash_node(std::uint32_t node) {
  hosts_[node]->crash();
  count("node_crashes");
  crashes_.push_back(CrashRecord{node, now_us_, -1});
  reset_connections(node);
}

void Simulation::restart_node(std::uint32_t node) {
  hosts_[node]->restart();
  count("node_restarts");
  for (auto it = crashes_.rbegin(); it != crashes_.rend(); ++it) {
    if (it->node == node && it->restarted_us < 0) {
      it->restarted_us = now_us_;
      break;
    }
  }
  apply_effects(node, hosts_[node]->start(now_us_));
}

void Simulation::resume_node(std::uint32_t node) {
  std::vector<Event> held = hosts_[node]->resume();
  count("node_resumes");
  for (Event& event : held) {
    // Inputs never crash or pause a node, so it stays up through its whole inbox.
    VIGIL_ASSERT(hosts_[node]->state() == ProcessState::up, "a resumed node left up mid-inbox");
    dispatch(std::move(event), true);
  }
  note_fault_state();
}

void Simulation::corrupt_record(std::uint32_t node) {
  disk_faulted_.insert(node);
  store::MemoryStore& store = hosts_[node]->store();
  const core::Result<std::uint64_t> keys = store.key_count();
  if (!keys.ok() || *keys == 0) {
    count("faults_corrupt_nothing_stored");
    return;
  }
  const std::uint64_t pick = fault_random_.uniform(*keys);
  const auto records =
      store.scan(store::TokenRange{0, 0}, static_cast<std::size_t>(pick + 1), std::nullopt);
  if (!records.ok() || records->size() <= pick ||
      !store.corrupt_key((*records)[static_cast<std::size_t>(pick)].key).ok()) {
    count("faults_corrupt_nothing_durable");
    return;
  }
  count("faults_corrupt");
}

void Simulation::heal_everything() {
  network_.heal();
  network_.unclog_all();
  network_.restore_links();
  client_cut_until_us_.clear();
  for (std::uint32_t node = 0; node < hosts_.size(); ++node) {
    if (hosts_[node]->state() == ProcessState::paused) resume_node(node);
    if (hosts_[node]->state() == ProcessState::crashed) restart_node(node);
  }
  count("final_heals");
}

}  // namespace vigil::sim
