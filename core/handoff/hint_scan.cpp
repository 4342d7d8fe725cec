// Walking the hint table (hints.cpp has the theory of operation): a full scan in id order
// that erases corrupt records as it meets them, and the per-target bookkeeping rebuilt
// from it.
//
// Hint pages fail as a whole when one record in them is corrupt; a binary search over
// hints_after locates the first bad id, which is erased and counted, so one bad record
// cannot stop every delivery.

#include <algorithm>
#include <limits>

#include "core/handoff/handoff_state.h"

namespace vigil::core {

namespace {

constexpr std::size_t hint_page_size = 256;

std::uint64_t first_id_of_life(const HandoffState& state) {
  return (state.context.incarnation << sequence_bits) | 1;
}

// The id of a corrupt hint, given that hints_after(after_id, page) fails with corruption:
// the smallest x > after_id whose page does not fail. The pages after x-1 and after x differ
// only when the first hint after x-1 is x itself, and removing it removed the damage.
std::optional<std::uint64_t> locate_corrupt(NodeStorage& storage, std::uint64_t after_id,
                                            std::size_t page) {
  std::uint64_t low = after_id;                                    // its page fails
  std::uint64_t high = std::numeric_limits<std::uint64_t>::max();  // nothing after: no fail
  while (high - low > 1) {
    const std::uint64_t middle = low + (high - low) / 2;
    auto hints = storage.hints_after(middle, page);
    if (!hints.ok() && hints.status().code() != Code::corruption) return std::nullopt;
    (hints.ok() ? high : low) = middle;
  }
  return high;
}

}  // namespace

bool expired(const StoredHint& hint, const Now& now) {
  return now.wall_us >= hint.expires_us;
}

bool for_each_hint(HandoffState& state, const std::function<void(const StoredHint&)>& visit) {
  std::uint64_t after = 0;
  while (true) {
    auto page = state.context.storage.hints_after(after, hint_page_size);
    if (!page.ok()) {
      std::optional<std::uint64_t> bad;
      if (page.status().code() == Code::corruption) {
        bad = locate_corrupt(state.context.storage, after, hint_page_size);
      }
      if (bad && state.context.storage.erase_hint(*bad).ok()) {
        state.context.counters.add("hints_corrupt");
        continue;  // the same page again, one bad record fewer
      }
      state.context.counters.add("storage_read_errors");
      return false;
    }
    for (const StoredHint& hint : *page) visit(hint);
    if (page->size() < hint_page_size) return true;
    after = page->back().id;
  }
}

bool reload(HandoffState& state, const Now* now, std::vector<StoredHint>* expired_hints) {
  for (auto& [target, bookkeeping] : state.targets) {
    bookkeeping.held = 0;
    bookkeeping.oldest.reset();
  }
  std::uint64_t max_id = 0;
  const bool ok = for_each_hint(state, [&](const StoredHint& hint) {
    max_id = std::max(max_id, hint.id);
    if (now != nullptr && expired(hint, *now) && !state.in_flight.contains(hint.id)) {
      expired_hints->push_back(hint);
      return;
    }
    HintTarget& bookkeeping = state.targets[hint.target];
    ++bookkeeping.held;
    if (!bookkeeping.oldest) bookkeeping.oldest = hint.id;  // ids come in order
  });
  if (!ok) return false;
  state.next_id = std::max<std::uint64_t>({state.next_id, first_id_of_life(state), max_id + 1});
  state.loaded = true;
  return true;
}

}  // namespace vigil::core
