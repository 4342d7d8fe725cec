// Theory of operation. Each key has a FIFO of the ids of the pending commands that name
// it; a command may run when it heads every one of its keys' FIFOs and no earlier barrier
// is pending (a barrier also needs to be the earliest pending command). Completing a
// command removes it from the heads of its FIFOs, which can only release commands queued
// behind it; complete() rescans the pending commands in id order and stops at the first
// barrier, behind which nothing can run. The scan is O(pending x keys), with pending
// bounded by the capacity (a connection's pipeline).

#include "core/node/session_order.h"

#include <algorithm>

#include "core/assert.h"

namespace vigil::core {

SessionOrder::Admission SessionOrder::submit(std::uint64_t id, std::vector<std::string> keys,
                                             bool barrier) {
  VIGIL_ASSERT(!any_ || id > last_id_, "session commands must have increasing ids");
  if (entries_.size() >= capacity_) return Admission::refused;
  any_ = true;
  last_id_ = id;
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  for (const std::string& key : keys) queues_[key].push_back(id);
  if (barrier) barriers_.insert(id);
  Entry& entry = entries_[id];
  entry.keys = std::move(keys);
  entry.barrier = barrier;
  if (may_run(id, entry)) {
    entry.running = true;
    return Admission::run;
  }
  waiting_ += 1;
  return Admission::wait;
}

bool SessionOrder::may_run(std::uint64_t id, const Entry& entry) const {
  if (entry.barrier) {
    if (entries_.begin()->first != id) return false;
  } else if (!barriers_.empty() && *barriers_.begin() < id) {
    return false;
  }
  for (const std::string& key : entry.keys) {
    const auto queue = queues_.find(key);
    if (queue == queues_.end() || queue->second.front() != id) return false;
  }
  return true;
}

std::vector<std::uint64_t> SessionOrder::complete(std::uint64_t id) {
  const auto it = entries_.find(id);
  VIGIL_ASSERT(it != entries_.end() && it->second.running,
               "completing a session command that is not running");
  for (const std::string& key : it->second.keys) {
    const auto queue = queues_.find(key);
    VIGIL_ASSERT(queue != queues_.end() && queue->second.front() == id,
                 "a running command does not head its key's queue");
    queue->second.pop_front();
    if (queue->second.empty()) queues_.erase(queue);
  }
  barriers_.erase(id);
  entries_.erase(it);

  std::vector<std::uint64_t> released;
  for (auto& [pending_id, entry] : entries_) {
    if (!entry.running && may_run(pending_id, entry)) {
      entry.running = true;
      waiting_ -= 1;
      released.push_back(pending_id);
    }
    if (entry.barrier) break;  // nothing after a pending barrier may run
  }
  return released;
}

void SessionOrder::clear() {
  entries_.clear();
  queues_.clear();
  barriers_.clear();
  waiting_ = 0;
}

}  // namespace vigil::core
