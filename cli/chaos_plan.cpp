// What vigil chaos can apply, and the network state its faults build (cli/chaos_plan.h).
// The state is kept as the scenario describes it (groups, cuts, timed losses) and turned
// into per-node filter rules on demand, so that every push carries a node's whole truth:
// a node that restarts (with an empty filter) gets all of it back in one request.

#include "cli/chaos_plan.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/assert.h"

namespace vigil::cli {
namespace {

std::string where(std::size_t index, const sim::Fault& fault) {
  return "faults[" + std::to_string(index) + "] (line " + std::to_string(fault.line) + ", " +
         fault_kind_name(fault.kind) + ")";
}

// Why `fault` cannot be applied to real processes; empty when it can.
std::string refusal(const sim::Fault& fault) {
  switch (fault.kind) {
    case sim::FaultKind::lose_write:
      return "a real SQLite store cannot be made to lose a commit it acknowledged";
    case sim::FaultKind::corrupt:
      return "a real SQLite store cannot be made to corrupt a record on request";
    default: return "";
  }
}

}  // namespace

std::string fault_kind_name(sim::FaultKind kind) {
  switch (kind) {
    case sim::FaultKind::partition: return "partition";
    case sim::FaultKind::one_way: return "one_way";
    case sim::FaultKind::heal: return "heal";
    case sim::FaultKind::crash: return "crash";
    case sim::FaultKind::restart: return "restart";
    case sim::FaultKind::pause: return "pause";
    case sim::FaultKind::clock: return "clock";
    case sim::FaultKind::clog: return "clog";
    case sim::FaultKind::lose_write: return "lose_write";
    case sim::FaultKind::corrupt: return "corrupt";
    case sim::FaultKind::link: return "link";
    case sim::FaultKind::client_partition: return "client_partition";
    case sim::FaultKind::burst: return "burst";
  }
  return "unknown";
}

core::Status check_chaos_supported(const sim::Scenario& scenario) {
  std::string problems;
  const auto add = [&problems](const std::string& line) {
    problems += (problems.empty() ? "" : "\n") + line;
  };
  for (std::size_t i = 0; i < scenario.faults.size(); ++i) {
    const std::string why = refusal(scenario.faults[i]);
    if (!why.empty()) add(where(i, scenario.faults[i]) + ": cannot be applied: " + why);
  }
  if (scenario.workload.pipeline > 0) {
    add("workload.pipeline: the chaos client keeps no pipelined session (write pipeline: 0)");
  }
  if (scenario.workload.expire_fraction > 0) {
    add("workload.expire: the chaos client writes with VSET, which carries no expiry "
        "(remove workload.expire)");
  }
  if (scenario.workload.mode == sim::WorkloadMode::counter) {
    add("workload.mode: counter's check (counter_sums) reads every replica's store, which "
        "chaos does not snapshot (use vigil sim)");
  }
  if (problems.empty()) return core::Status::ok_status();
  const std::string file = scenario.file.empty() ? scenario.name : scenario.file;
  return core::error(
      core::Code::invalid_argument,
      file + ": vigil chaos cannot run this scenario on real processes:\n" + problems);
}

std::vector<std::string> chaos_model_notes(const sim::Scenario& scenario) {
  std::vector<std::string> notes;
  const auto ms = [](core::Duration duration) {
    return fmt::format("{}ms", static_cast<double>(core::to_micros(duration)) / 1000.0);
  };
  const sim::NetworkModel& network = scenario.network;
  notes.push_back("network.latency (" + ms(network.latency.min) + ".." + ms(network.latency.max) +
                  "): not applied; frames take the loopback's real latency");
  if (network.reorder > 0) {
    notes.push_back("network.reorder: not applied; TCP keeps each connection's frames in order");
  }
  notes.push_back("disk.commit_latency: not applied; commits take the real fsync's time");
  return notes;
}

ChaosNetwork::ChaosNetwork(std::vector<core::NodeId> ids, sim::NetworkModel model)
    : ids_(std::move(ids)),
      model_(model),
      group_(ids_.size(), 0),
      one_way_cut_(ids_.size(), std::vector<bool>(ids_.size(), false)),
      clocks_(ids_.size()) {}

std::size_t ChaosNetwork::index_of(const core::NodeId& id) const {
  const auto it = std::find(ids_.begin(), ids_.end(), id);
  VIGIL_ASSERT(it != ids_.end(), "a fault names a node the scenario does not have: " + id);
  return static_cast<std::size_t>(it - ids_.begin());
}

void ChaosNetwork::apply(const sim::Fault& fault, std::int64_t now_us) {
  switch (fault.kind) {
    case sim::FaultKind::partition:
      // Nodes a partition does not name form a group of their own (group 0), as in the
      // simulator's network (sim/network.cpp).
      std::fill(group_.begin(), group_.end(), 0);
      for (std::size_t g = 0; g < fault.groups.size(); ++g) {
        for (const core::NodeId& id : fault.groups[g]) group_[index_of(id)] = g + 1;
      }
      return;
    case sim::FaultKind::one_way:
      for (const core::NodeId& from : fault.from) {
        for (const core::NodeId& to : fault.to) one_way_cut_[index_of(from)][index_of(to)] = true;
      }
      return;
    case sim::FaultKind::heal:
      std::fill(group_.begin(), group_.end(), 0);
      for (auto& row : one_way_cut_) std::fill(row.begin(), row.end(), false);
      return;
    case sim::FaultKind::link:
      links_[{index_of(fault.from.at(0)), index_of(fault.to.at(0))}] = TimedLoss{
          fault.loss, 0, now_us + core::to_micros(fault.length), core::to_micros(fault.delay)};
      return;
    case sim::FaultKind::clog:
      clogs_[index_of(fault.node)] =
          TimedLoss{0, 0, now_us + core::to_micros(fault.length), core::to_micros(fault.delay)};
      return;
    case sim::FaultKind::burst:
      burst_ = TimedLoss{fault.loss, fault.duplicate, now_us + core::to_micros(fault.length)};
      return;
    case sim::FaultKind::client_partition:
      for (const std::uint32_t client : fault.clients) {
        for (const core::NodeId& node : fault.nodes) {
          client_cut_until_us_[{client, index_of(node)}] = now_us + core::to_micros(fault.length);
        }
      }
      return;
    case sim::FaultKind::clock: {
      Clock& clock = clocks_[index_of(fault.node)];
      const bool reset = fault.skew.count() == 0 && fault.drift == 0 && fault.jump.count() == 0;
      if (fault.skew.count() != 0 || reset) clock.skew_us = core::to_micros(fault.skew);
      if (fault.drift != 0 || reset) clock.drift = fault.drift;
      clock.jumps_us += core::to_micros(fault.jump);
      return;
    }
    default: return;  // node faults: the runner's
  }
}

void ChaosNetwork::heal_everything() {
  apply(sim::Fault{}, 0);  // a default Fault is a heal
  links_.clear();
  clogs_.clear();
  burst_.reset();
  client_cut_until_us_.clear();
}

bool ChaosNetwork::open(std::size_t from, std::size_t to) const {
  if (from == to) return true;
  const bool same_side = group_[from] == group_[to];
  return same_side && !one_way_cut_[from][to];
}

std::vector<net::FaultRules> ChaosNetwork::rules(std::int64_t now_us) const {
  std::vector<net::FaultRules> all(ids_.size());
  for (std::size_t node = 0; node < ids_.size(); ++node) {
    net::FaultRules& rules = all[node];
    for (std::size_t peer = 0; peer < ids_.size(); ++peer) {
      if (peer == node) continue;
      if (!open(node, peer)) rules.drop_to.insert(ids_[peer]);
      if (!open(peer, node)) rules.drop_from.insert(ids_[peer]);
    }
    for (const auto& [link, loss] : links_) {
      if (link.first != node || now_us >= loss.until_us) continue;
      if (loss.loss > 0) rules.loss_to[ids_[link.second]] = loss.loss;
    }
    for (std::size_t peer = 0; peer < ids_.size(); ++peer) {
      if (peer == node) continue;
      std::int64_t delay_us = clog_us(node, now_us) + clog_us(peer, now_us);
      const auto link = links_.find({node, peer});
      if (link != links_.end() && now_us < link->second.until_us) {
        delay_us += link->second.delay_us;
      }
      if (delay_us > 0) rules.delay_to_us[ids_[peer]] = delay_us;
    }
    rules.loss = model_.loss;
    rules.duplicate = model_.duplicate;
    if (burst_ && now_us < burst_->until_us) {
      // On top of the model's, as two independent draws.
      rules.loss = 1 - (1 - model_.loss) * (1 - burst_->loss);
      rules.duplicate = 1 - (1 - model_.duplicate) * (1 - burst_->duplicate);
    }
    rules.clock_offset_us = clocks_[node].skew_us + clocks_[node].jumps_us;
    rules.clock_drift = clocks_[node].drift;
  }
  return all;
}

std::int64_t ChaosNetwork::clog_us(std::size_t node, std::int64_t now_us) const {
  const auto it = clogs_.find(node);
  return it != clogs_.end() && now_us < it->second.until_us ? it->second.delay_us : 0;
}

bool ChaosNetwork::client_cut_off(std::uint32_t client, std::size_t node,
                                  std::int64_t now_us) const {
  const auto it = client_cut_until_us_.find({client, node});
  return it != client_cut_until_us_.end() && now_us < it->second;
}

std::optional<std::int64_t> ChaosNetwork::next_expiry_after(std::int64_t now_us) const {
  std::optional<std::int64_t> next;
  const auto consider = [&](std::int64_t until_us) {
    if (until_us > now_us && (!next || until_us < *next)) next = until_us;
  };
  for (const auto& [link, loss] : links_) consider(loss.until_us);
  if (burst_) consider(burst_->until_us);
  for (const auto& [node, clog] : clogs_) consider(clog.until_us);
  for (const auto& [cut, until_us] : client_cut_until_us_) consider(until_us);
  return next;
}

}  // namespace vigil::cli
