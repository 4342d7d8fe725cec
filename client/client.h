#pragma once
// vigil::Client: a token-aware client library for Vigil clusters (docs/client-library.md).
//
// A Client is given a few seed addresses (client ports, "host:port"), asks them for the
// ring (VRING, docs/client-protocol.md) and then sends each request to the first healthy
// node of the key's preference list, computed with the same ring code the nodes run
// (core/ring). Which node, now, is core/routing's Router: per-node circuit breakers,
// health checks and the fallback strategy, the implementation the nodes themselves use.
// Failed attempts are retried on another node after an exponential backoff with jitter
// (routing.retry_policy), at most max_retries times; what is left is thrown as a
// ClientError whose code says what happened.
//
// Threads: every method may be called from any thread. A Client keeps one connection per
// node and runs one request at a time (callers are serialised); the *_async methods queue
// the request to the Client's own worker thread and return a std::future. For parallel
// load, use several Clients (`vigil client bench` does).
//
// Bounds: a request takes at most (max_retries + 1) attempts, each at most
// connect_timeout (when it has to connect) + request_timeout, plus the backoffs between
// them (each at most retry_backoff_max), plus the wait for a request another thread is
// running on the same Client.

#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

// The closed set of failures a request can end with, and what a caller should do.
enum class ErrorCode : std::uint8_t {
  unavailable,       // no node could serve it (every breaker open, or no quorum): try later
  timeout,           // a node or the cluster did not answer in time: the write may have happened
  connection,        // could not connect, or the connection broke: the write may have happened
  no_auth,           // NOAUTH, WRONGPASS, NOPERM: fix the credentials or the user's rights
  invalid_argument,  // the node refused the request itself (ERR ...): do not retry as is
  protocol,          // a reply the client cannot read (not a Vigil node?)
};
std::string_view error_code_name(ErrorCode code);  // "unavailable", ...

class ClientError : public std::runtime_error {
 public:
  ClientError(ErrorCode code, const std::string& message);
  ErrorCode code() const { return code_; }
  // Whether another attempt (on another node, later) may succeed.
  bool retryable() const;

 private:
  ErrorCode code_;
};

// TLS to the nodes' client ports (security.tls.client; docs/security.md, "TLS"). With
// `enabled`, every connection of the Client is TLS 1.2 or later and the node's certificate
// must chain to ca_file; a node that does not verify is a connection error.
struct ClientTlsOptions {
  bool enabled = false;
  std::string ca_file;    // PEM CA certificates; empty: the system's default CAs
  std::string cert_file;  // a client certificate (PEM) to present; empty: none
  std::string key_file;   // its private key (PEM); required with cert_file
  // Check that the certificate names the node: server_name when set (also sent as SNI),
  // else the host of the address dialed (an IP against the certificate's IP SAN).
  bool verify_server_name = true;
  std::string server_name;
};

struct ClientOptions {
  std::vector<std::string> seeds;  // client ports, "host:port"; at least one
  std::string user;                // AUTH user (empty: `default` when a password is set)
  std::string password;            // empty: no AUTH
  std::string consistency;         // "", "one", "quorum", "all": CONSISTENCY per connection
  ClientTlsOptions tls;            // off by default

  std::chrono::milliseconds connect_timeout{500};
  std::chrono::milliseconds request_timeout{6000};  // above the node's own request_timeout (5s)
  std::chrono::milliseconds ring_refresh_interval{30000};

  // routing (seed section 3.2; the defaults are the seed's).
  bool token_aware = true;  // false: round-robin over the nodes
  std::uint32_t max_retries = 3;
  std::chrono::milliseconds retry_backoff_initial{100};
  std::chrono::milliseconds retry_backoff_max{1000};
  double retry_backoff_factor = 2.0;
  std::chrono::milliseconds health_check_interval{5000};
  bool breaker_enabled = true;
  std::uint32_t breaker_threshold = 5;
  std::chrono::milliseconds breaker_timeout{30000};
  std::uint32_t breaker_half_open_requests = 3;

  std::uint64_t random_seed = 0;  // backoff jitter; 0: drawn from std::random_device
};

// VGET's answer: the causal context to pass to the next write of the key, and every
// sibling: a value, or nullopt for a delete concurrent with the values.
struct Versioned {
  std::string context;
  std::vector<std::optional<std::string>> values;
};

// One node as the client sees it.
struct NodeView {
  std::string id;
  std::string address;  // client port; empty while unknown
  bool healthy = true;
  std::string breaker;  // "closed", "open", "half_open"
};

struct ClientStats {
  std::uint64_t requests = 0;
  std::uint64_t attempts = 0;
  std::uint64_t retries = 0;
  std::uint64_t failures = 0;      // requests that ended in a ClientError
  std::uint64_t token_aware = 0;   // attempts sent to a preference-list node
  std::uint64_t ring_refreshes = 0;
  std::uint64_t breaker_openings = 0;
  std::uint64_t breaker_closings = 0;
  std::uint64_t short_circuited = 0;  // routes that skipped a node whose breaker was open
};

class ClientImpl;

class Client {
 public:
  // Connects to the seeds and learns the ring. Throws ClientError (connection, no_auth,
  // protocol) when no seed answers VRING.
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Plain commands (GET, SET, DEL); siblings are resolved by the node as for any Redis
  // client (docs/client-protocol.md).
  std::optional<std::string> get(std::string_view key);
  void set(std::string_view key, std::string_view value);
  bool del(std::string_view key);  // whether the key held a value

  // Causal commands: pass vget's context to the write that follows it.
  Versioned vget(std::string_view key);
  std::string vset(std::string_view key, std::string_view value, std::string_view context);
  std::string vdel(std::string_view key, std::string_view context);

  // The same, run on the client's worker thread; errors arrive as the future's exception.
  std::future<std::optional<std::string>> get_async(std::string key);
  std::future<void> set_async(std::string key, std::string value);
  std::future<bool> del_async(std::string key);
  std::future<Versioned> vget_async(std::string key);
  std::future<std::string> vset_async(std::string key, std::string value, std::string context);
  std::future<std::string> vdel_async(std::string key, std::string context);

  // Asks the nodes for the ring now (also done every ring_refresh_interval and after a
  // connection failure). Throws ClientError when no node answers.
  void refresh_ring();
  std::uint64_t ring_version() const;
  // The key's preference list under the current ring (ids, primary first).
  std::vector<std::string> preference_list(std::string_view key) const;
  std::vector<NodeView> nodes() const;  // by id
  ClientStats stats() const;

 private:
  std::unique_ptr<ClientImpl> impl_;
};

}  // namespace vigil
