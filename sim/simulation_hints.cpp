// What the hinted-handoff and availability checks read from a run (sim/check_hints.h,
// sim/check_availability.h), recorded by the simulator rather than reconstructed from the
// scenario, so that what the checks see is what the faults actually did (jittered times,
// ignored faults, pauses ended by the final heal).
//
// - The fault timeline: after every fault action and every resume, the set of nodes down
//   (crashed or paused) and the link matrix (Network::link_open), appended when changed.
// - The replica snapshot, taken after the quiesce and before the final reads (which read at
//   `all` and so repair every replica they reach): the hints every node still holds, and
//   the live values of every workload key on each replica of its preference list, read
//   from the stores (staged changes included: every node is idle by then).
// - The tombstone snapshot at the same moment: every record of every node's store (a
//   ring-order scan, paged), and those whose state is only tombstones.

#include <algorithm>
#include <optional>
#include <set>

#include "core/assert.h"
#include "core/versions/pn_counter.h"
#include "core/wire/codec.h"
#include "config/node_options.h"
#include "sim/simulation.h"

namespace vigil::sim {

void Simulation::note_fault_state() {
  FaultState state;
  state.at_us = now_us_;
  const std::uint32_t nodes = static_cast<std::uint32_t>(hosts_.size());
  state.down.resize(nodes);
  state.open.assign(nodes, std::vector<bool>(nodes, true));
  for (std::uint32_t a = 0; a < nodes; ++a) {
    state.down[a] = hosts_[a]->state() != ProcessState::up;
    for (std::uint32_t b = 0; b < nodes; ++b) {
      if (a != b) state.open[a][b] = network_.link_open(a, b);
    }
  }
  if (!fault_timeline_.empty()) {
    const FaultState& last = fault_timeline_.back();
    if (last.down == state.down && last.open == state.open) return;
    if (last.at_us == state.at_us) fault_timeline_.pop_back();  // same instant: keep the end
  }
  fault_timeline_.push_back(std::move(state));
}

void Simulation::snapshot_replicas() {
  for (const auto& host : hosts_) {
    const core::Result<std::uint64_t> hints = host->store().hint_count();
    hints_pending_[host->id()] = hints.ok() ? *hints : 0;
  }
  const bool wanted = std::any_of(
      scenario_.checks.begin(), scenario_.checks.end(), [](const CheckSpec& check) {
        return check.name == "hints_drained" || check.name == "counter_sums";
      });
  if (!wanted) return;  // O(keys) reads: only for the checks that read them
  const std::vector<core::NodeId> ids = scenario_node_ids(scenario_);
  const core::Ring ring = core::Ring::build(ids, config::ring_options(scenario_.config));
  for (std::uint32_t k = 0; k < scenario_.workload.keys; ++k) {
    const core::Key key = key_name(k);
    auto& replicas = replica_values_[key];
    for (const core::NodeId& id : ring.preference_list(core::token_of_key(key),
                                                       scenario_.config.quorum_settings.n)) {
      std::vector<core::Value>& values = replicas[id];
      const auto record = hosts_[index_of(id)]->store().get(key);
      if (!record.ok() || !record->has_value()) continue;
      const auto state = core::decode_sibling_set((*record)->state);
      if (!state.ok()) continue;
      for (const core::Version& version : state->versions()) {
        if (version.value) values.push_back(*version.value);
        if (version.kind != core::ValueKind::counter) continue;
        // counter_sums: what the replicas hold together, every counter version merged.
        auto counter = core::decode_pn_counter(*version.value);
        VIGIL_ASSERT(counter.ok(), "a stored counter does not decode");
        replica_counters_[key].merge(*counter);
      }
      std::sort(values.begin(), values.end());
    }
  }
}

namespace {

constexpr std::size_t tombstone_scan_page_keys = 4096;

// Counts `store`'s records into `record`, and its dead ones (also into `keys`): only
// tombstones, or expired values by the node's clock `wall_us` (docs/expiry.md).
void count_tombstones(store::MemoryStore& store, const core::NodeId& id, core::WallMicros wall_us,
                      TombstoneRecord& record, std::set<core::Key>& keys) {
  std::optional<store::KeyRecord> after;
  for (;;) {
    auto page = store.scan_checked(store::TokenRange{0, 0}, tombstone_scan_page_keys, after);
    if (!page.ok() || page->empty()) return;
    for (const store::ScannedRecord& scanned : *page) {
      record.records += 1;
      if (scanned.corrupt) continue;
      const auto state = core::decode_sibling_set(scanned.record.state);
      if (!state.ok() || !state->is_dead_at(wall_us)) continue;
      record.held += 1;
      keys.insert(scanned.record.key);
      if (record.examples.size() < 5) record.examples.push_back(id + " " + scanned.record.key);
    }
    after = page->back().record;
    after->state.clear();
  }
}

}  // namespace

void Simulation::snapshot_tombstones() {
  const bool wanted =
      std::any_of(scenario_.checks.begin(), scenario_.checks.end(),
                  [](const CheckSpec& check) { return check.name == "tombstones_collected"; });
  if (!wanted) return;  // O(records) work: only for the check that reads it
  tombstones_.recorded = true;
  std::set<core::Key> keys;
  for (const auto& host : hosts_) {
    count_tombstones(host->store(), host->id(), host->clock().wall_us(now_us_), tombstones_, keys);
  }
  tombstones_.keys_held = keys.size();
}

}  // namespace vigil::sim
