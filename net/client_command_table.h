#pragma once
// Internals of net/client_commands.cpp shared by its three sources: the command table, the
// Responder that records a command's metrics as it answers, and the handlers.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/node/client.h"
#include "net/client_commands.h"
#include "net/set_options.h"

namespace vigil::net::commands {

// Answers one command once: records its latency (and its error kind) in the metrics, then
// hands the bytes on. After the server stopped (environment().alive is false) it drops the
// reply without recording anything.
class Responder {
 public:
  Responder(std::shared_ptr<CommandEnvironment> environment, std::string command,
            std::string consistency, ReplyCallback reply);

  void send(std::string bytes);
  // `line` starts with the error code: "ERR ...", "UNAVAILABLE ...". `kind`: Metrics'
  // error kinds (net/metrics.h).
  void fail(std::string_view kind, std::string_view line);
  // The error reply for a node reply that is not ok (and not not_found).
  void fail_with(const core::ClientReply& reply);

  CommandEnvironment& environment() { return *environment_; }
  const std::shared_ptr<CommandEnvironment>& environment_pointer() { return environment_; }
  bool answered() const { return answered_; }

 private:
  std::shared_ptr<CommandEnvironment> environment_;
  std::string command_;
  std::string consistency_;
  ReplyCallback reply_;
  std::chrono::steady_clock::time_point started_;
  bool answered_ = false;
};

// The error reply for a node reply that is not ok: its metrics kind ("unavailable"), its
// code ("UNAVAILABLE") and the text after the code.
struct FailureLine {
  std::string_view kind;
  std::string code;
  std::string text;
};
FailureLine failure_line(const core::ClientReply& reply);

using ResponderPtr = std::shared_ptr<Responder>;
using Arguments = std::vector<std::string>;
using Handler = void (*)(const ResponderPtr&, ClientSession&, Arguments&);

// One argument as COMMAND DOCS describes it (Redis 7's shape), so redis-cli's hints show
// the syntax Vigil accepts: "SET key value [NX|XX] [GET]".
struct Argument {
  std::string_view name;
  std::string_view type;  // "key", "string", "integer", "pattern", "pure-token", "oneof", "block"
  std::string_view token = {};  // the literal the client types ("NX", "EX" before seconds)
  bool optional = false;
  bool multiple = false;
  std::vector<Argument> choices = {};  // oneof: the alternatives; block: its parts
};

struct Command {
  std::string_view name;  // lower case
  // Redis' convention: n > 0 exactly n arguments (the name included), n < 0 at least -n.
  int arity = 1;
  std::vector<std::string_view> flags;  // COMMAND's flags ("readonly", "write", "fast")
  int first_key = 0;
  int last_key = 0;
  int key_step = 0;
  std::string_view group;    // COMMAND DOCS' group ("string", "connection", ...)
  std::string_view summary;  // COMMAND DOCS' summary
  std::vector<Argument> arguments;
  bool reaches_node = false;  // its metrics carry the session's consistency level
  Handler handler = nullptr;
};

// Every command, ordered by name.
const std::vector<Command>& command_table();
const Command* find_command(std::string_view lower_case_name);

// Redis commands Vigil knows and refuses, each with its reason (client_commands_refused.cpp).
// They are not in command_table(): COMMAND describes only what Vigil supports. MULTI,
// EXEC and DISCARD read or change ClientSession::transaction_refused, so they are barriers.
struct RefusedCommand {
  std::string_view name;  // lower case
  bool barrier = false;
  Handler handler = nullptr;
};
const RefusedCommand* find_refused_command(std::string_view lower_case_name);
// The answer to a command sent after a refused MULTI (and before EXEC or DISCARD): the
// command is not run. False when the session is not in a refused transaction or the
// command is one that ends or repeats it.
bool refuse_inside_transaction(const ResponderPtr& responder, const ClientSession& session,
                               std::string_view lower_case_name);

std::string to_lower(std::string_view text);

// Checks a key or value against the configured limits; false after answering the error.
bool check_key(const ResponderPtr& responder, std::string_view key);
bool check_value(const ResponderPtr& responder, std::string_view value);

// Whether a plain SET or DEL takes the coordinating replica's context
// (client.set_context: coordinator) rather than reading first.
bool coordinator_context(const ResponderPtr& responder);
bool is_read_miss(const core::ClientReply& reply);  // absent, or only tombstones
bool read_ok(const core::ClientReply& reply);       // ok or not_found

// Sends one request to the node; `done` runs on the loop thread only while the server is
// alive (a reply delivered after stop() is dropped).
void submit(const ResponderPtr& responder, core::ClientOp op, core::Consistency consistency,
            std::string key, std::string value, std::optional<core::VectorClock> context,
            std::function<void(const core::ClientReply&)> done);
// The same for a request built whole (a put with an expiry).
void submit_request(const ResponderPtr& responder, core::ClientRequest request,
                    std::function<void(const core::ClientReply&)> done);

// Authentication (client_commands_auth.cpp). Whether the session may run commands other
// than AUTH, HELLO and QUIT: no users are configured, or it has authenticated.
bool session_may_run(const CommandEnvironment& environment, const ClientSession& session);
// A command that changes data: its table entry carries the "write" flag, the same flag
// COMMAND reports, so the permission check cannot drift from the table.
bool is_write(const Command& command);
// Checks `user`/`password` and on success makes them the session's user; false after
// answering the error (WRONGPASS, or ERR when no users are configured).
bool authenticate(const ResponderPtr& responder, ClientSession& session, std::string_view user,
                  std::string_view password);

// Handlers (client_commands*.cpp).
void handle_acl(const ResponderPtr&, ClientSession&, Arguments&);
void handle_ping(const ResponderPtr&, ClientSession&, Arguments&);
void handle_echo(const ResponderPtr&, ClientSession&, Arguments&);
void handle_quit(const ResponderPtr&, ClientSession&, Arguments&);
void handle_select(const ResponderPtr&, ClientSession&, Arguments&);
void handle_auth(const ResponderPtr&, ClientSession&, Arguments&);
void handle_client(const ResponderPtr&, ClientSession&, Arguments&);
void handle_hello(const ResponderPtr&, ClientSession&, Arguments&);
void handle_consistency(const ResponderPtr&, ClientSession&, Arguments&);
void handle_get(const ResponderPtr&, ClientSession&, Arguments&);
void handle_set(const ResponderPtr&, ClientSession&, Arguments&);
void handle_mset(const ResponderPtr&, ClientSession&, Arguments&);
void handle_del(const ResponderPtr&, ClientSession&, Arguments&);
void handle_exists(const ResponderPtr&, ClientSession&, Arguments&);
void handle_mget(const ResponderPtr&, ClientSession&, Arguments&);
void handle_vget(const ResponderPtr&, ClientSession&, Arguments&);
void handle_vset(const ResponderPtr&, ClientSession&, Arguments&);
void handle_vring(const ResponderPtr&, ClientSession&, Arguments&);
void handle_vdel(const ResponderPtr&, ClientSession&, Arguments&);
void handle_info(const ResponderPtr&, ClientSession&, Arguments&);
void handle_command(const ResponderPtr&, ClientSession&, Arguments&);
void handle_config(const ResponderPtr&, ClientSession&, Arguments&);
void handle_multi(const ResponderPtr&, ClientSession&, Arguments&);
void handle_exec(const ResponderPtr&, ClientSession&, Arguments&);
void handle_discard(const ResponderPtr&, ClientSession&, Arguments&);
void handle_watch(const ResponderPtr&, ClientSession&, Arguments&);
void handle_flush(const ResponderPtr&, ClientSession&, Arguments&);
void handle_msetnx(const ResponderPtr&, ClientSession&, Arguments&);
void handle_incrbyfloat(const ResponderPtr&, ClientSession&, Arguments&);
// Counters (client_commands_counters.cpp, docs/counters.md).
void handle_incr(const ResponderPtr&, ClientSession&, Arguments&);
void handle_decr(const ResponderPtr&, ClientSession&, Arguments&);
void handle_incrby(const ResponderPtr&, ClientSession&, Arguments&);
void handle_decrby(const ResponderPtr&, ClientSession&, Arguments&);
void handle_scan(const ResponderPtr&, ClientSession&, Arguments&);
void handle_keys(const ResponderPtr&, ClientSession&, Arguments&);
void handle_dbsize(const ResponderPtr&, ClientSession&, Arguments&);
// Expiry (client_commands_expiry.cpp, docs/expiry.md).
void handle_setex(const ResponderPtr&, ClientSession&, Arguments&);
void handle_psetex(const ResponderPtr&, ClientSession&, Arguments&);
void handle_expire(const ResponderPtr&, ClientSession&, Arguments&);
void handle_pexpire(const ResponderPtr&, ClientSession&, Arguments&);
void handle_expireat(const ResponderPtr&, ClientSession&, Arguments&);
void handle_pexpireat(const ResponderPtr&, ClientSession&, Arguments&);
void handle_ttl(const ResponderPtr&, ClientSession&, Arguments&);
void handle_pttl(const ResponderPtr&, ClientSession&, Arguments&);
void handle_expiretime(const ResponderPtr&, ClientSession&, Arguments&);
void handle_pexpiretime(const ResponderPtr&, ClientSession&, Arguments&);
void handle_persist(const ResponderPtr&, ClientSession&, Arguments&);
// SET's write with an expiry, as SET and SETEX both need it (client_commands_set.cpp):
// answers OK or the failure.
void set_with_expiry(const ResponderPtr& responder, ClientSession& session, std::string key,
                     std::string value, const ExpiryOption& expiry);

}  // namespace vigil::net::commands
