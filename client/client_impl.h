#pragma once
// The state behind vigil::Client (client.h): the ring learnt from VRING, the node
// addresses, one connection per node, the router (core/routing/router.h), the worker
// thread of the *_async calls and the maintenance thread (health checks, ring refreshes).
// Every member below `mutex_` is guarded by it; requests hold it for their whole run,
// retries and backoffs included, so one Client runs one request at a time. The
// maintenance thread takes it only to read and update state, never across its own I/O,
// which goes through its own connections (maintenance_links_), so a health check of a
// frozen node never delays a request.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "client/node_connection.h"
#include "client/ring_reply.h"
#include "core/counters.h"
#include "core/random.h"
#include "core/routing/router.h"

namespace vigil {

class ClientImpl {
 public:
  explicit ClientImpl(ClientOptions options);
  ~ClientImpl();

  // Runs one command about `key` on the node the router picks, retrying as the policy
  // says. Returns a reply that is not an error; throws ClientError otherwise.
  client::Reply run(std::string_view key, const std::vector<std::string>& arguments);
  void refresh_ring();
  std::uint64_t ring_version() const;
  std::vector<std::string> preference_list(std::string_view key) const;
  std::vector<NodeView> nodes() const;
  ClientStats stats() const;

  // Queues `task` to the worker thread (started on first use).
  void post(std::function<void()> task);

 private:
  using Links = std::map<std::string, std::unique_ptr<client::NodeConnection>>;  // by address

  core::Instant now() const;
  // Asks nodes for VRING through `links`: every seed when `every_seed`, otherwise until one
  // answered and every member's address is known. With `unlock` (the maintenance thread),
  // mutex_ is released during each exchange. Throws the last error when nobody answered.
  // REQUIRES: mutex_ held.
  void refresh(bool every_seed, Links& links, std::unique_lock<std::mutex>* unlock);
  std::vector<std::string> refresh_candidates(bool every_seed) const;
  void adopt(client::RingReply reply, const std::string& dialed);
  // One health check of every node, PINGs outside the lock. REQUIRES: `lock` holds mutex_.
  void check_health(std::unique_lock<std::mutex>& lock);
  client::NodeConnection& link(Links& links, const std::string& address);
  [[noreturn]] void fail(const ClientError& error);
  void worker_loop();
  void maintenance_loop();

  const ClientOptions options_;
  const client::ConnectionSettings settings_;
  const core::RetryPolicy retry_;
  const std::chrono::steady_clock::time_point epoch_;

  mutable std::mutex mutex_;
  core::NodeCounters counters_;
  core::Random random_;
  core::Router router_;
  std::optional<client::RingReply> ring_;
  std::map<core::NodeId, std::string> addresses_;  // client ports of the ring's members
  Links connections_;  // the requests'
  core::Instant next_refresh_{};
  core::Instant last_refresh_{};
  bool refresh_wanted_ = false;  // a connection failed: the ring may have changed
  ClientStats stats_;

  bool stopping_maintenance_ = false;
  std::condition_variable maintenance_wake_;  // with mutex_: a refresh is wanted, or stop
  Links maintenance_links_;  // the maintenance thread's own
  std::thread maintenance_;

  std::mutex queue_mutex_;
  std::condition_variable queue_ready_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace vigil
