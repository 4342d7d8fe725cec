#pragma once
// Fibers for the simulator's sequential actors (workload clients, the scenario script):
// code that reads like `put(); sleep(100ms); get();` and blocks in virtual time while the
// scheduler stays one thread (see fiber.cpp). Built on Boost.Context's fiber.
//
// Two pieces:
// - Fiber: one stack and one body; resume() runs it until it suspends or ends.
// - FiberScheduler: the fibers of one simulation, and the one way they block: a wait that
//   an event ends. sleep_until() is a wait ended by a fiber_wake event the scheduler pushes
//   on the simulator's EventQueue; a client call is a wait ended by whichever comes first,
//   the reply or the call's timeout (a fiber_wake pushed by the caller).

#include <boost/context/fiber.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/event_queue.h"

namespace vigil::sim {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr std::size_t fiber_stack_bytes_default = 1024 * 1024;
#else
inline constexpr std::size_t fiber_stack_bytes_default = 256 * 1024;
#endif

// Fiber stacks, reused: a simulation starts a fiber per client operation, and mapping a
// fresh guarded stack for each would cost two system calls per operation. Stacks are
// Boost's protected_fixedsize_stack (a guard page below each); at most `free_max` idle
// stacks are kept. REQUIRES: outlives every fiber using it.
class StackPool {
 public:
  explicit StackPool(std::size_t stack_bytes = fiber_stack_bytes_default,
                     std::size_t free_max = 256);
  ~StackPool();
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;

  boost::context::stack_context take();
  void give(boost::context::stack_context stack);

  std::size_t stack_bytes() const { return stack_bytes_; }
  std::uint64_t allocated() const { return allocated_; }

 private:
  std::size_t stack_bytes_;
  std::size_t free_max_;
  std::vector<boost::context::stack_context> free_;
  std::uint64_t allocated_ = 0;
};

class Fiber {
 public:
  // The body runs on a stack from `stacks`, returned to it when the body ends.
  Fiber(std::string name, std::function<void()> body, StackPool& stacks);
  // Cancels the fiber if it has not finished: a suspended fiber's suspend() throws inside
  // it, unwinding its stack (destructors run); a fiber never resumed never runs its body.
  ~Fiber();
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // Runs the fiber until it suspends or finishes.
  // REQUIRES: !finished(); called from outside every fiber (fibers never resume fibers).
  void resume();
  // Returns control to whoever called resume(). REQUIRES: called from inside this fiber.
  void suspend();

  bool finished() const { return finished_; }
  bool running() const { return running_; }
  const std::string& name() const { return name_; }

 private:
  struct Cancelled {};
  boost::context::fiber entry(boost::context::fiber&& caller);

  std::string name_;
  std::function<void()> body_;
  boost::context::fiber context_;  // the fiber, while it is not running
  boost::context::fiber caller_;   // the scheduler, while the fiber runs
  bool running_ = false;
  bool finished_ = false;
  bool cancelling_ = false;
  // Stack bounds for AddressSanitizer's fiber annotations (unused without ASan).
  const void* stack_bottom_ = nullptr;
  std::size_t stack_size_ = 0;
  const void* caller_stack_bottom_ = nullptr;
  std::size_t caller_stack_size_ = 0;
  void* caller_fake_stack_ = nullptr;
  void* fiber_fake_stack_ = nullptr;
};

// A fiber's id is its slot; a finished fiber's slot is reused by a later spawn(), and its
// wait tokens keep counting up, so a wake meant for the old fiber never wakes the new one.
using FiberId = std::uint32_t;

class FiberScheduler {
 public:
  // REQUIRES: `queue` outlives the scheduler.
  explicit FiberScheduler(EventQueue& queue, std::size_t fibers_max = 8192);
  ~FiberScheduler();

  // Creates a fiber and schedules its first run at `start_us`.
  // REQUIRES: live() < fibers_max (callers bound what they spawn and count refusals).
  FiberId spawn(std::string name, std::function<void()> body, std::int64_t start_us);

  // Inside a fiber: the fiber running now. REQUIRES: a fiber is running.
  FiberId current() const;
  // Inside a fiber: starts a wait and returns its token; the fiber then calls wait(token)
  // after arranging for wake(current(), token) to happen (an event, a reply).
  std::uint64_t begin_wait();
  // Inside a fiber: suspends until wake(current(), token). REQUIRES: token is the current
  // wait's (begin_wait's last answer).
  void wait(std::uint64_t token);
  // Inside a fiber: suspends until virtual time `time_us` (pushes a fiber_wake event).
  void sleep_until(std::int64_t time_us);

  // Outside fibers (the event loop): resumes `fiber` if `token` is its current wait, and
  // returns true; a stale token (the wait already ended: a reply beat the timeout) or a
  // finished fiber returns false and does nothing.
  bool wake(FiberId fiber, std::uint64_t token);
  // The event loop's handler for fiber_wake events.
  bool handle_event(const Event& event) { return wake(event.node, event.tag); }

  // True once the fiber in slot `fiber` has finished (until a spawn reuses the slot).
  bool finished(FiberId fiber) const;
  std::size_t live() const { return live_; }
  std::size_t fibers_max() const { return fibers_max_; }
  std::uint64_t switches() const { return switches_; }
  std::uint64_t spawned() const { return spawned_; }
  const StackPool& stacks() const { return stacks_; }

 private:
  struct Slot {
    std::unique_ptr<Fiber> fiber;  // null once finished
    std::uint64_t token = 0;       // the current wait; 0 while running or finished
    std::uint64_t next_token = 1;
  };

  EventQueue& queue_;
  std::size_t fibers_max_;
  StackPool stacks_;  // declared before the slots: outlives every fiber
  std::vector<Slot> fibers_;
  std::vector<FiberId> free_slots_;
  std::size_t live_ = 0;
  FiberId current_ = 0;
  bool in_fiber_ = false;
  std::uint64_t switches_ = 0;
  std::uint64_t spawned_ = 0;
};

}  // namespace vigil::sim
