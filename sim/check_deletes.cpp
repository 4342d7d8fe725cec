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
// tombstones_collected turns the end state the simulator recorded (simulation_hints.cpp)
// and the collectors' counters into numbers and a verdict.

#include "sim/check_deletes.h"

#include <algorithm>
#include <cstdio>
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
  const Operation* erase = nullptr;
  const Operation* context = nullptr;  // the (first) context read
  std::int64_t context_invoked_us = 0;  // the earliest invocation among the candidates
  Elements covered;
};

CoveringDelete covering(const Operation& erase, const std::vector<const Operation*>& reads,
                        WorkloadMode mode) {
  CoveringDelete cover;
  cover.erase = &erase;
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

std::uint64_t counter(const SimulationResult& result, const std::string& name) {
  const auto it = result.counters.find("node." + name);
  return it == result.counters.end() ? 0 : it->second;
}

}  // namespace

CheckResult check_no_resurrection(const History& history, WorkloadMode mode,
                                  core::SetContext set_context, bool final_reads_only) {
  CheckResult result;
  result.name = "no_resurrection";
  const bool plain_deletes =
      mode == WorkloadMode::set && set_context == core::SetContext::coordinator;
  std::uint64_t acknowledged = 0, indeterminate = 0, unchecked = 0;
  std::uint64_t reads_checked = 0, resurrections = 0, final_resurrections = 0;
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
        if (cover.erase->completed_us >= read->invoked_us) continue;
        if (!checked) seen = elements_of(*read, mode);
        checked = true;
        for (const std::string_view e : seen) {
          if (!cover.covered.contains(e)) continue;
          const auto carrying = carriers.find(e);
          if (carrying != carriers.end() && excused(carrying->second, cover, *read)) continue;
          const bool gated = read->final_read || !final_reads_only;
          if (!resurrected && gated && result.examples.size() < check_examples_max) {
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
                   {"reads_checked", reads_checked},
                   {"resurrections", resurrections},
                   {"final_resurrections", final_resurrections}};
  result.ok = (final_reads_only ? final_resurrections : resurrections) == 0;
  return result;
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
