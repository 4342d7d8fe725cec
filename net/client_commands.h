#pragma once
// The client port's commands (docs/client-protocol.md documents each, its replies and
// errors). A connection parses a request and calls execute_command(); the command answers
// through `reply` exactly once, either before execute_command returns (PING, errors) or
// later on the loop thread, when the node has answered (GET, SET, ...). Replies for one
// connection can therefore complete out of order; the connection restores the order.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/wire/messages.h"
#include "net/client_auth.h"
#include "net/metrics.h"
#include "net/node_service.h"

namespace vigil::net {

// What every command may use; shared by the server and its connections. `alive` turns
// false when the server stops: a reply the node delivers later is then dropped without
// touching the metrics (whose owner may be going away).
struct CommandEnvironment {
  NodeService& service;
  Metrics& metrics;
  config::Config config;
  std::chrono::steady_clock::time_point started;
  std::uint16_t port = 0;  // the bound client port (INFO)
  bool alive = true;
  VerifiedPasswords passwords = {};  // net/client_auth.h
};

// Per-connection state that commands read and change.
struct ClientSession {
  std::uint64_t id = 0;
  core::Consistency consistency = core::Consistency::default_level;  // quorum_settings R/W
  std::string name;   // CLIENT SETNAME
  bool quit = false;  // QUIT: close once this reply is written
  // MULTI was refused and neither EXEC nor DISCARD has ended it: the commands sent in
  // between are refused too, so a transaction never runs in part
  // (net/client_commands_refused.cpp).
  bool transaction_refused = false;
  // AUTH (or HELLO ... AUTH) succeeded; meaningless when no users are configured, where
  // every connection is `default` with every permission (net/client_auth.h).
  bool authenticated = false;
  std::string user = "default";  // ACL WHOAMI
  bool read_only = false;        // the user's permissions are read-only: writes get NOPERM
};

// Keys one multi-key command (MGET, MSET, DEL, EXISTS) may name: each becomes a node request.
inline constexpr std::size_t keys_per_command_max = 1024;

// The whole RESP reply (bytes), exactly once.
using ReplyCallback = std::function<void(std::string reply)>;

// Runs one request. REQUIRES: !arguments.empty(); `environment` outlives every reply
// (shared by the connection's callbacks).
void execute_command(const std::shared_ptr<CommandEnvironment>& environment,
                     ClientSession& session, std::vector<std::string> arguments,
                     ReplyCallback reply);

// How a request takes its place in its connection's order (core/node/session_order.h):
// the keys it reads or writes (from the command table's key positions), and whether it is
// a barrier. Barriers are the connection commands that read or change the session's state
// (CONSISTENCY, CLIENT, HELLO, SELECT, AUTH, QUIT, and the refused MULTI, EXEC, DISCARD):
// the commands after them must see the new state, and the ones before them the old; and
// the commands that read the whole keyspace (SCAN, KEYS, DBSIZE), which must see every
// earlier write of the connection. PING, ECHO, INFO, COMMAND and CONFIG touch
// no key and no session state; unknown commands and wrong arities are answered at once
// with an error; all of these only wait for earlier barriers.
struct CommandOrder {
  std::vector<std::string> keys;
  bool barrier = false;
};
CommandOrder command_order(const std::vector<std::string>& arguments);

// "one", "quorum", "all".
std::string_view consistency_name(core::Consistency consistency);

}  // namespace vigil::net
