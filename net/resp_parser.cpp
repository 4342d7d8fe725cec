// Theory of operation. The parser keeps the unparsed input in one buffer with a read
// position, and the request being assembled as a vector of finished arguments, so a
// request split anywhere (one byte at a time, or many pipelined requests in one read)
// parses the same. States follow the grammar of a multibulk request (Redis'
// processMultibulkBuffer in networking.c): "*<count>\r\n", then per argument
// "$<length>\r\n" and <length> bytes followed by "\r\n". A first byte other than '*' starts
// an inline command (processInlineBuffer): one line split on spaces, with Redis' quoting
// ("..." with backslash escapes, '...' verbatim).
//
// Bounds, checked before any allocation they would cause: the count against
// arguments_max, each length against bulk_bytes_max, the running sum against
// request_bytes_max, a header or inline line against its own small bound (a line with no
// CRLF yet is refused as soon as it is longer than the bound). The buffer is compacted
// once the consumed prefix dominates it, so parsing stays linear in the input.

#include "net/resp_parser.h"

#include <algorithm>
#include <charconv>
#include <optional>

namespace vigil::net {

namespace {

// "*<count>" and "$<length>" lines: a sign, up to 19 digits; Redis allows 32 bytes.
constexpr std::size_t header_line_bytes_max = 32;

// Parses a decimal integer (optional '-') that fills the whole text.
std::optional<long long> parse_integer(std::string_view text) {
  long long value = 0;
  const char* end = text.data() + text.size();
  auto [pointer, code] = std::from_chars(text.data(), end, value);
  if (code != std::errc{} || pointer != end || text.empty() || text[0] == '+') {
    return std::nullopt;
  }
  return value;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Redis' sdssplitargs: false on unbalanced quotes (or a closing quote not followed by a
// space).
bool split_inline(std::string_view line, std::vector<std::string>& out) {
  std::size_t i = 0;
  while (true) {
    while (i < line.size() && is_space(line[i])) ++i;
    if (i == line.size()) return true;
    std::string current;
    bool in_double = false;
    bool in_single = false;
    bool done = false;
    while (!done) {
      if (in_double) {
        if (i == line.size()) return false;
        if (line[i] == '\\' && i + 3 < line.size() && line[i + 1] == 'x' &&
            hex_digit(line[i + 2]) >= 0 && hex_digit(line[i + 3]) >= 0) {
          current.push_back(static_cast<char>(hex_digit(line[i + 2]) * 16 + hex_digit(line[i + 3])));
          i += 3;
        } else if (line[i] == '\\' && i + 1 < line.size()) {
          ++i;
          switch (line[i]) {
            case 'n': current.push_back('\n'); break;
            case 'r': current.push_back('\r'); break;
            case 't': current.push_back('\t'); break;
            case 'b': current.push_back('\b'); break;
            case 'a': current.push_back('\a'); break;
            default: current.push_back(line[i]); break;
          }
        } else if (line[i] == '"') {
          if (i + 1 < line.size() && !is_space(line[i + 1])) return false;
          done = true;
        } else {
          current.push_back(line[i]);
        }
      } else if (in_single) {
        if (i == line.size()) return false;
        if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '\'') {
          ++i;
          current.push_back('\'');
        } else if (line[i] == '\'') {
          if (i + 1 < line.size() && !is_space(line[i + 1])) return false;
          done = true;
        } else {
          current.push_back(line[i]);
        }
      } else {
        if (i == line.size() || is_space(line[i])) {
          done = true;
          continue;  // do not step past the end or the space
        }
        if (line[i] == '"') {
          in_double = true;
        } else if (line[i] == '\'') {
          in_single = true;
        } else {
          current.push_back(line[i]);
        }
      }
      if (i < line.size()) ++i;
    }
    out.push_back(std::move(current));
  }
}

}  // namespace

RespLimits resp_limits(const config::Config& config) {
  RespLimits limits;
  const std::uint64_t largest = std::max(config.limits.value_bytes_max, config.limits.key_bytes_max);
  limits.bulk_bytes_max = static_cast<std::size_t>(largest) + (64 << 10);
  limits.request_bytes_max = limits.bulk_bytes_max + (8 << 20);
  return limits;
}

RespParser::RespParser(RespLimits limits) : limits_(limits) {}

void RespParser::feed(std::string_view bytes) {
  if (failed_) return;
  compact();
  input_.append(bytes);
}

std::size_t RespParser::buffered_bytes() const {
  return input_.size() - position_ + request_bytes_;
}

void RespParser::compact() {
  // Drop the consumed prefix when it is at least half the buffer: amortised O(1) per byte.
  if (position_ > 0 && position_ * 2 >= input_.size()) {
    input_.erase(0, position_);
    position_ = 0;
  }
}

ParseResult RespParser::fail(std::string message) {
  failed_ = true;
  error_ = std::move(message);
  input_.clear();
  input_.shrink_to_fit();
  position_ = 0;
  arguments_.clear();
  request_bytes_ = 0;
  return ParseResult{ParseOutcome::error, {}, error_};
}

ParseResult RespParser::next() {
  if (failed_) return ParseResult{ParseOutcome::error, {}, error_};
  ParseResult result;
  while (true) {
    bool progressed = false;
    switch (state_) {
      case State::start: progressed = parse_start(result); break;
      case State::bulk_header: progressed = parse_bulk_header(result); break;
      case State::bulk_body: progressed = parse_bulk_body(result); break;
    }
    if (failed_) return ParseResult{ParseOutcome::error, {}, error_};
    if (result.outcome == ParseOutcome::request) return result;
    if (!progressed) {
      compact();
      return result;  // need_more
    }
  }
}

bool RespParser::take_line(std::size_t line_bytes_max, std::string_view what,
                           std::string_view& line) {
  const std::string_view rest(input_.data() + position_, input_.size() - position_);
  // Search only as far as a line may reach: a long run without a line end costs no more.
  const std::size_t newline = rest.substr(0, line_bytes_max + 1).find('\n');
  if (newline == std::string_view::npos) {
    if (rest.size() > line_bytes_max) {
      fail("Protocol error: too big " + std::string(what) + " (over " +
           std::to_string(line_bytes_max) + " bytes without a line end)");
    }
    return false;
  }
  if (newline > line_bytes_max) {
    fail("Protocol error: too big " + std::string(what) + " (" + std::to_string(newline) +
         " bytes, limit " + std::to_string(line_bytes_max) + ")");
    return false;
  }
  line = rest.substr(0, newline);
  position_ += newline + 1;
  return true;
}

bool RespParser::parse_start(ParseResult& result) {
  if (position_ == input_.size()) return false;
  if (input_[position_] != '*') return parse_inline(result);
  std::string_view line;
  if (!take_line(header_line_bytes_max, "multibulk count", line)) return false;
  if (line.empty() || line.back() != '\r') {
    fail("Protocol error: invalid multibulk length (line not ended by CRLF)");
    return false;
  }
  const auto count = parse_integer(line.substr(1, line.size() - 2));
  if (!count || *count > static_cast<long long>(limits_.arguments_max)) {
    fail("Protocol error: invalid multibulk length '" + std::string(line.substr(1, line.size() - 2)) +
         "' (limit " + std::to_string(limits_.arguments_max) + ")");
    return false;
  }
  if (*count <= 0) return true;  // "*0" and "*-1": nothing to run (Redis skips them)
  arguments_expected_ = static_cast<std::size_t>(*count);
  arguments_.clear();
  // Reserve only a little up front: the count is untrusted, the arguments are not here yet.
  arguments_.reserve(std::min<std::size_t>(arguments_expected_, 16));
  request_bytes_ = 0;
  state_ = State::bulk_header;
  return true;
}

bool RespParser::parse_bulk_header(ParseResult& /*result*/) {
  if (position_ == input_.size()) return false;
  if (input_[position_] != '$') {
    const char got = input_[position_];
    static constexpr char hex[] = "0123456789abcdef";
    const auto byte = static_cast<unsigned char>(got);
    const std::string shown = (byte >= 32 && byte < 127)
                                  ? std::string(1, got)
                                  : std::string{'\\', 'x', hex[byte >> 4], hex[byte & 15]};
    fail("Protocol error: expected '$', got '" + shown + "'");
    return false;
  }
  std::string_view line;
  if (!take_line(header_line_bytes_max, "bulk length", line)) return false;
  if (line.empty() || line.back() != '\r') {
    fail("Protocol error: invalid bulk length (line not ended by CRLF)");
    return false;
  }
  const std::string_view digits = line.substr(1, line.size() - 2);
  const auto length = parse_integer(digits);
  if (!length || *length < 0 || *length > static_cast<long long>(limits_.bulk_bytes_max)) {
    fail("Protocol error: invalid bulk length '" + std::string(digits) + "' (limit " +
         std::to_string(limits_.bulk_bytes_max) + " bytes)");
    return false;
  }
  const auto bulk = static_cast<std::size_t>(*length);
  if (request_bytes_ + bulk > limits_.request_bytes_max) {
    fail("Protocol error: request too large (" + std::to_string(request_bytes_ + bulk) +
         " bytes of arguments, limit " + std::to_string(limits_.request_bytes_max) + ")");
    return false;
  }
  bulk_length_ = bulk;
  state_ = State::bulk_body;
  return true;
}

bool RespParser::parse_bulk_body(ParseResult& result) {
  if (input_.size() - position_ < bulk_length_ + 2) return false;
  if (input_[position_ + bulk_length_] != '\r' || input_[position_ + bulk_length_ + 1] != '\n') {
    fail("Protocol error: bulk string of length " + std::to_string(bulk_length_) +
         " not followed by CRLF");
    return false;
  }
  arguments_.emplace_back(input_.data() + position_, bulk_length_);
  position_ += bulk_length_ + 2;
  request_bytes_ += bulk_length_;
  if (arguments_.size() < arguments_expected_) {
    state_ = State::bulk_header;
    return true;
  }
  result.outcome = ParseOutcome::request;
  result.arguments = std::move(arguments_);
  arguments_.clear();
  request_bytes_ = 0;
  state_ = State::start;
  return true;
}

bool RespParser::parse_inline(ParseResult& result) {
  std::string_view line;
  if (!take_line(limits_.inline_bytes_max, "inline request", line)) return false;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::vector<std::string> arguments;
  if (!split_inline(line, arguments)) {
    fail("Protocol error: unbalanced quotes in request");
    return false;
  }
  if (arguments.empty()) return true;  // a blank line: nothing to run
  result.outcome = ParseOutcome::request;
  result.arguments = std::move(arguments);
  return true;
}

}  // namespace vigil::net
