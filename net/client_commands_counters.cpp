// Counter commands: INCR, DECR, INCRBY, DECRBY (docs/counters.md).
//
// Theory of operation. A counter key holds a PN-counter (core/versions/pn_counter.h): each
// coordinator keeps its own running totals of increments and decrements, and replicas
// merge them by the maximum per coordinator, so increments made through different nodes at
// the same time (a partition, a failover) are all kept, as Riak's counters keep them. An
// increment is one write: the key's first healthy replica adds the delta to its own entry
// of the counter it holds and replicates the new state with W acknowledgements, like a
// plain SET (core::ClientOp::incr). The reply is the counter's value on that replica after
// the increment; increments elsewhere that it has not yet learnt are not in it (the next
// read that merges them shows them).
//
// INCRBYFLOAT is refused (client_commands_refused.cpp): a float cannot be a PN-counter.

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "net/client_command_table.h"
#include "net/resp_reply.h"

namespace vigil::net::commands {

namespace {

constexpr std::string_view not_an_integer = "ERR value is not an integer or out of range";

std::optional<std::int64_t> parse_delta(std::string_view text) {
  std::int64_t value = 0;
  if (text.empty() || text.front() == '+') return std::nullopt;
  const auto [end, code] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (code != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

void increment(const ResponderPtr& responder, ClientSession& session, std::string key,
               std::int64_t delta) {
  if (!check_key(responder, key)) return;
  core::ClientRequest request;
  request.op = core::ClientOp::incr;
  request.consistency = session.consistency;
  request.key = std::move(key);
  request.delta = delta;
  submit_request(responder, std::move(request), [responder](const core::ClientReply& reply) {
    if (!reply.status.ok()) return responder->fail_with(reply);
    const std::optional<std::int64_t> total =
        reply.values.empty() ? std::nullopt : parse_delta(reply.values.front());
    if (!total) return responder->fail("internal", "ERR the node answered no counter value");
    responder->send(resp::integer(*total));
  });
}

// INCRBY/DECRBY's amount; false after answering Redis's error.
bool amount_of(const ResponderPtr& responder, std::string_view text, bool negate,
               std::int64_t& delta) {
  const std::optional<std::int64_t> amount = parse_delta(text);
  if (!amount) {
    responder->fail("syntax", not_an_integer);
    return false;
  }
  if (negate && *amount == std::numeric_limits<std::int64_t>::min()) {
    responder->fail("syntax", "ERR decrement would overflow");
    return false;
  }
  delta = negate ? -*amount : *amount;
  return true;
}

}  // namespace

void handle_incr(const ResponderPtr& responder, ClientSession& session, Arguments& arguments) {
  increment(responder, session, std::move(arguments[1]), 1);
}

void handle_decr(const ResponderPtr& responder, ClientSession& session, Arguments& arguments) {
  increment(responder, session, std::move(arguments[1]), -1);
}

void handle_incrby(const ResponderPtr& responder, ClientSession& session, Arguments& arguments) {
  std::int64_t delta = 0;
  if (!amount_of(responder, arguments[2], false, delta)) return;
  increment(responder, session, std::move(arguments[1]), delta);
}

void handle_decrby(const ResponderPtr& responder, ClientSession& session, Arguments& arguments) {
  std::int64_t delta = 0;
  if (!amount_of(responder, arguments[2], true, delta)) return;
  increment(responder, session, std::move(arguments[1]), delta);
}

}  // namespace vigil::net::commands
