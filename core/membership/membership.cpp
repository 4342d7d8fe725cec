// core::Membership: who is in the cluster and who is alive (core/membership/membership.h has the
// protocol; docs/failure-detection.md the settings and measurements).
//
// Theory of operation. One periodic tick drives everything, every gossip_interval: raise
// our heartbeat, gossip our view to `fanout` peers (membership_gossip.cpp), start a probe
// round if none is running (membership_probe.cpp). Every peer is judged by this node alone
// (membership_judge.cpp), from three kinds of evidence:
// - newer heartbeats learned through gossip, directly or through third nodes (Cassandra):
//   they feed the peer's phi accrual window and reset its silence;
// - acks of SWIM probes (Das et al. 2002), direct or relayed by a helper: they reset its
//   silence and its count of failed probe rounds;
// - the passing of time: phi, silence and failed rounds escalate alive -> suspect ->
//   failed at exact deadlines (poll_timeout() names the earliest).
// Verdicts are not gossiped: with no rumours of death there is nothing to refute, and one
// node's bad links cannot make others condemn a peer.
//
// Who is a member. The ring (from configuration) lists every node; those not yet heard of
// are left alive and unjudged, so a node that has learned nothing routes as if all were up
// (Cassandra before its first gossip round). Gossip and probes go only to peers whose
// address is known: the seeds at first, then every member gossip names. A node whose seed
// list names one node therefore learns the rest through it within a few rounds.
//
// Determinism: members are kept in an ordered map, every random choice comes from the
// node's generator in that order, and time only arrives with the calls.

#include "core/membership/membership.h"

#include <algorithm>
#include <utility>

#include "core/assert.h"
#include "core/membership/membership_state.h"

namespace vigil::core {

std::string_view peer_state_name(PeerState state) {
  switch (state) {
    case PeerState::alive: return "alive";
    case PeerState::suspect: return "suspect";
    case PeerState::failed: return "failed";
  }
  return "unknown";
}

namespace {

PhiAccrualOptions phi_options_of(const MembershipOptions& options) {
  PhiAccrualOptions phi;
  phi.window_size = options.phi_window_size;
  phi.min_samples = options.phi_min_samples;
  phi.scale_factor = options.phi_scale_factor;
  phi.min_std_deviation = options.phi_min_std_deviation;
  // A silence long enough to make the peer suspect is not a sample of normal intervals.
  phi.interval_max = options.suspicious_threshold;
  return phi;
}

void check_options(const MembershipOptions& options) {
  VIGIL_ASSERT(options.gossip_interval > Duration::zero(), "gossip_interval must be > 0");
  VIGIL_ASSERT(options.fanout >= 1, "fanout must be >= 1");
  VIGIL_ASSERT(options.probe_timeout > Duration::zero(), "probe_timeout must be > 0");
  VIGIL_ASSERT(options.phi_threshold > 0, "phi threshold must be > 0");
  VIGIL_ASSERT(options.phi_bootstrap_time >= Duration::zero(), "bootstrap_time must be >= 0");
  VIGIL_ASSERT(options.suspicious_threshold > Duration::zero(),
               "suspicious_threshold must be > 0");
  VIGIL_ASSERT(options.failure_threshold > options.suspicious_threshold,
               "failure_threshold must be > suspicious_threshold");
  VIGIL_ASSERT(options.recovery_timeout > Duration::zero(), "recovery_timeout must be > 0");
  VIGIL_ASSERT(options.max_failures >= 1, "max_failures must be >= 1");
}

}  // namespace

MembershipImpl::MembershipImpl(MembershipOptions options_in, MembershipIdentity identity_in,
                               const std::vector<std::pair<NodeId, std::string>>& seeds,
                               const std::vector<NodeId>& ring, Random& random_in,
                               NodeCounters& counters_in, Outbox& outbox_in)
    : options(options_in),
      identity(std::move(identity_in)),
      random(random_in),
      counters(counters_in),
      outbox(outbox_in),
      phi_options(phi_options_of(options)) {
  check_options(options);
  VIGIL_ASSERT(identity.incarnation >= 1, "a member's incarnation is at least 1");
  for (const NodeId& id : ring) {
    if (id == identity.self) continue;
    MemberRecord& member = members.try_emplace(id, phi_options).first->second;
    member.info.id = id;
  }
  for (const auto& [id, address] : seeds) {
    if (id == identity.self) continue;
    const auto it = members.find(id);
    if (it == members.end()) {
      count("membership_seeds_not_in_ring");  // the node drops what such a node would send
      continue;
    }
    it->second.info.address = address;
  }
}

MemberInfo MembershipImpl::self_info() const {
  return MemberInfo{identity.self, identity.address, identity.incarnation, heartbeat,
                    identity.ring_digest};
}

std::vector<NodeId> MembershipImpl::reachable_peers() const {
  std::vector<NodeId> peers;
  for (const auto& [id, member] : members) {
    if (!member.info.address.empty()) peers.push_back(id);
  }
  return peers;
}

std::vector<NodeId> MembershipImpl::pick(std::vector<NodeId> candidates, std::size_t wanted) {
  // A partial Fisher-Yates shuffle: the first `wanted` places are a uniform sample.
  const std::size_t taken = std::min(wanted, candidates.size());
  for (std::size_t i = 0; i < taken; ++i) {
    const std::size_t j = i + static_cast<std::size_t>(random.uniform(candidates.size() - i));
    std::swap(candidates[i], candidates[j]);
  }
  candidates.resize(taken);
  return candidates;
}

Membership::Membership(MembershipOptions options, MembershipIdentity identity,
                       std::vector<std::pair<NodeId, std::string>> seeds, std::vector<NodeId> ring,
                       Random& random, NodeCounters& counters,
                       Outbox& outbox)
    : impl_(std::make_unique<MembershipImpl>(std::move(options), std::move(identity), seeds, ring,
                                             random, counters, outbox)) {}

Membership::~Membership() = default;

bool Membership::handle_message(Instant now, const NodeId& from, const Message& message) {
  MembershipImpl& m = *impl_;
  if (const auto* gossip = std::get_if<Gossip>(&message)) {
    catch_up(m, now);
    on_gossip(m, now, from, *gossip);
  } else if (const auto* ping = std::get_if<Ping>(&message)) {
    catch_up(m, now);
    on_ping(m, from, *ping);
  } else if (const auto* ack = std::get_if<PingAck>(&message)) {
    catch_up(m, now);
    on_ping_ack(m, now, from, *ack);
  } else if (const auto* request = std::get_if<PingRequest>(&message)) {
    catch_up(m, now);
    on_ping_request(m, from, *request);
  } else {
    return false;
  }
  return true;
}

void Membership::handle_timeout(Instant now) {
  MembershipImpl& m = *impl_;
  catch_up(m, now);
  probe_timeouts(m, now);
  // catch_up() moved next_tick to now after a pause, so at most one round is due here.
  if (m.next_tick <= now) {
    m.heartbeat += 1;
    gossip_round(m, now);
    start_probe(m, now);
    m.next_tick = std::max(m.next_tick + m.options.gossip_interval, now + Duration{1});
  }
  judge(m, now);
}

std::optional<Instant> Membership::poll_timeout() const {
  const MembershipImpl& m = *impl_;
  // Before the first input the clock is not set: ask to be called at once to start it.
  if (!m.started) return Instant{};
  Instant next = m.next_tick;
  if (m.probe) {
    next = std::min(next, m.probe->indirect_sent ? m.probe->deadline : m.probe->indirect_at);
  }
  for (const auto& [id, member] : m.members) {
    if (const auto due = judgement_due(m, member)) next = std::min(next, *due);
  }
  return next;
}

PeerState Membership::state_of(const NodeId& peer) const {
  const auto it = impl_->members.find(peer);
  return it == impl_->members.end() ? PeerState::alive : it->second.state;
}

std::vector<PeerStatus> Membership::view(Instant now) const {
  const MembershipImpl& m = *impl_;
  std::vector<PeerStatus> rows;
  PeerStatus self;
  const MemberInfo info = m.self_info();
  self.id = info.id;
  self.address = info.address;
  self.incarnation = info.incarnation;
  self.heartbeat = info.heartbeat;
  self.is_self = true;
  rows.push_back(self);
  for (const auto& [id, member] : m.members) {
    PeerStatus row;
    row.id = id;
    row.address = member.info.address;
    row.incarnation = member.info.incarnation;
    row.heartbeat = member.info.heartbeat;
    row.state = member.state;
    row.phi = member.detector.phi(now);
    row.silence = member.heard && now > member.last_heard ? now - member.last_heard : Duration{0};
    row.probe_failures = member.probe_failures;
    row.ring_mismatch = member.ring_mismatch;
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(),
            [](const PeerStatus& a, const PeerStatus& b) { return a.id < b.id; });
  return rows;
}

std::vector<PeerTransition> Membership::take_transitions() {
  return std::exchange(impl_->transitions, {});
}

std::string Membership::address_of(const NodeId& peer) const {
  if (peer == impl_->identity.self) return impl_->identity.address;
  const auto it = impl_->members.find(peer);
  return it == impl_->members.end() ? std::string() : it->second.info.address;
}

void Membership::check_invariants() const {
  const MembershipImpl& m = *impl_;
  VIGIL_ASSERT(!m.members.contains(m.identity.self), "membership: self among the peers");
  for (const auto& [id, member] : m.members) {
    VIGIL_ASSERT(member.info.id == id, "membership: a record filed under another id");
    VIGIL_ASSERT(member.heard || member.state == PeerState::alive,
                 "membership: a peer judged before it was heard of");
    VIGIL_ASSERT(member.detector.samples() <= m.options.phi_window_size,
                 "membership: a phi window over its size");
  }
  if (m.probe) {
    VIGIL_ASSERT(m.members.contains(m.probe->target), "membership: probing a non-member");
    VIGIL_ASSERT(m.probe->indirect_at <= m.probe->deadline, "membership: probe deadlines");
  }
  VIGIL_ASSERT(m.probe_cursor <= m.probe_order.size(), "membership: probe cursor");
}

}  // namespace vigil::core
