// Judging peers: alive -> suspect -> failed, and back to alive.
//
// Theory of operation. A peer is suspect when any of three rules says so:
// - phi (Hayashibara et al.; core/membership/phi_accrual.h) over the arrivals of its newer heartbeats
//   reaches phi_accrual.threshold, once the bootstrap rule lets phi count;
// - it has not been heard from (no newer heartbeat learned, no probe ack) for
//   failure_detector.suspicious_threshold: the backstop that works before phi does;
// - failure_detector.max_failures probe rounds in a row (direct and indirect) got no ack
//   (SWIM's suspicion, Das et al. 2002).
// A suspect peer is failed once its silence reaches failure_detector.failure_threshold;
// failed is only ever reached through suspect. Escalations run at exact deadlines (the
// earliest instant a rule can fire is known: silence is linear, phi is inverted by
// PhiAccrual::reaches), so detection times are not rounded up to the gossip interval.
//
// Going back. New evidence -- a newer heartbeat, an ack -- returns a failed peer to alive
// at once, and a suspect one as soon as no rule holds any more. Nothing else does: phi and
// silence only grow while nothing is heard.
//
// The bootstrap rule (phi_accrual.min_samples, bootstrap_time; failure_detector.
// recovery_timeout). phi counts for a peer only when its window holds min_samples
// intervals and its guard has passed: bootstrap_time from when the peer was first heard
// of, and recovery_timeout from when its window last restarted. The window restarts when
// the peer returns from failed or comes back as a new incarnation, because the intervals
// of its previous life say nothing about this one (Cassandra also resets its arrival
// window on a new generation). Until phi counts, the silence and probe rules alone judge
// the peer, so a crash is still detected, only not faster than suspicious_threshold.
//
// The local pause rule (Cassandra's FailureDetector ignores a local pause longer than
// 5 s). When an input finds this node more than two gossip intervals after its previous
// input, the node itself was frozen (GC, SIGSTOP, a VM migration) and heard nothing because
// it ran nothing: every peer's silence is moved forward by the frozen time, and the probe
// round in progress is dropped uncounted.

#include <algorithm>

#include "core/assert.h"
#include "core/membership/membership_state.h"

namespace vigil::core {

namespace {

void set_state(MembershipImpl& m, Instant now, MemberRecord& member, PeerState to) {
  if (member.state == to) return;
  m.transitions.push_back(PeerTransition{member.info.id, member.state, to, now});
  member.state = to;
  switch (to) {
    case PeerState::alive: m.count("peers_recovered"); break;
    case PeerState::suspect: m.count("peers_suspected"); break;
    case PeerState::failed: m.count("peers_failed"); break;
  }
}

// Which rule holds (the first, in this order), as its peers_suspected_by_<rule> counter, or
// nullopt: none.
std::optional<Counter> suspicion_rule(const MembershipImpl& m, const MemberRecord& member,
                                      Instant now) {
  if (now - member.last_heard >= m.options.suspicious_threshold) {
    return Counter::peers_suspected_by_silence;
  }
  if (member.probe_failures >= m.options.max_failures) return Counter::peers_suspected_by_probes;
  if (phi_trusted(m, member, now) && member.detector.phi(now) >= m.options.phi_threshold) {
    return Counter::peers_suspected_by_phi;
  }
  return std::nullopt;
}

bool suspected(const MembershipImpl& m, const MemberRecord& member, Instant now) {
  return suspicion_rule(m, member, now).has_value();
}

void restart_window(const MembershipImpl& m, MemberRecord& member, Instant now, Duration guard) {
  member.detector.reset();
  member.phi_reaches.reset();
  member.phi_trusted_from = now + guard;
  (void)m;
}

void refresh_phi_deadline(const MembershipImpl& m, MemberRecord& member) {
  member.phi_reaches.reset();
  if (member.detector.ready()) member.phi_reaches = member.detector.reaches(m.options.phi_threshold);
}

// After new evidence: back to alive when no rule holds any more.
void settle(MembershipImpl& m, Instant now, MemberRecord& member) {
  if (member.state == PeerState::failed ||
      (member.state == PeerState::suspect && !suspected(m, member, now))) {
    set_state(m, now, member, PeerState::alive);
  }
}

// First evidence of a peer, or its return: (re)starts the window under its guard.
void on_evidence(MembershipImpl& m, Instant now, MemberRecord& member, bool new_life) {
  if (!member.heard) {
    member.heard = true;
    restart_window(m, member, now, m.options.phi_bootstrap_time);
  } else if (new_life || member.state == PeerState::failed) {
    restart_window(m, member, now, m.options.recovery_timeout);
    member.probe_failures = 0;
  }
}

}  // namespace

bool phi_trusted(const MembershipImpl& m, const MemberRecord& member, Instant now) {
  (void)m;
  return member.detector.ready() && now >= member.phi_trusted_from;
}

void catch_up(MembershipImpl& m, Instant now) {
  if (!m.started) {
    m.started = true;
    m.next_tick = now;
    m.last_input = now;
    for (auto& [id, member] : m.members) member.last_heard = now;
    return;
  }
  const Duration gap = now - m.last_input;
  if (gap > 2 * m.options.gossip_interval) {
    // Every input before the freeze was at or before last_input, so each shifted instant
    // stays at least one interval before now.
    const Duration frozen = gap - m.options.gossip_interval;
    m.count("membership_local_pauses");
    for (auto& [id, member] : m.members) {
      if (!member.heard) continue;
      member.last_heard += frozen;
      member.detector.shift(frozen);
      refresh_phi_deadline(m, member);
    }
    m.probe.reset();
    m.next_tick = std::min(m.next_tick, now);
  }
  m.last_input = std::max(m.last_input, now);
}

void on_heartbeat(MembershipImpl& m, Instant now, MemberRecord& member, bool new_life) {
  on_evidence(m, now, member, new_life);
  member.detector.heartbeat(now);
  member.last_heard = now;
  refresh_phi_deadline(m, member);
  settle(m, now, member);
}

void on_ack(MembershipImpl& m, Instant now, MemberRecord& member) {
  on_evidence(m, now, member, false);
  member.probe_failures = 0;
  member.last_heard = now;
  settle(m, now, member);
}

void judge(MembershipImpl& m, Instant now) {
  for (auto& [id, member] : m.members) {
    if (!member.heard) continue;
    if (member.state == PeerState::alive) {
      if (const std::optional<Counter> rule = suspicion_rule(m, member, now)) {
        m.count(*rule);
        set_state(m, now, member, PeerState::suspect);
      }
    }
    if (member.state == PeerState::suspect &&
        now - member.last_heard >= m.options.failure_threshold) {
      set_state(m, now, member, PeerState::failed);
    }
  }
}

std::optional<Instant> judgement_due(const MembershipImpl& m, const MemberRecord& member) {
  if (!member.heard) return std::nullopt;
  switch (member.state) {
    case PeerState::alive: {
      Instant due = member.last_heard + m.options.suspicious_threshold;
      if (member.phi_reaches) due = std::min(due, std::max(*member.phi_reaches, member.phi_trusted_from));
      return due;
    }
    case PeerState::suspect: return member.last_heard + m.options.failure_threshold;
    case PeerState::failed: return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace vigil::core
