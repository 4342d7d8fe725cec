// Theory of operation. The network model is the one FoundationDB's sim2 and Jepsen's
// nemeses apply to a cluster: every node-to-node message independently gets a latency
// drawn uniformly from [min, max], may be lost, may be duplicated (the copy gets its own
// latency, so it may overtake the original), and may be held back by a reordering delay of
// up to reorder_factor_max times the maximum latency. Because latencies are independent,
// messages on one link are not FIFO even without reordering: the node protocol must not
// rely on order, exactly as with UDP or a reconnecting TCP peer.
//
// Partitions are group labels per node (any shape: two halves, a bridge is two cuts, an
// isolated node is a group of one); one-way cuts are a per-link flag. A partition or cut is
// checked when a message is sent and again when it arrives, so raising a partition also
// drops what was in flight. Clogging adds a fixed delay to every message to or from a node
// for a while (a slow NIC or an overloaded host) without dropping anything.
//
// Every draw comes from a core::Random seeded from the simulation seed, in the order the
// simulator sends messages, so the whole network's behaviour is a function of the seed.
// Client links draw from a second generator forked from the first at construction, so
// that client traffic does not shift the fates of node-to-node messages.
//
// Faults on top of the model: a degraded link (one direction: extra latency and loss, a
// slow or lossy path between two hosts) and a burst (extra loss and duplication on every
// link for a while). Their draws come from streams of their own -- one per link, one for
// bursts (sim/seeds.h) -- and are made only while the fault is active, after the model's
// own draws: a run without them draws exactly what it did before they existed, and adding
// or removing one leaves the model's stream, and so every other message's fate draw,
// where it was. A message a fault drops still drew its model fate (latencies included); a
// burst's extra copy takes its latency from the burst stream.

#include "sim/network.h"

#include <algorithm>

#include "core/assert.h"
#include "sim/seeds.h"

namespace vigil::sim {

void NetworkCounters::add_to(std::map<std::string, std::uint64_t>& out) const {
  out["messages_sent"] += sent;
  out["messages_arrived"] += arrived;
  out["messages_dropped_partition"] += dropped_partition;
  out["messages_dropped_in_flight"] += dropped_in_flight;
  out["messages_dropped_loss"] += dropped_loss;
  out["messages_dropped_link_full"] += dropped_link_full;
  out["messages_dropped_link_loss"] += dropped_link_loss;
  out["messages_dropped_burst"] += dropped_burst;
  out["messages_delayed_link"] += delayed_link;
  out["messages_duplicated"] += duplicated;
  out["messages_reordered"] += reordered;
}

Network::Network(std::uint32_t nodes, NetworkModel model, std::uint64_t seed, NetworkLimits limits)
    : nodes_(nodes),
      model_(model),
      limits_(limits),
      random_(seed),
      client_random_(random_.fork()),
      group_(nodes, 0),
      cut_(static_cast<std::size_t>(nodes) * nodes, false),
      in_flight_(static_cast<std::size_t>(nodes) * nodes, 0),
      clogs_(nodes),
      seed_(seed),
      degraded_(static_cast<std::size_t>(nodes) * nodes),
      burst_random_(derive_seed(seed, Stream::burst)) {
  VIGIL_ASSERT(nodes > 0, "a network needs a node");
  VIGIL_ASSERT(model.latency.min.count() >= 0 && model.latency.min <= model.latency.max,
               "latency needs 0 <= min <= max");
}

std::int64_t Network::latency_us() {
  return random_.uniform_range(model_.latency.min.count(), model_.latency.max.count());
}

std::int64_t Network::clog_us(std::int64_t now_us, std::uint32_t node) const {
  const Clog& clog = clogs_[node];
  return now_us < clog.until_us ? clog.delay_us : 0;
}

bool Network::link_open(std::uint32_t from, std::uint32_t to) const {
  return group_[from] == group_[to] && !cut_[link(from, to)];
}

std::size_t Network::in_flight(std::uint32_t from, std::uint32_t to) const {
  return in_flight_[link(from, to)];
}

MessageFate Network::send(std::int64_t now_us, std::uint32_t from, std::uint32_t to) {
  VIGIL_ASSERT(from < nodes_ && to < nodes_ && from != to, "send on a link that cannot exist");
  counters_.sent += 1;
  MessageFate fate;
  if (!link_open(from, to)) {
    counters_.dropped_partition += 1;
    return fate;
  }
  // Draw loss and duplication even when the bound drops the message, so that the stream's
  // position depends only on the sequence of sends.
  const bool lost = random_.chance(model_.loss);
  const bool duplicated = random_.chance(model_.duplicate);
  if (in_flight_[link(from, to)] + (duplicated ? 2 : 1) > limits_.in_flight_per_link_max) {
    counters_.dropped_link_full += 1;
    return fate;
  }
  if (lost) {
    counters_.dropped_loss += 1;
    return fate;
  }
  fate.copies = duplicated ? 2 : 1;
  if (duplicated) counters_.duplicated += 1;
  const std::int64_t clog = clog_us(now_us, from) + clog_us(now_us, to);
  for (std::uint8_t copy = 0; copy < fate.copies; ++copy) {
    std::int64_t delay = latency_us() + clog;
    if (random_.chance(model_.reorder)) {
      counters_.reordered += 1;
      delay += random_.uniform_range(0, model_.latency.max.count() * limits_.reorder_factor_max);
    }
    fate.arrive_us[copy] = now_us + delay;
    in_flight_[link(from, to)] += 1;
  }
  apply_fault_fate(now_us, from, to, fate);
  return fate;
}

// The model's fate is drawn in full first, so the faults below never move its stream:
// with a fault active or not, every message draws the same from it.
void Network::apply_fault_fate(std::int64_t now_us, std::uint32_t from, std::uint32_t to,
                               MessageFate& fate) {
  const Degraded& degraded = degraded_[link(from, to)];
  const bool link_degraded = now_us < degraded.until_us;
  const bool bursting = now_us < burst_.until_us;
  if (!link_degraded && !bursting) return;
  const bool link_lost = link_degraded && link_random(from, to).chance(degraded.loss);
  const bool burst_lost = bursting && burst_random_.chance(burst_.loss);
  const bool burst_copy = bursting && burst_random_.chance(burst_.duplicate);
  const std::int64_t burst_latency_us =
      bursting ? burst_random_.uniform_range(model_.latency.min.count(), model_.latency.max.count())
               : 0;
  if (link_lost || burst_lost) {
    counters_.dropped_link_loss += link_lost ? 1 : 0;
    counters_.dropped_burst += link_lost ? 0 : 1;
    in_flight_[link(from, to)] -= fate.copies;
    fate = MessageFate{};
    return;
  }
  if (burst_copy && fate.copies == 1 &&
      in_flight_[link(from, to)] + 1 <= limits_.in_flight_per_link_max) {
    counters_.duplicated += 1;
    fate.arrive_us[1] = now_us + burst_latency_us + clog_us(now_us, from) + clog_us(now_us, to);
    fate.copies = 2;
    in_flight_[link(from, to)] += 1;
  }
  if (link_degraded && degraded.delay_us > 0) {
    counters_.delayed_link += 1;
    for (std::uint8_t copy = 0; copy < fate.copies; ++copy) {
      fate.arrive_us[copy] += degraded.delay_us;
    }
  }
}

bool Network::arrive(std::uint32_t from, std::uint32_t to) {
  VIGIL_ASSERT(in_flight_[link(from, to)] > 0, "a message arrived that was never sent");
  in_flight_[link(from, to)] -= 1;
  if (!link_open(from, to)) {
    counters_.dropped_in_flight += 1;
    return false;
  }
  counters_.arrived += 1;
  return true;
}

void Network::abandon(std::uint32_t from, std::uint32_t to) {
  VIGIL_ASSERT(in_flight_[link(from, to)] > 0, "abandoning a message that was never sent");
  in_flight_[link(from, to)] -= 1;
}

std::int64_t Network::client_latency_us(std::int64_t now_us, std::uint32_t node) {
  VIGIL_ASSERT(node < nodes_, "client link to a node that does not exist");
  return client_random_.uniform_range(model_.latency.min.count(), model_.latency.max.count()) +
         clog_us(now_us, node);
}

void Network::partition(const std::vector<std::vector<std::uint32_t>>& groups) {
  // Group 0 is "named in no group"; the listed groups are 1..k.
  std::fill(group_.begin(), group_.end(), 0);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (const std::uint32_t node : groups[g]) {
      VIGIL_ASSERT(node < nodes_, "partition names a node that does not exist");
      group_[node] = static_cast<std::uint32_t>(g + 1);
    }
  }
}

void Network::cut_one_way(const std::vector<std::uint32_t>& from,
                          const std::vector<std::uint32_t>& to) {
  for (const std::uint32_t a : from) {
    for (const std::uint32_t b : to) {
      VIGIL_ASSERT(a < nodes_ && b < nodes_, "one-way cut names a node that does not exist");
      if (a != b) cut_[link(a, b)] = true;
    }
  }
}

void Network::heal() {
  std::fill(group_.begin(), group_.end(), 0);
  std::fill(cut_.begin(), cut_.end(), false);
}

void Network::clog(std::uint32_t node, std::int64_t delay_us, std::int64_t until_us) {
  VIGIL_ASSERT(node < nodes_, "clog names a node that does not exist");
  clogs_[node] = Clog{delay_us, until_us};
}

void Network::unclog_all() {
  std::fill(clogs_.begin(), clogs_.end(), Clog{});
}

core::Random& Network::link_random(std::uint32_t from, std::uint32_t to) {
  const auto it = link_random_.find(link(from, to));
  if (it != link_random_.end()) return it->second;
  return link_random_
      .emplace(link(from, to), core::Random(derive_seed(seed_, Stream::link, from, to)))
      .first->second;
}

void Network::degrade_link(std::uint32_t from, std::uint32_t to, std::int64_t delay_us, double loss,
                           std::int64_t until_us) {
  VIGIL_ASSERT(from < nodes_ && to < nodes_ && from != to, "degrading a link that cannot exist");
  VIGIL_ASSERT(delay_us >= 0 && loss >= 0 && loss <= 1, "a link degradation out of range");
  degraded_[link(from, to)] = Degraded{delay_us, loss, until_us};
}

void Network::burst(double loss, double duplicate, std::int64_t until_us) {
  VIGIL_ASSERT(loss >= 0 && loss <= 1 && duplicate >= 0 && duplicate <= 1, "a burst out of range");
  burst_ = Burst{loss, duplicate, until_us};
}

void Network::restore_links() {
  std::fill(degraded_.begin(), degraded_.end(), Degraded{});
  burst_ = Burst{};
}

}  // namespace vigil::sim
