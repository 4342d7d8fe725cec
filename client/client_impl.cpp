// vigil::Client's routing loop: ring, health, breakers, retries.
//
// Theory of operation. The ring comes from VRING (docs/client-protocol.md): at start every
// seed is asked, so that every node named as a seed is known by its address (a node
// reports only its own client address); later one usable node is asked every
// ring_refresh_interval, and sooner (at most once a second) after a connection failure,
// the nearest thing Vigil has to Redis Cluster's MOVED: a node gone or a ring changed. A
// newer version replaces the ring; the router (core/routing/router.h, the nodes' own) is
// handed every new ring and answers, for each attempt, the first healthy preference-list
// node whose breaker admits it, untried nodes first.
//
// Outcomes feed the breakers as the nodes' forwarder does: a connection failure or a
// timeout is a failure of that node; any reply, error replies included, is a success (the
// node is there and answering; an UNAVAILABLE is about its replicas' quorum, not about it).
// UNAVAILABLE, TIMEOUT and connection errors are retried on another node after a backoff
// from core/routing/retry_backoff.h; NOAUTH, ERR and unreadable replies are not (another
// attempt would get the same answer).
//
// Health: every health_check_interval the router asks for each node's health, and the
// maintenance thread PINGs every node within connect_timeout on its own connections, out
// of the requests' way (a frozen node costs the check connect_timeout, never a request); a
// node whose address is unknown is unhealthy. Recoveries are seen only at these checks;
// failures feed the breaker at once. Ring refreshes run on the same thread.
// A probe's outcome also counts toward its breaker while the breaker is closed (as any
// traffic sent without a permit does), so that a node that stopped getting requests because
// a check found it unhealthy still has its breaker opened, and then closed by trials once
// it answers again.

#include "client/client_impl.h"

#include <algorithm>

#include "client/client_options.h"
#include "core/routing/retry_backoff.h"

namespace vigil {

namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;

bool breaker_failure(ErrorCode code) {
  return code == ErrorCode::connection || code == ErrorCode::timeout;
}

}  // namespace

ClientImpl::ClientImpl(ClientOptions options)
    : options_(client::checked(options)),
      settings_(client::connection_settings(options_)),
      retry_(client::routing_options(options_).retry),
      epoch_(std::chrono::steady_clock::now()),
      random_(client::seed_of(options_)),
      router_(client::routing_options(options_), counters_, now()) {
  std::lock_guard lock(mutex_);
  refresh(/*every_seed=*/true, connections_, nullptr);
  maintenance_ = std::thread([this] { maintenance_loop(); });
}

ClientImpl::~ClientImpl() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_ready_.notify_all();
  if (worker_.joinable()) worker_.join();
  {
    std::lock_guard lock(mutex_);
    stopping_maintenance_ = true;
  }
  maintenance_wake_.notify_all();
  if (maintenance_.joinable()) maintenance_.join();
}

core::Instant ClientImpl::now() const {
  // Instant 1 s after the epoch at construction, so that no instant is the zero default.
  const auto elapsed = std::chrono::steady_clock::now() - epoch_ + std::chrono::seconds(1);
  return core::instant_from_micros(duration_cast<microseconds>(elapsed).count());
}

client::NodeConnection& ClientImpl::link(Links& links, const std::string& address) {
  auto& slot = links[address];
  if (!slot) slot = std::make_unique<client::NodeConnection>(address, settings_);
  return *slot;
}

void ClientImpl::fail(const ClientError& error) {
  ++stats_.failures;
  throw error;
}

client::Reply ClientImpl::run(std::string_view key, const std::vector<std::string>& arguments) {
  std::lock_guard lock(mutex_);
  ++stats_.requests;
  core::RetryBackoff backoff(retry_);
  std::vector<core::NodeId> tried;
  std::optional<ClientError> last;
  for (;;) {
    const core::Instant at = now();
    std::optional<core::RouteChoice> choice = router_.route(at, core::Key(key), random_, tried);
    const auto address = choice ? addresses_.find(choice->node) : addresses_.end();
    if (!choice) {
      last = ClientError(ErrorCode::unavailable,
                         "no node can take the request: every node is unhealthy or its circuit "
                         "breaker is open");
    } else if (address == addresses_.end()) {
      // Unreachable in practice (a node without an address is unhealthy, and no strategy
      // picks an unhealthy node); if it were reached, the node could not be sent to, which
      // is its breaker's failure, and the permit is handed back once as the breaker needs.
      router_.handle_failure(at, choice->node, choice->permit);
      last = ClientError(ErrorCode::unavailable, "the client port of node " + choice->node +
                                                     " is unknown (not among the seeds)");
      tried.push_back(choice->node);
    } else {
      ++stats_.attempts;
      if (choice->token_aware) ++stats_.token_aware;
      tried.push_back(choice->node);
      try {
        client::Reply reply = link(connections_, address->second).call(arguments);
        router_.handle_success(now(), choice->node, choice->permit);
        if (reply->type != REDIS_REPLY_ERROR) return reply;
        const ClientError error = client::error_of_line(std::string_view(reply->str, reply->len));
        if (!error.retryable()) fail(error);
        last = error;
      } catch (const ClientError& error) {
        if (breaker_failure(error.code())) {
          router_.handle_failure(now(), choice->node, choice->permit);
          refresh_wanted_ = true;
          maintenance_wake_.notify_one();
        } else {
          router_.handle_success(now(), choice->node, choice->permit);
        }
        if (!error.retryable()) fail(error);
        last = error;
      }
    }
    const std::optional<core::Duration> delay = backoff.next(random_);
    if (!delay) fail(*last);
    ++stats_.retries;
    std::this_thread::sleep_for(*delay);
  }
}

void ClientImpl::refresh_ring() {
  std::lock_guard lock(mutex_);
  refresh(/*every_seed=*/false, connections_, nullptr);
}

std::uint64_t ClientImpl::ring_version() const {
  std::lock_guard lock(mutex_);
  return ring_ ? ring_->version : 0;
}

std::vector<std::string> ClientImpl::preference_list(std::string_view key) const {
  std::lock_guard lock(mutex_);
  if (!ring_ || ring_->ring.empty()) return {};
  return ring_->ring.preference_list(core::token_of_key(key), ring_->replicas);
}

std::vector<NodeView> ClientImpl::nodes() const {
  std::lock_guard lock(mutex_);
  std::vector<NodeView> out;
  for (const core::RouteStatus& status : router_.status(now())) {
    const auto address = addresses_.find(status.node);
    out.push_back({status.node, address == addresses_.end() ? "" : address->second,
                   status.healthy, std::string(core::breaker_state_name(status.breaker))});
  }
  return out;
}

ClientStats ClientImpl::stats() const {
  std::lock_guard lock(mutex_);
  ClientStats out = stats_;
  out.breaker_openings = counters_.get("breaker_openings");
  out.breaker_closings = counters_.get("breaker_closings");
  out.short_circuited = counters_.get("routes_short_circuited");
  return out;
}

void ClientImpl::post(std::function<void()> task) {
  {
    std::lock_guard lock(queue_mutex_);
    queue_.push_back(std::move(task));
    if (!worker_.joinable()) worker_ = std::thread([this] { worker_loop(); });
  }
  queue_ready_.notify_one();
}

void ClientImpl::worker_loop() {
  // Runs every queued task, including those queued before the Client is destroyed, so
  // that no future is left without a value (each task is bounded: see client.h).
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(queue_mutex_);
      queue_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}


}  // namespace vigil
