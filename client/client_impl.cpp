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
#include <random>

#include "core/routing/retry_backoff.h"

namespace vigil {

namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;

constexpr core::Duration refresh_after_failure_min = std::chrono::seconds(1);

core::RoutingOptions routing_options(const ClientOptions& options) {
  core::RoutingOptions routing;
  routing.strategy =
      options.token_aware ? core::RouteStrategy::token_aware : core::RouteStrategy::round_robin;
  routing.fallback = core::RouteFallback::round_robin;
  routing.retry.max_retries = options.max_retries;
  routing.retry.initial = duration_cast<microseconds>(options.retry_backoff_initial);
  routing.retry.max = duration_cast<microseconds>(options.retry_backoff_max);
  routing.retry.factor = options.retry_backoff_factor;
  routing.health_check_interval = duration_cast<microseconds>(options.health_check_interval);
  routing.breaker.enabled = options.breaker_enabled;
  routing.breaker.threshold = options.breaker_threshold;
  routing.breaker.timeout = duration_cast<microseconds>(options.breaker_timeout);
  routing.breaker.half_open_requests = options.breaker_half_open_requests;
  return routing;
}

// The router asserts its options; a library refuses them with an error instead.
const ClientOptions& checked(const ClientOptions& options) {
  const auto invalid = [](const std::string& what) {
    throw ClientError(ErrorCode::invalid_argument, "ClientOptions: " + what);
  };
  if (options.seeds.empty()) invalid("seeds is empty");
  for (const std::string& seed : options.seeds) {
    if (auto parsed = client::parse_host_port(seed); !parsed.ok()) {
      invalid("seeds: " + parsed.status().message());
    }
  }
  const std::vector<std::string> levels = {"", "one", "quorum", "all", "eventual", "strong"};
  if (std::find(levels.begin(), levels.end(), options.consistency) == levels.end()) {
    invalid("consistency \"" + options.consistency + "\" (one, quorum, all)");
  }
  using std::chrono::milliseconds;
  if (options.connect_timeout <= milliseconds(0) || options.request_timeout <= milliseconds(0) ||
      options.ring_refresh_interval <= milliseconds(0) ||
      options.health_check_interval <= milliseconds(0) ||
      options.breaker_timeout <= milliseconds(0)) {
    invalid("timeouts and intervals must be > 0");
  }
  if (options.retry_backoff_initial <= milliseconds(0) ||
      options.retry_backoff_max < options.retry_backoff_initial ||
      !(options.retry_backoff_factor >= 1.0) || options.retry_backoff_factor > 1000.0) {
    invalid("retry backoff: need 0 < initial <= max and 1 <= factor <= 1000");
  }
  if (options.breaker_threshold < 1 || options.breaker_half_open_requests < 1) {
    invalid("breaker threshold and half_open_requests must be >= 1");
  }
  if (options.max_retries > 100) invalid("max_retries is at most 100");
  return options;
}

std::uint64_t seed_of(const ClientOptions& options) {
  if (options.random_seed != 0) return options.random_seed;
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

bool breaker_failure(ErrorCode code) {
  return code == ErrorCode::connection || code == ErrorCode::timeout;
}

}  // namespace

ClientImpl::ClientImpl(ClientOptions options)
    : options_(checked(options)),
      settings_{options_.connect_timeout, options_.request_timeout, options_.user,
                options_.password, options_.consistency},
      retry_(routing_options(options_).retry),
      epoch_(std::chrono::steady_clock::now()),
      random_(seed_of(options_)),
      router_(routing_options(options_), counters_, now()) {
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

void ClientImpl::adopt(client::RingReply reply, const std::string& dialed) {
  // The address we reached the node at works from here; the one it reports (node.client)
  // may be a wildcard such as 0.0.0.0.
  for (const auto& [node, address] : reply.addresses) addresses_.emplace(node, address);
  const core::NodeId self = reply.self;
  addresses_[self] = dialed;
  const bool newer = !ring_ || reply.version > ring_->version ||
                     (reply.version == ring_->version && reply.digest != ring_->digest);
  if (newer) {
    router_.handle_ring(reply.ring, reply.replicas);
    ring_ = std::move(reply);
  }
  for (const core::NodeId& node : ring_->ring.nodes()) {
    if (addresses_.count(node) == 0) router_.handle_health(node, false);
  }
  // It just answered: healthy (it may have been unhealthy while its address was unknown).
  if (ring_->ring.contains(self)) router_.handle_health(self, true);
}

std::vector<std::string> ClientImpl::refresh_candidates(bool every_seed) const {
  if (every_seed) return options_.seeds;
  const core::Instant at = now();
  // Known members first (usable ones only: a dead node would cost a timeout), then the
  // seeds not known as members.
  std::vector<std::string> candidates;
  for (const auto& [node, address] : addresses_) {
    if (!ring_ || !ring_->ring.contains(node) || router_.usable(at, node)) {
      candidates.push_back(address);
    }
  }
  for (const std::string& seed : options_.seeds) {
    const bool known = std::any_of(addresses_.begin(), addresses_.end(),
                                   [&](const auto& entry) { return entry.second == seed; });
    if (!known && std::find(candidates.begin(), candidates.end(), seed) == candidates.end()) {
      candidates.push_back(seed);
    }
  }
  return candidates;
}

void ClientImpl::refresh(bool every_seed, Links& links, std::unique_lock<std::mutex>* unlock) {
  std::optional<ClientError> last;
  bool answered = false;
  for (const std::string& address : refresh_candidates(every_seed)) {
    std::optional<client::RingReply> decoded;
    {
      if (unlock != nullptr) unlock->unlock();
      try {
        client::Reply reply = link(links, address).call({"VRING"}, options_.connect_timeout);
        auto result = client::decode_ring_reply(*reply);
        if (result.ok()) {
          decoded = std::move(result).value();
        } else {
          last = reply->type == REDIS_REPLY_ERROR
                     ? client::error_of_line(std::string_view(reply->str, reply->len))
                     : ClientError(ErrorCode::protocol, result.status().message());
        }
      } catch (const ClientError& error) {
        last = error;
      }
      if (unlock != nullptr) unlock->lock();
    }
    if (!decoded) continue;
    adopt(std::move(*decoded), address);
    answered = true;
    if (every_seed) continue;
    const bool all_known = std::all_of(
        ring_->ring.nodes().begin(), ring_->ring.nodes().end(),
        [&](const core::NodeId& node) { return addresses_.count(node) > 0; });
    if (all_known) break;
  }
  ++stats_.ring_refreshes;
  last_refresh_ = now();
  next_refresh_ = last_refresh_ + duration_cast<microseconds>(options_.ring_refresh_interval);
  refresh_wanted_ = false;
  if (!answered) {
    throw last ? *last : ClientError(ErrorCode::unavailable, "no node to ask for the ring");
  }
}

void ClientImpl::check_health(std::unique_lock<std::mutex>& lock) {
  router_.handle_timeout(now());
  std::vector<std::pair<core::NodeId, std::string>> probes;  // address "" when unknown
  for (const core::NodeId& node : router_.take_health_probes()) {
    const auto address = addresses_.find(node);
    probes.emplace_back(node, address == addresses_.end() ? "" : address->second);
  }
  std::vector<bool> healthy(probes.size(), false);
  lock.unlock();
  for (std::size_t i = 0; i < probes.size(); ++i) {
    if (probes[i].second.empty()) continue;
    try {
      client::Reply reply =
          link(maintenance_links_, probes[i].second).call({"PING"}, options_.connect_timeout);
      // A node that answers, even NOAUTH, is up.
      healthy[i] = reply->type != REDIS_REPLY_ERROR ||
                   client::error_of_line(std::string_view(reply->str, reply->len)).code() ==
                       ErrorCode::no_auth;
    } catch (const ClientError&) {
      healthy[i] = false;
    }
  }
  lock.lock();
  const core::Instant at = now();
  for (std::size_t i = 0; i < probes.size(); ++i) {
    const core::NodeId& node = probes[i].first;
    router_.handle_health(node, healthy[i]);
    // A probe is traffic sent without a permit: it counts toward the breaker only while
    // closed, so a node marked unhealthy before its breaker opened still opens it.
    if (healthy[i]) {
      router_.record_success(node);
    } else if (!probes[i].second.empty()) {
      router_.record_failure(at, node);
    }
  }
}

void ClientImpl::maintenance_loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_maintenance_) {
    const core::Instant at = now();
    const core::Instant refresh_at =
        refresh_wanted_ ? std::min(next_refresh_, last_refresh_ + refresh_after_failure_min)
                        : next_refresh_;
    const core::Instant check_at = router_.poll_timeout().value_or(refresh_at);
    if (at >= refresh_at) {
      try {
        refresh(/*every_seed=*/false, maintenance_links_, &lock);
      } catch (const ClientError&) {
        // Keep the ring we have; the requests themselves say what is wrong.
      }
    } else if (at >= check_at) {
      check_health(lock);
    } else {
      const core::Duration wait = std::min(refresh_at, check_at) - at;
      maintenance_wake_.wait_for(lock, wait);
    }
  }
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
      // Only the fallback reaches here (unknown addresses are unhealthy): nothing was sent.
      router_.handle_success(at, choice->node, choice->permit);
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
