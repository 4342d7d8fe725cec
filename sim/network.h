#pragma once
// The simulated network between nodes (and between clients and nodes): it decides the fate
// of every message (when it arrives, whether it is lost or duplicated) from its own seeded
// stream, and holds the fault state (partitions, one-way cuts, clogs). It carries no
// bytes: the simulator schedules the deliveries it is told about (see network.cpp).

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/random.h"
#include "sim/scenario.h"

namespace vigil::sim {

struct NetworkLimits {
  std::size_t in_flight_per_link_max = 10000;  // messages sent and not yet arrived
  // Reordering adds up to this many times the maximum latency.
  std::int64_t reorder_factor_max = 10;
};

struct NetworkCounters {
  std::uint64_t sent = 0;
  std::uint64_t arrived = 0;
  std::uint64_t dropped_partition = 0;  // link cut when sent
  std::uint64_t dropped_in_flight = 0;  // link cut while in flight
  std::uint64_t dropped_loss = 0;
  std::uint64_t dropped_link_full = 0;  // in_flight_per_link_max reached
  std::uint64_t dropped_link_loss = 0;  // a `link` fault's loss
  std::uint64_t dropped_burst = 0;      // a `burst` fault's loss
  std::uint64_t delayed_link = 0;       // slowed by a `link` fault
  std::uint64_t duplicated = 0;         // by the model or a burst
  std::uint64_t reordered = 0;
  // Adds these as "messages_<name>" to `out`.
  void add_to(std::map<std::string, std::uint64_t>& out) const;
};

// What happens to one message.
struct MessageFate {
  std::uint8_t copies = 0;                  // 0: dropped; 2: duplicated
  std::array<std::int64_t, 2> arrive_us{};  // one per copy
};

class Network {
 public:
  // REQUIRES: nodes > 0; 0 <= model.latency.min <= model.latency.max.
  Network(std::uint32_t nodes, NetworkModel model, std::uint64_t seed, NetworkLimits limits = {});

  // A node-to-node message sent now. Drops by partition or cut, by the per-link bound, by
  // loss; otherwise one or two copies with independent latencies (plus clogging of either
  // end, plus reordering delay). Counts everything. REQUIRES: from != to, both < nodes.
  MessageFate send(std::int64_t now_us, std::uint32_t from, std::uint32_t to);
  // A copy from send() arrives: true when it may be delivered (a partition raised while it
  // was in flight drops it, as a firewall drops packets on arrival).
  bool arrive(std::uint32_t from, std::uint32_t to);
  // A copy from send() that the simulator could not schedule (event queue full).
  void abandon(std::uint32_t from, std::uint32_t to);

  // Client <-> node traffic is a TCP connection from outside the cluster: latency and the
  // node's clog apply; loss, duplication, reordering and partitions (which split the
  // nodes from each other) do not. One direction's delay.
  std::int64_t client_latency_us(std::int64_t now_us, std::uint32_t node);

  // Nodes in different groups cannot talk in either direction; nodes named in no group
  // form one more group together. Replaces any earlier partition (one-way cuts stay).
  // REQUIRES: every index < nodes.
  void partition(const std::vector<std::vector<std::uint32_t>>& groups);
  // Drops every message from a node in `from` to a node in `to` (not the reverse).
  void cut_one_way(const std::vector<std::uint32_t>& from, const std::vector<std::uint32_t>& to);
  // Removes every partition and cut (clogs stay: see unclog_all).
  void heal();
  // Until `until_us`, every message to or from `node` takes `delay_us` longer.
  void clog(std::uint32_t node, std::int64_t delay_us, std::int64_t until_us);
  void unclog_all();
  // Until `until_us`, messages from `from` to `to` (that direction only) take `delay_us`
  // longer and are lost with probability `loss`, drawn from the link's own stream
  // (sim/seeds.h Stream::link), besides the network model's fate. Replaces an earlier
  // degradation of the link. REQUIRES: from != to, both < nodes, 0 <= loss <= 1.
  void degrade_link(std::uint32_t from, std::uint32_t to, std::int64_t delay_us, double loss,
                    std::int64_t until_us);
  // Until `until_us`, every node-to-node message is also lost with probability `loss` and
  // duplicated with probability `duplicate`, drawn from the burst stream. Replaces an
  // earlier burst.
  void burst(double loss, double duplicate, std::int64_t until_us);
  // Ends every link degradation and burst (the end-of-run heal).
  void restore_links();

  bool link_open(std::uint32_t from, std::uint32_t to) const;
  std::size_t in_flight(std::uint32_t from, std::uint32_t to) const;

  const NetworkCounters& counters() const { return counters_; }

 private:
  std::size_t link(std::uint32_t from, std::uint32_t to) const { return from * nodes_ + to; }
  std::int64_t latency_us();
  std::int64_t clog_us(std::int64_t now_us, std::uint32_t node) const;

  struct Clog {
    std::int64_t delay_us = 0;
    std::int64_t until_us = 0;
  };
  struct Degraded {
    std::int64_t delay_us = 0;
    double loss = 0;
    std::int64_t until_us = 0;
  };
  struct Burst {
    double loss = 0;
    double duplicate = 0;
    std::int64_t until_us = 0;
  };
  core::Random& link_random(std::uint32_t from, std::uint32_t to);
  // A degraded link's and a burst's effect on a fate the model drew.
  void apply_fault_fate(std::int64_t now_us, std::uint32_t from, std::uint32_t to,
                        MessageFate& fate);

  std::uint32_t nodes_;
  NetworkModel model_;
  NetworkLimits limits_;
  core::Random random_;                   // node-to-node messages
  core::Random client_random_;            // client links: client traffic never shifts the above
  std::vector<std::uint32_t> group_;      // per node: partition group (all 0 when healed)
  std::vector<bool> cut_;                 // per link: one-way cut
  std::vector<std::uint32_t> in_flight_;  // per link
  std::vector<Clog> clogs_;               // per node
  std::uint64_t seed_;                    // the network stream's: link and burst streams
  std::vector<Degraded> degraded_;        // per link
  std::map<std::size_t, core::Random> link_random_;  // per link, from its first degradation
  Burst burst_;
  core::Random burst_random_;
  NetworkCounters counters_;
};

}  // namespace vigil::sim
