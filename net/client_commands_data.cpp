// The commands that reach the node: GET, DEL, EXISTS, MGET and the causal commands
// VGET, VSET, VDEL (docs/client-protocol.md); SET and MSET are client_commands_set.cpp.
//
// Theory of operation. Plain Redis commands carry no causal context, but in siblings mode
// a write without one cannot supersede anything (core/versions/version.h): SET k v repeated
// would pile up siblings until siblings_max refuses the key. client.set_context chooses
// where the context comes from:
// - coordinator (the default): SET is one put and DEL one delete per key, without a
//   context. The node coordinates each on the key's first healthy replica, which writes
//   with its own state as the context (Riak's coordinating vnode) and commits before it
//   acknowledges, so sequential SETs supersede each other; siblings come only from real
//   concurrency or a failover coordinator. DEL's count is the keys whose coordinator held
//   a live value before the delete (core::ClientReply::existed).
// - read: SET and DEL read first and write with the context they read, like a Riak
//   client's fetch-then-store: a write replaces what the read saw, and only writes that
//   really race become siblings. The read and the write use the connection's consistency
//   level; with R + W > N the read sees every acknowledged write. The price is one more
//   round of replica messages per SET or DEL.
// VSET/VDEL with a context from VGET never read.
//
// GET of a key with siblings answers one of them: the last of the node's reply, which the
// node orders by (timestamp, dot), so the sibling with the greatest timestamp, ties broken
// by dot; the same choice on every node for the same state. It is counted in
// vigil_client_get_siblings_resolved_total; VGET shows them all. A deleted key (only
// tombstones) reads as nil. A multi-key command answers once every key is answered, and
// any key's error is the command's error: never a nil or a count that hides a failure.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "net/causal_context.h"
#include "net/client_command_table.h"
#include "net/resp_reply.h"

namespace vigil::net::commands {

bool is_read_miss(const core::ClientReply& reply) {
  return reply.status.code() == core::Code::not_found ||
         (reply.status.ok() && reply.values.empty());
}

bool read_ok(const core::ClientReply& reply) {
  return reply.status.ok() || reply.status.code() == core::Code::not_found;
}

bool coordinator_context(const ResponderPtr& responder) {
  return responder->environment().config.client.set_context == core::SetContext::coordinator;
}

namespace {

// Reads every key (one node request each) and calls `finish` with the replies in key
// order once all are in.
void read_all(const ResponderPtr& responder, core::Consistency consistency,
              std::vector<std::string> keys,
              std::function<void(std::vector<core::ClientReply>&)> finish) {
  struct Gather {
    std::vector<core::ClientReply> replies;
    std::size_t outstanding = 0;
    std::function<void(std::vector<core::ClientReply>&)> finish;
  };
  auto gather = std::make_shared<Gather>();
  gather->replies.resize(keys.size());
  gather->outstanding = keys.size();
  gather->finish = std::move(finish);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    submit(responder, core::ClientOp::get, consistency, std::move(keys[i]), {}, std::nullopt,
           [gather, i](const core::ClientReply& reply) {
             gather->replies[i] = reply;
             if (--gather->outstanding == 0) gather->finish(gather->replies);
           });
  }
}

// The first reply that is an error (not ok, not not_found), or nullptr.
const core::ClientReply* first_error(const std::vector<core::ClientReply>& replies) {
  for (const core::ClientReply& reply : replies) {
    if (!read_ok(reply)) return &reply;
  }
  return nullptr;
}

bool check_keys(const ResponderPtr& responder, const Arguments& arguments, std::size_t first) {
  if (arguments.size() - first > keys_per_command_max) {
    responder->fail("too_large", "ERR too many keys (" + std::to_string(arguments.size() - first) +
                                     ", at most " + std::to_string(keys_per_command_max) +
                                     " per command)");
    return false;
  }
  for (std::size_t i = first; i < arguments.size(); ++i) {
    if (!check_key(responder, arguments[i])) return false;
  }
  return true;
}

}  // namespace

void handle_get(const ResponderPtr& responder, ClientSession& session, Arguments& arguments) {
  if (!check_key(responder, arguments[1])) return;
  submit(responder, core::ClientOp::get, session.consistency, std::move(arguments[1]), {},
         std::nullopt, [responder](const core::ClientReply& reply) {
           if (is_read_miss(reply)) return responder->send(resp::nil());
           if (!reply.status.ok()) return responder->fail_with(reply);
           if (reply.values.size() > 1) responder->environment().metrics.get_siblings_resolved();
           responder->send(resp::bulk(reply.values.back()));
         });
}

namespace {

// DEL under set_context: coordinator: one delete per key without a context.
void delete_each(const ResponderPtr& responder, core::Consistency consistency,
                 std::vector<std::string> keys) {
  struct Deletes {
    std::size_t outstanding = 0;
    std::int64_t deleted = 0;
    std::optional<core::ClientReply> failed;
  };
  auto deletes = std::make_shared<Deletes>();
  deletes->outstanding = keys.size();
  for (std::string& key : keys) {
    submit(responder, core::ClientOp::del, consistency, std::move(key), {}, std::nullopt,
           [responder, deletes](const core::ClientReply& reply) {
             if (reply.status.ok()) {
               deletes->deleted += reply.existed ? 1 : 0;
             } else if (!deletes->failed) {
               deletes->failed = reply;
             }
             if (--deletes->outstanding > 0) return;
             if (deletes->failed) return responder->fail_with(*deletes->failed);
             responder->send(resp::integer(deletes->deleted));
           });
  }
}

}  // namespace

void handle_del(const ResponderPtr& responder, ClientSession& session, Arguments& arguments) {
  if (!check_keys(responder, arguments, 1)) return;
  const core::Consistency consistency = session.consistency;
  std::vector<std::string> keys(arguments.begin() + 1, arguments.end());
  if (coordinator_context(responder)) return delete_each(responder, consistency, std::move(keys));
  read_all(responder, consistency, keys,
           [responder, consistency, keys](std::vector<core::ClientReply>& reads) {
             if (const core::ClientReply* failed = first_error(reads)) {
               return responder->fail_with(*failed);
             }
             struct Deletes {
               std::size_t outstanding = 0;
               std::int64_t deleted = 0;
               std::optional<core::ClientReply> failed;
             };
             auto deletes = std::make_shared<Deletes>();
             for (std::size_t i = 0; i < keys.size(); ++i) {
               if (!is_read_miss(reads[i])) ++deletes->outstanding;
             }
             if (deletes->outstanding == 0) return responder->send(resp::integer(0));
             for (std::size_t i = 0; i < keys.size(); ++i) {
               if (is_read_miss(reads[i])) continue;
               submit(responder, core::ClientOp::del, consistency, keys[i], {},
                      reads[i].context, [responder, deletes](const core::ClientReply& reply) {
                        if (reply.status.ok()) {
                          ++deletes->deleted;
                        } else if (!deletes->failed) {
                          deletes->failed = reply;
                        }
                        if (--deletes->outstanding > 0) return;
                        if (deletes->failed) return responder->fail_with(*deletes->failed);
                        responder->send(resp::integer(deletes->deleted));
                      });
             }
           });
}

void handle_exists(const ResponderPtr& responder, ClientSession& session, Arguments& arguments) {
  if (!check_keys(responder, arguments, 1)) return;
  read_all(responder, session.consistency, {arguments.begin() + 1, arguments.end()},
           [responder](std::vector<core::ClientReply>& reads) {
             if (const core::ClientReply* failed = first_error(reads)) {
               return responder->fail_with(*failed);
             }
             std::int64_t found = 0;
             for (const core::ClientReply& read : reads) found += is_read_miss(read) ? 0 : 1;
             responder->send(resp::integer(found));
           });
}

void handle_mget(const ResponderPtr& responder, ClientSession& session, Arguments& arguments) {
  if (!check_keys(responder, arguments, 1)) return;
  read_all(responder, session.consistency, {arguments.begin() + 1, arguments.end()},
           [responder](std::vector<core::ClientReply>& reads) {
             if (const core::ClientReply* failed = first_error(reads)) {
               return responder->fail_with(*failed);
             }
             std::string out;
             resp::append_array_header(out, reads.size());
             for (const core::ClientReply& read : reads) {
               if (is_read_miss(read)) {
                 resp::append_nil(out);
                 continue;
               }
               if (read.values.size() > 1) {
                 responder->environment().metrics.get_siblings_resolved();
               }
               resp::append_bulk(out, read.values.back());
             }
             responder->send(std::move(out));
           });
}

// VGET key -> [context, [value, ..., nil, ...]]: every live sibling, then a nil for each
// delete that is a sibling of them (a delete concurrent with a put: docs/deletes.md). An
// absent or deleted key has no siblings to show; its context still covers the delete.
void handle_vget(const ResponderPtr& responder, ClientSession& session, Arguments& arguments) {
  if (!check_key(responder, arguments[1])) return;
  submit(responder, core::ClientOp::get, session.consistency, std::move(arguments[1]), {},
         std::nullopt, [responder](const core::ClientReply& reply) {
           if (!read_ok(reply)) return responder->fail_with(reply);
           std::string out;
           resp::append_array_header(out, 2);
           resp::append_bulk(out, encode_context(reply.context));
           const bool shown = reply.status.ok();
           resp::append_array_header(
               out, shown ? reply.values.size() + reply.deleted_siblings : 0);
           if (shown) {
             for (const core::Value& value : reply.values) resp::append_bulk(out, value);
             for (std::uint32_t i = 0; i < reply.deleted_siblings; ++i) resp::append_nil(out);
           }
           responder->send(std::move(out));
         });
}

namespace {

// VSET and VDEL: a write with the client's context; answers the new state's context.
void causal_write(const ResponderPtr& responder, ClientSession& session, core::ClientOp op,
                  std::string key, std::string value, std::string_view context_text) {
  auto context = decode_context(context_text, responder->environment().service.wall_now());
  if (!context.ok()) {
    responder->fail("invalid_context", "ERR " + context.status().message());
    return;
  }
  submit(responder, op, session.consistency, std::move(key), std::move(value),
         std::move(context).value(), [responder](const core::ClientReply& reply) {
           if (!reply.status.ok()) return responder->fail_with(reply);
           responder->send(resp::bulk(encode_context(reply.context)));
         });
}

}  // namespace

void handle_vset(const ResponderPtr& responder, ClientSession& session, Arguments& arguments) {
  if (!check_key(responder, arguments[1]) || !check_value(responder, arguments[2])) return;
  causal_write(responder, session, core::ClientOp::put, std::move(arguments[1]),
               std::move(arguments[2]), arguments[3]);
}

void handle_vdel(const ResponderPtr& responder, ClientSession& session, Arguments& arguments) {
  if (!check_key(responder, arguments[1])) return;
  causal_write(responder, session, core::ClientOp::del, std::move(arguments[1]), {},
               arguments[2]);
}

}  // namespace vigil::net::commands
