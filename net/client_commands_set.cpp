// SET (with NX, XX, GET and the expiry options) and MSET (docs/client-protocol.md).
// Expiry (EX/PX/EXAT/PXAT) rides on the write itself (docs/expiry.md); KEEPTTL reads first
// like NX/XX/GET, and keeps the expiry of the value that read answered.
//
// Theory of operation.
// - A plain SET is one write, its context as client.set_context says (client_commands_data.cpp
//   explains the two ways).
// - SET with NX, XX or GET is Riak's if_none_match / if_match: the node taking the command
//   reads the key at the connection's consistency level (a quorum read by default), checks
//   the condition on what it read (core/node/conditional_write.h: present means a live
//   value; a key with only tombstones is absent), and only then writes, with the read's
//   context, so the write supersedes exactly what the read saw. A condition that does not
//   hold writes nothing and answers nil, as Redis does; GET answers the old value (the one
//   a plain GET would have answered) instead of OK. The read and the write are two quorum
//   operations, not one atomic step: two NX writers whose reads both saw the key absent both
//   succeed, and their values become siblings (nothing is lost; VGET shows both, a plain
//   GET answers one). With R + W > N a writer that starts after another's write was
//   acknowledged sees it.
// - MSET is one plain SET per key, each with its own quorum, run concurrently. It answers
//   OK only when every key's write reached its W; otherwise an error that names the keys
//   not written (their outcome is unknown, as for any failed write) and says the others
//   were. Never a partial OK: a client that gets OK knows every key is durable on W
//   replicas. It is not atomic across keys, as Redis Cluster's MSET is not across slots.

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "net/client_command_table.h"
#include "net/resp_reply.h"
#include "net/set_options.h"

namespace vigil::net::commands {

namespace {

using Done = std::function<void(const core::ClientReply&)>;

core::ClientRequest put_request(core::Consistency consistency, std::string key, std::string value,
                                std::optional<core::VectorClock> context,
                                const ExpiryOption& expiry, core::WallMicros kept_us) {
  core::ClientRequest request;
  request.op = core::ClientOp::put;
  request.consistency = consistency;
  request.key = std::move(key);
  request.value = std::move(value);
  request.context = std::move(context);
  expiry.apply(request, kept_us);
  return request;
}

// One plain SET's write, its context as client.set_context says; `done` gets the write's
// reply, or the read's when the read (set_context: read) failed. REQUIRES: expiry is not
// KEEPTTL (that reads first).
void plain_write(const ResponderPtr& responder, core::Consistency consistency, std::string key,
                 std::string value, const ExpiryOption& expiry, Done done) {
  if (coordinator_context(responder)) {
    submit_request(responder,
                   put_request(consistency, std::move(key), std::move(value), std::nullopt,
                               expiry, 0),
                   std::move(done));
    return;
  }
  std::string read_key = key;
  submit(responder, core::ClientOp::get, consistency, std::move(read_key), {}, std::nullopt,
         [responder, consistency, key = std::move(key), value = std::move(value), expiry,
          done = std::move(done)](const core::ClientReply& read) mutable {
           if (!read_ok(read)) return done(read);
           submit_request(responder,
                          put_request(consistency, std::move(key), std::move(value),
                                      read.context, expiry, 0),
                          std::move(done));
         });
}

std::string old_value_reply(const std::optional<core::Value>& previous) {
  return previous ? resp::bulk(*previous) : resp::nil();
}

// SET with NX, XX or GET: read, decide, then write with the read's context.
void conditional_set(const ResponderPtr& responder, core::Consistency consistency,
                     std::string key, std::string value, SetOptions options) {
  std::string read_key = key;
  submit(responder, core::ClientOp::get, consistency, std::move(read_key), {}, std::nullopt,
         [responder, consistency, key = std::move(key), value = std::move(value),
          options](const core::ClientReply& read) mutable {
           if (!read_ok(read)) return responder->fail_with(read);
           core::ConditionalWrite decision = core::decide_conditional_write(read, options.condition);
           if (!decision.write) {
             return responder->send(options.get ? old_value_reply(decision.previous)
                                                : resp::nil());
           }
           submit_request(responder,
                  put_request(consistency, std::move(key), std::move(value),
                              std::move(decision.context), options.expiry, read.expires_at_us),
                  [responder, options, previous = std::move(decision.previous)](
                      const core::ClientReply& write) {
                    if (!write.status.ok()) return responder->fail_with(write);
                    responder->send(options.get ? old_value_reply(previous)
                                                : resp::simple("OK"));
                  });
         });
}

// A key as an error line may show it: at most 64 bytes (append_error makes CR/LF spaces).
std::string shown_key(const std::string& key) {
  constexpr std::size_t shown_bytes_max = 64;
  return "'" + key.substr(0, shown_bytes_max) + (key.size() > shown_bytes_max ? "...'" : "'");
}

// The MSET error: the first failure's code, then the keys not written (at most 10 named).
std::string mset_failure(const std::vector<std::string>& keys,
                         const std::vector<std::pair<std::size_t, core::ClientReply>>& failed,
                         std::string_view* kind) {
  constexpr std::size_t keys_named_max = 10;
  const FailureLine first = failure_line(failed.front().second);
  *kind = first.kind;
  std::string line = first.code + " MSET wrote " + std::to_string(keys.size() - failed.size()) +
                     " of " + std::to_string(keys.size()) +
                     " keys; not written (outcome unknown): ";
  for (std::size_t i = 0; i < failed.size() && i < keys_named_max; ++i) {
    line += (i > 0 ? ", " : "") + shown_key(keys[failed[i].first]);
  }
  if (failed.size() > keys_named_max) {
    line += " and " + std::to_string(failed.size() - keys_named_max) + " more";
  }
  line += " (first: " + first.text + "). MSET is not atomic across keys: the others are written";
  return line;
}

}  // namespace

void handle_set(const ResponderPtr& responder, ClientSession& session, Arguments& arguments) {
  auto options = parse_set_options({arguments.begin() + 3, arguments.end()});
  if (!options.ok()) {
    responder->fail("syntax", options.status().message());
    return;
  }
  if (!check_key(responder, arguments[1]) || !check_value(responder, arguments[2])) return;
  if (options->reads_first()) {
    conditional_set(responder, session.consistency, std::move(arguments[1]),
                    std::move(arguments[2]), *options);
    return;
  }
  set_with_expiry(responder, session, std::move(arguments[1]), std::move(arguments[2]),
                  options->expiry);
}

void set_with_expiry(const ResponderPtr& responder, ClientSession& session, std::string key,
                     std::string value, const ExpiryOption& expiry) {
  plain_write(responder, session.consistency, std::move(key), std::move(value), expiry,
              [responder](const core::ClientReply& write) {
                if (!write.status.ok()) return responder->fail_with(write);
                responder->send(resp::simple("OK"));
              });
}

void handle_mset(const ResponderPtr& responder, ClientSession& session, Arguments& arguments) {
  if (arguments.size() % 2 != 1) {
    responder->fail("wrong_arity", "ERR wrong number of arguments for 'mset' command");
    return;
  }
  const std::size_t pairs = (arguments.size() - 1) / 2;
  if (pairs > keys_per_command_max) {
    responder->fail("too_large", "ERR too many keys (" + std::to_string(pairs) + ", at most " +
                                     std::to_string(keys_per_command_max) + " per command)");
    return;
  }
  // Every key and value is checked before anything is written: a bad one writes nothing.
  for (std::size_t i = 1; i < arguments.size(); i += 2) {
    if (!check_key(responder, arguments[i]) || !check_value(responder, arguments[i + 1])) return;
  }
  // A key named twice takes its last value, as in Redis: only that pair is written (two
  // concurrent writes of one key could land in either order, or as siblings).
  std::map<std::string_view, std::size_t> last_pair;
  for (std::size_t i = 0; i < pairs; ++i) last_pair[arguments[1 + 2 * i]] = i;
  struct Writes {
    std::vector<std::string> keys;
    std::size_t outstanding = 0;
    std::vector<std::pair<std::size_t, core::ClientReply>> failed;  // (key index, reply)
  };
  auto writes = std::make_shared<Writes>();
  std::vector<std::pair<std::string, std::string>> to_write;
  for (std::size_t i = 0; i < pairs; ++i) {
    if (last_pair.at(arguments[1 + 2 * i]) != i) continue;
    writes->keys.push_back(arguments[1 + 2 * i]);
    to_write.emplace_back(arguments[1 + 2 * i], std::move(arguments[2 + 2 * i]));
  }
  writes->outstanding = to_write.size();
  for (std::size_t i = 0; i < to_write.size(); ++i) {
    plain_write(responder, session.consistency, std::move(to_write[i].first),
                std::move(to_write[i].second), ExpiryOption{},
                [responder, writes, i](const core::ClientReply& reply) {
                  if (!reply.status.ok()) writes->failed.emplace_back(i, reply);
                  if (--writes->outstanding > 0) return;
                  if (writes->failed.empty()) return responder->send(resp::simple("OK"));
                  std::sort(writes->failed.begin(), writes->failed.end(),
                            [](const auto& a, const auto& b) { return a.first < b.first; });
                  std::string_view kind;
                  const std::string line = mset_failure(writes->keys, writes->failed, &kind);
                  responder->fail(kind, line);
                });
  }
}

}  // namespace vigil::net::commands
