// The command table and the introspection commands: INFO, COMMAND, CONFIG GET.
//
// These exist so that Redis tools work unchanged: redis-cli asks COMMAND DOCS for its
// hints, redis-benchmark asks CONFIG GET save/appendonly before a run, libraries ask
// COMMAND or INFO. They answer from the same table the dispatcher uses, so what COMMAND
// lists is exactly what runs. INFO keeps Redis' "# Section" and "field:value" shape with
// Redis' field names where the figure means the same, and Vigil's own figures under
// "# Vigil" (every node counter, named as in core/node/node.h).

#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "config/config.h"
#include "net/client_command_table.h"
#include "net/resp_parser.h"
#include "net/resp_reply.h"

namespace vigil::net::commands {

namespace {

// EXPIRE's optional condition, shared by its four forms (client_commands_expiry.cpp).
Argument expire_condition_argument() {
  return {.name = "condition",
          .type = "oneof",
          .optional = true,
          .choices = {{.name = "nx", .type = "pure-token", .token = "NX"},
                      {.name = "xx", .type = "pure-token", .token = "XX"},
                      {.name = "gt", .type = "pure-token", .token = "GT"},
                      {.name = "lt", .type = "pure-token", .token = "LT"}}};
}

}  // namespace

const std::vector<Command>& command_table() {
  static const Argument expire_condition = expire_condition_argument();
  static const std::vector<Command> table = {
      {"acl", -2, {"noscript", "loading", "stale"}, 0, 0, 0, "server",
       "ACL WHOAMI: the user of this connection", {{"subcommand", "string"}}, false,
       handle_acl},
      {"auth", -2, {"noscript", "loading", "stale", "fast"}, 0, 0, 0, "connection",
       "Authenticate as a user of security.users (the user `default` when only a password "
       "is given)",
       {{.name = "username", .type = "string", .optional = true}, {"password", "string"}},
       false, handle_auth},
      {"client", -2, {"admin", "noscript", "loading", "stale"}, 0, 0, 0, "connection",
       "CLIENT SETNAME, GETNAME, ID, SETINFO", {{"subcommand", "string"}}, false,
       handle_client},
      {"command", -1, {"loading", "stale"}, 0, 0, 0, "server",
       "The commands of this port (COMMAND, COUNT, LIST, INFO, DOCS)", {}, false,
       handle_command},
      {"config", -2, {"admin", "noscript", "loading", "stale"}, 0, 0, 0, "server",
       "CONFIG GET of the few parameters Redis tools ask for", {{"subcommand", "string"}},
       false, handle_config},
      {"consistency", -1, {"fast"}, 0, 0, 0, "connection",
       "Get or set this connection's consistency level: one, quorum, all",
       {{"level", "string"}}, false, handle_consistency},
      {"dbsize", 1, {"readonly", "fast"}, 0, 0, 0, "server",
       "An estimate of the keys stored: every node's key count summed, divided by N "
       "(tombstones and unrepaired replicas count too)",
       {}, true, handle_dbsize},
      {"decr", 2, {"write", "fast"}, 1, 1, 1, "string",
       "Decrement a PN-counter by one: one write on the key's first healthy replica; the "
       "value there after it (docs/counters.md)",
       {{"key", "key"}}, true, handle_decr},
      {"decrby", 3, {"write", "fast"}, 1, 1, 1, "string",
       "Decrement a PN-counter by an integer (as DECR)",
       {{"key", "key"}, {"decrement", "integer"}}, true, handle_decrby},
      {"del", -2, {"write"}, 1, -1, 1, "generic",
       "Delete keys, one delete per key; the count of keys that held a value",
       {{.name = "key", .type = "key", .multiple = true}}, true, handle_del},
      {"echo", 2, {"fast"}, 0, 0, 0, "connection", "Echo the message", {{"message", "string"}},
       false, handle_echo},
      {"exists", -2, {"readonly", "fast"}, 1, -1, 1, "generic",
       "The count of the keys that exist",
       {{.name = "key", .type = "key", .multiple = true}}, true, handle_exists},
      {"expire", -3, {"write", "fast"}, 1, 1, 1, "generic",
       "Set a key's time to live in seconds: a quorum read, then a write of the value with "
       "the expiry (docs/expiry.md)",
       {{"key", "key"}, {"seconds", "integer"}, expire_condition},
       true, handle_expire},
      {"expireat", -3, {"write", "fast"}, 1, 1, 1, "generic",
       "Set a key's expiry as a Unix time in seconds (read, then write)",
       {{"key", "key"}, {"unix-time-seconds", "integer"}, expire_condition},
       true, handle_expireat},
      {"expiretime", 2, {"readonly", "fast"}, 1, 1, 1, "generic",
       "The Unix time in seconds at which the key expires; -1 none, -2 absent", {{"key", "key"}}, true, handle_expiretime},
      {"get", 2, {"readonly", "fast"}, 1, 1, 1, "string",
       "Get a key's value (one sibling if there are several; VGET shows all)",
       {{"key", "key"}}, true, handle_get},
      {"hello", -1, {"noscript", "loading", "stale", "fast"}, 0, 0, 0, "connection",
       "Handshake; protocol 2 only", {{"protover", "integer"}}, false, handle_hello},
      {"incr", 2, {"write", "fast"}, 1, 1, 1, "string",
       "Increment a PN-counter by one: one write on the key's first healthy replica; "
       "concurrent increments through other nodes are merged, never lost; the value there "
       "after it (docs/counters.md)",
       {{"key", "key"}}, true, handle_incr},
      {"incrby", 3, {"write", "fast"}, 1, 1, 1, "string",
       "Increment a PN-counter by an integer (as INCR)",
       {{"key", "key"}, {"increment", "integer"}}, true, handle_incrby},
      {"info", -1, {"loading", "stale"}, 0, 0, 0, "server",
       "Server, clients, stats, commandstats, ring and Vigil figures",
       {{"section", "string"}}, false, handle_info},
      {"keys", 2, {"readonly"}, 0, 0, 0, "generic",
       "Every live key matching a glob pattern: a whole SCAN walk in one command, refused "
       "past client.keys_max keys walked",
       {{"pattern", "pattern"}}, true, handle_keys},
      {"mget", -2, {"readonly", "fast"}, 1, -1, 1, "string", "Get the values of keys",
       {{.name = "key", .type = "key", .multiple = true}}, true, handle_mget},
      {"mset", -3, {"write"}, 1, -1, 2, "string",
       "Set several keys, each with its own quorum; OK only when every key reached W, "
       "otherwise an error naming the keys not written (not atomic across keys)",
       {{.name = "data",
         .type = "block",
         .multiple = true,
         .choices = {{"key", "key"}, {"value", "string"}}}},
       true, handle_mset},
      {"persist", 2, {"write", "fast"}, 1, 1, 1, "generic",
       "Remove a key's expiry (read, then write the value without one)", {{"key", "key"}}, true,
       handle_persist},
      {"pexpire", -3, {"write", "fast"}, 1, 1, 1, "generic",
       "Set a key's time to live in milliseconds (read, then write)",
       {{"key", "key"}, {"milliseconds", "integer"}, expire_condition},
       true, handle_pexpire},
      {"pexpireat", -3, {"write", "fast"}, 1, 1, 1, "generic",
       "Set a key's expiry as a Unix time in milliseconds (read, then write)",
       {{"key", "key"}, {"unix-time-milliseconds", "integer"}, expire_condition},
       true, handle_pexpireat},
      {"pexpiretime", 2, {"readonly", "fast"}, 1, 1, 1, "generic",
       "The Unix time in milliseconds at which the key expires; -1 none, -2 absent", {{"key", "key"}}, true, handle_pexpiretime},
      {"ping", -1, {"fast", "stale"}, 0, 0, 0, "connection", "PONG, or the message",
       {{.name = "message", .type = "string", .optional = true}}, false, handle_ping},
      {"psetex", 4, {"write"}, 1, 1, 1, "string",
       "Set a key's value and its time to live in milliseconds, in one write",
       {{"key", "key"}, {"milliseconds", "integer"}, {"value", "string"}}, true, handle_psetex},
      {"pttl", 2, {"readonly", "fast"}, 1, 1, 1, "generic",
       "A key's time to live in milliseconds; -1 no expiry, -2 absent", {{"key", "key"}}, true, handle_pttl},
      {"quit", -1, {"loading", "stale", "fast"}, 0, 0, 0, "connection", "Close the connection",
       {}, false, handle_quit},
      {"scan", -2, {"readonly"}, 0, 0, 0, "generic",
       "One page of a walk of the ring by token: the next cursor (0: done) and live keys, "
       "each listed once per walk while the ring does not change; one replica per range",
       {{"cursor", "integer"},
        {.name = "pattern", .type = "pattern", .token = "MATCH", .optional = true},
        {.name = "count", .type = "integer", .token = "COUNT", .optional = true},
        {.name = "type", .type = "string", .token = "TYPE", .optional = true}},
       true, handle_scan},
      {"select", 2, {"loading", "stale", "fast"}, 0, 0, 0, "connection",
       "Only database 0 exists", {{"index", "integer"}}, false, handle_select},
      {"set", -3, {"write"}, 1, 1, 1, "string",
       "Set a key's value, with an expiry in the same write (EX/PX/EXAT/PXAT); NX/XX/GET/"
       "KEEPTTL read at quorum first, then write with that read's context (not atomic: two "
       "NX writers can both succeed, as siblings)",
       {{"key", "key"},
        {"value", "string"},
        {.name = "condition",
         .type = "oneof",
         .optional = true,
         .choices = {{.name = "nx", .type = "pure-token", .token = "NX"},
                     {.name = "xx", .type = "pure-token", .token = "XX"}}},
        {.name = "get", .type = "pure-token", .token = "GET", .optional = true},
        {.name = "expiration",
         .type = "oneof",
         .optional = true,
         .choices = {{.name = "seconds", .type = "integer", .token = "EX"},
                     {.name = "milliseconds", .type = "integer", .token = "PX"},
                     {.name = "unix-time-seconds", .type = "integer", .token = "EXAT"},
                     {.name = "unix-time-milliseconds", .type = "integer", .token = "PXAT"},
                     {.name = "keepttl", .type = "pure-token", .token = "KEEPTTL"}}}},
       true, handle_set},
      {"setex", 4, {"write"}, 1, 1, 1, "string",
       "Set a key's value and its time to live in seconds, in one write",
       {{"key", "key"}, {"seconds", "integer"}, {"value", "string"}}, true, handle_setex},
      {"ttl", 2, {"readonly", "fast"}, 1, 1, 1, "generic",
       "A key's time to live in seconds; -1 no expiry, -2 absent", {{"key", "key"}}, true, handle_ttl},
      {"vdel", 3, {"write"}, 1, 1, 1, "string",
       "Delete with a causal context from VGET (\"\" = blind); the new context",
       {{"key", "key"}, {"context", "string"}}, true, handle_vdel},
      {"vget", 2, {"readonly", "fast"}, 1, 1, 1, "string",
       "A key's causal context and every sibling value", {{"key", "key"}}, true,
       handle_vget},
      {"vring", 1, {"loading", "stale", "fast"}, 0, 0, 0, "cluster",
       "The ring: its version and digest, this node's id, N, and every member's id, client "
       "address (known for this node only) and tokens",
       {}, false, handle_vring},
      {"vset", 4, {"write"}, 1, 1, 1, "string",
       "Write with a causal context from VGET (\"\" = blind); the new context",
       {{"key", "key"}, {"value", "string"}, {"context", "string"}}, true, handle_vset},
  };
  return table;
}

const Command* find_command(std::string_view lower_case_name) {
  const auto& table = command_table();
  auto it = std::lower_bound(table.begin(), table.end(), lower_case_name,
                             [](const Command& c, std::string_view n) { return c.name < n; });
  return it != table.end() && it->name == lower_case_name ? &*it : nullptr;
}

namespace {

void append_command_info(std::string& out, const Command& command) {
  resp::append_array_header(out, 10);
  resp::append_bulk(out, command.name);
  resp::append_integer(out, command.arity);
  resp::append_array_header(out, command.flags.size());
  for (std::string_view flag : command.flags) resp::append_simple(out, flag);
  resp::append_integer(out, command.first_key);
  resp::append_integer(out, command.last_key);
  resp::append_integer(out, command.key_step);
  for (int empty = 0; empty < 4; ++empty) resp::append_array_header(out, 0);  // acl, tips,
                                                                                // key specs,
                                                                                // subcommands
}

void append_argument_docs(std::string& out, const Argument& argument) {
  std::vector<std::string_view> flags;
  if (argument.optional) flags.push_back("optional");
  if (argument.multiple) flags.push_back("multiple");
  const std::size_t fields = 2 + (argument.token.empty() ? 0 : 1) + (flags.empty() ? 0 : 1) +
                             (argument.choices.empty() ? 0 : 1);
  resp::append_array_header(out, fields * 2);
  resp::append_bulk(out, "name");
  resp::append_bulk(out, argument.name);
  resp::append_bulk(out, "type");
  resp::append_bulk(out, argument.type);
  if (!argument.token.empty()) {
    resp::append_bulk(out, "token");
    resp::append_bulk(out, argument.token);
  }
  if (!flags.empty()) {
    resp::append_bulk(out, "flags");
    resp::append_array_header(out, flags.size());
    for (std::string_view flag : flags) resp::append_simple(out, flag);
  }
  if (!argument.choices.empty()) {
    resp::append_bulk(out, "arguments");
    resp::append_array_header(out, argument.choices.size());
    for (const Argument& choice : argument.choices) append_argument_docs(out, choice);
  }
}

void append_command_docs(std::string& out, const Command& command) {
  resp::append_bulk(out, command.name);
  resp::append_array_header(out, 8);
  resp::append_bulk(out, "summary");
  resp::append_bulk(out, command.summary);
  resp::append_bulk(out, "since");
  resp::append_bulk(out, "0.1.0");
  resp::append_bulk(out, "group");
  resp::append_bulk(out, command.group);
  resp::append_bulk(out, "arguments");
  resp::append_array_header(out, command.arguments.size());
  for (const Argument& argument : command.arguments) append_argument_docs(out, argument);
}

// The commands named in arguments[from...], or all of them.
std::vector<const Command*> selected(const Arguments& arguments, std::size_t from) {
  std::vector<const Command*> out;
  if (arguments.size() <= from) {
    for (const Command& command : command_table()) out.push_back(&command);
    return out;
  }
  for (std::size_t i = from; i < arguments.size(); ++i) {
    out.push_back(find_command(to_lower(arguments[i])));
  }
  return out;
}

}  // namespace

void handle_command(const ResponderPtr& responder, ClientSession&, Arguments& arguments) {
  std::string out;
  const std::string sub = arguments.size() > 1 ? to_lower(arguments[1]) : "";
  if (arguments.size() == 1) {
    resp::append_array_header(out, command_table().size());
    for (const Command& command : command_table()) append_command_info(out, command);
  } else if (sub == "count" && arguments.size() == 2) {
    resp::append_integer(out, static_cast<std::int64_t>(command_table().size()));
  } else if (sub == "list" && arguments.size() == 2) {
    resp::append_array_header(out, command_table().size());
    for (const Command& command : command_table()) resp::append_bulk(out, command.name);
  } else if (sub == "info") {
    const auto commands = selected(arguments, 2);
    resp::append_array_header(out, commands.size());
    for (const Command* command : commands) {
      if (command == nullptr) {
        resp::append_nil(out);
      } else {
        append_command_info(out, *command);
      }
    }
  } else if (sub == "docs") {
    auto commands = selected(arguments, 2);
    std::erase(commands, nullptr);  // Redis leaves unknown names out of DOCS
    resp::append_array_header(out, commands.size() * 2);
    for (const Command* command : commands) append_command_docs(out, *command);
  } else {
    responder->fail("syntax", "ERR unknown subcommand or wrong number of arguments for '" +
                                  arguments[1] + "'. Try COMMAND HELP. (Vigil supports "
                                  "COMMAND, COUNT, LIST, INFO, DOCS)");
    return;
  }
  responder->send(std::move(out));
}

// CONFIG GET pattern [pattern ...]: the parameters Redis tools read, with Vigil's answer.
void handle_config(const ResponderPtr& responder, ClientSession&, Arguments& arguments) {
  if (to_lower(arguments[1]) != "get") {
    responder->fail("syntax", "ERR CONFIG " + arguments[1] +
                                  " is not supported by Vigil (only CONFIG GET; the node is "
                                  "configured by its YAML file)");
    return;
  }
  if (arguments.size() < 3) {
    responder->fail("wrong_arity", "ERR wrong number of arguments for 'config|get' command");
    return;
  }
  const config::Config& config = responder->environment().config;
  const std::vector<std::pair<std::string, std::string>> parameters = {
      {"appendfsync", "always"},  // every write is committed before it is acknowledged
      {"appendonly", "no"},       // no AOF: SQLite is the durable store
      {"databases", "1"},
      {"maxclients", std::to_string(config.limits.client_connections_max)},
      {"maxmemory", "0"},
      {"proto-max-bulk-len", std::to_string(resp_limits(config).bulk_bytes_max)},
      {"save", ""},  // no RDB snapshots
      {"timeout", "0"},
  };
  std::vector<const std::pair<std::string, std::string>*> matches;
  for (const auto& parameter : parameters) {
    for (std::size_t i = 2; i < arguments.size(); ++i) {
      const std::string pattern = to_lower(arguments[i]);
      if (fnmatch(pattern.c_str(), parameter.first.c_str(), 0) == 0) {
        matches.push_back(&parameter);
        break;
      }
    }
  }
  std::string out;
  resp::append_array_header(out, matches.size() * 2);
  for (const auto* match : matches) {
    resp::append_bulk(out, match->first);
    resp::append_bulk(out, match->second);
  }
  responder->send(std::move(out));
}

}  // namespace vigil::net::commands
