// Read repair under the node's budget (seed section 4.1: read_repair.throttling and
// repair_priority; Cassandra's read-repair metrics for what is counted).
//
// Theory of operation.
// - Which replicas. A replica of an answered read needs a repair when it answered (or
//   answered corruption) and its last known state differs from the merge. It is `missing`
//   when it holds nothing the read knows of (answered not_found, or corruption), `stale`
//   otherwise (it holds an older or partial state).
// - Order. Within one read the repairs are ranked by repair_priority (missing_rank,
//   stale_rank; the higher first, the preference-list order among equals) before any
//   budget is spent, so when the budget runs short the replica missing the key is the one
//   repaired.
// - Budget. Merging into this node's own store sends nothing and is free. A repair sent to
//   a peer needs a slot (at most max_in_flight repairs sent and neither acknowledged nor
//   past replication_timeout, across all reads of this node) and its size in bytes from a
//   token bucket (bandwidth_bytes_per_second, holding at most one second's worth, refilled
//   from now.monotonic, full at first use). The size is the exact encoded size of the
//   repaired state (codec.h's encode_sibling_set, computed once per read and only when a
//   peer is to be repaired) plus the key: the part of the ReplicaWrite that grows.
// - Over budget. A repair that finds no slot, or too few tokens, is dropped, counted
//   (read_repairs_dropped_throttle, read_repairs_dropped_bandwidth) and remembered with
//   the replica, so the same merge is not offered to it again by the same read; nothing is
//   queued. A repair bigger than one second's worth of bandwidth is always dropped.
// - Release. The acknowledgement (ok or not) frees the slot, matched by (read id,
//   replica) even after the read finished; a slot unanswered past replication_timeout is
//   freed (read_repairs_timed_out) when budget is next spent. Expiry is lazy, so the budget
//   adds no timer: nothing waits on a slot.

#include <algorithm>
#include <utility>
#include <vector>

#include "core/coordinator/coordinator_state.h"
#include "core/replica/replica.h"
#include "core/wire/codec.h"

namespace vigil::core {

namespace {

enum class RepairNeed : std::uint8_t { none, missing, stale };

RepairNeed need_of(const Request& request, const ReplicaProgress& replica) {
  if (!replica.answered && !replica.corrupt) return RepairNeed::none;
  if (replica.known && *replica.known == request.state) return RepairNeed::none;
  if (replica.repair_dropped && *replica.repair_dropped == request.state) return RepairNeed::none;
  if (!replica.known || replica.known->empty()) return RepairNeed::missing;
  return RepairNeed::stale;
}

void expire_slots(CoordinatorState& state, const Now& now) {
  auto& in_flight = state.repair_budget.in_flight;
  for (auto it = in_flight.begin(); it != in_flight.end();) {
    if (it->second <= now.monotonic) {
      state.context.counters.add("read_repairs_timed_out");
      it = in_flight.erase(it);
    } else {
      ++it;
    }
  }
}

constexpr std::uint64_t micros_per_second = 1'000'000;

// Adds rate * elapsed to the bucket, capped at one second's worth (rate). Split so that
// no product overflows: rate / 1e6 * elapsed <= rate and (rate % 1e6) * elapsed < 1e12.
void refill(RepairBudget& budget, std::uint64_t rate, const Now& now) {
  if (!budget.refilled_at) {
    budget.tokens = rate;
  } else if (now.monotonic > *budget.refilled_at) {
    const auto elapsed = static_cast<std::uint64_t>(to_micros(now.monotonic - *budget.refilled_at));
    if (elapsed >= micros_per_second) {
      budget.tokens = rate;
    } else {
      const std::uint64_t added = rate / micros_per_second * elapsed +
                                  rate % micros_per_second * elapsed / micros_per_second;
      budget.tokens = std::min(rate, budget.tokens + added);
    }
  }
  budget.refilled_at = now.monotonic;
}

// Takes a slot and `bytes` tokens for a repair to `node`; or names the counter of the drop.
const char* spend(CoordinatorState& state, const Now& now, const Request& request,
                  const NodeId& node, std::uint64_t bytes) {
  RepairBudget& budget = state.repair_budget;
  const NodeOptions::ReadRepair& limits = state.context.options.read_repair;
  if (budget.in_flight.size() >= limits.max_in_flight) return "read_repairs_dropped_throttle";
  if (budget.tokens < bytes) return "read_repairs_dropped_bandwidth";
  budget.tokens -= bytes;
  budget.in_flight.emplace(std::pair{request.id, node},
                           now.monotonic + state.context.options.replication_timeout);
  return nullptr;
}

// The replicas needing a repair, missing and stale ranked by repair_priority.
std::vector<ReplicaProgress*> repairs_in_order(const NodeOptions& options, Request& request) {
  std::vector<std::pair<std::uint8_t, ReplicaProgress*>> due;
  for (ReplicaProgress& replica : request.replicas) {
    const RepairNeed need = need_of(request, replica);
    if (need == RepairNeed::none) continue;
    const std::uint8_t rank = need == RepairNeed::missing ? options.read_repair.missing_rank
                                                           : options.read_repair.stale_rank;
    due.emplace_back(rank, &replica);
  }
  std::stable_sort(due.begin(), due.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<ReplicaProgress*> ordered;
  ordered.reserve(due.size());
  for (const auto& [rank, replica] : due) ordered.push_back(replica);
  return ordered;
}

}  // namespace

void repair_stale(CoordinatorState& state, const Now& now, Request& request) {
  const NodeOptions& options = state.context.options;
  if (!options.read_repair_enabled || request.state.empty()) return;
  const std::vector<ReplicaProgress*> ordered = repairs_in_order(options, request);
  if (ordered.empty()) return;
  expire_slots(state, now);
  refill(state.repair_budget, options.read_repair.bandwidth_bytes_per_second, now);
  std::optional<std::uint64_t> bytes;  // encoded once, at the first repair sent to a peer
  for (ReplicaProgress* replica : ordered) {
    if (replica->node == state.context.self()) {
      const Status status = state.replica.merge_into_local(request.key, request.state);
      state.context.counters.add(status.ok() ? Counter::read_repairs_local
                                             : Counter::read_repair_errors);
      replica->known = request.state;
      continue;
    }
    if (!bytes) bytes = encode_sibling_set(request.state).size() + request.key.size();
    if (const char* dropped = spend(state, now, request, replica->node, *bytes)) {
      state.context.counters.add(dropped);
      replica->repair_dropped = request.state;
      continue;
    }
    state.context.send(replica->node, ReplicaWrite{request.id, request.key, request.state});
    state.context.counters.add("read_repairs_sent");
    replica->known = request.state;
  }
}

bool on_repair_reply(CoordinatorState& state, const NodeId& from, const ReplicaWriteReply& reply) {
  auto& in_flight = state.repair_budget.in_flight;
  auto it = in_flight.find(std::pair{reply.request_id, from});
  if (it == in_flight.end()) return false;
  in_flight.erase(it);
  state.context.counters.add(reply.status.code == Code::ok ? "read_repairs_acknowledged"
                                                           : "read_repair_refusals");
  return true;
}

}  // namespace vigil::core
