// Theory of operation. Operations are grouped by (key, client, node): one connection's
// commands on one key, in invocation order. Walking them in that order, each answered read
// is compared with every acknowledged put before it in the group (few: one client's puts of
// one key); a miss is excused by deletes of the key from anyone (checked over the key's
// whole history) or, in blind mode, by a later put's value being what the read shows.

#include "sim/check_sessions.h"

#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_set>
#include <vector>

namespace vigil::sim {
namespace {

bool is_answered_read(const Operation& op) {
  return op.op == core::ClientOp::get && !op.final_read &&
         (op.outcome == Outcome::ok || op.code == core::Code::not_found);
}

bool is_acknowledged_put(const Operation& op) {
  return op.op == core::ClientOp::put && op.outcome == Outcome::ok && !op.final_read;
}

std::string seconds(std::int64_t micros) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3fs", static_cast<double>(micros) / 1e6);
  return text;
}

struct KeyWrites {
  std::vector<const Operation*> deletes;           // not refused
  std::map<std::string_view, std::uint64_t> puts;  // blind: value -> index of its put
};

}  // namespace

CheckResult check_read_your_writes(const History& history, WorkloadMode mode,
                                   std::optional<std::uint64_t> max) {
  CheckResult result;
  result.name = "read_your_writes";
  std::map<core::Key, KeyWrites> writes;
  using Session = std::tuple<core::Key, std::uint32_t, core::NodeId>;
  std::map<Session, std::vector<const Operation*>> sessions;
  for (const Operation& op : history.operations()) {
    if (op.final_read) continue;
    if (op.op == core::ClientOp::del && op.outcome != Outcome::failed) {
      writes[op.key].deletes.push_back(&op);
    }
    if (op.op == core::ClientOp::put && op.outcome != Outcome::failed) {
      writes[op.key].puts.emplace(op.element, op.index);
    }
    sessions[{op.key, op.client, op.node}].push_back(&op);  // index order: history order
  }
  std::uint64_t reads_checked = 0, missed = 0;
  for (const auto& [session, ops] : sessions) {
    const KeyWrites& key_writes = writes[std::get<0>(session)];
    std::vector<const Operation*> puts;
    for (const Operation* op : ops) {
      if (is_acknowledged_put(*op)) puts.push_back(op);
      if (!is_answered_read(*op) || puts.empty()) continue;
      ++reads_checked;
      std::unordered_set<std::string_view> seen;
      std::uint64_t newest_seen_put = 0;  // blind: the latest put whose value the read shows
      for_each_element(op->values, mode, [&](std::string_view element) {
        seen.insert(element);
        if (mode != WorkloadMode::blind) return;
        const auto put = key_writes.puts.find(element);
        if (put != key_writes.puts.end() && put->second > newest_seen_put) {
          newest_seen_put = put->second;
        }
      });
      for (const Operation* put : puts) {
        if (seen.contains(put->element)) continue;
        if (mode == WorkloadMode::blind && newest_seen_put > put->index) continue;
        bool deleted = false;
        for (const Operation* erase : key_writes.deletes) {
          deleted = deleted || (erase->index > put->index && erase->invoked_us < op->completed_us);
        }
        if (deleted) continue;
        ++missed;
        if (result.examples.size() < check_examples_max) {
          result.examples.push_back(
              "client " + std::to_string(op->client) + " key " + op->key + ": read #" +
              std::to_string(op->index) + " at " + seconds(op->invoked_us) + " missed its own '" +
              put->element + "' (put #" + std::to_string(put->index) + " invoked at " +
              seconds(put->invoked_us) + ", acknowledged at " + seconds(put->completed_us) + ")");
        }
        break;
      }
    }
  }
  result.counts = {{"reads_checked", reads_checked}, {"missed", missed}};
  const std::uint64_t bound = max.value_or(0);
  result.counts["max"] = bound;
  result.ok = missed <= bound;
  return result;
}

}  // namespace vigil::sim
