// convergence (see check_convergence.h). Theory: a key's replicas agree when their
// committed records are equal. The keys are enumerated from every store's live view (a
// ring-order scan, paged), so a key any node holds is compared, including one that only a
// non-replica or a single replica holds; each replica's committed copy is then looked up
// by key. Comparing bytes first keeps the common case (identical encodings) cheap; bytes
// that differ are decoded and compared as sibling sets, so that two encodings of one state
// (should the codec ever allow them) do not count as divergence.

#include "sim/check_convergence.h"

#include <map>
#include <optional>
#include <set>
#include <utility>

#include "core/wire/codec.h"

namespace vigil::sim {

namespace {

constexpr std::size_t scan_page_keys = 4096;

// Every (token, key) a store's live view holds, damaged records included.
void collect_keys(store::MemoryStore& store, std::set<std::pair<core::Token, core::Key>>& keys) {
  std::optional<store::KeyRecord> after;
  for (;;) {
    auto page = store.scan_checked(store::TokenRange{0, 0}, scan_page_keys, after);
    if (!page.ok() || page->empty()) return;
    for (const store::ScannedRecord& scanned : *page) {
      keys.emplace(scanned.record.token, scanned.record.key);
    }
    after = page->back().record;
    after->state.clear();
  }
}

bool same_state(const std::optional<std::string>& a, const std::optional<std::string>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a || *a == *b) return true;
  const auto left = core::decode_sibling_set(*a);
  const auto right = core::decode_sibling_set(*b);
  return left.ok() && right.ok() && *left == *right;
}

std::string describe(const core::Key& key, const std::vector<core::NodeId>& replicas,
                     const std::vector<std::optional<std::string>>& states) {
  std::string text = "key " + key + ":";
  for (std::size_t i = 0; i < replicas.size(); ++i) {
    text += " " + replicas[i] + "=" +
            (states[i] ? std::to_string(states[i]->size()) + "B" : std::string("absent"));
  }
  return text;
}

std::uint64_t counter(const SimulationResult& result, const std::string& name) {
  const auto it = result.counters.find("node." + name);
  return it == result.counters.end() ? 0 : it->second;
}

}  // namespace

Divergence find_divergence(const std::vector<store::MemoryStore*>& stores,
                           const std::vector<core::NodeId>& ids, const core::Ring& ring,
                           std::uint32_t replicas) {
  std::set<std::pair<core::Token, core::Key>> keys;
  for (store::MemoryStore* store : stores) collect_keys(*store, keys);
  std::map<core::NodeId, const store::MemoryStore*> by_id;
  for (std::size_t i = 0; i < stores.size() && i < ids.size(); ++i) by_id[ids[i]] = stores[i];

  Divergence divergence;
  divergence.keys = keys.size();
  std::vector<std::optional<std::string>> states;
  for (const auto& [token, key] : keys) {
    const std::vector<core::NodeId> owners = ring.preference_list(token, replicas);
    states.clear();
    for (const core::NodeId& owner : owners) {
      const auto store = by_id.find(owner);
      states.push_back(store == by_id.end() ? std::nullopt : store->second->committed_state(key));
    }
    bool equal = true;
    for (std::size_t i = 1; i < states.size() && equal; ++i) {
      equal = same_state(states[0], states[i]);
    }
    if (equal) continue;
    divergence.divergent += 1;
    if (divergence.examples.size() < check_examples_max) {
      divergence.examples.push_back(describe(key, owners, states));
    }
  }
  return divergence;
}

CheckResult check_convergence(const SimulationResult& result, const CheckSpec& spec) {
  const ConvergenceRecord& record = result.convergence;
  CheckResult check;
  check.name = "convergence";
  const std::uint64_t streamed = counter(result, "ae_keys_sent");
  const std::uint64_t different = counter(result, "ae_keys_different");
  check.counts = {{"divergent_keys", record.divergent_keys},
                  {"divergent_keys_at_heal", record.divergent_keys_at_heal},
                  {"keys_checked", record.keys},
                  {"samples", record.samples},
                  {"keys_streamed", streamed},
                  {"bytes_streamed", counter(result, "ae_bytes_sent")},
                  {"keys_different", different}};
  check.ratios["over_streaming_ratio"] =
      different == 0 ? 0.0 : static_cast<double>(streamed) / static_cast<double>(different);
  const bool converged = record.recorded && record.converged_us >= 0;
  if (converged) {
    check.ratios["converge_time_s"] =
        static_cast<double>(record.converged_us - record.heal_us) / 1e6;
  }
  check.examples = record.examples;
  check.ok = record.recorded && record.divergent_keys == 0;
  if (!record.recorded) check.examples.push_back("the run recorded no convergence samples");
  if (const auto bound = spec.max_of.find("converge_time_s"); bound != spec.max_of.end()) {
    check.ratios["max_converge_time_s"] = bound->second;
    if (!converged || check.ratios["converge_time_s"] > bound->second) {
      check.ok = false;
      if (check.examples.size() < check_examples_max) {
        check.examples.push_back("did not converge within " + std::to_string(bound->second) +
                                 "s of the final heal");
      }
    }
  }
  return check;
}

}  // namespace vigil::sim
