#pragma once
// The simulator's one event queue: every future happening (a frame arriving, a node timer,
// a client request or reply crossing the network, a fiber waking, a fault) is an Event,
// processed in (time, sequence) order. The sequence number is assigned at push, so two
// events at the same virtual microsecond run in the order they were scheduled: the order
// never depends on addresses, hashing or the standard library's heap algorithm.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::sim {

enum class EventKind : std::uint8_t {
  deliver,         // a node-to-node frame arrives: node = receiver, peer = sender
  node_timer,      // a node's poll_timeout() passed: tag = the timer's generation
  client_request,  // a client request arrives at `node`: tag = call id
  client_reply,    // a node's reply arrives back at its client: tag = call id
  fiber_wake,      // node = fiber id, tag = the wait it ends (stale waits are ignored)
  fault,           // a fault action: tag = index into the simulator's fault actions
  resume,          // a paused node resumes: tag = the pause's generation
  node_commit,     // a node's commit in flight returns: tag = the commit's generation
};

std::string_view event_kind_name(EventKind kind);

struct Event {
  std::int64_t time_us = 0;
  std::uint64_t sequence = 0;  // assigned by EventQueue::push
  EventKind kind = EventKind::fault;
  std::uint32_t node = 0;  // the node (or fiber) the event is for
  std::uint32_t peer = 0;  // deliver: the sender
  std::uint64_t tag = 0;
  std::string bytes;  // deliver: the frame

  static Event make(std::int64_t time_us, EventKind kind, std::uint32_t node, std::uint64_t tag) {
    Event event;
    event.time_us = time_us;
    event.kind = kind;
    event.node = node;
    event.tag = tag;
    return event;
  }
};

class EventQueue {
 public:
  // REQUIRES: length_max > 0.
  explicit EventQueue(std::size_t length_max);

  // Schedules `event` and returns its sequence number.
  // REQUIRES: !full() (callers that can shed load, the network, check first and count the
  // drop; the others are bounded by construction: one timer per node, one wait per fiber).
  // REQUIRES: event.time_us >= the time of the last popped event (no scheduling in the past).
  std::uint64_t push(Event event);
  // REQUIRES: !empty().
  Event pop();
  // The time of the next event. REQUIRES: !empty().
  std::int64_t next_time_us() const;

  bool empty() const { return heap_.empty(); }
  bool full() const { return heap_.size() >= length_max_; }
  std::size_t size() const { return heap_.size(); }
  std::size_t length_max() const { return length_max_; }
  std::size_t length_peak() const { return length_peak_; }

 private:
  // The heap orders small keys; payloads stay put in a slab so sifting moves 24 bytes.
  struct Key {
    std::int64_t time_us;
    std::uint64_t sequence;
    std::uint32_t slot;
  };
  static bool later(const Key& a, const Key& b);

  std::size_t length_max_;
  std::size_t length_peak_ = 0;
  std::uint64_t next_sequence_ = 0;
  std::int64_t last_popped_us_ = 0;
  std::vector<Key> heap_;
  std::vector<Event> slots_;
  std::vector<std::uint32_t> free_slots_;
};

}  // namespace vigil::sim
