#pragma once
// Membership and failure detection: who is in the cluster and who is alive, as a pure state
// machine owned by core::Node (no clock, socket or randomness of its own: time comes with
// every call, randomness from the node's seeded generator, messages leave through the
// node's shared outbox). Its seam is the node's parts' seam: handle_message,
// handle_timeout, poll_timeout.
//
// Three mechanisms, each from its paper or system:
// - Gossip (Cassandra's Gossiper, push-pull): every gossip_interval the node raises its own
//   heartbeat and sends its whole view (Gossip) to `fanout` peers picked with the node's
//   randomness; the receiver merges (newer (incarnation, heartbeat) wins) and answers with
//   its own view. A node knows at first only its seeds; gossip teaches it everyone else.
// - Phi accrual (Hayashibara et al. 2004; Cassandra's FailureDetector): every time a
//   newer heartbeat of a peer is learned (directly or through a third node), the
//   inter-arrival time enters that peer's window; phi(now) says how unlikely the current
//   silence is. core/membership/phi_accrual.h.
// - SWIM probes (Das et al. 2002): every gossip_interval the node pings one peer; no ack
//   within probe_timeout and it asks `indirect_probes` other nodes to ping it for it, so
//   one bad link does not condemn a healthy node. A round with no ack at all is a probe
//   failure; max_failures in a row make the peer suspect (whatever phi says).
//
// States per peer, judged locally by every node (never gossiped; docs/failure-detection.md
// says why and what every setting means): alive -> suspect -> failed, and back to alive
// when the peer is heard from again (a newer heartbeat, or an ack).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/counters.h"
#include "core/random.h"
#include "core/time.h"
#include "core/types.h"
#include "core/wire/messages.h"
#include "core/wire/outbox.h"

namespace vigil::core {

enum class PeerState : std::uint8_t { alive = 0, suspect = 1, failed = 2 };
std::string_view peer_state_name(PeerState state);  // "alive", "suspect", "failed"

// From the configuration's gossip_protocol, phi_accrual and failure_detector sections
// (config/node_options.cpp maps them).
struct MembershipOptions {
  bool enabled = true;  // false: no gossip, no probes, every peer alive (unit tests only)
  Duration gossip_interval = std::chrono::seconds(1);
  std::uint32_t fanout = 3;
  std::uint32_t indirect_probes = 2;
  Duration probe_timeout = std::chrono::milliseconds(500);
  double phi_threshold = 8.0;
  std::uint32_t phi_window_size = 100;
  std::uint32_t phi_min_samples = 10;
  double phi_scale_factor = 1.0;
  Duration phi_bootstrap_time = std::chrono::seconds(30);
  // Floor of the standard deviation phi is computed with (phi_accrual.min_std_deviation).
  Duration phi_min_std_deviation = std::chrono::milliseconds(250);
  Duration suspicious_threshold = std::chrono::seconds(5);
  Duration failure_threshold = std::chrono::seconds(15);
  Duration recovery_timeout = std::chrono::seconds(30);
  std::uint32_t max_failures = 3;
};

// One row of a node's view of the cluster (the simulator's report, /status in production).
struct PeerStatus {
  NodeId id;
  std::string address;
  std::uint64_t incarnation = 0;
  std::uint64_t heartbeat = 0;
  PeerState state = PeerState::alive;
  double phi = 0.0;
  // Since it was last heard from: its last newer heartbeat learned, or its last probe ack.
  Duration silence{0};
  std::uint32_t probe_failures = 0;
  bool ring_mismatch = false;  // its ring digest differs from ours
  bool is_self = false;
};

// A change of one peer's state as this node judged it, in the order they happened.
struct PeerTransition {
  NodeId peer;
  PeerState from = PeerState::alive;
  PeerState to = PeerState::alive;
  Instant at;
};

struct MembershipIdentity {
  NodeId self;
  std::string address;            // ours, as gossip carries it
  std::uint64_t incarnation = 1;  // the node's epoch (node.h)
  std::uint64_t ring_digest = 0;
};

class MembershipImpl;

class Membership {
 public:
  // `seeds`: (id, address) of the nodes to gossip with first (self is skipped). `ring`
  // lists every node of the ring: peers the node may route to before gossip has taught it
  // anything; they start alive (optimistic, as Cassandra before the first round).
  // `counters` (the node's) is added to: the gossip, probe, peers_* and membership_*
  // counters of core/counters.h.
  // `outbox` is where every message it sends goes (its self is identity.self).
  // `random`, `counters` and `outbox` outlive the Membership.
  Membership(MembershipOptions options, MembershipIdentity identity,
             std::vector<std::pair<NodeId, std::string>> seeds, std::vector<NodeId> ring,
             Random& random, NodeCounters& counters, Outbox& outbox);
  ~Membership();
  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;

  // Gossip, Ping, PingAck, PingRequest. Returns false (nothing done) for any other message.
  bool handle_message(Instant now, const NodeId& from, const Message& message);
  // Runs gossip rounds, probe deadlines and state changes due at `now`.
  void handle_timeout(Instant now);
  // When handle_timeout() must next be called (Instant{} before the first input: at once).
  std::optional<Instant> poll_timeout() const;

  // alive for a ring node not yet heard of; failed/suspect as judged.
  PeerState state_of(const NodeId& peer) const;
  // Every known member, self included, ordered by id.
  std::vector<PeerStatus> view(Instant now) const;
  std::vector<PeerTransition> take_transitions();
  // The address gossip last carried for `peer` (empty when unknown).
  std::string address_of(const NodeId& peer) const;

  void check_invariants() const;

 private:
  std::unique_ptr<MembershipImpl> impl_;
};

}  // namespace vigil::core
