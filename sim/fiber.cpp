// Theory of operation. The simulator is one thread running one event loop; workload
// clients and the scenario script are nevertheless written as straight-line code that
// blocks (FoundationDB's actors, written with Flow's wait(); here without a compiler: a
// stackful coroutine per actor). Each actor is a Boost.Context fiber with its own stack.
// Only the event loop resumes fibers, and a fiber runs until it suspends on a wait, so at
// any moment exactly one piece of code runs and the interleaving is decided by the event
// queue's (time, sequence) order alone: fibers add no nondeterminism.
//
// A wait is identified by a token. Whatever can end the wait (its timeout event, a reply)
// carries the token; the first to arrive resumes the fiber and retires the token, the
// others find it stale and do nothing. So a reply racing its timeout needs no cancellation.
//
// Ending a fiber early (the simulation stops while a client is blocked) does not use
// Boost's forced_unwind, which switches stacks behind AddressSanitizer's back: the fiber
// is resumed once more with `cancelling_` set and its suspend() throws Cancelled, which
// unwinds the fiber's own stack and is caught at its entry.
//
// Fibers are cheap enough to start one per client operation: stacks come from a pool
// (a finished fiber's stack goes back to it) and a finished fiber's slot is reused, its
// wait tokens still counting up so that no stale wake can reach the new occupant.
//
// AddressSanitizer must be told about every stack switch, or it reports false stack
// overflows and use-after-return on the fiber stacks. Each switch below is bracketed by
// __sanitizer_start_switch_fiber (the stack we go to) and __sanitizer_finish_switch_fiber
// (learning the stack we came from); a fiber's last switch passes nullptr so its fake
// stack is freed. Without ASan the annotations compile to nothing.
//
// With ASAN_OPTIONS=detect_stack_use_after_return=1, ASan moves frames to a per-context
// "fake stack"; Boost's own frames (fiber_entry, fiber_record::run, instantiated in this
// file) start on the context that created the fiber and end after the fiber's last
// switch, so they would outlive the fake stack they were given. This file must then be
// compiled with --param=asan-use-after-return=0 (its frames stay on the real stack); the
// asan preset does not turn the option on, and the annotations above are then complete.

#include "sim/fiber.h"

#include <boost/context/protected_fixedsize_stack.hpp>
#include <utility>

#include "core/assert.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define VIGIL_FIBER_ASAN 1
#endif

namespace vigil::sim {
namespace {

void start_switch(void** fake_stack_save, const void* bottom, std::size_t size) {
#if defined(VIGIL_FIBER_ASAN)
  __sanitizer_start_switch_fiber(fake_stack_save, bottom, size);
#else
  (void)fake_stack_save, (void)bottom, (void)size;
#endif
}

void finish_switch(void* fake_stack_save, const void** bottom_old, std::size_t* size_old) {
#if defined(VIGIL_FIBER_ASAN)
  __sanitizer_finish_switch_fiber(fake_stack_save, bottom_old, size_old);
#else
  (void)fake_stack_save, (void)bottom_old, (void)size_old;
#endif
}

// Hands the fiber a pooled stack and remembers where it is for the ASan annotations. Boost
// copies the allocator into the fiber's control record and calls deallocate() from it when
// the fiber ends.
class PooledStack {
 public:
  PooledStack(StackPool& pool, const void** bottom, std::size_t* size)
      : pool_(&pool), bottom_(bottom), size_(size) {}
  boost::context::stack_context allocate() {
    boost::context::stack_context stack = pool_->take();
    *bottom_ = static_cast<const char*>(stack.sp) - stack.size;
    *size_ = stack.size;
    return stack;
  }
  void deallocate(boost::context::stack_context& stack) noexcept { pool_->give(stack); }

 private:
  StackPool* pool_;
  const void** bottom_;
  std::size_t* size_;
};

}  // namespace

StackPool::StackPool(std::size_t stack_bytes, std::size_t free_max)
    : stack_bytes_(stack_bytes), free_max_(free_max) {}

StackPool::~StackPool() {
  boost::context::protected_fixedsize_stack allocator(stack_bytes_);
  for (boost::context::stack_context& stack : free_) allocator.deallocate(stack);
}

boost::context::stack_context StackPool::take() {
  if (free_.empty()) {
    allocated_ += 1;
    return boost::context::protected_fixedsize_stack(stack_bytes_).allocate();
  }
  const boost::context::stack_context stack = free_.back();
  free_.pop_back();
  return stack;
}

void StackPool::give(boost::context::stack_context stack) {
#if defined(VIGIL_FIBER_ASAN)
  // The last frames of a finished fiber never returned (its entry jumps away), so their
  // redzones may still be poisoned; the next fiber on this stack must start clean.
  ASAN_UNPOISON_MEMORY_REGION(static_cast<char*>(stack.sp) - stack.size, stack.size);
#endif
  if (free_.size() >= free_max_) {
    boost::context::protected_fixedsize_stack(stack_bytes_).deallocate(stack);
    return;
  }
  free_.push_back(stack);
}

Fiber::Fiber(std::string name, std::function<void()> body, StackPool& stacks)
    : name_(std::move(name)), body_(std::move(body)) {
  context_ = boost::context::fiber(
      std::allocator_arg, PooledStack(stacks, &stack_bottom_, &stack_size_),
      [this](boost::context::fiber&& caller) { return entry(std::move(caller)); });
}

Fiber::~Fiber() {
  if (finished_) return;
  VIGIL_ASSERT(!running_, "a fiber destroyed while it runs");
  cancelling_ = true;
  resume();
  VIGIL_ASSERT(finished_, "a cancelled fiber did not finish");
}

boost::context::fiber Fiber::entry(boost::context::fiber&& caller) {
  finish_switch(nullptr, &caller_stack_bottom_, &caller_stack_size_);
  caller_ = std::move(caller);
  if (!cancelling_) {
    try {
      body_();
    } catch (const Cancelled&) {
      // The stack is unwound; fall through to finish.
    }
  }
  finished_ = true;
  body_ = nullptr;  // release what the body captured while still on a live stack
  start_switch(nullptr, caller_stack_bottom_, caller_stack_size_);  // frees its fake stack
  return std::move(caller_);
}

void Fiber::resume() {
  VIGIL_ASSERT(!finished_ && !running_, "resume of a finished or running fiber");
  running_ = true;
  start_switch(&caller_fake_stack_, stack_bottom_, stack_size_);
  context_ = std::move(context_).resume();
  finish_switch(caller_fake_stack_, nullptr, nullptr);
  running_ = false;
}

void Fiber::suspend() {
  VIGIL_ASSERT(running_, "suspend from outside the fiber");
  start_switch(&fiber_fake_stack_, caller_stack_bottom_, caller_stack_size_);
  caller_ = std::move(caller_).resume();
  finish_switch(fiber_fake_stack_, &caller_stack_bottom_, &caller_stack_size_);
  if (cancelling_) throw Cancelled{};
}

FiberScheduler::FiberScheduler(EventQueue& queue, std::size_t fibers_max)
    : queue_(queue), fibers_max_(fibers_max) {}

FiberScheduler::~FiberScheduler() = default;

FiberId FiberScheduler::spawn(std::string name, std::function<void()> body, std::int64_t start_us) {
  VIGIL_ASSERT(live_ < fibers_max_, "too many fibers");
  FiberId id = 0;
  if (free_slots_.empty()) {
    id = static_cast<FiberId>(fibers_.size());
    fibers_.emplace_back();
  } else {
    id = free_slots_.back();
    free_slots_.pop_back();
  }
  Slot& slot = fibers_[id];
  slot.fiber = std::make_unique<Fiber>(std::move(name), std::move(body), stacks_);
  slot.token = slot.next_token++;
  live_ += 1;
  spawned_ += 1;
  queue_.push(Event::make(start_us, EventKind::fiber_wake, id, slot.token));
  return id;
}

FiberId FiberScheduler::current() const {
  VIGIL_ASSERT(in_fiber_, "current() outside a fiber");
  return current_;
}

std::uint64_t FiberScheduler::begin_wait() {
  Slot& slot = fibers_[current()];
  VIGIL_ASSERT(slot.token == 0, "a fiber began a second wait");
  slot.token = slot.next_token++;
  return slot.token;
}

void FiberScheduler::wait(std::uint64_t token) {
  Slot& slot = fibers_[current()];
  VIGIL_ASSERT(slot.token == token && token != 0, "wait on a token that is not current");
  in_fiber_ = false;
  slot.fiber->suspend();
}

void FiberScheduler::sleep_until(std::int64_t time_us) {
  const std::uint64_t token = begin_wait();
  queue_.push(Event::make(time_us, EventKind::fiber_wake, current(), token));
  wait(token);
}

bool FiberScheduler::wake(FiberId fiber, std::uint64_t token) {
  VIGIL_ASSERT(!in_fiber_, "a fiber woke a fiber");
  VIGIL_ASSERT(fiber < fibers_.size(), "wake of a fiber that does not exist");
  Slot& slot = fibers_[fiber];
  if (slot.token != token || token == 0 || slot.fiber == nullptr) return false;
  slot.token = 0;
  current_ = fiber;
  in_fiber_ = true;
  switches_ += 1;
  slot.fiber->resume();
  in_fiber_ = false;
  // `slot` may dangle: the fiber may have spawned others, growing fibers_.
  Slot& after = fibers_[fiber];
  if (after.fiber->finished()) {
    after.fiber.reset();
    free_slots_.push_back(fiber);
    live_ -= 1;
  }
  return true;
}

bool FiberScheduler::finished(FiberId fiber) const {
  VIGIL_ASSERT(fiber < fibers_.size(), "finished() of a fiber that does not exist");
  return fibers_[fiber].fiber == nullptr;
}

}  // namespace vigil::sim
