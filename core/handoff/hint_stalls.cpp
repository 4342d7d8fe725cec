// The stall watch: hints that are not delivered although their target is up.
//
// A holder that works delivers a target's hints in id order as soon as the target is up,
// so the oldest hint held for an up target changes (it is delivered, expired or dropped)
// within a round trip or, after a refusal, within retry_interval. At every check, for each
// target that this node sees up and holds hints for, the oldest id is compared with the
// one the watch recorded: a different id restarts the watch; the same id, unchanged for at
// least hints.retry_interval while the target was up at every check in between (a
// transition away from `alive` clears the watch), is a stall. A stall counts every hint
// held for the target at that moment into hints_stalled_target_up, once per stall; the
// hints of stalled targets are a gauge (Handoff::hints_stalled) until the watch restarts.
// The watch reads only what reload() already computed: no extra storage access.

#include "core/handoff/handoff_state.h"

namespace vigil::core {

void watch_stalls(HandoffState& state, const Now& now) {
  const Duration patience = state.context.options.hints.retry_interval;
  for (auto& [target, bookkeeping] : state.targets) {
    if (bookkeeping.held == 0 || !bookkeeping.oldest || !state.context.peer_is_up(target)) {
      bookkeeping.watch.reset();
      continue;
    }
    if (!bookkeeping.watch || bookkeeping.watch->oldest != *bookkeeping.oldest) {
      bookkeeping.watch = StallWatch{*bookkeeping.oldest, now.monotonic, false};
      continue;
    }
    StallWatch& watch = *bookkeeping.watch;
    if (!watch.stalled && now.monotonic - watch.since >= patience) {
      watch.stalled = true;
      state.context.counters.add("hints_stalled_target_up", bookkeeping.held);
    }
  }
}

void forget_stall(HandoffState& state, const NodeId& target) {
  auto it = state.targets.find(target);
  if (it != state.targets.end()) it->second.watch.reset();
}

std::uint64_t hints_stalled(const HandoffState& state) {
  std::uint64_t stalled = 0;
  for (const auto& [target, bookkeeping] : state.targets) {
    if (bookkeeping.watch && bookkeeping.watch->stalled) stalled += bookkeeping.held;
  }
  return stalled;
}

}  // namespace vigil::core
