#include "sim/check_failure_detection.h"

// Theory of operation. The membership layer judges every peer from each node's own
// evidence (core/membership/membership.h), so the check looks at verdicts, not at messages: every
// transition a node judged, placed against what was true in the simulated world at that
// moment (who was crashed or paused, which links were cut: the fault timeline). Two
// questions, the two halves of a failure detector's quality (Chen, Toueg and Aguilera,
// "On the quality of service of failure detectors", 2002):
// - detection time: after a crash, how long until every live node holds the crashed node
//   suspect, and failed. "Every" is what matters to a Dynamo-style store: a coordinator
//   that still believes a dead replica alive waits for it (replication_timeout) before
//   covering it with a hint;
// - mistakes: a node that was up and reachable being marked suspect or failed. Verdicts
//   rest on evidence up to L old, so a node that was down at any moment of the last L
//   makes any verdict on it justified; a verdict across a partition is reported apart,
//   since no detector can tell a cut-off node from a dead one.
// The check knows the thresholds only to size L and to call a crash missed; the times it
// reports are measured, not derived from the settings.

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace vigil::sim {
namespace {

using core::PeerState;

constexpr std::int64_t end_of_time_us = std::numeric_limits<std::int64_t>::max();

std::string seconds_text(std::int64_t micros) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3fs", static_cast<double>(micros) / 1e6);
  return text;
}

// Whether `condition` held for some timeline entry overlapping [from_us, to_us].
template <typename Condition>
bool at_some_moment(const std::vector<FaultState>& timeline, std::int64_t from_us,
                    std::int64_t to_us, Condition condition) {
  for (std::size_t k = 0; k < timeline.size(); ++k) {
    const std::int64_t start = timeline[k].at_us;
    const std::int64_t end = k + 1 < timeline.size() ? timeline[k + 1].at_us : end_of_time_us;
    if (end <= from_us || start > to_us) continue;
    if (condition(timeline[k])) return true;
  }
  return false;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

struct Context {
  const SimulationResult& result;
  std::map<core::NodeId, std::uint32_t> index;
  std::vector<core::NodeId> ids;
  std::int64_t look_back_us = 0;
  std::int64_t end_us = 0;

  bool down_during(std::uint32_t node, std::int64_t from_us, std::int64_t to_us) const {
    return at_some_moment(result.fault_timeline, from_us, to_us, [&](const FaultState& state) {
      return node < state.down.size() && state.down[node];
    });
  }
  bool separated_during(std::uint32_t a, std::uint32_t b, std::int64_t from_us,
                        std::int64_t to_us) const {
    return at_some_moment(result.fault_timeline, from_us, to_us, [&](const FaultState& state) {
      return a < state.open.size() && b < state.open.size() && !state.open[a][b] &&
             !state.open[b][a];
    });
  }
  // When `node` last started (0, or its latest restart) at or before `at_us`.
  std::int64_t last_start(std::uint32_t node, std::int64_t at_us) const {
    std::int64_t start = 0;
    for (const CrashRecord& crash : result.crashes) {
      if (crash.node == node && crash.restarted_us >= 0 && crash.restarted_us <= at_us) {
        start = std::max(start, crash.restarted_us);
      }
    }
    return start;
  }
};

struct Verdicts {
  std::int64_t suspect_at_us = -1;  // -1: never within the crash
  std::int64_t failed_at_us = -1;
};

Verdicts verdicts_of(const Context& context, std::uint32_t observer, std::uint32_t peer,
                     std::int64_t crashed_us, std::int64_t until_us) {
  const core::NodeId& observer_id = context.ids[observer];
  const core::NodeId& peer_id = context.ids[peer];
  const std::int64_t started_us = context.last_start(observer, crashed_us);
  PeerState state = PeerState::alive;
  Verdicts verdicts;
  for (const PeerTransitionRecord& record : context.result.peer_transitions) {
    if (record.observer != observer_id || record.transition.peer != peer_id) continue;
    if (record.at_us < started_us) continue;  // an earlier life of the observer
    if (record.at_us <= crashed_us) {
      state = record.transition.to;
      continue;
    }
    if (record.at_us > until_us) break;
    const PeerState to = record.transition.to;
    if (to != PeerState::alive && verdicts.suspect_at_us < 0) verdicts.suspect_at_us = record.at_us;
    if (to == PeerState::failed && verdicts.failed_at_us < 0) verdicts.failed_at_us = record.at_us;
  }
  if (state != PeerState::alive) verdicts.suspect_at_us = crashed_us;
  if (state == PeerState::failed) verdicts.failed_at_us = crashed_us;
  return verdicts;
}

// Detection times, summed over crashes.
struct Detection {
  std::uint64_t crashes_suspected = 0;
  std::uint64_t crashes_failed = 0;
  std::uint64_t crashes_missed = 0;
  std::vector<double> suspect_times_s;
  std::vector<double> failed_times_s;
};

// One crash: how long until every live observer held it suspect and failed; a crash some
// observer did not mark failed within L is missed (an example is added to `check`).
void judge_crash(const Context& context, const CrashRecord& crash, Detection& detection,
                 CheckResult& check) {
  const std::int64_t until_us = crash.restarted_us >= 0 ? crash.restarted_us : context.end_us;
  std::int64_t suspect_max_us = 0, failed_max_us = 0;
  bool all_suspected = true, all_failed = true, any_observer = false;
  std::string late;
  for (std::uint32_t observer = 0; observer < context.ids.size(); ++observer) {
    if (observer == crash.node || context.down_during(observer, crash.crashed_us, until_us)) {
      continue;
    }
    any_observer = true;
    const Verdicts verdicts =
        verdicts_of(context, observer, crash.node, crash.crashed_us, until_us);
    if (verdicts.suspect_at_us < 0) {
      all_suspected = false;
    } else {
      suspect_max_us = std::max(suspect_max_us, verdicts.suspect_at_us - crash.crashed_us);
    }
    if (verdicts.failed_at_us < 0) {
      all_failed = false;
    } else {
      failed_max_us = std::max(failed_max_us, verdicts.failed_at_us - crash.crashed_us);
    }
    if (verdicts.failed_at_us < 0 ||
        verdicts.failed_at_us - crash.crashed_us > context.look_back_us) {
      late = context.ids[observer];
    }
  }
  if (!any_observer) return;
  if (all_suspected) {
    detection.crashes_suspected += 1;
    detection.suspect_times_s.push_back(static_cast<double>(suspect_max_us) / 1e6);
  }
  if (all_failed) {
    detection.crashes_failed += 1;
    detection.failed_times_s.push_back(static_cast<double>(failed_max_us) / 1e6);
  }
  if (until_us - crash.crashed_us >= context.look_back_us && !late.empty()) {
    detection.crashes_missed += 1;
    add_example(check, context.ids[crash.node] + " crashed at " + seconds_text(crash.crashed_us) +
                           " and was down until " + seconds_text(until_us) + ", but " + late +
                           " did not mark it " + "failed within " +
                           seconds_text(context.look_back_us));
  }
}

struct Mistakes {
  std::uint64_t false_suspicions = 0;
  std::uint64_t false_failures = 0;
  std::uint64_t partitioned_suspicions = 0;
  std::uint64_t partitioned_failures = 0;
};

// Mistakes, verdict by verdict (an example is added to `check` for each false one).
Mistakes count_mistakes(const Context& context, CheckResult& check) {
  Mistakes mistakes;
  for (const PeerTransitionRecord& record : context.result.peer_transitions) {
    const bool suspicion =
        record.transition.from == PeerState::alive && record.transition.to == PeerState::suspect;
    const bool failure =
        record.transition.from != PeerState::failed && record.transition.to == PeerState::failed;
    if (!suspicion && !failure) continue;
    const auto observer = context.index.find(record.observer);
    const auto peer = context.index.find(record.transition.peer);
    if (observer == context.index.end() || peer == context.index.end()) continue;
    const std::int64_t from_us = record.at_us - context.look_back_us;
    if (context.down_during(peer->second, from_us, record.at_us)) continue;
    if (context.separated_during(observer->second, peer->second, from_us, record.at_us)) {
      (suspicion ? mistakes.partitioned_suspicions : mistakes.partitioned_failures) += 1;
      continue;
    }
    (suspicion ? mistakes.false_suspicions : mistakes.false_failures) += 1;
    add_example(check, record.observer + " marked " + record.transition.peer + " " +
                           (suspicion ? "suspect" : "failed") + " at " +
                           seconds_text(record.at_us) + ": up, and not cut off from it both " +
                           "ways, for the " + seconds_text(context.look_back_us) + " before");
  }
  return mistakes;
}

void record_numbers(const SimulationResult& result, const Detection& detection,
                    const Mistakes& mistakes, CheckResult& check) {
  check.counts = {{"transitions", result.peer_transitions.size()},
                  {"crashes", result.crashes.size()},
                  {"crashes_suspected", detection.crashes_suspected},
                  {"crashes_failed", detection.crashes_failed},
                  {"crashes_missed", detection.crashes_missed},
                  {"false_suspicions", mistakes.false_suspicions},
                  {"false_failures", mistakes.false_failures},
                  {"partitioned_suspicions", mistakes.partitioned_suspicions},
                  {"partitioned_failures", mistakes.partitioned_failures}};
  const std::vector<double>& suspect_times_s = detection.suspect_times_s;
  const std::vector<double>& failed_times_s = detection.failed_times_s;
  if (!suspect_times_s.empty()) {
    check.ratios["suspect_time_s_max"] =
        *std::max_element(suspect_times_s.begin(), suspect_times_s.end());
    check.ratios["suspect_time_s_median"] = median(suspect_times_s);
  }
  if (!failed_times_s.empty()) {
    check.ratios["failed_time_s_max"] =
        *std::max_element(failed_times_s.begin(), failed_times_s.end());
    check.ratios["failed_time_s_median"] = median(failed_times_s);
  }
}

// The scenario's gates ("false_suspicions: {max: 0}"): a number over its max fails the check.
void apply_gates(const CheckSpec& spec, CheckResult& check) {
  for (const auto& [number, max] : spec.max_of) {
    double value = 0;
    if (const auto count = check.counts.find(number); count != check.counts.end()) {
      value = static_cast<double>(count->second);
    } else if (const auto ratio = check.ratios.find(number); ratio != check.ratios.end()) {
      value = ratio->second;
    } else {
      continue;  // a time not measured in this run
    }
    if (value > max) {
      check.ok = false;
      char text[160];
      std::snprintf(text, sizeof text, "%s is %g, over its max %g", number.c_str(), value, max);
      add_example(check, text);
    }
  }
}

}  // namespace

CheckResult check_failure_detection(const Scenario& scenario, const SimulationResult& result,
                                    const CheckSpec& spec) {
  CheckResult check;
  check.name = "failure_detection";
  Context context{result, {}, scenario_node_ids(scenario), 0, result.sim_time_us};
  for (std::uint32_t i = 0; i < context.ids.size(); ++i) context.index[context.ids[i]] = i;
  context.look_back_us = core::to_micros(scenario.config.failure_detector.failure_threshold) +
                         2 * core::to_micros(scenario.config.gossip_protocol.interval);

  Detection detection;
  for (const CrashRecord& crash : result.crashes) judge_crash(context, crash, detection, check);
  const Mistakes mistakes = count_mistakes(context, check);
  record_numbers(result, detection, mistakes, check);

  check.ok = detection.crashes_missed == 0;
  apply_gates(spec, check);
  return check;
}

}  // namespace vigil::sim
