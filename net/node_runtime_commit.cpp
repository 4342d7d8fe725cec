// NodeRuntime's flush and its pipelined commit (the theory of operation is in
// node_runtime.cpp: "Group commit").

#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <chrono>
#include <utility>

#include "net/log.h"
#include "net/node_runtime.h"
#include "net/node_runtime_parts.h"

namespace vigil::net {

// --- the flush: commit, then release ------------------------------------------------------

void NodeRuntime::flush() {
  flush_posted_ = false;
  if (phase_ == Phase::closed) return;
  release(parts_->driver->flush(now()));
}

void NodeRuntime::release(core::DriverEffects effects) {
  count_commit(effects);
  if (effects.commit == core::CommitOutcome::started) {
    // The fsync runs on a commit thread; its end comes back to the loop as one handler.
    const std::uint64_t number = ++commits_begun_;
    commit_started_.push_back(std::chrono::steady_clock::now());
    store::SqliteStore* store = parts_->store.get();
    std::weak_ptr<char> alive = alive_;
    asio::post(parts_->commit_threads, [this, alive, store, number] {
      core::Status status = store->finish_commit();
      asio::post(io_, [this, alive, number, status = std::move(status)] {
        if (!alive.expired()) on_commit_returned(number, status);
      });
    });
  }
  send_messages(effects.messages);
  deliver_replies(effects.replies);
  if (phase_ == Phase::closed) return;  // a reply callback shut the runtime down
  arm_timer(effects.next_timeout);
  log_peer_transitions(effects.transitions);
  if (phase_ == Phase::draining && callbacks_.empty() &&
      parts_->driver->commits_in_flight() == 0) {
    finish_shutdown();
  }
}

void NodeRuntime::on_commit_returned(std::uint64_t number, core::Status status) {
  if (phase_ == Phase::closed) return;
  commits_returned_.emplace(number, std::move(status));
  // In the order the commits began: a later fsync that returned first waits for the older.
  while (!commits_returned_.empty() && commits_returned_.begin()->first == commits_reported_ + 1 &&
         phase_ != Phase::closed) {
    core::Status returned = std::move(commits_returned_.begin()->second);
    commits_returned_.erase(commits_returned_.begin());
    commits_reported_ += 1;
    store_stats_.commit_latency_seconds.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - commit_started_.front())
            .count());
    commit_started_.pop_front();
    release(parts_->driver->commit_done(now(), returned));
  }
}

void NodeRuntime::count_commit(const core::DriverEffects& effects) {
  if (effects.commit == core::CommitOutcome::none) return;
  if (effects.commit == core::CommitOutcome::started) {
    store_stats_.batch_size.observe(static_cast<double>(effects.inputs));
    store_stats_.commits += 1;
  }
  if (effects.commit == core::CommitOutcome::failed) {
    store_stats_.commit_failures += 1;
    log(LogLevel::error, "storage_failed", {{"error", effects.commit_status.to_string()}},
        "storage failure, refusing writes until restarted: " +
            effects.commit_status.to_string());
  }
}

}  // namespace vigil::net
