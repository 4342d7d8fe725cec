#pragma once
// The order in which one client session's (one connection's) commands may run, so that
// its commands take effect in the order it sent them, per key: read-your-writes and
// monotonic writes for a pipelining client, while commands on disjoint keys still run
// concurrently. Pure bookkeeping, no I/O: net/resp_connection.cpp and the simulator's
// pipelining clients (sim/simulation_clients.cpp) use this same class.
//
// The rule. Commands are submitted in the session's order, with increasing ids, each with
// its key set and whether it is a barrier:
//   - a command with keys waits until every earlier command of the session that shares a
//     key with it has completed (FIFO per key; a multi-key command waits for all of its
//     keys' earlier commands);
//   - a barrier (a command that reads or changes the session's own state, such as
//     CONSISTENCY: the commands after it must run under the new state) waits until every
//     earlier command has completed, and every later command waits until it has;
//   - a command with no keys that is not a barrier (PING) waits only for earlier barriers.
// "Completed" is the caller's to say: the command's reply exists, so its effect is
// decided (a write acknowledged has been committed by the node).
//
// Bounds: at most `capacity` commands submitted and not completed; submit() past it
// refuses the command (the caller answers an error and counts it). Containers are ordered
// (std::map, std::deque): complete() returns the ids it releases in id order.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace vigil::core {

class SessionOrder {
 public:
  enum class Admission { run, wait, refused };

  explicit SessionOrder(std::size_t capacity) : capacity_(capacity) {}

  // REQUIRES: id greater than every id submitted before. `keys` may repeat a key.
  // run: the caller runs the command now; wait: complete() will release it later;
  // refused: over capacity, nothing was recorded.
  Admission submit(std::uint64_t id, std::vector<std::string> keys, bool barrier);
  // The command `id` (running) completed. Returns the waiting commands that may run now,
  // in id order; each is then running. REQUIRES: id was released (run now or returned by
  // an earlier complete()) and not completed yet.
  std::vector<std::uint64_t> complete(std::uint64_t id);
  // Forgets every command (the session closed).
  void clear();

  std::size_t pending() const { return entries_.size(); }
  std::size_t waiting() const { return waiting_; }
  std::size_t capacity() const { return capacity_; }

 private:
  struct Entry {
    std::vector<std::string> keys;  // sorted, without repeats
    bool barrier = false;
    bool running = false;
  };

  bool may_run(std::uint64_t id, const Entry& entry) const;

  std::size_t capacity_;
  std::map<std::uint64_t, Entry> entries_;                   // submitted, not completed
  std::map<std::string, std::deque<std::uint64_t>> queues_;  // per key, in id order
  std::set<std::uint64_t> barriers_;                         // barriers in entries_
  std::size_t waiting_ = 0;
  std::uint64_t last_id_ = 0;
  bool any_ = false;
};

}  // namespace vigil::core
