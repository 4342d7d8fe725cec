// ClientOptions: checked once at construction, then mapped onto core::RoutingOptions.

#include "client/client_options.h"

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "client/ring_reply.h"

namespace vigil::client {

using std::chrono::duration_cast;
using std::chrono::microseconds;

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
  const ClientTlsOptions& tls = options.tls;
  if (!tls.enabled && (!tls.ca_file.empty() || !tls.cert_file.empty() || !tls.key_file.empty() ||
                       !tls.server_name.empty())) {
    invalid("tls: files or server_name given but tls.enabled is false");
  }
  return options;
}

ConnectionSettings connection_settings(const ClientOptions& options) {
  ConnectionSettings settings;
  settings.connect_timeout = options.connect_timeout;
  settings.request_timeout = options.request_timeout;
  settings.user = options.user;
  settings.password = options.password;
  settings.consistency = options.consistency;
  if (options.tls.enabled) settings.tls = std::make_shared<const TlsContext>(options.tls);
  return settings;
}

std::uint64_t seed_of(const ClientOptions& options) {
  if (options.random_seed != 0) return options.random_seed;
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

}  // namespace vigil::client
