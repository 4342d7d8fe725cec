// The Redis commands Vigil refuses on purpose, each with the reason, so that a client
// library shows the user the real cause instead of "unknown command" or, worse, an error
// that names the wrong command (docs/client-protocol.md, "Refused commands").
//
// Theory of operation. Transactions: Vigil replicates each key independently (its own
// preference list, its own quorum), so there is no point at which several keys could
// commit together; MULTI/EXEC cannot be honoured and is refused. A client that sends MULTI
// means "queue what follows and run it all or nothing", so after a refused MULTI the
// connection refuses every command until EXEC or DISCARD: nothing the client meant as a
// transaction runs in part. EXEC then answers EXECABORT, as Redis does for a transaction
// with a command that failed to queue; redis-py raises the first error of the pipeline,
// which is MULTI's, so the user reads the real reason. WATCH only makes sense with EXEC.
// FLUSHDB/FLUSHALL would have to write a tombstone for every key on every replica (a
// delete must replicate like a write to stick: docs/deletes.md); they are refused rather
// than pretended. MSETNX ("all or none, only if none exists") promises an atomicity across
// keys that Vigil does not have; SET NX per key is the honest form.

#include <algorithm>
#include <string>

#include "net/client_command_table.h"
#include "net/resp_reply.h"

namespace vigil::net::commands {

namespace {

constexpr std::string_view transactions_refused =
    "MULTI/EXEC transactions are not supported by Vigil (keys are replicated "
    "independently); use a pipeline without a transaction";

}  // namespace

void handle_multi(const ResponderPtr& responder, ClientSession& session, Arguments&) {
  session.transaction_refused = true;
  responder->fail("unsupported", "ERR " + std::string(transactions_refused));
}

void handle_exec(const ResponderPtr& responder, ClientSession& session, Arguments&) {
  if (!session.transaction_refused) {
    responder->fail("syntax", "ERR EXEC without MULTI");
    return;
  }
  session.transaction_refused = false;
  responder->fail("unsupported", "EXECABORT Transaction discarded because of previous errors: " +
                                     std::string(transactions_refused));
}

void handle_discard(const ResponderPtr& responder, ClientSession& session, Arguments&) {
  if (!session.transaction_refused) {
    responder->fail("syntax", "ERR DISCARD without MULTI");
    return;
  }
  session.transaction_refused = false;
  responder->send(resp::simple("OK"));
}

void handle_watch(const ResponderPtr& responder, ClientSession&, Arguments& arguments) {
  responder->fail("unsupported",
                  "ERR " + to_lower(arguments[0]) +
                      " is not supported by Vigil (there are no MULTI/EXEC transactions to "
                      "watch for); for a conditional write use SET key value NX|XX, or VGET "
                      "then VSET with its context");
}

void handle_flush(const ResponderPtr& responder, ClientSession&, Arguments& arguments) {
  responder->fail("unsupported",
                  "ERR " + to_lower(arguments[0]) +
                      " is not supported by Vigil: emptying a replicated keyspace means a "
                      "tombstone for every key on every replica; delete keys with DEL, or "
                      "stop the cluster and remove its data directories");
}

void handle_msetnx(const ResponderPtr& responder, ClientSession&, Arguments&) {
  responder->fail("unsupported",
                  "ERR msetnx is not supported by Vigil: it promises all keys or none, and "
                  "Vigil writes each key with its own quorum; use SET key value NX per key");
}

void handle_incrbyfloat(const ResponderPtr& responder, ClientSession&, Arguments&) {
  responder->fail("unsupported",
                  "ERR incrbyfloat is not supported by Vigil: counters are PN-counters of "
                  "integers, merged across replicas (docs/counters.md); use INCRBY");
}

const RefusedCommand* find_refused_command(std::string_view lower_case_name) {
  // Ordered by name.
  static const RefusedCommand table[] = {
      {"discard", true, handle_discard}, {"exec", true, handle_exec},
      {"flushall", false, handle_flush}, {"flushdb", false, handle_flush},
      {"incrbyfloat", false, handle_incrbyfloat},
      {"msetnx", false, handle_msetnx},  {"multi", true, handle_multi},
      {"unwatch", false, handle_watch},  {"watch", false, handle_watch},
  };
  auto it = std::lower_bound(std::begin(table), std::end(table), lower_case_name,
                             [](const RefusedCommand& c, std::string_view n) { return c.name < n; });
  return it != std::end(table) && it->name == lower_case_name ? &*it : nullptr;
}

bool refuse_inside_transaction(const ResponderPtr& responder, const ClientSession& session,
                               std::string_view lower_case_name) {
  if (!session.transaction_refused || lower_case_name == "exec" ||
      lower_case_name == "discard" || lower_case_name == "multi" || lower_case_name == "quit") {
    return false;
  }
  responder->fail("unsupported",
                  "ERR " + std::string(transactions_refused) +
                      " (not run: this connection sent MULTI; EXEC or DISCARD ends it)");
  return true;
}

}  // namespace vigil::net::commands
