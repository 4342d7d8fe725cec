// hints_drained (see check_hints.h). Theory: the node counters say what the holders did
// (stored, delivered, expired, dropped); the snapshot after the quiesce says what is left
// (hints still held) and what the preference-list replicas still lack. The element model is
// the other checks' (checkers.h, for_each_element).

#include "sim/check_hints.h"

#include <set>
#include <string>
#include <string_view>

#include "sim/checkers.h"

namespace vigil::sim {

namespace {

std::set<std::string> elements_in(const std::vector<core::Value>& values, WorkloadMode mode) {
  std::set<std::string> elements;
  for_each_element(values, mode, [&elements](std::string_view e) { elements.emplace(e); });
  return elements;
}

std::uint64_t counter(const SimulationResult& result, const std::string& name) {
  const auto it = result.counters.find("node." + name);
  return it == result.counters.end() ? 0 : it->second;
}

}  // namespace

CheckResult check_hints_drained(const Scenario& scenario, const SimulationResult& result,
                                const CheckSpec& spec) {
  CheckResult check;
  check.name = "hints_drained";
  std::uint64_t pending = 0;
  for (const auto& [node, count] : result.hints_pending) {
    pending += count;
    if (count > 0) {
      if (check.examples.size() < check_examples_max) {
        check.examples.push_back(node + " still holds " + std::to_string(count) + " hints");
      }
    }
  }
  // Final reads by key, and the acknowledged puts' elements by key.
  std::map<core::Key, std::set<std::string>> final_elements;
  std::map<core::Key, std::vector<const Operation*>> puts;
  for (const Operation& op : result.history.operations()) {
    if (op.final_read && op.outcome == Outcome::ok) {
      final_elements[op.key] = elements_in(op.values, scenario.workload.mode);
    } else if (!op.final_read && op.op == core::ClientOp::put && op.outcome == Outcome::ok) {
      puts[op.key].push_back(&op);
    }
  }
  std::uint64_t missing = 0, keys_missing = 0;
  for (const auto& [key, replicas] : result.replica_values) {
    const auto final_read = final_elements.find(key);
    const auto key_puts = puts.find(key);
    if (final_read == final_elements.end() || key_puts == puts.end()) continue;
    bool any = false;
    for (const auto& [node, values] : replicas) {
      const std::set<std::string> held = elements_in(values, scenario.workload.mode);
      for (const Operation* put : key_puts->second) {
        if (!final_read->second.contains(put->element) || held.contains(put->element)) continue;
        ++missing;
        if (!any && check.examples.size() < check_examples_max) {
          check.examples.push_back("key " + key + ": replica " + node + " lacked '" +
                                   put->element + "' (put #" + std::to_string(put->index) +
                                   ") before the final reads");
        }
        any = true;
      }
    }
    keys_missing += any ? 1 : 0;
  }
  // Every hint a holder erased as delivered was answered ok by its target after the
  // target merged it, so no more hints are delivered than targets received (a duplicated
  // delivery is received twice). More: a hint was erased before its delivery was
  // acknowledged, and a lost delivery lost the hint.
  const std::uint64_t delivered = counter(result, "hints_delivered");
  const std::uint64_t received = counter(result, "hint_deliveries_received");
  const std::uint64_t unreceived = delivered > received ? delivered - received : 0;
  const std::uint64_t expired = counter(result, "hints_expired");
  const std::uint64_t dropped = counter(result, "hints_dropped_max_attempts");
  check.counts = {{"stored", counter(result, "hints_stored")},
                  {"delivered", counter(result, "hints_delivered")},
                  {"expired", expired},
                  {"dropped_max_attempts", dropped},
                  {"refused_backlog", counter(result, "hints_refused_backlog")},
                  {"corrupt", counter(result, "hints_corrupt")},
                  {"pending", pending},
                  {"writes_missing_on_replicas", missing},
                  {"keys_missing_on_replicas", keys_missing},
                  {"delivered_not_received", unreceived}};
  const bool expiry_as_expected = spec.expire ? expired + dropped > 0 : expired + dropped == 0;
  check.ok = pending == 0 && expiry_as_expected && unreceived == 0;
  if (unreceived > 0) {
    check.examples.push_back(std::to_string(unreceived) +
                             " hint(s) counted delivered that no target received");
  }
  return check;
}

}  // namespace vigil::sim
