// Sloppy quorum, the coordinator's side (Dynamo 4.6; seed section 2.1).
//
// Theory of operation. A write goes to the N replicas of the key's preference list
// (coordinator_write.cpp). A replica that the failure detector does not consider up when
// the write starts, or that has not acknowledged within replication_timeout (the first
// retry), is also covered by a hint: the coordinator sends the same whole state as a
// HintWrite{target = that replica} to a fallback, the next node past the preference list
// on the ring walk (Ring::preference_list(token, ring size)) that is up, whose circuit
// breaker is not open (core/routing/; a candidate passed over is counted as
// hint_fallbacks_short_circuited) and that is not already a fallback of this request
// (Dynamo's "first N healthy nodes": a distinct stand-in per missing replica). A replica
// whose own breaker is open counts as down when the write starts: it is hinted at once
// rather than after replication_timeout of silence. The fallback stores the hint durably
// and answers with a ReplicaWriteReply of the request's id once committed
// (core/handoff/hints.cpp). A fallback that stays silent is replaced by the next
// candidate at the next retry; with no candidate left the last one is asked again.
//
// What a hint's acknowledgement is worth: when hints.count_toward_write_quorum is set it
// settles the replica it stands for and counts toward W (Dynamo's sloppy quorum: a write
// stays available while N-W replicas of its key are down), never for Consistency::all,
// whose meaning is "every replica of the preference list has it durable". Otherwise it only
// makes the write reach the replica later; the replica itself is still waited for.
//
// The ReplicaWrite to a replica judged down is still sent: the detector may be wrong, and
// an acknowledgement from the replica itself is worth more than a hint.
//
// Reads stay on the preference list: a fallback keeps a hint in its hint table, not in its
// key state, so it has nothing to answer a read with. A write acknowledged through hints is
// durable on the coordinator (always a replica, its own write counts first) and on the
// fallbacks, so a read that reaches R replicas of the list may miss it only until the hints
// are delivered (a stale read, never a lost write); Dynamo accepts the same.

#include <algorithm>
#include <optional>

#include "core/coordinator/coordinator_state.h"

namespace vigil::core {

namespace {

bool used_as_fallback(const Request& request, const NodeId& node) {
  for (const ReplicaProgress& replica : request.replicas) {
    if (std::find(replica.fallbacks.begin(), replica.fallbacks.end(), node) !=
        replica.fallbacks.end()) {
      return true;
    }
  }
  return false;
}

// The first node past the preference list that is up, whose breaker is not open, and
// that is not yet a fallback of `request`.
std::optional<NodeId> next_fallback(CoordinatorState& state, const Now& now,
                                    const Request& request) {
  const std::vector<NodeId> walk = state.context.ring.preference_list(
      token_of_key(request.key), state.context.ring.node_count());
  for (std::size_t i = std::min<std::size_t>(request.replicas.size(), walk.size()); i < walk.size();
       ++i) {
    const NodeId& candidate = walk[i];
    if (candidate == state.context.self() || !state.context.peer_is_up(candidate)) continue;
    if (used_as_fallback(request, candidate)) continue;
    if (state.context.router.breaker_state(now.monotonic, candidate) == BreakerState::open) {
      state.context.counters.add("hint_fallbacks_short_circuited");
      continue;
    }
    return candidate;
  }
  return std::nullopt;
}

// Down for hinting: judged not up by the failure detector, or behind an open breaker (a
// peer too slow or too broken to answer; its write is covered by a hint from the start).
bool down_for_hints(const CoordinatorState& state, const Now& now, const NodeId& node) {
  return !state.context.peer_is_up(node) ||
         state.context.router.breaker_state(now.monotonic, node) == BreakerState::open;
}

}  // namespace

bool hints_count_toward_write(const NodeOptions& options, const Request& request) {
  return options.hints.enabled && options.hints.count_toward_write_quorum &&
         request.consistency != Consistency::all;
}

ReplicaProgress* replica_of_fallback(Request& request, const NodeId& from) {
  for (ReplicaProgress& replica : request.replicas) {
    if (std::find(replica.fallbacks.begin(), replica.fallbacks.end(), from) !=
        replica.fallbacks.end()) {
      return &replica;
    }
  }
  return nullptr;
}

std::uint32_t send_hints(CoordinatorState& state, const Now& now, Request& request,
                         bool only_down) {
  if (!state.context.options.hints.enabled) return 0;
  std::uint32_t sent = 0;
  for (std::size_t i = 0; i < request.replicas.size(); ++i) {
    ReplicaProgress& replica = request.replicas[i];
    if (replica.node == state.context.self() || replica.settled() || replica.hinted) continue;
    if (only_down && !down_for_hints(state, now, replica.node)) continue;
    std::optional<NodeId> fallback = next_fallback(state, now, request);
    if (!fallback && !replica.fallbacks.empty()) fallback = replica.fallbacks.back();
    if (!fallback) {
      state.context.counters.add("hint_no_fallback");
      continue;
    }
    if (std::find(replica.fallbacks.begin(), replica.fallbacks.end(), *fallback) ==
        replica.fallbacks.end()) {
      replica.fallbacks.push_back(*fallback);
    }
    state.context.send(*fallback, HintWrite{request.id, replica.node, request.key, request.state});
    ++sent;
  }
  if (sent > 0) state.context.counters.add("hint_writes_sent", sent);
  return sent;
}

}  // namespace vigil::core
