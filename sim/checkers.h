#pragma once
// Checkers read a run's History and say what clients saw, in numbers (Jepsen's checkers).
// Each reports counts as well as a verdict, and each can fail: tests/sim/checkers_test.cpp
// shows every one failing on a hand-built history, and scenarios/lww-lost-writes.yaml shows
// no_lost_writes failing on a real run.
//
// Element model. In read_modify_write mode a value is a set of elements written as
// "e1,e2,e3": each put adds one unique element (Operation::element) to what it read. A read
// reflects an element when some sibling value contains it. In blind mode each put writes a
// unique value (Operation::element) and a read reflects it when some sibling equals it.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/history.h"
#include "sim/scenario.h"
#include "sim/simulator.h"

namespace vigil::sim {

struct CheckResult {
  std::string name;
  bool ok = true;
  std::map<std::string, std::uint64_t> counts;  // e.g. acknowledged, lost
  std::map<std::string, double> ratios;         // e.g. lost_fraction
  std::vector<std::string> examples;            // the first few offenders, for people
};

// How many offenders a check describes in `examples`.
inline constexpr std::size_t check_examples_max = 5;

// Adds `text` to result.examples while there are fewer than check_examples_max.
inline void add_example(CheckResult& result, std::string text) {
  if (result.examples.size() < check_examples_max) result.examples.push_back(std::move(text));
}

// After the final reads (Operation::final_read, at `all`, after healing): every element
// whose put was acknowledged (Outcome::ok) is present in the final read of its key, unless
// a delete of that key (not refused) was invoked after the put was invoked. In blind mode a
// value absent from the final read is lost unless a later write to the key (acknowledged or
// indeterminate, invoked after the put completed) may have replaced it.
// counts: acknowledged, lost, excused (superseded by a delete or later write),
//         keys_unverified (no answered final read of a key with acknowledged writes);
// ratios: lost_fraction = lost / acknowledged (0 when nothing was acknowledged).
// ok: lost == 0 and keys_unverified == 0 (a key that could not be read proves nothing).
// Calls `add` with every element the values of one read hold: each value in blind mode,
// each comma-separated element of each value in read-modify-write mode (empty elements
// skipped). The views point into `values`.
void for_each_element(const std::vector<core::Value>& values, WorkloadMode mode,
                      const std::function<void(std::string_view)>& add);

// `put_condition` if_absent (set mode, `condition: nx`): a put writes only over a key read
// without a live value, with that read's context, so no put ever supersedes another's
// value: only a delete (not refused, invoked after the put) excuses a missing one. Under
// siblings mode two NX writers that both saw the key absent are both kept; under
// last-write-wins one of them is lost, and this rule counts it.
// With `expired` (workload.expire; sim/check_deletes.h's expired_elements), an element an
// expiry lawfully removed by the final read is excused too, counted in `expired`.
CheckResult check_no_lost_writes(
    const History& history, WorkloadMode mode,
    core::WriteCondition put_condition = core::WriteCondition::always,
    const std::map<core::Key, std::set<std::string>>* expired = nullptr);

// A read (not a final read) invoked after a put to its key was acknowledged, that does
// not reflect that put. read_modify_write: unless a delete of the key, not refused, was
// invoked after the put and before the read completed. Blind: unless the read shows a
// value whose write did not complete before the put was invoked (it may be ordered after
// the put), or shows nothing and such a delete exists.
// counts: reads_checked (answered reads), stale (reads that missed at least one put).
// ok: stale <= max when `max` is given; always true otherwise (a number to watch: weak
// quorums and faults make stale reads legitimate).
CheckResult check_stale_reads(const History& history, WorkloadMode mode,
                              std::optional<std::uint64_t> max);

// Runs the scenario's checks, in the order it lists them. REQUIRES: every check reads only
// the history (no_lost_writes, stale_reads, read_your_writes: sim/check_sessions.h,
// no_resurrection: sim/check_deletes.h).
std::vector<CheckResult> run_checks(const Scenario& scenario, const History& history);
// The same for any check: those that read more than the history (hints_drained,
// availability, failure_detection, convergence, tombstones_collected) get the whole result.
std::vector<CheckResult> run_checks(const Scenario& scenario, const SimulationResult& result);

}  // namespace vigil::sim
