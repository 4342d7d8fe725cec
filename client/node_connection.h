#pragma once
// One connection to one node's client port (a hiredis context, or a TlsLink with TLS),
// opened on first use and closed after any I/O error or timeout (a reply that arrives after
// its timeout would otherwise be read as the answer to the next request). Every call is
// bounded: connect_timeout to connect, request_timeout for each command.

#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/tls_link.h"

namespace vigil::client {

struct ReplyFree {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

struct ConnectionSettings {
  std::chrono::milliseconds connect_timeout{500};
  std::chrono::milliseconds request_timeout{6000};
  std::string user;
  std::string password;
  std::string consistency;
  // Set when ClientOptions::tls is enabled: every connection is a TlsLink over it.
  std::shared_ptr<const TlsContext> tls;
};

// The ClientError a RESP error line means (UNAVAILABLE, TIMEOUT, NOAUTH, ...).
ClientError error_of_line(std::string_view line);

class NodeConnection {
 public:
  NodeConnection(std::string address, const ConnectionSettings& settings);
  ~NodeConnection();
  NodeConnection(const NodeConnection&) = delete;
  NodeConnection& operator=(const NodeConnection&) = delete;

  // Sends one command and returns its reply; an error reply is returned as is (the
  // caller decides). Throws ClientError: connection (connect failed, connection broken),
  // timeout (no reply within `timeout`), no_auth (the AUTH on connecting failed).
  Reply call(const std::vector<std::string>& arguments, std::chrono::milliseconds timeout);
  Reply call(const std::vector<std::string>& arguments) {
    return call(arguments, settings_.request_timeout);
  }
  void close();
  bool connected() const { return context_ != nullptr || tls_ != nullptr; }
  const std::string& address() const { return address_; }

 private:
  void connect();
  // On an open connection, within `timeout`.
  Reply send(const std::vector<std::string>& arguments, std::chrono::milliseconds timeout);

  std::string address_;
  ConnectionSettings settings_;
  redisContext* context_ = nullptr;  // plain
  std::unique_ptr<TlsLink> tls_;     // with settings_.tls
};

}  // namespace vigil::client
