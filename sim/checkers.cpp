#include "sim/checkers.h"

#include "sim/check_availability.h"
#include "sim/check_counters.h"
#include "sim/check_latency.h"
#include "sim/check_convergence.h"
#include "sim/check_deletes.h"
#include "sim/check_failure_detection.h"
#include "sim/check_hints.h"
#include "sim/check_sessions.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

// Theory of operation. The checks follow Jepsen's set workload (Kingsbury, "Jepsen: Riak",
// 2013): clients add unique elements to sets kept under a few keys; with last-write-wins
// two concurrent read-modify-write cycles each write back "what I read + my element", and
// one overwrites the other, so an acknowledged element disappears. Siblings keep both
// writes, the next reader merges them, and nothing is lost. Because every element is
// unique, "was this acknowledged write kept?" is a membership test, with no need to
// linearise the history.
//
// A check must never blame the system for what the history allows, so each rule excuses a
// write that a later operation may legitimately have removed: a delete in
// read_modify_write mode (a later put keeps the elements it read), a later write in blind
// mode (a blind put replaces the value). Operations that were refused (Outcome::failed)
// wrote nothing and excuse nothing; indeterminate ones may have taken effect, so they
// excuse, but never count as acknowledged.
//
// Blind mode. no_lost_writes follows the rule of issue 3: a blind write is lost when its
// value is gone and no write was invoked after it completed -- so a write silently replaced
// by a *concurrent* one counts as lost, which is exactly what last-write-wins does and
// siblings do not. stale_reads is stricter about blame: a read is stale only when every
// value it shows was written by an operation that completed before the missed put was
// invoked (a concurrent write may legitimately be ordered after the put).
//
// Set mode (plain SETs, scenario.h): a SET replaces the value, and concurrent SETs may be
// ordered either way (a register: the coordinator applies them in arrival order). A SET is
// lost when its value is not in the final read although none of the writes the final read
// shows (or, when it shows nothing, none of the deletes) could be ordered after it: each
// of them completed before the SET was invoked.
//
// Cost: operations are grouped by key, and each read's values are split once, so a check
// is linear in the size of the values read plus, per read, the puts acknowledged before it.

namespace vigil::sim {

void for_each_element(const std::vector<core::Value>& values, WorkloadMode mode,
                      const std::function<void(std::string_view)>& add) {
  for (const core::Value& value : values) {
    if (writes_own_value(mode)) {
      add(value);
      continue;
    }
    std::string_view rest = value;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      const std::string_view element = rest.substr(0, comma);
      if (!element.empty()) add(element);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
}

namespace {

using Elements = std::unordered_set<std::string_view>;

bool is_write(const Operation& op) {
  return op.op == core::ClientOp::put || op.op == core::ClientOp::del;
}

bool is_acknowledged_put(const Operation& op) {
  return op.op == core::ClientOp::put && op.outcome == Outcome::ok && !op.final_read;
}

// A read that answered: with values, or with "no such key" (which reflects nothing).
bool is_answered_read(const Operation& op) {
  return op.op == core::ClientOp::get &&
         (op.outcome == Outcome::ok || op.code == core::Code::not_found);
}

// Whether `op` may remove an earlier put's element for the reads after it.
bool supersedes(const Operation& op, WorkloadMode mode) {
  if (op.final_read || op.outcome == Outcome::failed) return false;
  return writes_own_value(mode) ? is_write(op) : op.op == core::ClientOp::del;
}

Elements elements_of(const Operation& read, WorkloadMode mode) {
  Elements elements;
  for_each_element(read.values, mode, [&elements](std::string_view e) { elements.insert(e); });
  return elements;
}

std::string seconds(std::int64_t micros) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3fs", static_cast<double>(micros) / 1e6);
  return text;
}

constexpr std::int64_t never_us = std::numeric_limits<std::int64_t>::max();

// The operations of one key, in invocation order, with what the checks ask of them.
struct KeyOperations {
  std::vector<const Operation*> operations;
  // For operations[i]: the earliest and the latest invocation time of a superseding
  // operation invoked after it (by index); never_us and -1 when there is none.
  std::vector<std::int64_t> superseded_first_us;
  std::vector<std::int64_t> superseded_last_us;
};

std::map<core::Key, KeyOperations> by_key(const History& history, WorkloadMode mode) {
  std::map<core::Key, KeyOperations> keys;
  for (const Operation& op : history.operations()) keys[op.key].operations.push_back(&op);
  for (auto& [key, ops] : keys) {
    std::stable_sort(ops.operations.begin(), ops.operations.end(),
                     [](const Operation* a, const Operation* b) { return a->index < b->index; });
    ops.superseded_first_us.assign(ops.operations.size(), never_us);
    ops.superseded_last_us.assign(ops.operations.size(), -1);
    std::int64_t first = never_us, last = -1;
    for (std::size_t i = ops.operations.size(); i-- > 0;) {
      ops.superseded_first_us[i] = first;
      ops.superseded_last_us[i] = last;
      const Operation& op = *ops.operations[i];
      if (supersedes(op, mode)) {
        first = std::min(first, op.invoked_us);
        last = std::max(last, op.invoked_us);
      }
    }
  }
  return keys;
}

// Blind mode: the put (or delete) that wrote each value of a key.
using Writers = std::unordered_map<std::string_view, const Operation*>;

Writers writers_of(const KeyOperations& ops) {
  Writers writers;
  for (const Operation* op : ops.operations) {
    if (op->op == core::ClientOp::put && supersedes(*op, WorkloadMode::blind)) {
      writers.emplace(op->element, op);
    }
  }
  return writers;
}

std::int64_t end_us(const Operation& op) {
  return op.completed_us < 0 ? never_us : op.completed_us;
}

// Blind mode: the latest completion among the writes a read shows (the deletes invoked
// before it completed, when it shows nothing). A put invoked before that write completed
// may be ordered before it, so the read does not miss that put; -1 when nothing is shown.
std::int64_t newest_write_end_us(const KeyOperations& ops, const Operation& read,
                                 const Writers& writers) {
  std::int64_t newest = -1;
  for (const core::Value& value : read.values) {
    const auto writer = writers.find(value);
    if (writer != writers.end()) newest = std::max(newest, end_us(*writer->second));
  }
  if (!read.values.empty()) return newest;
  for (const Operation* op : ops.operations) {
    if (op->op == core::ClientOp::del && supersedes(*op, WorkloadMode::blind) &&
        op->invoked_us < read.completed_us) {
      newest = std::max(newest, end_us(*op));
    }
  }
  return newest;
}

}  // namespace

namespace {

// For each operation of `ops`: whether a delete that may have taken effect (not refused,
// not a final read) was invoked after it.
std::vector<bool> deleted_after(const KeyOperations& ops) {
  std::vector<bool> after(ops.operations.size(), false);
  bool seen = false;
  for (std::size_t i = ops.operations.size(); i-- > 0;) {
    after[i] = seen;
    const Operation& op = *ops.operations[i];
    seen = seen || (op.op == core::ClientOp::del && !op.final_read &&
                    op.outcome != Outcome::failed);
  }
  return after;
}

}  // namespace

CheckResult check_no_lost_writes(const History& history, WorkloadMode mode,
                                 core::WriteCondition put_condition,
                                 const std::map<core::Key, std::set<std::string>>* expired) {
  const bool nx = mode == WorkloadMode::set && put_condition == core::WriteCondition::if_absent;
  CheckResult result;
  result.name = "no_lost_writes";
  std::uint64_t acknowledged = 0, lost = 0, excused = 0, keys_unverified = 0, expired_count = 0;
  for (const auto& [key, ops] : by_key(history, mode)) {
    const Operation* final_read = nullptr;
    for (const Operation* op : ops.operations) {
      if (op->final_read && is_answered_read(*op)) final_read = op;
    }
    const Elements kept = final_read ? elements_of(*final_read, mode) : Elements{};
    // set: the latest end among the writes whose values survive (or the deletes).
    const std::int64_t survivor_end_us =
        mode == WorkloadMode::set && final_read != nullptr
            ? newest_write_end_us(ops, *final_read, writers_of(ops))
            : -1;
    const std::vector<bool> deleted = nx ? deleted_after(ops) : std::vector<bool>{};
    const std::set<std::string>* gone = nullptr;  // removed by an expiry (check_deletes.h)
    if (expired != nullptr) {
      const auto found = expired->find(key);
      if (found != expired->end()) gone = &found->second;
    }
    bool unverified = false;
    for (std::size_t i = 0; i < ops.operations.size(); ++i) {
      const Operation& put = *ops.operations[i];
      if (!is_acknowledged_put(put)) continue;
      ++acknowledged;
      // rmw: a delete invoked after the put was invoked; blind: a write invoked after the
      // put completed (one invoked before could have been ordered either side of it).
      // set: a surviving write (or delete) may be ordered after it.
      // nx: only a delete (see checkers.h).
      const bool superseded =
          nx ? deleted[i] && !kept.contains(put.element)
          : mode == WorkloadMode::set
              ? !kept.contains(put.element) && survivor_end_us > put.invoked_us
          : writes_own_value(mode)  ? ops.superseded_last_us[i] >= put.completed_us
                                    : ops.superseded_last_us[i] >= 0;
      if (superseded) {
        ++excused;
      } else if (gone != nullptr && !kept.contains(put.element) && gone->contains(put.element)) {
        ++expired_count;
      } else if (final_read == nullptr) {
        unverified = true;
      } else if (!kept.contains(put.element)) {
        ++lost;
        add_example(result, "key " + key + ": '" + put.element + "' (put #" +
                                std::to_string(put.index) + ", acknowledged at " +
                                seconds(put.completed_us) + ") is not in the final read");
      }
    }
    if (unverified) {
      ++keys_unverified;
      add_example(result, "key " + key + ": acknowledged writes but no answered final read");
    }
  }
  result.counts = {{"acknowledged", acknowledged},
                   {"lost", lost},
                   {"excused", excused},
                   {"expired", expired_count},
                   {"keys_unverified", keys_unverified}};
  result.ratios = {{"lost_fraction", acknowledged == 0 ? 0.0
                                                       : static_cast<double>(lost) /
                                                             static_cast<double>(acknowledged)}};
  result.ok = lost == 0 && keys_unverified == 0;
  return result;
}

CheckResult check_stale_reads(const History& history, WorkloadMode mode,
                              std::optional<std::uint64_t> max) {
  CheckResult result;
  result.name = "stale_reads";
  std::uint64_t reads_checked = 0, stale = 0;
  for (const auto& [key, ops] : by_key(history, mode)) {
    // Acknowledged puts by completion time, each with its place in `ops`.
    std::vector<std::size_t> puts;
    for (std::size_t i = 0; i < ops.operations.size(); ++i) {
      if (is_acknowledged_put(*ops.operations[i])) puts.push_back(i);
    }
    // An init-capture, not [&]: clang 14 cannot capture a structured binding (C++20 can).
    std::stable_sort(puts.begin(), puts.end(),
                     [&operations = ops.operations](std::size_t a, std::size_t b) {
                       return operations[a]->completed_us < operations[b]->completed_us;
                     });
    const Writers writers = writes_own_value(mode) ? writers_of(ops) : Writers{};
    for (const Operation* read : ops.operations) {
      if (read->final_read || !is_answered_read(*read)) continue;
      ++reads_checked;
      const Elements seen = elements_of(*read, mode);
      const std::int64_t newest_end_us =
          writes_own_value(mode) ? newest_write_end_us(ops, *read, writers) : -1;
      for (const std::size_t i : puts) {
        const Operation& put = *ops.operations[i];
        if (put.completed_us >= read->invoked_us) break;
        if (seen.contains(put.element)) continue;
        if (mode == WorkloadMode::read_modify_write) {
          if (ops.superseded_first_us[i] < read->completed_us) continue;
        } else if (newest_end_us > put.invoked_us) {
          continue;  // the read shows a write that may be ordered after the put
        }
        ++stale;
        add_example(result, "key " + key + ": read #" + std::to_string(read->index) + " at " +
                                seconds(read->invoked_us) + " missed '" + put.element +
                                "' (put #" + std::to_string(put.index) + ", acknowledged at " +
                                seconds(put.completed_us) + ")");
        break;
      }
    }
  }
  result.counts = {{"reads_checked", reads_checked}, {"stale", stale}};
  if (max) result.counts["max"] = *max;
  result.ok = !max || stale <= *max;
  return result;
}

namespace {

CheckResult run_history_check(const Scenario& scenario, const History& history,
                              const CheckSpec& check) {
  if (check.name == "no_lost_writes") {
    if (scenario.workload.expire_fraction > 0) {
      const auto expired = expired_elements(history, scenario.workload.mode,
                                            scenario.workload.set_context,
                                            expiry_slack_us(scenario));
      return check_no_lost_writes(history, scenario.workload.mode,
                                  scenario.workload.put_condition, &expired);
    }
    return check_no_lost_writes(history, scenario.workload.mode, scenario.workload.put_condition);
  }
  if (check.name == "no_resurrection") {
    return check_no_resurrection(history, scenario.workload.mode, scenario.workload.set_context,
                                 check.final_reads_only, expiry_slack_us(scenario));
  }
  if (check.name == "read_your_writes") {
    return check_read_your_writes(history, scenario.workload.mode, check.max);
  }
  VIGIL_ASSERT(check.name == "stale_reads",
               "run_checks(history) of a check that needs the whole result: " + check.name);
  return check_stale_reads(history, scenario.workload.mode, check.max);
}

}  // namespace

std::vector<CheckResult> run_checks(const Scenario& scenario, const History& history) {
  std::vector<CheckResult> results;
  for (const CheckSpec& check : scenario.checks) {
    results.push_back(run_history_check(scenario, history, check));
  }
  return results;
}

std::vector<CheckResult> run_checks(const Scenario& scenario, const SimulationResult& result) {
  std::vector<CheckResult> results;
  for (const CheckSpec& check : scenario.checks) {
    if (check.name == "hints_drained") {
      results.push_back(check_hints_drained(scenario, result, check));
    } else if (check.name == "availability") {
      results.push_back(check_availability(scenario, result, check));
    } else if (check.name == "failure_detection") {
      results.push_back(check_failure_detection(scenario, result, check));
    } else if (check.name == "convergence") {
      results.push_back(check_convergence(result, check));
    } else if (check.name == "tombstones_collected") {
      results.push_back(check_tombstones_collected(result, check));
    } else if (check.name == "latency") {
      results.push_back(check_latency(result, check));
    } else if (check.name == "counter_sums") {
      results.push_back(check_counter_sums(result));
    } else {
      results.push_back(run_history_check(scenario, result.history, check));
    }
  }
  return results;
}

}  // namespace vigil::sim
