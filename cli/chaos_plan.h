#pragma once
// What `vigil chaos` (cli/chaos_run.h) can do with a scenario file on real processes, and
// the network and clock state its faults build up, turned into each node's fault-filter
// rules (net/fault_filter.h). Pure: no processes, no sockets, no clock; the runner passes
// the time in.
//
// Fault semantics are the simulator's (sim/simulation_faults.cpp) wherever a real process
// can follow them:
// - A partition replaces the previous one; one-way cuts add up; `heal` removes both.
// - `link` (latency, loss), `clog` and `burst` (loss, duplication) last their `for`; a later
//   one on the same link (node, a later burst) replaces the earlier; `heal` leaves them.
//   Delays add up as in the simulator's network: a frame from A to B is held for A->B's
//   link latency plus A's clog plus B's clog. A clog also slows the clients' calls to the
//   node, at the client's end (the delay before the request and again after the reply).
// - `client_partition` lasts its `for`; it is applied at the client's end (the chaos client
//   does not send a cut-off client's request and waits out its timeout, as the simulator's
//   dropped request makes it).
// - clock: `skew` sets the offset, `jump` adds to it, `drift` sets the rate; all zero resets
//   offset and drift. Clock faults survive the end-of-run heal, as in the simulator.
// - The end of the run heals everything but clocks.
// Refused before anything starts (check_chaos_supported): what a real process cannot be
// made to do from outside: `lose_write` and `corrupt` (a real SQLite disk neither lies nor
// rots on request), and `workload.pipeline` (the chaos client keeps no pipelined session).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/types.h"
#include "net/fault_filter.h"
#include "sim/scenario.h"

namespace vigil::cli {

// ok, or invalid_argument naming every fault (index, line, kind) and setting that a real
// cluster cannot apply, one per line.
core::Status check_chaos_supported(const sim::Scenario& scenario);

// The name a fault kind has in a scenario file ("lose_write", "one_way", ...).
std::string fault_kind_name(sim::FaultKind kind);

// What of the scenario's `network` and `disk` models a real cluster does not follow (the
// loopback's latency and ordering and the real fsync are what they are), one note each, for
// the report. The models' loss and duplication are applied (ChaosNetwork).
std::vector<std::string> chaos_model_notes(const sim::Scenario& scenario);

class ChaosNetwork {
 public:
  // `model`: the scenario's network model, whose loss and duplication apply to every
  // node-to-node frame throughout the run (a burst's come on top, as in the simulator).
  explicit ChaosNetwork(std::vector<core::NodeId> ids, sim::NetworkModel model = {});

  // A network, client or clock fault at `now_us` (run time). Node faults (crash, restart,
  // pause) are the runner's and do nothing here. REQUIRES: check_chaos_supported passed.
  void apply(const sim::Fault& fault, std::int64_t now_us);
  // The end of the run: every partition, cut, link, burst and client cut removed.
  void heal_everything();

  // Each node's filter rules at `now_us` (by node index): what it drops, loses, duplicates,
  // and its clock offset and drift.
  std::vector<net::FaultRules> rules(std::int64_t now_us) const;
  // Whether messages from node `from` reach node `to` (partitions and one-way cuts).
  bool open(std::size_t from, std::size_t to) const;
  // How long node `node` is clogged by at `now_us` (0: not clogged).
  std::int64_t clog_us(std::size_t node, std::int64_t now_us) const;
  // Whether client `client` cannot reach node `node` at `now_us`.
  bool client_cut_off(std::uint32_t client, std::size_t node, std::int64_t now_us) const;
  // The earliest end of a timed rule (link, burst, client cut) after `now_us`, if any: the
  // runner pushes the rules again then.
  std::optional<std::int64_t> next_expiry_after(std::int64_t now_us) const;

 private:
  struct Clock {
    std::int64_t skew_us = 0;
    std::int64_t jumps_us = 0;
    double drift = 0;
  };
  struct TimedLoss {
    double loss = 0;
    double duplicate = 0;
    std::int64_t until_us = 0;
    std::int64_t delay_us = 0;  // link latency, clog delay
  };
  std::size_t index_of(const core::NodeId& id) const;

  std::vector<core::NodeId> ids_;
  sim::NetworkModel model_;
  std::vector<std::size_t> group_;              // partition group per node (all 0: none)
  std::vector<std::vector<bool>> one_way_cut_;  // [from][to]
  std::map<std::pair<std::size_t, std::size_t>, TimedLoss> links_;
  std::optional<TimedLoss> burst_;
  std::map<std::size_t, TimedLoss> clogs_;  // by node
  std::map<std::pair<std::uint32_t, std::size_t>, std::int64_t> client_cut_until_us_;
  std::vector<Clock> clocks_;
};

}  // namespace vigil::cli
