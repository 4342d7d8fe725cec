// The scheduled background pass and the tree check (anti_entropy.cpp has the theory of
// operation; seed sections 4.2 and 4.3).

#include <algorithm>
#include <utility>

#include "core/antientropy/anti_entropy_state.h"
#include "core/wire/codec.h"

namespace vigil::core {

namespace {

// Bounds on what a pass keeps waiting (corrupt keys to fetch): past them a found record
// is counted and left for the next pass or an exchange.
constexpr std::size_t corrupt_awaiting_max = 65536;
constexpr std::size_t background_pulls_max = 65536;
// When the client path is busy, the pass looks again this much later.
constexpr Duration yield_delay = std::chrono::milliseconds(100);

// A corrupt record found by the pass: out of its tree, and fetched from the other replicas.
void found_corrupt(AntiEntropyState& state, const ScannedKey& record) {
  state.context.counters.add("ae_corrupt_records_found");
  state.trees.mark_suspect(record.key);
  if (state.corrupt_awaiting.size() >= corrupt_awaiting_max) {
    state.context.counters.add("ae_corrupt_records_deferred");
    return;
  }
  state.corrupt_awaiting.insert(record.key);
  const std::optional<std::size_t> set = state.trees.sets().set_of(record.token);
  if (!set) return;
  for (const NodeId& peer : state.trees.sets().sets()[*set]) {
    if (peer == state.context.self() || state.background_pulls.size() >= background_pulls_max) {
      continue;
    }
    state.background_pulls.emplace_back(record.key, peer);
  }
}

// Records per page: keys_per_segment, fewer when max_memory could not hold that many
// records of the largest size a value may have.
std::size_t page_keys(const AntiEntropyState& state) {
  const std::uint64_t record_bytes_max =
      std::max<std::uint64_t>(1, state.context.options.value_size_bytes_max);
  const std::uint64_t fit = state.options.background_memory_bytes_max / record_bytes_max;
  return static_cast<std::size_t>(
      std::clamp<std::uint64_t>(fit, 1, state.options.keys_per_segment));
}

// One segment: keys_per_segment records from the cursor on, in ring order.
void walk_segment(AntiEntropyState& state) {
  std::size_t left = state.options.keys_per_segment;
  const std::size_t page_limit = page_keys(state);
  while (left > 0) {
    const std::size_t limit = std::min(left, page_limit);
    auto page = state.context.storage.scan_keys(KeyRange{0, 0}, limit, state.background_cursor);
    if (!page.ok()) {
      state.context.counters.add("storage_read_errors");
      return;
    }
    for (const ScannedKey& record : *page) {
      state.context.counters.add("ae_background_records_checked");
      if (record.corrupt) {
        found_corrupt(state, record);
      } else if (state.context.random.chance(state.options.validation_probability)) {
        state.context.counters.add("ae_background_records_validated");
        if (!decode_sibling_set(record.encoded).ok()) found_corrupt(state, record);
      }
    }
    left -= std::min(left, page->size());
    if (page->size() < limit) {
      state.background_cursor.reset();  // the end of the ring: the next segment starts over
      state.context.counters.add("ae_background_passes_completed");
      return;
    }
    state.background_cursor = std::make_pair(page->back().token, page->back().key);
  }
}

void end_run(AntiEntropyState& state) {
  state.background_segments_left = 0;
  state.background_run_ends.reset();
  state.next_background_step.reset();
}

}  // namespace

void background_step(AntiEntropyState& state, const Now& now) {
  const AntiEntropyOptions& options = state.options;
  if (state.next_background_run && *state.next_background_run <= now.monotonic) {
    state.next_background_run = now.monotonic + options.background_interval;
    if (state.background_segments_left > 0) {
      state.context.counters.add("ae_background_runs_cut");  // still running: cut
    }
    state.background_segments_left = options.segments_per_run;
    state.background_run_ends = now.monotonic + options.background_max_duration;
    state.next_background_step = now.monotonic;
    state.context.counters.add("ae_background_runs");
  }
  if (state.background_segments_left == 0) return;
  if (*state.background_run_ends <= now.monotonic) {
    state.context.counters.add("ae_background_runs_cut");
    return end_run(state);
  }
  if (*state.next_background_step > now.monotonic) return;
  if (state.client_requests_in_flight >= options.background_yield_requests) {
    state.context.counters.add("ae_background_yields");
    state.next_background_step = now.monotonic + yield_delay;
    return;
  }
  if (state.context.storage_failure) return end_run(state);
  walk_segment(state);
  state.background_segments_left -= 1;
  if (state.background_segments_left == 0) return end_run(state);
  // Paced to finish in half of max_duration, leaving the rest for yields.
  state.next_background_step =
      now.monotonic + options.background_max_duration / (2 * options.segments_per_run);
}

void tree_check(AntiEntropyState& state) {
  const std::uint64_t leaves = std::uint64_t{1} << state.trees.depth();
  const std::uint64_t total = leaves * state.trees.size();
  if (total == 0) return;
  const std::uint64_t slice = std::max<std::uint64_t>(1, total / 64);
  for (std::uint64_t i = 0; i < slice; ++i) {
    const std::uint64_t at = state.tree_check_cursor++ % total;
    auto differed = state.trees.rebuild_leaf(state.context.storage, state.context.counters,
                                             static_cast<std::size_t>(at / leaves), at % leaves);
    if (!differed.ok()) {
      state.context.counters.add("storage_read_errors");
      return;
    }
    state.context.counters.add("ae_tree_leaves_checked");
    if (*differed) state.context.counters.add("ae_tree_check_mismatches");
  }
}

}  // namespace vigil::core
