#pragma once
// The client port's own figures (requests and latencies by command and consistency level,
// connections, errors by kind), and the whole Prometheus exposition of a node: these plus
// what the NodeService reports (node counters, peer connections, phi per member, store
// commits). docs/client-protocol.md lists every metric.
//
// Everything runs on the node's one loop thread: nothing here locks.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "net/histogram.h"
#include "net/node_service.h"

namespace vigil::net {

class Metrics {
 public:
  // Every error kind starts at 0, so dashboards see the series before the first error.
  Metrics();

  // One command answered. `command`: the canonical lower-case name ("get", "vset", or
  // "unknown"); `consistency`: "one", "quorum" or "all" for commands that reach the node,
  // "none" for those answered by the port itself. `seconds`: from the whole request being
  // parsed to its reply being ready (before it is written).
  void record_command(std::string_view command, std::string_view consistency, double seconds);
  // One error reply, by kind: "unknown_command", "wrong_arity", "syntax", "too_large",
  // "invalid_context", "unavailable", "timeout", "refused", "internal", "unsupported" (a
  // Redis command Vigil refuses on purpose: MULTI, FLUSHDB, ...), "noauth" (a command
  // before AUTH), "wrongpass" (a failed AUTH), "noperm" (a write by a read-only user).
  void record_error(std::string_view kind);

  void connection_opened() { ++connections_open_; ++connections_accepted_; }
  void connection_closed() { --connections_open_; }
  // Over limits.client_connections_max: answered with an error and closed.
  void connection_refused() { ++connections_refused_; }
  // A malformed request closed its connection.
  void protocol_error() { ++protocol_errors_; }
  // A reply over the output bound closed its connection (a client not reading).
  void output_limit_closed() { ++output_limit_closes_; }
  // GET of a key with siblings answered with one of them (docs/client-protocol.md).
  void get_siblings_resolved() { ++get_siblings_resolved_; }
  // A command waited for an earlier command of its connection on the same key, or for a
  // barrier (core/node/session_order.h).
  void command_ordered_wait() { ++commands_ordered_waits_; }
  // One write of `replies` replies to a client socket (coalesced per loop turn).
  void reply_write(std::uint64_t replies) { ++reply_writes_; replies_written_ += replies; }
  // An admin request refused for a missing or wrong token (net/admin_http.h).
  void admin_unauthorized() { ++admin_unauthorized_; }
  std::uint64_t admin_unauthorized_count() const { return admin_unauthorized_; }
  // A TLS handshake on the client or admin port failed (not TLS, refused, timed out):
  // `port` is "client" or "admin". The peer port counts its own (peer_tls_*).
  void tls_handshake_failed(std::string_view port) {
    ++(port == "admin" ? tls_failures_admin_ : tls_failures_client_);
  }
  std::uint64_t tls_handshake_failures(std::string_view port) const {
    return port == "admin" ? tls_failures_admin_ : tls_failures_client_;
  }

  std::uint64_t connections_open() const { return connections_open_; }
  std::uint64_t connections_accepted() const { return connections_accepted_; }
  std::uint64_t connections_refused() const { return connections_refused_; }
  std::uint64_t protocol_errors() const { return protocol_errors_; }
  std::uint64_t output_limit_closes() const { return output_limit_closes_; }
  std::uint64_t get_siblings_resolved_count() const { return get_siblings_resolved_; }
  std::uint64_t commands_ordered_waits() const { return commands_ordered_waits_; }
  std::uint64_t reply_writes() const { return reply_writes_; }
  std::uint64_t replies_written() const { return replies_written_; }
  std::uint64_t commands_total() const;
  std::uint64_t errors_total() const;
  // (command, consistency) -> latency histogram (its count is the number of requests).
  const std::map<std::pair<std::string, std::string>, Histogram>& commands() const {
    return commands_;
  }
  const std::map<std::string, std::uint64_t>& errors() const { return errors_; }

  // The Prometheus text exposition of the node (text/plain; version=0.0.4).
  std::string exposition(const NodeService& service) const;

 private:
  std::map<std::pair<std::string, std::string>, Histogram> commands_;
  std::map<std::string, std::uint64_t> errors_;
  std::uint64_t connections_open_ = 0;
  std::uint64_t connections_accepted_ = 0;
  std::uint64_t connections_refused_ = 0;
  std::uint64_t protocol_errors_ = 0;
  std::uint64_t output_limit_closes_ = 0;
  std::uint64_t admin_unauthorized_ = 0;
  std::uint64_t tls_failures_client_ = 0;
  std::uint64_t tls_failures_admin_ = 0;
  std::uint64_t get_siblings_resolved_ = 0;
  std::uint64_t commands_ordered_waits_ = 0;
  std::uint64_t reply_writes_ = 0;
  std::uint64_t replies_written_ = 0;
};

}  // namespace vigil::net
