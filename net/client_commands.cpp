// The client port's command dispatch and its connection-level commands.
//
// Theory of operation. A request is looked up by its lower-cased name in one table that
// also feeds COMMAND and COMMAND DOCS, its arity is checked with Redis' rule and wording,
// and its handler is given a Responder that answers exactly once. Commands that reach the
// node (client_commands_data.cpp) answer from the node's reply callback; the others
// answer at once. Every answer is timed from dispatch and counted by command and
// consistency level (net/metrics.h); errors also by kind. Errors follow Redis' wording
// where Redis has the same error ("ERR unknown command 'x', with args beginning with: ",
// "ERR wrong number of arguments for 'get' command"), so clients and people recognise them.

#include "net/client_commands.h"

#include <algorithm>
#include <cctype>

#include "core/assert.h"
#include "net/client_command_table.h"
#include "net/resp_reply.h"

namespace vigil::net {

std::string_view consistency_name(core::Consistency consistency) {
  switch (consistency) {
    case core::Consistency::one: return "one";
    case core::Consistency::quorum: return "quorum";
    case core::Consistency::all: return "all";
    case core::Consistency::default_level: return "default";
  }
  return "unknown";
}

namespace commands {

std::string to_lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

Responder::Responder(std::shared_ptr<CommandEnvironment> environment, std::string command,
                     std::string consistency, ReplyCallback reply)
    : environment_(std::move(environment)),
      command_(std::move(command)),
      consistency_(std::move(consistency)),
      reply_(std::move(reply)),
      started_(std::chrono::steady_clock::now()) {}

void Responder::send(std::string bytes) {
  VIGIL_ASSERT(!answered_, "a command answered twice");
  answered_ = true;
  if (!environment_->alive) return;
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started_;
  environment_->metrics.record_command(command_, consistency_, elapsed.count());
  reply_(std::move(bytes));
}

void Responder::fail(std::string_view kind, std::string_view line) {
  if (environment_->alive) environment_->metrics.record_error(kind);
  send(resp::error(line));
}

FailureLine failure_line(const core::ClientReply& reply) {
  const std::string counts = std::to_string(reply.replicas_answered) + " of " +
                             std::to_string(reply.replicas_needed) + " replicas answered";
  const std::string& message = reply.status.message();
  switch (reply.status.code()) {
    case core::Code::unavailable:
      return {"unavailable", "UNAVAILABLE", "quorum not reached: " + counts + " (" + message + ")"};
    case core::Code::timeout:
      return {"timeout", "TIMEOUT",
              "no quorum within the request timeout: " + counts + " (" + message + ")"};
    case core::Code::invalid_argument: return {"syntax", "ERR", message};
    case core::Code::resource_exhausted:
      return {"refused", "ERR", "resource exhausted: " + message};
    case core::Code::failed_precondition:
      return {"refused", "ERR", "node refuses the request: " + message};
    default:
      return {"internal", "ERR",
              std::string(core::code_name(reply.status.code())) + ": " + message};
  }
}

void Responder::fail_with(const core::ClientReply& reply) {
  const FailureLine line = failure_line(reply);
  fail(line.kind, line.code + " " + line.text);
}

bool check_key(const ResponderPtr& responder, std::string_view key) {
  const std::uint64_t limit = responder->environment().config.limits.key_bytes_max;
  if (key.empty()) {
    responder->fail("syntax", "ERR empty keys are not supported (a key is 1.." +
                                  std::to_string(limit) + " bytes)");
    return false;
  }
  if (key.size() > limit) {
    responder->fail("too_large", "ERR key is " + std::to_string(key.size()) +
                                     " bytes, over the limit of " + std::to_string(limit) +
                                     " bytes (limits.key_bytes_max)");
    return false;
  }
  return true;
}

bool check_value(const ResponderPtr& responder, std::string_view value) {
  const std::uint64_t limit = responder->environment().config.limits.value_bytes_max;
  if (value.size() > limit) {
    responder->fail("too_large", "ERR value is " + std::to_string(value.size()) +
                                     " bytes, over the limit of " + std::to_string(limit) +
                                     " bytes (limits.value_bytes_max)");
    return false;
  }
  return true;
}

void submit(const ResponderPtr& responder, core::ClientOp op, core::Consistency consistency,
            std::string key, std::string value, std::optional<core::VectorClock> context,
            std::function<void(const core::ClientReply&)> done) {
  core::ClientRequest request;
  request.op = op;
  request.consistency = consistency;
  request.key = std::move(key);
  request.value = std::move(value);
  request.context = std::move(context);
  submit_request(responder, std::move(request), std::move(done));
}

void submit_request(const ResponderPtr& responder, core::ClientRequest request,
                    std::function<void(const core::ClientReply&)> done) {
  std::shared_ptr<CommandEnvironment> environment = responder->environment_pointer();
  environment->service.submit(
      std::move(request),
      [environment, done = std::move(done)](const core::ClientReply& reply) {
        if (environment->alive) done(reply);
      });
}

void handle_ping(const ResponderPtr& responder, ClientSession&, Arguments& arguments) {
  responder->send(arguments.size() == 1 ? resp::simple("PONG") : resp::bulk(arguments[1]));
}

void handle_echo(const ResponderPtr& responder, ClientSession&, Arguments& arguments) {
  responder->send(resp::bulk(arguments[1]));
}

void handle_quit(const ResponderPtr& responder, ClientSession& session, Arguments&) {
  session.quit = true;
  responder->send(resp::simple("OK"));
}

void handle_select(const ResponderPtr& responder, ClientSession&, Arguments& arguments) {
  if (arguments[1] == "0") {
    responder->send(resp::simple("OK"));
  } else {
    responder->fail("syntax", "ERR DB index is out of range (Vigil has one keyspace, 0)");
  }
}

void handle_client(const ResponderPtr& responder, ClientSession& session, Arguments& arguments) {
  const std::string sub = to_lower(arguments[1]);
  if (sub == "setname" && arguments.size() == 3) {
    if (std::any_of(arguments[2].begin(), arguments[2].end(),
                    [](char c) { return c < '!' || c > '~'; })) {
      responder->fail("syntax", "ERR Client names cannot contain spaces, newlines or special "
                                "characters.");
      return;
    }
    session.name = arguments[2];
    responder->send(resp::simple("OK"));
  } else if (sub == "getname" && arguments.size() == 2) {
    responder->send(session.name.empty() ? resp::nil() : resp::bulk(session.name));
  } else if (sub == "id" && arguments.size() == 2) {
    responder->send(resp::integer(static_cast<std::int64_t>(session.id)));
  } else if (sub == "setinfo" && arguments.size() == 4) {
    responder->send(resp::simple("OK"));  // redis-py and others send it; nothing to keep
  } else if (sub == "setname" || sub == "getname" || sub == "id" || sub == "setinfo") {
    responder->fail("wrong_arity", "ERR wrong number of arguments for 'client|" + sub +
                                       "' command");
  } else {
    responder->fail("syntax", "ERR unknown subcommand '" + arguments[1] +
                                  "'. Try CLIENT HELP. (Vigil supports CLIENT SETNAME, "
                                  "GETNAME, ID, SETINFO)");
  }
}

// HELLO [protover [AUTH username password] [SETNAME clientname]]: RESP2 only.
void handle_hello(const ResponderPtr& responder, ClientSession& session, Arguments& arguments) {
  if (arguments.size() >= 2 && arguments[1] != "2") {
    responder->fail("syntax", arguments[1] == "3"
                                  ? "NOPROTO unsupported protocol version (Vigil speaks RESP2)"
                                  : "NOPROTO unsupported protocol version");
    return;
  }
  // Options are all checked before any takes effect, as Redis does: a HELLO that fails
  // changes nothing.
  std::string name = session.name;
  const std::string* user = nullptr;
  const std::string* password = nullptr;
  for (std::size_t i = 2; i < arguments.size(); ++i) {
    const std::string option = to_lower(arguments[i]);
    if (option == "setname" && i + 1 < arguments.size()) {
      name = arguments[++i];
    } else if (option == "auth" && i + 2 < arguments.size()) {
      user = &arguments[i + 1];
      password = &arguments[i + 2];
      i += 2;
    } else {
      responder->fail("syntax", "ERR Syntax error in HELLO option '" + arguments[i] + "'");
      return;
    }
  }
  if (user != nullptr) {
    if (!authenticate(responder, session, *user, *password)) return;
  } else if (!session_may_run(responder->environment(), session)) {
    responder->fail("noauth",
                    "NOAUTH HELLO must be called with the client already authenticated, "
                    "otherwise the HELLO <proto> AUTH <user> <pass> option can be used to "
                    "authenticate the client and select the RESP protocol version at the same "
                    "time");
    return;
  }
  session.name = name;
  std::string out;
  resp::append_array_header(out, 14);
  resp::append_bulk(out, "server");
  resp::append_bulk(out, "vigil");
  resp::append_bulk(out, "version");
  resp::append_bulk(out, "0.1.0");
  resp::append_bulk(out, "proto");
  resp::append_integer(out, 2);
  resp::append_bulk(out, "id");
  resp::append_integer(out, static_cast<std::int64_t>(session.id));
  resp::append_bulk(out, "mode");
  resp::append_bulk(out, "standalone");
  resp::append_bulk(out, "role");
  resp::append_bulk(out, "master");
  resp::append_bulk(out, "modules");
  resp::append_array_header(out, 0);
  responder->send(std::move(out));
}

// CONSISTENCY [one|quorum|all|eventual|strong]: the level of this connection's requests.
void handle_consistency(const ResponderPtr& responder, ClientSession& session,
                        Arguments& arguments) {
  if (arguments.size() == 1) {
    responder->send(resp::bulk(consistency_name(session.consistency)));
    return;
  }
  const std::string level = to_lower(arguments[1]);
  if (level == "one" || level == "eventual") {
    session.consistency = core::Consistency::one;
  } else if (level == "quorum") {
    session.consistency = core::Consistency::quorum;
  } else if (level == "all" || level == "strong") {
    session.consistency = core::Consistency::all;
  } else {
    responder->fail("syntax", "ERR unknown consistency level '" + arguments[1] +
                                  "' (one, quorum, all; eventual = one, strong = all)");
    return;
  }
  responder->send(resp::simple("OK"));
}

namespace {

std::string unknown_command_line(const Arguments& arguments) {
  std::string line = "ERR unknown command '" + arguments[0] + "', with args beginning with: ";
  for (std::size_t i = 1; i < arguments.size() && line.size() < 256; ++i) {
    line += "'" + arguments[i].substr(0, 64) + "' ";
  }
  return line;
}

bool arity_ok(int arity, std::size_t count) {
  const auto size = static_cast<long long>(count);
  return arity > 0 ? size == arity : size >= -arity;
}

}  // namespace

}  // namespace commands

CommandOrder command_order(const std::vector<std::string>& arguments) {
  CommandOrder order;
  if (arguments.empty()) return order;
  const std::string name = commands::to_lower(arguments[0]);
  const commands::Command* command = commands::find_command(name);
  if (command == nullptr) {
    const commands::RefusedCommand* refused = commands::find_refused_command(name);
    order.barrier = refused != nullptr && refused->barrier;
    return order;
  }
  if (!commands::arity_ok(command->arity, arguments.size())) return order;
  if (command->first_key <= 0) {
    // SCAN, KEYS and DBSIZE read the whole keyspace: as barriers they see every write the
    // connection sent before them (read-your-writes over all keys), and the writes after
    // them wait, as a pipelining client expects.
    order.barrier = (command->group == "connection" && name != "ping" && name != "echo") ||
                    name == "scan" || name == "keys" || name == "dbsize";
    return order;
  }
  const auto count = static_cast<int>(arguments.size());
  const int last = command->last_key < 0 ? count + command->last_key : command->last_key;
  const int step = std::max(1, command->key_step);
  for (int i = command->first_key; i <= last && i < count; i += step) {
    order.keys.push_back(arguments[static_cast<std::size_t>(i)]);
  }
  return order;
}

void execute_command(const std::shared_ptr<CommandEnvironment>& environment,
                     ClientSession& session, std::vector<std::string> arguments,
                     ReplyCallback reply) {
  VIGIL_ASSERT(!arguments.empty(), "execute_command without a command name");
  const std::string name = commands::to_lower(arguments[0]);
  const commands::Command* command = commands::find_command(name);
  const commands::RefusedCommand* refused =
      command == nullptr ? commands::find_refused_command(name) : nullptr;
  const std::string consistency = command != nullptr && command->reaches_node
                                      ? std::string(consistency_name(session.consistency))
                                      : "none";
  auto responder = std::make_shared<commands::Responder>(
      environment, command != nullptr || refused != nullptr ? name : "unknown", consistency,
      std::move(reply));
  // Before AUTH (while users are configured) only AUTH, HELLO and QUIT run. In Redis'
  // order an unknown command or a wrong arity is still answered as such.
  if (!commands::session_may_run(*environment, session) && name != "auth" && name != "hello" &&
      name != "quit") {
    if (command == nullptr && refused == nullptr) {
      responder->fail("unknown_command", commands::unknown_command_line(arguments));
    } else if (command != nullptr && !commands::arity_ok(command->arity, arguments.size())) {
      responder->fail("wrong_arity", "ERR wrong number of arguments for '" + name + "' command");
    } else {
      responder->fail("noauth", "NOAUTH Authentication required.");
    }
    return;
  }
  if (commands::refuse_inside_transaction(responder, session, name)) return;
  if (refused != nullptr) {
    refused->handler(responder, session, arguments);
    return;
  }
  if (command == nullptr) {
    responder->fail("unknown_command", commands::unknown_command_line(arguments));
    return;
  }
  if (!commands::arity_ok(command->arity, arguments.size())) {
    responder->fail("wrong_arity", "ERR wrong number of arguments for '" + name + "' command");
    return;
  }
  // Which commands write is the table's "write" flag (the one COMMAND reports).
  if (session.read_only && commands::is_write(*command)) {
    responder->fail("noperm", "NOPERM User " + session.user +
                                  " has no permissions to run the '" + name + "' command");
    return;
  }
  command->handler(responder, session, arguments);
}

}  // namespace vigil::net
