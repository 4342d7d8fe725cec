// A binary min-heap of (time, sequence, slot) keys over a slab of event payloads. The
// sequence makes the order total, so std::push_heap/pop_heap (whose tie handling is
// unspecified) can never see two equal keys: the processing order is the same on every
// standard library.

#include "sim/event_queue.h"

#include <algorithm>
#include <utility>

#include "core/assert.h"

namespace vigil::sim {

std::string_view event_kind_name(EventKind kind) {
  switch (kind) {
    case EventKind::deliver: return "deliver";
    case EventKind::node_timer: return "timer";
    case EventKind::client_request: return "request";
    case EventKind::client_reply: return "reply";
    case EventKind::fiber_wake: return "wake";
    case EventKind::fault: return "fault";
    case EventKind::resume: return "resume";
    case EventKind::node_commit: return "commit";
  }
  return "unknown";
}

EventQueue::EventQueue(std::size_t length_max) : length_max_(length_max) {
  VIGIL_ASSERT(length_max > 0, "an event queue needs room for one event");
}

bool EventQueue::later(const Key& a, const Key& b) {
  if (a.time_us != b.time_us) return a.time_us > b.time_us;
  return a.sequence > b.sequence;
}

std::uint64_t EventQueue::push(Event event) {
  VIGIL_ASSERT(!full(), "event queue over its bound");
  VIGIL_ASSERT(event.time_us >= last_popped_us_, "an event scheduled in the past");
  event.sequence = next_sequence_++;
  std::uint32_t slot = 0;
  if (free_slots_.empty()) {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.push_back(std::move(event));
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
    slots_[slot] = std::move(event);
  }
  const Event& stored = slots_[slot];
  heap_.push_back(Key{stored.time_us, stored.sequence, slot});
  std::push_heap(heap_.begin(), heap_.end(), later);
  length_peak_ = std::max(length_peak_, heap_.size());
  return stored.sequence;
}

Event EventQueue::pop() {
  VIGIL_ASSERT(!empty(), "pop from an empty event queue");
  std::pop_heap(heap_.begin(), heap_.end(), later);
  const Key key = heap_.back();
  heap_.pop_back();
  Event event = std::move(slots_[key.slot]);
  slots_[key.slot].bytes.clear();
  free_slots_.push_back(key.slot);
  last_popped_us_ = event.time_us;
  return event;
}

std::int64_t EventQueue::next_time_us() const {
  VIGIL_ASSERT(!empty(), "next_time_us of an empty event queue");
  return heap_.front().time_us;
}

}  // namespace vigil::sim
