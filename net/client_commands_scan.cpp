// SCAN, KEYS and DBSIZE (docs/client-protocol.md), over the node's enumeration
// (core/scan/scanner.h).
//
// Theory of operation.
// - SCAN cursor [MATCH pattern] [COUNT n] [TYPE string] is one page: one scan request to
//   the node, which walks the ring from the cursor's token until it has COUNT live keys
//   (or took its bound of spans) and ends at a cursor bucket (core/scan/scan_cursor.h).
//   MATCH filters the page here, after the walk, as Redis does: COUNT is the work, so a
//   page may hold fewer keys than COUNT, even none, with a cursor that is not 0. The walk is
//   done when the cursor answered is 0.
// - KEYS pattern is the same walk in one command: pages of scan_page_keys_max until the
//   cursor is 0, filtered by the pattern, and refused with an error once it walked more
//   than client.keys_max live keys (the reply would be unbounded otherwise).
// - DBSIZE is the node's key count estimate: every node's record count, summed and divided
//   by N. It is an estimate and says so nowhere in its integer reply; INFO keyspace does.

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/scan/key_scan.h"
#include "core/scan/scan_cursor.h"
#include "net/client_command_table.h"
#include "net/glob_match.h"
#include "net/resp_reply.h"

namespace vigil::net::commands {

namespace {

// Redis' default COUNT.
constexpr std::uint32_t scan_count_default = 10;

// A failed page or count: unavailable and timeout say what to do (retry with the same
// cursor); the rest as any request's errors.
void fail_scan(const ResponderPtr& responder, std::string_view command,
               const core::ClientReply& reply) {
  switch (reply.status.code()) {
    case core::Code::unavailable:
      return responder->fail("unavailable",
                             "UNAVAILABLE " + std::string(command) + ": " + reply.status.message());
    case core::Code::timeout:
      return responder->fail("timeout",
                             "TIMEOUT " + std::string(command) + ": " + reply.status.message());
    default: return responder->fail_with(reply);
  }
}

void submit_page(const ResponderPtr& responder, std::uint64_t cursor, std::uint32_t count,
                 std::function<void(const core::ClientReply&)> done) {
  core::ClientRequest request;
  request.op = core::ClientOp::scan;
  request.scan_cursor = cursor;
  request.scan_count = count;
  std::shared_ptr<CommandEnvironment> environment = responder->environment_pointer();
  environment->service.submit(std::move(request),
                              [environment, done = std::move(done)](const core::ClientReply& reply) {
                                if (environment->alive) done(reply);
                              });
}

bool parse_count(std::string_view text, std::uint32_t& count) {
  if (text.empty() || text.size() > 10) return false;
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value == 0) return false;
  count = static_cast<std::uint32_t>(std::min<std::uint64_t>(value, core::scan_page_keys_max));
  return true;
}

struct KeysWalk {
  std::string pattern;
  std::uint32_t keys_max = 0;
  std::uint64_t walked = 0;
  std::vector<std::string> matched;
};

void keys_page(const ResponderPtr& responder, const std::shared_ptr<KeysWalk>& walk,
               std::uint64_t cursor) {
  submit_page(responder, cursor, core::scan_page_keys_max,
              [responder, walk](const core::ClientReply& reply) {
                if (!reply.status.ok()) return fail_scan(responder, "KEYS", reply);
                walk->walked += reply.keys.size();
                if (walk->walked > walk->keys_max) {
                  return responder->fail(
                      "too_large", "ERR KEYS would walk more than " +
                                       std::to_string(walk->keys_max) +
                                       " keys (client.keys_max); use SCAN to walk them in pages");
                }
                for (const std::string& key : reply.keys) {
                  if (glob_match(walk->pattern, key)) walk->matched.push_back(key);
                }
                if (reply.scan_cursor != 0) return keys_page(responder, walk, reply.scan_cursor);
                std::string out;
                resp::append_array_header(out, walk->matched.size());
                for (const std::string& key : walk->matched) resp::append_bulk(out, key);
                responder->send(std::move(out));
              });
}

}  // namespace

void handle_scan(const ResponderPtr& responder, ClientSession&, Arguments& arguments) {
  auto cursor_token = core::decode_cursor(std::string_view(arguments[1]));
  if (!cursor_token.ok()) {
    responder->fail("syntax", "ERR " + cursor_token.status().message());
    return;
  }
  const std::uint64_t cursor = core::encode_cursor(*cursor_token);
  std::uint32_t count = scan_count_default;
  std::optional<std::string> pattern;
  for (std::size_t i = 2; i < arguments.size(); i += 2) {
    const std::string option = to_lower(arguments[i]);
    if (i + 1 >= arguments.size()) {
      responder->fail("syntax", "ERR syntax error (SCAN " + option + " needs a value)");
      return;
    }
    if (option == "match") {
      pattern = arguments[i + 1];
    } else if (option == "count") {
      if (!parse_count(arguments[i + 1], count)) {
        responder->fail("syntax", "ERR value is not an integer or out of range (COUNT must be "
                                  "a positive integer)");
        return;
      }
    } else if (option == "type") {
      if (to_lower(arguments[i + 1]) != "string") {
        responder->fail("syntax", "ERR Vigil stores only strings: SCAN TYPE must be string");
        return;
      }
    } else {
      responder->fail("syntax", "ERR syntax error (SCAN takes MATCH, COUNT and TYPE)");
      return;
    }
  }
  submit_page(responder, cursor, count,
              [responder, pattern = std::move(pattern)](const core::ClientReply& reply) {
                if (!reply.status.ok()) return fail_scan(responder, "SCAN", reply);
                std::vector<const std::string*> keys;
                for (const std::string& key : reply.keys) {
                  if (!pattern || glob_match(*pattern, key)) keys.push_back(&key);
                }
                std::string out;
                resp::append_array_header(out, 2);
                resp::append_bulk(out, std::to_string(reply.scan_cursor));
                resp::append_array_header(out, keys.size());
                for (const std::string* key : keys) resp::append_bulk(out, *key);
                responder->send(std::move(out));
              });
}

void handle_keys(const ResponderPtr& responder, ClientSession&, Arguments& arguments) {
  auto walk = std::make_shared<KeysWalk>();
  walk->pattern = std::move(arguments[1]);
  walk->keys_max = responder->environment().config.client.keys_max;
  keys_page(responder, walk, 0);
}

void handle_dbsize(const ResponderPtr& responder, ClientSession&, Arguments&) {
  core::ClientRequest request;
  request.op = core::ClientOp::key_count;
  std::shared_ptr<CommandEnvironment> environment = responder->environment_pointer();
  environment->service.submit(std::move(request),
                              [environment, responder](const core::ClientReply& reply) {
                                if (!environment->alive) return;
                                if (!reply.status.ok()) return fail_scan(responder, "DBSIZE", reply);
                                responder->send(resp::integer(
                                    static_cast<std::int64_t>(reply.key_count)));
                              });
}

}  // namespace vigil::net::commands
