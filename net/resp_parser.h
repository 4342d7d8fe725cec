#pragma once
// An incremental parser of Redis protocol (RESP2) requests: arrays of bulk strings
// ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), and inline commands ("PING\r\n", as telnet and
// redis-benchmark's inline tests send). Bytes arrive in any split; requests come out whole.
//
// Every input is untrusted (rule 4): a count, a length or a line over its bound is a
// protocol error before anything is allocated for it, and the error is sticky (the
// connection sending it is closed; others are not affected). Error messages follow Redis'
// wording ("Protocol error: invalid bulk length") with the offending figure and the bound.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace vigil::net {

struct RespLimits {
  std::size_t arguments_max = 1 << 16;        // elements of one multibulk request
  std::size_t bulk_bytes_max = 1 << 20;       // one argument
  std::size_t request_bytes_max = 16 << 20;   // arguments of one request, summed
  std::size_t inline_bytes_max = 64 << 10;    // one inline command line (Redis: 64 KiB)
};

// Bounds for a node's client port: a bulk may exceed the larger of limits.value_bytes_max
// and limits.key_bytes_max by 64 KiB (so that a value slightly over the limit gets the
// command's precise "value too large" error rather than a closed connection), and a
// request may hold that plus 8 MiB of other arguments (MGET/DEL of many keys).
RespLimits resp_limits(const config::Config& config);

enum class ParseOutcome : std::uint8_t {
  request,    // `arguments` holds one whole request (at least one argument)
  need_more,  // feed() more bytes
  error,      // `error` says why; sticky: every later next() returns it again
};

struct ParseResult {
  ParseOutcome outcome = ParseOutcome::need_more;
  std::vector<std::string> arguments;
  std::string error;  // "Protocol error: ..." (without the leading '-ERR ')
};

class RespParser {
 public:
  explicit RespParser(RespLimits limits = {});

  // Appends bytes to the unparsed input. A parser in error ignores them.
  void feed(std::string_view bytes);
  // The next whole request, need_more, or the (sticky) error. Empty requests ("*0\r\n",
  // "*-1\r\n", a blank inline line) are skipped, as Redis does.
  ParseResult next();

  // Bytes held: unparsed input plus the arguments of the request being assembled. Never
  // more than request_bytes_max + inline_bytes_max + what the last feed() added beyond
  // what next() consumed (callers feed bounded chunks and call next() until need_more).
  std::size_t buffered_bytes() const;
  bool failed() const { return failed_; }
  const RespLimits& limits() const { return limits_; }

 private:
  enum class State : std::uint8_t { start, bulk_header, bulk_body };

  ParseResult fail(std::string message);
  // Each returns true when it made progress; false means more bytes are needed.
  bool parse_start(ParseResult& result);
  bool parse_bulk_header(ParseResult& result);
  bool parse_bulk_body(ParseResult& result);
  bool parse_inline(ParseResult& result);
  // The next CRLF-terminated line from the input, without the CRLF; false when no whole
  // line is buffered yet. Fails the parser when the line would exceed `line_bytes_max`.
  bool take_line(std::size_t line_bytes_max, std::string_view what, std::string_view& line);
  void compact();

  RespLimits limits_;
  std::string input_;
  std::size_t position_ = 0;  // first unparsed byte of input_
  State state_ = State::start;
  std::size_t arguments_expected_ = 0;
  std::size_t bulk_length_ = 0;
  std::size_t request_bytes_ = 0;
  std::vector<std::string> arguments_;
  bool failed_ = false;
  std::string error_;
};

}  // namespace vigil::net
