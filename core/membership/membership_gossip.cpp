// Push-pull gossip of the membership view.
//
// Theory of operation (Cassandra's Gossiper; van Renesse et al., "A gossip-style failure
// detection service", 1998). Every gossip_interval the node raises its own heartbeat and
// sends its whole view -- every member it has heard of, itself included -- to `fanout`
// peers drawn with its seeded generator from the peers whose address it knows. A receiver
// merges the view and, unless the message is itself a reply, answers with its own view,
// so one exchange brings both sides up to date (push-pull: an item reaches every node in
// O(log n) rounds).
//
// Merge. Per member, (incarnation, heartbeat) compared lexicographically: newer wins. A
// newer heartbeat is fresh evidence that the member lives, whoever relayed it; its arrival
// enters the member's phi window (membership_judge.cpp). A higher incarnation is a new
// life of a restarted member: it replaces the old one whatever the old heartbeat was, and
// the member's window restarts. Nothing about our own entry is taken from others (our
// heartbeat is ours to raise). Members outside our ring are ignored and counted: the ring
// comes from configuration, and the node drops whatever such a node would send.
//
// Targets are drawn among all reachable peers, failed ones included: a healed partition
// would otherwise leave each side gossiping only within itself forever. A message to a
// dead peer costs one frame.

#include <algorithm>

#include "core/wire/codec.h"
#include "core/membership/membership_state.h"

namespace vigil::core {

namespace {

Gossip view_message(const MembershipImpl& m, bool is_reply) {
  Gossip gossip;
  gossip.is_reply = is_reply;
  gossip.members.push_back(m.self_info());
  for (const auto& [id, member] : m.members) {
    if (gossip.members.size() >= members_max) break;
    if (member.info.incarnation >= 1) gossip.members.push_back(member.info);
  }
  return gossip;
}

bool newer(const MemberInfo& a, const MemberInfo& b) {
  if (a.incarnation != b.incarnation) return a.incarnation > b.incarnation;
  return a.heartbeat > b.heartbeat;
}

void merge(MembershipImpl& m, Instant now, const MemberInfo& info) {
  if (info.id == m.identity.self) {
    if (info.incarnation > m.identity.incarnation) m.count("gossip_self_newer");
    return;
  }
  const auto it = m.members.find(info.id);
  if (it == m.members.end()) {
    m.count("gossip_members_not_in_ring");
    return;
  }
  if (info.incarnation == 0) {
    m.count("gossip_members_invalid");
    return;
  }
  MemberRecord& member = it->second;
  if (!newer(info, member.info)) return;
  const bool first = member.info.incarnation == 0;
  const bool new_life = !first && info.incarnation > member.info.incarnation;
  if (first) m.count("gossip_members_learned");
  const std::string address = info.address.empty() ? member.info.address : info.address;
  member.info = info;
  member.info.address = address;
  const bool mismatch = info.ring_digest != m.identity.ring_digest;
  if (mismatch && !member.ring_mismatch) m.count("ring_mismatches");
  member.ring_mismatch = mismatch;
  on_heartbeat(m, now, member, new_life);
}

}  // namespace

void gossip_round(MembershipImpl& m, Instant now) {
  (void)now;
  const std::vector<NodeId> targets = m.pick(m.reachable_peers(), m.options.fanout);
  if (targets.empty()) return;
  const Gossip gossip = view_message(m, false);
  for (const NodeId& target : targets) {
    m.outbox.send(target, gossip);
    m.count("gossip_sent");
  }
}

void on_gossip(MembershipImpl& m, Instant now, const NodeId& from, const Gossip& gossip) {
  m.count("gossip_received");
  for (const MemberInfo& info : gossip.members) merge(m, now, info);
  if (gossip.is_reply) return;
  m.outbox.send(from, view_message(m, true));
  m.count("gossip_sent");
}

}  // namespace vigil::core
