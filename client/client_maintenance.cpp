// vigil::Client's maintenance: ring refreshes (VRING) and health checks, run by the
// maintenance thread off the requests' way (the theory is in client_impl.cpp).

#include <algorithm>

#include "client/client_impl.h"

namespace vigil {

namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;

// A connection failure asks for a refresh; they come at most this often.
constexpr core::Duration refresh_after_failure_min = std::chrono::seconds(1);

}  // namespace

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
}  // namespace vigil
