// SWIM probes (Das, Gupta and Motivala, "SWIM", 2002, section 3.1).
//
// Theory of operation. At every gossip tick with no round in progress the node probes one
// peer: the next of a shuffled list of the reachable peers, reshuffled with the node's
// generator after each pass (SWIM 4.3's round robin: every peer is probed within one pass,
// in an order no one can predict). The round:
//   t0                  Ping{id} to the target;
//   t0 + probe_timeout  no ack yet: PingRequest{id, target} to `indirect_probes` helpers,
//                       drawn among the peers we hold alive; each pings the target for us
//                       (Ping{id, requester = us}) and relays the target's ack, unchanged;
//   t0 + 3 probe_timeout no ack (direct or relayed): the round failed.
// The indirect leg gets two probe timeouts because its ack crosses four links, not two.
// With indirect_probes 0 the round ends at t0 + probe_timeout. A round's ack resets the
// target's failed-round count and silence (membership_judge.cpp); max_failures failed
// rounds in a row make it suspect.
//
// Helpers keep no state (the ack names its requester), so a helper that crashes or is
// slow costs nothing but its answer. Probe ids carry our incarnation in the high bits, so
// an ack for a previous life's probe never matches this life's round. Acks that match no
// round in progress (late, duplicated) are counted and dropped: they would vouch for a
// peer at a time we cannot place.

#include <algorithm>

#include "core/membership/membership_state.h"

namespace vigil::core {

namespace {

constexpr unsigned probe_sequence_bits = 40;

MemberRecord* find_member(MembershipImpl& m, const NodeId& id) {
  const auto it = m.members.find(id);
  return it == m.members.end() ? nullptr : &it->second;
}

std::optional<NodeId> next_target(MembershipImpl& m) {
  if (m.probe_cursor >= m.probe_order.size()) {
    const std::vector<NodeId> peers = m.reachable_peers();
    m.probe_order = m.pick(peers, peers.size());
    m.probe_cursor = 0;
  }
  if (m.probe_order.empty()) return std::nullopt;
  return m.probe_order[m.probe_cursor++];
}

}  // namespace

void start_probe(MembershipImpl& m, Instant now) {
  if (m.probe) return;
  const std::optional<NodeId> target = next_target(m);
  if (!target) return;
  ProbeRound round;
  round.target = *target;
  round.probe_id = (m.identity.incarnation << probe_sequence_bits) |
                   (++m.probe_sequence & ((std::uint64_t{1} << probe_sequence_bits) - 1));
  round.indirect_at = now + m.options.probe_timeout;
  round.deadline = m.options.indirect_probes == 0 ? round.indirect_at
                                                  : now + 3 * m.options.probe_timeout;
  m.outbox.send(round.target, Ping{round.probe_id, {}});
  m.count("probes_sent");
  m.probe = std::move(round);
}

void probe_timeouts(MembershipImpl& m, Instant now) {
  if (!m.probe) return;
  ProbeRound& round = *m.probe;
  if (!round.indirect_sent && now >= round.indirect_at) {
    round.indirect_sent = true;
    std::vector<NodeId> candidates;
    for (const auto& [id, member] : m.members) {
      if (id != round.target && !member.info.address.empty() &&
          member.state == PeerState::alive) {
        candidates.push_back(id);
      }
    }
    for (const NodeId& helper : m.pick(std::move(candidates), m.options.indirect_probes)) {
      m.outbox.send(helper, PingRequest{round.probe_id, round.target});
      m.count("probe_indirect_requests");
    }
  }
  if (now >= round.deadline) {
    if (MemberRecord* member = find_member(m, round.target)) member->probe_failures += 1;
    m.count("probe_failures");
    m.probe.reset();
  }
}

void on_ping(MembershipImpl& m, const NodeId& from, const Ping& ping) {
  if (!ping.requester.empty() && !m.members.contains(ping.requester)) {
    m.count("membership_ignored_unknown_requester");
    return;
  }
  m.outbox.send(from, PingAck{ping.probe_id, ping.requester, m.identity.self});
  m.count("probe_pings_answered");
}

void on_ping_ack(MembershipImpl& m, Instant now, const NodeId& from, const PingAck& ack) {
  // Only the target itself answers a ping: an ack naming another target is forged or
  // garbled.
  const bool relayed_to_us = !ack.requester.empty() && ack.requester == m.identity.self;
  if (!relayed_to_us && from != ack.target) {
    m.count("membership_ignored_bad_ack");
    return;
  }
  if (!ack.requester.empty() && ack.requester != m.identity.self) {
    // We are the helper: relay it to the node that asked (stateless).
    if (!m.members.contains(ack.requester)) {
      m.count("membership_ignored_unknown_requester");
      return;
    }
    m.outbox.send(ack.requester, ack);
    m.count("probe_indirect_relayed");
    return;
  }
  MemberRecord* member = find_member(m, ack.target);
  if (member == nullptr || !m.probe || m.probe->probe_id != ack.probe_id ||
      m.probe->target != ack.target) {
    m.count("probe_acks_stale");
    return;
  }
  m.count("probe_acks");
  m.probe.reset();
  on_ack(m, now, *member);
}

void on_ping_request(MembershipImpl& m, const NodeId& from, const PingRequest& request) {
  if (!m.members.contains(request.target) || request.target == from) {
    m.count("membership_ignored_bad_ping_request");
    return;
  }
  m.outbox.send(request.target, Ping{request.probe_id, from});
  m.count("probe_indirect_pings");
}

}  // namespace vigil::core
