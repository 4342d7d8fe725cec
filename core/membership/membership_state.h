#pragma once
// Internal to core/membership/membership*.cpp: the state behind core::Membership and the functions
// that act on it, one idea per source file (gossip, probes, judgement). Not a contract:
// core/membership/membership.h is.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/membership/membership.h"
#include "core/membership/phi_accrual.h"

namespace vigil::core {

// One peer as this node knows and judges it.
struct MemberRecord {
  explicit MemberRecord(const PhiAccrualOptions& phi_options) : detector(phi_options) {}

  MemberInfo info;     // the newest gossip about it; incarnation 0 until some arrived
  bool heard = false;  // gossip about it, or an ack from it, arrived: it is judged
  PeerState state = PeerState::alive;
  PhiAccrual detector;  // over the arrivals of its newer heartbeats
  Instant last_heard;   // its last newer heartbeat learned, or its last ack
  // The bootstrap rule: phi counts only from this instant (and with min_samples).
  Instant phi_trusted_from;
  std::optional<Instant> phi_reaches;  // when phi reaches the threshold (cached)
  std::uint32_t probe_failures = 0;    // probe rounds in a row with no ack
  bool ring_mismatch = false;
};

// The probe round in progress (SWIM: one per protocol period).
struct ProbeRound {
  NodeId target;
  std::uint64_t probe_id = 0;
  Instant indirect_at;  // no ack by then: ask indirect_probes helpers
  Instant deadline;     // no ack by then: the round failed
  bool indirect_sent = false;
};

class MembershipImpl {
 public:
  MembershipImpl(MembershipOptions options_in, MembershipIdentity identity_in,
                 const std::vector<std::pair<NodeId, std::string>>& seeds,
                 const std::vector<NodeId>& ring, Random& random_in,
                 NodeCounters& counters_in, Outbox& outbox_in);

  MembershipOptions options;
  MembershipIdentity identity;
  Random& random;
  NodeCounters& counters;
  Outbox& outbox;  // the node's, shared with its other parts
  PhiAccrualOptions phi_options;

  std::uint64_t heartbeat = 0;              // ours: raised every gossip interval
  std::map<NodeId, MemberRecord> members;   // every peer we know of (never self)
  bool started = false;                     // the first input sets the clock going
  Instant last_input;                       // the latest instant an input arrived with
  Instant next_tick;                        // the next gossip round and probe start
  std::optional<ProbeRound> probe;
  std::vector<NodeId> probe_order;          // SWIM's shuffled round robin
  std::size_t probe_cursor = 0;
  std::uint64_t probe_sequence = 0;
  std::vector<PeerTransition> transitions;  // not yet taken

  void count(CounterId counter, std::uint64_t amount = 1) { counters.add(counter, amount); }
  MemberInfo self_info() const;
  // Peers with an address: the ones gossip and probes can reach.
  std::vector<NodeId> reachable_peers() const;
  // Up to `count` distinct peers drawn with the node's generator from `candidates`.
  std::vector<NodeId> pick(std::vector<NodeId> candidates, std::size_t count);
};

// --- membership_judge.cpp: alive / suspect / failed ---
// Starts the clock at the first input, and the local pause rule (an observer that was
// frozen does not count its own freeze as its peers' silence).
void catch_up(MembershipImpl& m, Instant now);
// A newer heartbeat of `id` was learned (new_life: of a higher incarnation than before).
void on_heartbeat(MembershipImpl& m, Instant now, MemberRecord& member, bool new_life);
// An ack of a probe of `member` arrived.
void on_ack(MembershipImpl& m, Instant now, MemberRecord& member);
// Applies every escalation due at `now` (alive -> suspect -> failed).
void judge(MembershipImpl& m, Instant now);
// When judge() must next run for `member` (nullopt: nothing pending).
std::optional<Instant> judgement_due(const MembershipImpl& m, const MemberRecord& member);
bool phi_trusted(const MembershipImpl& m, const MemberRecord& member, Instant now);

// --- membership_gossip.cpp: push-pull gossip ---
void gossip_round(MembershipImpl& m, Instant now);
void on_gossip(MembershipImpl& m, Instant now, const NodeId& from, const Gossip& gossip);

// --- membership_probe.cpp: SWIM probes ---
void start_probe(MembershipImpl& m, Instant now);
void probe_timeouts(MembershipImpl& m, Instant now);
void on_ping(MembershipImpl& m, const NodeId& from, const Ping& ping);
void on_ping_ack(MembershipImpl& m, Instant now, const NodeId& from, const PingAck& ack);
void on_ping_request(MembershipImpl& m, const NodeId& from, const PingRequest& request);

}  // namespace vigil::core
