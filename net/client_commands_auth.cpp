// AUTH, HELLO's AUTH option and ACL WHOAMI: the client port's users (docs/security.md).
//
// A session starts unauthenticated; while users are configured it may run only AUTH,
// HELLO and QUIT (execute_command answers the rest with NOAUTH). AUTH is a barrier in the
// connection's order (command_order: a "connection" command), so the commands pipelined
// after it run as the user it made. Errors use Redis' exact words so that redis-cli and
// client libraries recognise them. No password, hash or tag is ever logged or echoed.

#include <algorithm>

#include "net/client_command_table.h"
#include "net/resp_reply.h"

namespace vigil::net::commands {

bool session_may_run(const CommandEnvironment& environment, const ClientSession& session) {
  return environment.config.security.users.empty() || session.authenticated;
}

bool is_write(const Command& command) {
  return std::find(command.flags.begin(), command.flags.end(), "write") != command.flags.end();
}

bool authenticate(const ResponderPtr& responder, ClientSession& session, std::string_view user,
                  std::string_view password) {
  CommandEnvironment& environment = responder->environment();
  if (environment.config.security.users.empty()) {
    responder->fail("syntax",
                    "ERR AUTH <password> called without any password configured for the "
                    "default user. Are you sure your configuration is correct?");
    return false;
  }
  const config::Config::Security::User* found =
      environment.passwords.authenticate(environment.config, user, password);
  if (found == nullptr) {
    // The session keeps the user it had, as in Redis.
    responder->fail("wrongpass", "WRONGPASS invalid username-password pair or user is disabled.");
    return false;
  }
  session.authenticated = true;
  session.user = found->name;
  session.read_only = found->permissions == config::Config::Security::Permission::read_only;
  return true;
}

// AUTH password (the user `default`) | AUTH username password.
void handle_auth(const ResponderPtr& responder, ClientSession& session, Arguments& arguments) {
  if (arguments.size() > 3) {
    responder->fail("syntax", "ERR syntax error");
    return;
  }
  const bool with_user = arguments.size() == 3;
  if (authenticate(responder, session, with_user ? arguments[1] : "default",
                   with_user ? arguments[2] : arguments[1])) {
    responder->send(resp::simple("OK"));
  }
}

// ACL WHOAMI; Vigil's users come from the config, so the rest of ACL is refused.
void handle_acl(const ResponderPtr& responder, ClientSession& session, Arguments& arguments) {
  const std::string sub = to_lower(arguments[1]);
  if (sub == "whoami" && arguments.size() == 2) {
    responder->send(resp::bulk(session.user));
  } else if (sub == "whoami") {
    responder->fail("wrong_arity", "ERR wrong number of arguments for 'acl|whoami' command");
  } else {
    responder->fail("syntax", "ERR unknown subcommand '" + arguments[1] +
                                  "'. Try ACL HELP. (Vigil supports ACL WHOAMI; users are "
                                  "set in the config, security.users)");
  }
}

}  // namespace vigil::net::commands
