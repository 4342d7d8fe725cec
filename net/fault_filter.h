#pragma once
// FaultFilter: fault injection on a real node, for `vigil chaos` (cli/chaos_*.cpp), which
// applies a scenario file's network and clock faults to real processes. It exists only when
// the node was started with `vigil start --enable-fault-injection` (RuntimeOptions::
// fault_injection); otherwise the node has none and its admin port refuses POST /fault
// (403), so a production node cannot be partitioned or skewed by anyone who reaches its
// admin port.
//
// What it does, on the node's one loop thread (no locking):
// - the peer transport asks it about every frame: one to a peer in `drop_to` is dropped
//   before it is queued; one from a peer in `drop_from` is dropped on arrival (after it was
//   decoded, so the connection stays up, as a firewall's DROP rule would leave it); other
//   outgoing frames are lost with probability `loss` (or `loss_to[peer]` when larger) and
//   sent twice with probability `duplicate`, and held `delay_to_us[peer]` before they are
//   queued (frames to one peer keep their order). A partition is both rules on both sides; a
//   one-way cut from A to B is `drop_to: [B]` on A and `drop_from: [A]` on B.
// - the node's wall clock (the timestamps of versions and hints, never its timers) is
//   offset by `clock_offset_us` and gains `clock_drift` seconds per second from the moment
//   a drift is set (what an earlier drift gained is kept, as sim/sim_clock.h does).
// Draws come from its own generator, seeded at construction: real runs are not
// reproducible anyway (real time), but the draws stay out of the node's generator.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>

#include "core/random.h"
#include "core/status.h"
#include "core/time.h"
#include "core/types.h"

namespace vigil::net {

// Bounds of a POST /fault body (rule 7): peers named, and how far the clock may be moved.
inline constexpr std::size_t fault_peers_max = 1024;
inline constexpr std::int64_t fault_clock_offset_us_max = 24LL * 3600 * 1000000;  // a day
inline constexpr double fault_clock_drift_max = 1.0;  // a second per second
inline constexpr std::int64_t fault_delay_us_max = 60LL * 1000000;  // a frame held a minute

struct FaultRules {
  std::set<core::NodeId> drop_to;
  std::set<core::NodeId> drop_from;
  double loss = 0;
  double duplicate = 0;
  std::map<core::NodeId, double> loss_to;
  // Frames to the peer are held this long before they are queued (a slow link, a clogged
  // node), in the order they were sent.
  std::map<core::NodeId, std::int64_t> delay_to_us;
  std::int64_t clock_offset_us = 0;
  double clock_drift = 0;
  friend bool operator==(const FaultRules&, const FaultRules&) = default;
};

// A POST /fault body: a JSON object with any of the keys above (absent keys are empty or
// zero: the body replaces the whole rule set, so `{}` clears every fault). invalid_argument
// naming the key and what is wrong: not JSON, an unknown key, a wrong type, a probability
// outside [0, 1], a clock offset or drift over its bound, more than fault_peers_max peers.
core::Result<FaultRules> fault_rules_from_json(std::string_view body);
nlohmann::json fault_rules_to_json(const FaultRules& rules);

struct FaultFilterCounters {
  std::uint64_t frames_dropped_out = 0;  // drop_to, loss, loss_to
  std::uint64_t frames_dropped_in = 0;   // drop_from
  std::uint64_t frames_duplicated = 0;
  std::uint64_t frames_delayed = 0;
  std::uint64_t rule_changes = 0;
};

// The steady clock as an Instant, as NodeRuntime reads it (the filter's `monotonic`).
core::Instant steady_instant();

class FaultFilter {
 public:
  explicit FaultFilter(std::uint64_t seed) : random_(seed) {}

  enum class Verdict : std::uint8_t { deliver, drop, duplicate };
  // For a frame this node is about to send to `to`.
  Verdict outbound(const core::NodeId& to);
  // How long a frame to `to` that is not dropped is held first (zero: not held).
  core::Duration delay_to(const core::NodeId& to) const;
  // True when a frame from `from` that arrived must be dropped.
  bool drop_inbound(const core::NodeId& from);
  // The transport held a frame for delay_to() (counted).
  void count_delayed() { ++counters_.frames_delayed; }

  // The node's wall clock: `real` (the system clock) with the offset and drift applied.
  // `monotonic` is the node's monotonic clock, read at the same moment.
  core::WallMicros wall(core::WallMicros real, core::Instant monotonic) const;

  // Replaces the rules; `monotonic` is now (a drift starts from it).
  void set(FaultRules rules, core::Instant monotonic);
  const FaultRules& rules() const { return rules_; }
  const FaultFilterCounters& counters() const { return counters_; }
  // GET /fault: {"rules": ..., "counters": ..., "clock_offset_us_now": ...}.
  nlohmann::json status_json(core::Instant monotonic) const;

 private:
  std::int64_t drift_gained_us(core::Instant monotonic) const;

  core::Random random_;
  FaultRules rules_;
  FaultFilterCounters counters_;
  core::Instant drift_since_{};
  std::int64_t drift_banked_us_ = 0;
};

}  // namespace vigil::net
