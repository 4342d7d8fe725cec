#pragma once
// The hinted-handoff part of a node, both sides (core/handoff/hints.cpp has the theory of
// operation): as a holder it stores the hints fallback coordinators send it (HintWrite),
// replays them to their targets (HintDelivery, paced, retried, expired) and erases the
// ones delivered (HintDeliveryReply); as a target it merges what is delivered. Its timers
// (the periodic check, replay rounds, delivery timeouts) are its own. The coordinator's
// side, choosing fallbacks for a write, is core/coordinator/hints_fallback.cpp. Output goes
// to the node's shared outbox (core/node/node_context.h). Internal to core/node/ and its
// parts; the contract is core::Node (core/node/node.h).

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "core/membership/membership.h"
#include "core/node/node_context.h"

namespace vigil::core {

class Replica;
struct HandoffState;

class Handoff {
 public:
  // Arms the first check when storage holds hints. `context` and `replica` outlive it.
  Handoff(NodeContext& context, Replica& replica);
  ~Handoff();
  Handoff(const Handoff&) = delete;
  Handoff& operator=(const Handoff&) = delete;

  // A coordinator asks us to hold a hint (or, when we are its target, to merge it).
  void handle_hint_write(const Now& now, const NodeId& from, const HintWrite& message);
  // A holder delivers a hint to us, its target.
  void handle_hint_delivery(const NodeId& from, const HintDelivery& message);
  // A target answers one of our deliveries.
  void handle_hint_delivery_reply(const Now& now, const NodeId& from,
                                  const HintDeliveryReply& message);
  // A state change the membership judged (called in order, after the membership state
  // changed): a target seen alive again has its hints replayed at once.
  void handle_peer_transition(const Now& now, const PeerTransition& transition);

  // Fires the delivery timeouts, the check and the replay rounds due at now.monotonic.
  void handle_timeout(const Now& now);
  // The earliest hint timer; nullopt when none (always after a storage failure).
  std::optional<Instant> poll_timeout() const;

  // Hints held for other nodes (from storage; 0 when storage cannot tell).
  std::uint64_t hints_pending() const;
  // Of those, the hints held for targets found stalled (up, oldest hint undelivered for
  // hints.retry_interval) at the last check: a gauge (core/handoff/hint_stalls.cpp).
  std::uint64_t hints_stalled() const;
  // The targets whose hints expired undelivered since the last call, in id order.
  std::vector<NodeId> take_expired_targets();

 private:
  std::unique_ptr<HandoffState> state_;
};

}  // namespace vigil::core
