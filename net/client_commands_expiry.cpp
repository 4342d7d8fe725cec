// Expiry commands: SETEX, PSETEX, EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL, PTTL,
// EXPIRETIME, PEXPIRETIME and PERSIST (docs/expiry.md).
//
// Theory of operation. An expiry is part of a value's version (core::Version::
// expires_at_us), so changing it is a write like any other: EXPIRE and PERSIST read the
// key at the connection's consistency level (a quorum read by default), then write the
// value that read answered with the new expiry and the read's causal context, exactly as
// SET ... NX does (core/node/conditional_write.h). The write supersedes what the read saw;
// a key with siblings is therefore resolved to the value a plain GET answers, which is the
// value Redis would have. A replica that missed the EXPIRE learns it as it learns any
// write: hints, read repair, anti-entropy. The read and the write are two quorum
// operations, not one atomic step: a SET that lands between them and an EXPIRE both
// survive as siblings when they are concurrent, or one supersedes the other.
//
// Times: a relative time is turned into an absolute one on this node's wall clock, the
// clock that also decides TTL's answer here; docs/expiry.md bounds what skew between the
// nodes' clocks does to that.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include "net/client_command_table.h"
#include "net/resp_reply.h"
#include "net/set_options.h"

namespace vigil::net::commands {

namespace {

using Done = std::function<void(const core::ClientReply&)>;

constexpr std::int64_t unit_seconds = 1000;
constexpr std::int64_t unit_milliseconds = 1;

core::WallMicros wall_now(const ResponderPtr& responder) {
  return responder->environment().service.wall_now();
}

// Reads the key; `then` runs with a read that succeeded (the key may be absent).
void read_key(const ResponderPtr& responder, const ClientSession& session, std::string key,
              Done then) {
  submit(responder, core::ClientOp::get, session.consistency, std::move(key), {}, std::nullopt,
         [responder, then = std::move(then)](const core::ClientReply& read) {
           if (!read_ok(read)) return responder->fail_with(read);
           then(read);
         });
}

// SETEX key seconds value / PSETEX key milliseconds value.
void set_expiring(const ResponderPtr& responder, ClientSession& session, Arguments& arguments,
                  std::int64_t unit_ms, std::string_view name) {
  core::Result<std::int64_t> amount = parse_expiry_time(arguments[2], unit_ms);
  if (!amount.ok()) return responder->fail("syntax", amount.status().message());
  if (*amount <= 0) {
    return responder->fail("syntax", "ERR invalid expire time in '" + std::string(name) +
                                         "' command");
  }
  if (!check_key(responder, arguments[1]) || !check_value(responder, arguments[3])) return;
  set_with_expiry(responder, session, std::move(arguments[1]), std::move(arguments[3]),
                  ExpiryOption{ExpiryOption::Kind::relative, *amount});
}

// EXPIRE's NX | XX | GT | LT (Redis 7): NX excludes the others, GT excludes LT.
struct ExpireCondition {
  bool nx = false;
  bool xx = false;
  bool gt = false;
  bool lt = false;
  // Whether the new expiry may replace `current` (0: the key has none, which GT and LT
  // treat as an infinite time, as Redis does).
  bool allows(core::WallMicros current, core::WallMicros next) const {
    if (nx && current != 0) return false;
    if (xx && current == 0) return false;
    if (gt && (current == 0 || next <= current)) return false;
    if (lt && current != 0 && next >= current) return false;
    return true;
  }
};

core::Result<ExpireCondition> parse_expire_condition(const Arguments& arguments) {
  ExpireCondition condition;
  for (std::size_t i = 3; i < arguments.size(); ++i) {
    const std::string word = to_lower(arguments[i]);
    if (word == "nx") {
      condition.nx = true;
    } else if (word == "xx") {
      condition.xx = true;
    } else if (word == "gt") {
      condition.gt = true;
    } else if (word == "lt") {
      condition.lt = true;
    } else {
      return core::error(core::Code::invalid_argument,
                         "ERR Unsupported option " + arguments[i]);
    }
  }
  if (condition.nx && (condition.xx || condition.gt || condition.lt)) {
    return core::error(core::Code::invalid_argument,
                       "ERR NX and XX, GT or LT options at the same time are not compatible");
  }
  if (condition.gt && condition.lt) {
    return core::error(core::Code::invalid_argument,
                       "ERR GT and LT options at the same time are not compatible");
  }
  return condition;
}

// Writes `read`'s value again with `expires_at_us` (0: none) and the read's context, or
// deletes the key when the time is already past (Redis' EXPIRE with a time in the past).
// Answers :1 once written.
void rewrite_expiry(const ResponderPtr& responder, core::Consistency consistency, std::string key,
                    const core::ClientReply& read, core::WallMicros expires_at_us) {
  core::ClientRequest request;
  request.consistency = consistency;
  request.key = std::move(key);
  request.context = read.context;
  if (expires_at_us != 0 && expires_at_us <= wall_now(responder)) {
    request.op = core::ClientOp::del;
  } else {
    request.op = core::ClientOp::put;
    request.value = read.values.back();
    request.expires_at_us = expires_at_us;
  }
  submit_request(responder, std::move(request), [responder](const core::ClientReply& write) {
    if (!write.status.ok()) return responder->fail_with(write);
    responder->send(resp::integer(1));
  });
}

// EXPIRE key seconds / PEXPIRE key ms / EXPIREAT key unix-s / PEXPIREAT key unix-ms, each
// with [NX | XX | GT | LT]. :1 when the expiry was set, :0 when the key is absent or the
// condition does not hold.
void expire(const ResponderPtr& responder, ClientSession& session, Arguments& arguments,
            std::int64_t unit_ms, bool absolute) {
  core::Result<std::int64_t> amount = parse_expiry_time(arguments[2], unit_ms);
  if (!amount.ok()) return responder->fail("syntax", amount.status().message());
  core::Result<ExpireCondition> condition = parse_expire_condition(arguments);
  if (!condition.ok()) return responder->fail("syntax", condition.status().message());
  if (!check_key(responder, arguments[1])) return;
  std::string key = arguments[1];
  read_key(responder, session, std::move(arguments[1]),
           [responder, consistency = session.consistency, key = std::move(key), amount = *amount,
            absolute,
            condition = *condition](const core::ClientReply& read) mutable {
             if (is_read_miss(read)) return responder->send(resp::integer(0));
             const core::WallMicros now = wall_now(responder);
             // At least 1: 0 means "no expiry"; a time at or before the epoch is past.
             // parse_expiry_time keeps amount * 1000 in range; now + it saturates.
             const std::int64_t delta_us = amount * 1000;
             const core::WallMicros max = std::numeric_limits<core::WallMicros>::max();
             const core::WallMicros later =
                 delta_us > 0 && now > max - delta_us ? max : now + delta_us;
             const core::WallMicros next = std::max<core::WallMicros>(1, absolute ? delta_us : later);
             if (!condition.allows(read.expires_at_us, next)) {
               return responder->send(resp::integer(0));
             }
             rewrite_expiry(responder, consistency, std::move(key), read, next);
           });
}

// TTL/PTTL (remaining time) and EXPIRETIME/PEXPIRETIME (the absolute time): -2 when the key
// is absent, -1 when it has no expiry.
enum class TimeReply : std::uint8_t { ttl_seconds, ttl_milliseconds, at_seconds, at_milliseconds };

void expiry_time(const ResponderPtr& responder, ClientSession& session, Arguments& arguments,
                 TimeReply shape) {
  if (!check_key(responder, arguments[1])) return;
  read_key(responder, session, std::move(arguments[1]),
           [responder, shape](const core::ClientReply& read) {
             if (is_read_miss(read)) return responder->send(resp::integer(-2));
             if (read.expires_at_us == 0) return responder->send(resp::integer(-1));
             const std::int64_t at_ms = read.expires_at_us / 1000;
             const std::int64_t left_ms =
                 std::max<std::int64_t>(0, (read.expires_at_us - wall_now(responder)) / 1000);
             switch (shape) {
               // Redis rounds TTL to the nearest second.
               case TimeReply::ttl_seconds: return responder->send(resp::integer((left_ms + 500) / 1000));
               case TimeReply::ttl_milliseconds: return responder->send(resp::integer(left_ms));
               case TimeReply::at_seconds: return responder->send(resp::integer(at_ms / 1000));
               case TimeReply::at_milliseconds: return responder->send(resp::integer(at_ms));
             }
           });
}

}  // namespace

void handle_setex(const ResponderPtr& responder, ClientSession& session, Arguments& arguments) {
  set_expiring(responder, session, arguments, unit_seconds, "setex");
}

void handle_psetex(const ResponderPtr& responder, ClientSession& session, Arguments& arguments) {
  set_expiring(responder, session, arguments, unit_milliseconds, "psetex");
}

void handle_expire(const ResponderPtr& responder, ClientSession& session, Arguments& arguments) {
  expire(responder, session, arguments, unit_seconds, false);
}

void handle_pexpire(const ResponderPtr& responder, ClientSession& session, Arguments& arguments) {
  expire(responder, session, arguments, unit_milliseconds, false);
}

void handle_expireat(const ResponderPtr& responder, ClientSession& session, Arguments& arguments) {
  expire(responder, session, arguments, unit_seconds, true);
}

void handle_pexpireat(const ResponderPtr& responder, ClientSession& session,
                      Arguments& arguments) {
  expire(responder, session, arguments, unit_milliseconds, true);
}

void handle_ttl(const ResponderPtr& responder, ClientSession& session, Arguments& arguments) {
  expiry_time(responder, session, arguments, TimeReply::ttl_seconds);
}

void handle_pttl(const ResponderPtr& responder, ClientSession& session, Arguments& arguments) {
  expiry_time(responder, session, arguments, TimeReply::ttl_milliseconds);
}

void handle_expiretime(const ResponderPtr& responder, ClientSession& session,
                       Arguments& arguments) {
  expiry_time(responder, session, arguments, TimeReply::at_seconds);
}

void handle_pexpiretime(const ResponderPtr& responder, ClientSession& session,
                        Arguments& arguments) {
  expiry_time(responder, session, arguments, TimeReply::at_milliseconds);
}

// PERSIST key: :1 when the key had an expiry and now has none, :0 otherwise.
void handle_persist(const ResponderPtr& responder, ClientSession& session, Arguments& arguments) {
  if (!check_key(responder, arguments[1])) return;
  std::string key = arguments[1];
  read_key(responder, session, std::move(arguments[1]),
           [responder, consistency = session.consistency,
            key = std::move(key)](const core::ClientReply& read) mutable {
             if (is_read_miss(read) || read.expires_at_us == 0) {
               return responder->send(resp::integer(0));
             }
             rewrite_expiry(responder, consistency, std::move(key), read, 0);
           });
}

}  // namespace vigil::net::commands
