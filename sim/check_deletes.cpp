// Theory of operation. no_resurrection is the delete half of Jepsen's set test: elements
// are unique, so "was this deleted value read again?" is a membership test, as "was this
// acknowledged write kept?" is for no_lost_writes. What a delete removed is not in the
// delete itself (a DEL carries a context, not a value) but in the read whose context it
// carries, so the check first pairs every delete, and every read_modify_write put, with its
// context read. The failure it exists for is the one Riak's early reaper and Cassandra's
// gc_grace_seconds produced (docs/deletes.md): a tombstone dropped while one replica still
// held the old value, which read repair or anti-entropy then spread back.
//
// It must not blame the store for what Dynamo allows: a put concurrent with the delete
// keeps what it read as a sibling of the tombstone (Dynamo 4.4), so its elements may come
// back lawfully. The excuse is as narrow as real time allows: the put's context read was
// invoked before the delete completed and the put completed after the delete's context
// read was invoked, so neither can be ordered wholly before the other.
//
// Cost: operations are grouped by key, each context read is found among one client's
// reads of one key, and each checked read is compared with the acknowledged deletes that
// completed before it was invoked.
//
// Expiry (docs/expiry.md). An acknowledged put with an expiry is a delete that takes effect
// at its expiry: it covers its own element and (read_modify_write, or set mode under
// set_context: read) what its context read showed, and reads invoked after its expiry
// has surely passed on every node (completed + expiry + the scenario's clock slack) must
// not show them, unless another put carries them (as for a delete). That is the failure
// Riak's expiry had: a replica that missed the expiring write brought the old value back
// once the others had dropped it.
//
// tombstones_collected turns the end state the simulator recorded (simulation_hints.cpp)
// and the collectors' counters into numbers and a verdict.

#include "sim/check_deletes.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace vigil::sim {
namespace {

using Elements = std::unordered_set<std::string_view>;

bool is_answered_read(const Operation& op) {
  return op.op == core::ClientOp::get &&
         (op.outcome == Outcome::ok || op.code == core::Code::not_found);
}

std::string seconds(std::int64_t micros) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3fs", static_cast<double>(micros) / 1e6);
  return text;
}

Elements elements_of(const Operation& read, WorkloadMode mode) {
  Elements elements;
  for_each_element(read.values, mode, [&elements](std::string_view e) { elements.insert(e); });
  return elements;
}

// One key's operations, in invocation order, and each client's answered non-final reads.
struct KeyHistory {
  std::vector<const Operation*> operations;
  std::map<std::uint32_t, std::vector<const Operation*>> reads_by_client;
};

std::map<core::Key, KeyHistory> by_key(const History& history) {
  std::map<core::Key, KeyHistory> keys;
  for (const Operation& op : history.operations()) {
    KeyHistory& key = keys[op.key];
    key.operations.push_back(&op);
    if (!op.final_read && is_answered_read(op)) key.reads_by_client[op.client].push_back(&op);
  }
  for (auto& [key, ops] : keys) {
    const auto by_index = [](const Operation* a, const Operation* b) {
      return a->index < b->index;
    };
    std::stable_sort(ops.operations.begin(), ops.operations.end(), by_index);
    for (auto& [client, reads] : ops.reads_by_client) {
      std::stable_sort(reads.begin(), reads.end(), by_index);
    }
  }
  return keys;
}

// The context reads of `write`: the same client's answered reads of the key, invoked
// before it, that completed last at or before its invocation. Usually one; several only
// when two of the client's reads of the key completed in the same microsecond (then which
// one this write followed is unknown).
std::vector<const Operation*> context_reads(const KeyHistory& key, const Operation& write) {
  std::vector<const Operation*> found;
  const auto reads = key.reads_by_client.find(write.client);
  if (reads == key.reads_by_client.end()) return found;
  std::int64_t latest_us = -1;
  for (const Operation* read : reads->second) {
    if (read->index >= write.index) break;
    if (read->completed_us < 0 || read->completed_us > write.invoked_us) continue;
    if (read->completed_us > latest_us) {
      latest_us = read->completed_us;
      found.clear();
    }
    if (read->completed_us == latest_us) found.push_back(read);
  }
  return found;
}

// What an acknowledged delete covered: the elements every candidate context read showed
// (the intersection: with two candidates, only what both showed is surely covered).
struct CoveringDelete {
  const Operation* erase = nullptr;     // the delete, or the expiring put
  const Operation* context = nullptr;   // the (first) context read; null: none (plain put)
  std::int64_t context_invoked_us = 0;  // the earliest invocation among the candidates
  std::int64_t effective_us = 0;        // reads invoked after this are checked
  Elements covered;
};

CoveringDelete covering(const Operation& erase, const std::vector<const Operation*>& reads,
                        WorkloadMode mode) {
  CoveringDelete cover;
  cover.erase = &erase;
  cover.effective_us = erase.completed_us;
  cover.context = reads.front();
  cover.covered = elements_of(*reads.front(), mode);
  cover.context_invoked_us = reads.front()->invoked_us;
  for (const Operation* read : reads) {
    cover.context_invoked_us = std::min(cover.context_invoked_us, read->invoked_us);
    if (read == reads.front()) continue;
    const Elements other = elements_of(*read, mode);
    std::erase_if(cover.covered, [&other](std::string_view e) { return !other.contains(e); });
  }
  return cover;
}

// A put that may write an element again: the element's own put, or (read_modify_write) a
// put whose context read showed it.
using Carriers = std::unordered_map<std::string_view, std::vector<const Operation*>>;

// Whether a put that may write e explains `read` showing e after `cover`'s delete: it was
// not over before the delete's context read began (or may land late: indeterminate,
// pending), and it was invoked before the read completed (so the read may see it).
bool excused(const std::vector<const Operation*>& carriers, const CoveringDelete& cover,
             const Operation& read) {
  for (const Operation* put : carriers) {
    if (put == cover.erase) continue;  // an expiring put does not excuse its own expiry
    const bool after_delete_context = put->completed_us < 0 ||
                                      put->outcome == Outcome::indeterminate ||
                                      put->completed_us > cover.context_invoked_us;
    if (after_delete_context && put->invoked_us < read.completed_us) return true;
  }
  return false;
}

// Keys whose last write was an acknowledged delete: the write that completed last among
// those not refused (final reads aside) is a delete, and no write is still pending. Those
// keys end as tombstones unless collected; a key written again after its delete needs no
// collection (the write replaced the tombstone). A key whose final read found a value did
// not end deleted, whatever completed last: a put concurrent with that delete (the
// delete's context did not cover it) survives as a sibling (deletes-crash seed 26, after
// issue 16's router shifted that run's schedule).
std::uint64_t keys_ending_deleted(const History& history) {
  std::map<core::Key, const Operation*> last;
  std::set<core::Key> pending;
  std::set<core::Key> alive_at_end;
  for (const Operation& op : history.operations()) {
    if (op.final_read && op.outcome == Outcome::ok && !op.values.empty()) {
      alive_at_end.insert(op.key);
    }
    if (op.final_read || op.op == core::ClientOp::get || op.outcome == Outcome::failed) continue;
    if (op.completed_us < 0) {
      pending.insert(op.key);
      continue;
    }
    const Operation*& latest = last[op.key];
    if (latest == nullptr || op.completed_us >= latest->completed_us) latest = &op;
  }
  std::uint64_t keys = 0;
  for (const auto& [key, op] : last) {
    if (op->op == core::ClientOp::del && op->outcome == Outcome::ok && !pending.contains(key) &&
        !alive_at_end.contains(key)) {
      ++keys;
    }
  }
  return keys;
}

// An acknowledged expiring put as the delete its expiry is: what it covers, from when.
CoveringDelete expiring_cover(const Operation& put, const std::vector<const Operation*>& reads,
                              WorkloadMode mode, std::int64_t slack_us) {
  CoveringDelete cover;
  if (!reads.empty()) cover = covering(put, reads, mode);
  cover.erase = &put;
  if (reads.empty()) cover.context_invoked_us = put.invoked_us;
  cover.covered.insert(put.element);
  cover.effective_us = put.completed_us + put.expires_in_us + slack_us;
  return cover;
}

// The context reads that say what an expiring put covered besides its own element.
std::vector<const Operation*> expiring_context(const KeyHistory& key, const Operation& put,
                                               WorkloadMode mode, core::SetContext set_context) {
  const bool plain = mode == WorkloadMode::set && set_context == core::SetContext::coordinator;
  if (plain || mode == WorkloadMode::blind) return {};
  return context_reads(key, put);
}

std::uint64_t counter(const SimulationResult& result, const std::string& name) {
  const auto it = result.counters.find("node." + name);
  return it == result.counters.end() ? 0 : it->second;
}

}  // namespace

CheckResult check_no_resurrection(const History& history, WorkloadMode mode,
                                  core::SetContext set_context, bool final_reads_only,
                                  std::int64_t expiry_slack_us) {
  CheckResult result;
  result.name = "no_resurrection";
  const bool plain_deletes =
      mode == WorkloadMode::set && set_context == core::SetContext::coordinator;
  std::uint64_t acknowledged = 0, indeterminate = 0, unchecked = 0;
  std::uint64_t reads_checked = 0, resurrections = 0, final_resurrections = 0;
  std::uint64_t expiring = 0;
  for (const auto& [key, ops] : by_key(history)) {
    std::vector<CoveringDelete> deletes;  // acknowledged, in invocation order
    Carriers carriers;
    for (const Operation* op : ops.operations) {
      if (op->final_read || op->outcome == Outcome::failed) continue;
      if (op->op == core::ClientOp::del) {
        const auto reads = plain_deletes ? std::vector<const Operation*>{}
                                         : context_reads(ops, *op);
        if (reads.empty()) {
          ++unchecked;
        } else if (op->outcome == Outcome::indeterminate) {
          ++indeterminate;
        } else {
          ++acknowledged;
          deletes.push_back(covering(*op, reads, mode));
        }
      } else if (op->op == core::ClientOp::put) {
        if (op->expires_in_us > 0 && op->outcome == Outcome::ok) {
          ++expiring;
          deletes.push_back(expiring_cover(*op, expiring_context(ops, *op, mode, set_context),
                                           mode, expiry_slack_us));
        }
        // The element's own put, still in flight when the delete's context read showed
        // it, may land again after the delete (a coordinator's retry is a new version).
        carriers[op->element].push_back(op);
        if (mode != WorkloadMode::read_modify_write) continue;
        for (const Operation* read : context_reads(ops, *op)) {
          for_each_element(read->values, mode,
                           [&](std::string_view e) { carriers[e].push_back(op); });
        }
      }
    }
    if (deletes.empty()) continue;
    for (const Operation* read : ops.operations) {
      if (!is_answered_read(*read)) continue;
      bool checked = false, resurrected = false;
      Elements seen;
      for (const CoveringDelete& cover : deletes) {
        if (cover.effective_us >= read->invoked_us) continue;
        if (!checked) seen = elements_of(*read, mode);
        checked = true;
        for (const std::string_view e : seen) {
          if (!cover.covered.contains(e)) continue;
          const auto carrying = carriers.find(e);
          if (carrying != carriers.end() && excused(carrying->second, cover, *read)) continue;
          const bool gated = read->final_read || !final_reads_only;
          if (!resurrected && gated && result.examples.size() < check_examples_max &&
              cover.erase->op == core::ClientOp::put) {
            result.examples.push_back(
                "key " + key + ": " + (read->final_read ? "final read #" : "read #") +
                std::to_string(read->index) + " at " + seconds(read->invoked_us) + " shows '" +
                std::string(e) + "', expired with put #" + std::to_string(cover.erase->index) +
                " (acknowledged at " + seconds(cover.erase->completed_us) + ", expiring " +
                seconds(cover.erase->expires_in_us) + " later)");
          } else if (!resurrected && gated && result.examples.size() < check_examples_max) {
            result.examples.push_back(
                "key " + key + ": " + (read->final_read ? "final read #" : "read #") +
                std::to_string(read->index) + " at " + seconds(read->invoked_us) + " shows '" +
                std::string(e) + "', deleted by #" + std::to_string(cover.erase->index) +
                " (acknowledged at " + seconds(cover.erase->completed_us) + "; its read #" +
                std::to_string(cover.context->index) + " at " +
                seconds(cover.context->invoked_us) + " showed it)");
          }
          resurrected = true;
          break;
        }
        if (resurrected) break;
      }
      reads_checked += checked ? 1 : 0;
      resurrections += resurrected ? 1 : 0;
      final_resurrections += resurrected && read->final_read ? 1 : 0;
    }
  }
  result.counts = {{"deletes_acknowledged", acknowledged},
                   {"deletes_indeterminate", indeterminate},
                   {"deletes_unchecked", unchecked},
                   {"expiring_puts_acknowledged", expiring},
                   {"reads_checked", reads_checked},
                   {"resurrections", resurrections},
                   {"final_resurrections", final_resurrections}};
  result.ok = (final_reads_only ? final_resurrections : resurrections) == 0;
  return result;
}

std::map<core::Key, std::set<std::string>> expired_elements(const History& history,
                                                            WorkloadMode mode,
                                                            core::SetContext set_context,
                                                            std::int64_t slack_us) {
  std::map<core::Key, std::set<std::string>> expired;
  for (const auto& [key, ops] : by_key(history)) {
    std::int64_t final_read_us = -1;
    for (const Operation* op : ops.operations) {
      if (op->final_read && is_answered_read(*op)) final_read_us = op->invoked_us;
    }
    if (final_read_us < 0) continue;
    // Each element's carriers: the expiring ones (with their cover) and the latest
    // invocation of one without an expiry.
    std::unordered_map<std::string_view, std::int64_t> plain_invoked;
    std::vector<CoveringDelete> covers;
    for (const Operation* op : ops.operations) {
      if (op->final_read || op->op != core::ClientOp::put || op->outcome == Outcome::failed) {
        continue;
      }
      const std::vector<const Operation*> reads = expiring_context(ops, *op, mode, set_context);
      if (op->expires_in_us > 0) {
        if (op->completed_us < 0) continue;  // pending: it may still land, unexpired
        covers.push_back(expiring_cover(*op, reads, mode, slack_us));
        continue;
      }
      const auto note = [&plain_invoked, op](std::string_view e) {
        std::int64_t& latest = plain_invoked.try_emplace(e, -1).first->second;
        latest = std::max(latest, op->invoked_us);
      };
      note(op->element);
      for (const Operation* read : reads) for_each_element(read->values, mode, note);
    }
    for (const CoveringDelete& cover : covers) {
      if (cover.effective_us >= final_read_us) continue;
      for (const std::string_view e : cover.covered) {
        const auto plain = plain_invoked.find(e);
        if (plain != plain_invoked.end() && plain->second > cover.erase->completed_us) continue;
        expired[key].insert(std::string(e));
      }
    }
  }
  return expired;
}

std::int64_t expiry_slack_us(const Scenario& scenario) {
  const auto micros = [](Duration d) {
    return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  };
  const std::int64_t span_us = micros(scenario.duration + scenario.quiesce);
  std::map<NodeId, std::int64_t> offset_us;
  for (const Fault& fault : scenario.faults) {
    if (fault.kind != FaultKind::clock) continue;
    offset_us[fault.node] += std::abs(micros(fault.skew)) + std::abs(micros(fault.jump)) +
                             static_cast<std::int64_t>(std::fabs(fault.drift) *
                                                       static_cast<double>(span_us));
  }
  std::int64_t worst_us = 0;
  for (const auto& [node, offset] : offset_us) worst_us = std::max(worst_us, offset);
  constexpr std::int64_t margin_us = 1000;  // the clocks' microsecond rounding, and then some
  return 2 * worst_us + margin_us;
}

CheckResult check_tombstones_collected(const SimulationResult& result, const CheckSpec& spec) {
  CheckResult check;
  check.name = "tombstones_collected";
  const TombstoneRecord& record = result.tombstones;
  std::uint64_t deletes_acknowledged = 0;
  for (const Operation& op : result.history.operations()) {
    if (op.op == core::ClientOp::del && op.outcome == Outcome::ok) ++deletes_acknowledged;
  }
  const std::uint64_t ending_deleted = keys_ending_deleted(result.history);
  const std::uint64_t collected = counter(result, "tombstones_collected");
  const std::uint64_t max_held = spec.max.value_or(0);
  check.counts = {{"collected", collected},
                  {"held_at_end", record.held},
                  {"keys_held_at_end", record.keys_held},
                  {"records_at_end", record.records},
                  {"rounds_started", counter(result, "tombstone_rounds_started")},
                  {"refused_replica_differs",
                   counter(result, "tombstones_refused_replica_differs")},
                  {"refused_no_answer", counter(result, "tombstones_refused_no_answer")},
                  {"refused_changed", counter(result, "tombstones_refused_changed")},
                  {"deletes_acknowledged", deletes_acknowledged},
                  {"keys_ending_deleted", ending_deleted},
                  {"max_held", max_held}};
  for (const std::string& example : record.examples) {
    if (check.examples.size() < check_examples_max) {
      check.examples.push_back("tombstone still held: " + example);
    }
  }
  check.ok = record.recorded && record.held <= max_held &&
             (ending_deleted == 0 || collected > 0);
  if (!record.recorded) check.examples.push_back("the run recorded no store end state");
  if (ending_deleted > 0 && collected == 0 && check.examples.size() < check_examples_max) {
    check.examples.push_back(std::to_string(ending_deleted) +
                             " keys ended deleted, no tombstone collected");
  }
  return check;
}

}  // namespace vigil::sim
