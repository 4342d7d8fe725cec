// Fuzz target: the client port's RESP parser (net/resp_parser.h), fed what a client sends.
//
// Input: byte 0 chooses the limits (bit 7: small ones, so every bound is reachable by a
// short input; else the parser's defaults) and how the stream is split (bits 0..6); the
// rest is the byte stream. Checks, beyond "no crash, no sanitizer report":
// - the stream parsed in one piece and parsed in chunks gives the same requests and the
//   same ending (need_more, or an error that stays sticky);
// - buffered_bytes() stays within the bound resp_parser.h documents;
// - every request, written back as a multibulk request, parses to the same arguments;
// - a SET's options go through the client port's option parser (net/set_options.h), and an
//   accepted expiry converts to microseconds without overflow (UBSan would report it).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/assert.h"
#include "net/resp_parser.h"
#include "net/set_options.h"

namespace {

using vigil::net::ParseOutcome;
using vigil::net::RespLimits;
using vigil::net::RespParser;

struct Parsed {
  std::vector<std::vector<std::string>> requests;
  bool failed = false;
};

// Feeds `stream` in chunks of `chunk` bytes, draining next() after each, as the client
// port does (net/resp_connection.cpp).
Parsed parse(const RespLimits& limits, std::string_view stream, std::size_t chunk) {
  RespParser parser(limits);
  Parsed parsed;
  for (std::size_t offset = 0; offset < stream.size() && !parsed.failed; offset += chunk) {
    const std::string_view piece = stream.substr(offset, chunk);
    parser.feed(piece);
    while (true) {
      auto result = parser.next();
      if (result.outcome == ParseOutcome::request) {
        VIGIL_ASSERT(!result.arguments.empty(), "a request without arguments");
        parsed.requests.push_back(std::move(result.arguments));
        continue;
      }
      if (result.outcome == ParseOutcome::error) {
        VIGIL_ASSERT(result.error.rfind("Protocol error: ", 0) == 0, result.error);
        VIGIL_ASSERT(parser.failed(), "an error that is not sticky");
        parser.feed("PING\r\n");
        VIGIL_ASSERT(parser.next().outcome == ParseOutcome::error, "an error that is not sticky");
        parsed.failed = true;
        break;
      }
      // need_more: what is held is bounded (resp_parser.h, buffered_bytes()).
      VIGIL_ASSERT(parser.buffered_bytes() <=
                       limits.request_bytes_max + limits.inline_bytes_max + piece.size() + 2,
                   "buffered_bytes over its bound: " + std::to_string(parser.buffered_bytes()));
      break;
    }
  }
  return parsed;
}

// The next layer of the client port for SET requests: its options, as
// net/client_commands_set.cpp reads them.
void check_set(const std::vector<std::string>& request) {
  if (request.size() < 3 || request[0].size() != 3) return;
  const std::string& name = request[0];
  if ((name[0] | 0x20) != 's' || (name[1] | 0x20) != 'e' || (name[2] | 0x20) != 't') return;
  const std::vector<std::string> options(request.begin() + 3, request.end());
  auto parsed = vigil::net::parse_set_options(options);
  if (!parsed.ok()) {
    VIGIL_ASSERT(parsed.status().message().rfind("ERR ", 0) == 0, parsed.status().message());
    return;
  }
  vigil::core::ClientRequest put;
  parsed->expiry.apply(put, 0);
  if (parsed->expiry.kind != vigil::net::ExpiryOption::Kind::none &&
      parsed->expiry.kind != vigil::net::ExpiryOption::Kind::keep) {
    VIGIL_ASSERT(parsed->expiry.amount_ms > 0, "an accepted expiry that is not positive");
  }
}

std::string multibulk(const std::vector<std::string>& arguments) {
  std::string out = "*" + std::to_string(arguments.size()) + "\r\n";
  for (const std::string& argument : arguments) {
    out += "$" + std::to_string(argument.size()) + "\r\n" + argument + "\r\n";
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t control = data[0];
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);

  RespLimits limits;
  if ((control & 0x80) != 0) {
    limits.arguments_max = 8;
    limits.bulk_bytes_max = 64;
    limits.request_bytes_max = 160;
    limits.inline_bytes_max = 96;
  }
  const std::size_t chunk = 1 + (control & 0x7f);

  const Parsed whole = parse(limits, stream, stream.size() + 1);
  const Parsed split = parse(limits, stream, chunk);
  VIGIL_ASSERT(whole.requests == split.requests,
               "the split changed the requests: " + std::to_string(whole.requests.size()) +
                   " whole, " + std::to_string(split.requests.size()) + " split");
  VIGIL_ASSERT(whole.failed == split.failed, "the split changed whether the stream failed");

  // Round trip: each request written back as multibulk parses to itself (default limits
  // hold whatever the small ones or an inline line let through).
  std::string again;
  for (const auto& request : whole.requests) {
    check_set(request);
    again += multibulk(request);
  }
  const Parsed reparsed = parse(RespLimits{}, again, again.size() + 1);
  VIGIL_ASSERT(!reparsed.failed, "a request written back as multibulk failed to parse");
  VIGIL_ASSERT(reparsed.requests == whole.requests, "multibulk round trip changed a request");
  return 0;
}
