// The RESP request parser: whole requests from any split of the bytes, Redis' handling of
// empty and inline requests, and precise, sticky errors at every bound.

#include "net/resp_parser.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

namespace vigil::net {
namespace {

using Requests = std::vector<std::vector<std::string>>;

std::string encode(const std::vector<std::string>& arguments) {
  std::string out = "*" + std::to_string(arguments.size()) + "\r\n";
  for (const std::string& argument : arguments) {
    out += "$" + std::to_string(argument.size()) + "\r\n" + argument + "\r\n";
  }
  return out;
}

// Feeds `bytes` in the given chunk sizes (cycled), draining requests after each chunk.
struct Drained {
  Requests requests;
  std::string error;
  std::size_t buffered_max = 0;
};

Drained drain(RespParser& parser, const std::string& bytes, const std::vector<std::size_t>& chunks) {
  Drained out;
  std::size_t at = 0;
  std::size_t chunk = 0;
  while (at < bytes.size() || chunks.empty()) {
    const std::size_t size = chunks.empty() ? bytes.size() : std::max<std::size_t>(1, chunks[chunk++ % chunks.size()]);
    parser.feed(std::string_view(bytes).substr(at, size));
    at += std::min(size, bytes.size() - at);
    while (true) {
      out.buffered_max = std::max(out.buffered_max, parser.buffered_bytes());
      ParseResult result = parser.next();
      if (result.outcome == ParseOutcome::request) {
        out.requests.push_back(std::move(result.arguments));
        continue;
      }
      if (result.outcome == ParseOutcome::error) out.error = result.error;
      break;
    }
    if (!out.error.empty() || chunks.empty()) break;
  }
  return out;
}

Drained parse_whole(const std::string& bytes, RespLimits limits = {}) {
  RespParser parser(limits);
  return drain(parser, bytes, {});
}

TEST(RespParser, ParsesAMultibulkRequest) {
  const Drained out = parse_whole(encode({"SET", "key", "va\r\nlue"}) + encode({"GET", "key"}));
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.requests, (Requests{{"SET", "key", "va\r\nlue"}, {"GET", "key"}}));
}

TEST(RespParser, ParsesInlineCommandsWithRedisQuoting) {
  const Drained out =
      parse_whole("PING\r\nSET k \"a b\\x41\\n\"\r\nECHO 'it\\'s'\n\r\n   \r\nGET  k\r\n");
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.requests, (Requests{{"PING"}, {"SET", "k", "a bA\n"}, {"ECHO", "it's"}, {"GET", "k"}}));
}

TEST(RespParser, SkipsEmptyMultibulkRequests) {
  const Drained out = parse_whole("*0\r\n*-1\r\n" + encode({"PING"}));
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.requests, (Requests{{"PING"}}));
}

TEST(RespParser, NeedsMoreUntilTheRequestIsWhole) {
  RespParser parser;
  parser.feed("*2\r\n$3\r\nGET\r\n$5\r\nhel");
  EXPECT_EQ(parser.next().outcome, ParseOutcome::need_more);
  parser.feed("lo\r");
  EXPECT_EQ(parser.next().outcome, ParseOutcome::need_more);
  parser.feed("\n");
  const ParseResult result = parser.next();
  ASSERT_EQ(result.outcome, ParseOutcome::request);
  EXPECT_EQ(result.arguments, (std::vector<std::string>{"GET", "hello"}));
}

TEST(RespParser, ErrorsArePreciseAndSticky) {
  struct Case {
    std::string bytes;
    std::string error;
  };
  RespLimits limits;
  limits.arguments_max = 4;
  limits.bulk_bytes_max = 10;
  limits.request_bytes_max = 15;
  limits.inline_bytes_max = 20;
  const std::vector<Case> cases = {
      {"*x\r\n", "Protocol error: invalid multibulk length 'x' (limit 4)"},
      {"*5\r\n", "Protocol error: invalid multibulk length '5' (limit 4)"},
      {"*1\r\n:3\r\n", "Protocol error: expected '$', got ':'"},
      {"*1\r\n\x01", "Protocol error: expected '$', got '\\x01'"},
      {"*1\r\n$11\r\n", "Protocol error: invalid bulk length '11' (limit 10 bytes)"},
      {"*1\r\n$-1\r\n", "Protocol error: invalid bulk length '-1' (limit 10 bytes)"},
      {"*2\r\n$10\r\n0123456789\r\n$6\r\n",
       "Protocol error: request too large (16 bytes of arguments, limit 15)"},
      {"*1\r\n$2\r\nabcd", "Protocol error: bulk string of length 2 not followed by CRLF"},
      {"*1\n", "Protocol error: invalid multibulk length (line not ended by CRLF)"},
      {"SET \"a\r\n", "Protocol error: unbalanced quotes in request"},
      {std::string(25, 'A'),
       "Protocol error: too big inline request (over 20 bytes without a line end)"},
      {"*" + std::string(40, '1'),
       "Protocol error: too big multibulk count (over 32 bytes without a line end)"},
  };
  for (const Case& c : cases) {
    RespParser parser(limits);
    parser.feed(c.bytes);
    const ParseResult first = parser.next();
    EXPECT_EQ(first.outcome, ParseOutcome::error) << c.bytes;
    EXPECT_EQ(first.error, c.error) << c.bytes;
    parser.feed(encode({"PING"}));  // nothing after an error is parsed
    EXPECT_EQ(parser.next().error, c.error);
    EXPECT_TRUE(parser.failed());
    EXPECT_EQ(parser.buffered_bytes(), 0u);
  }
}

TEST(RespParser, LimitsFollowTheConfiguredValueBound) {
  config::Config config;
  config.limits.value_bytes_max = 1000;
  config.limits.key_bytes_max = 100;
  const RespLimits limits = resp_limits(config);
  EXPECT_EQ(limits.bulk_bytes_max, 1000u + 65536u);
  EXPECT_GT(limits.request_bytes_max, limits.bulk_bytes_max);
  // A value over the limit but within the slack still parses (the command refuses it
  // precisely); far over it is a protocol error.
  EXPECT_EQ(parse_whole(encode({"SET", "k", std::string(2000, 'v')}), limits).error, "");
  EXPECT_NE(parse_whole("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n", limits).error, "");
}

// Generators: requests of a few arguments with arbitrary bytes (CRLF included).
rc::Gen<std::vector<std::string>> request_gen() {
  return rc::gen::nonEmpty(rc::gen::container<std::vector<std::string>>(
      rc::gen::container<std::string>(rc::gen::arbitrary<char>())));
}

RC_GTEST_PROP(RespParser, AnySplitOfAValidStreamParsesTheSame, ()) {
  const auto requests = *rc::gen::resize(20, rc::gen::container<Requests>(request_gen()));
  std::string bytes;
  for (const auto& request : requests) bytes += encode(request);
  const auto chunks = *rc::gen::nonEmpty(
      rc::gen::container<std::vector<std::size_t>>(rc::gen::inRange<std::size_t>(1, 40)));
  RespParser parser;
  const Drained out = drain(parser, bytes, chunks);
  RC_ASSERT(out.error.empty());
  RC_ASSERT(out.requests == requests);
  RC_ASSERT(parser.buffered_bytes() == 0u);
}

RC_GTEST_PROP(RespParser, GarbageNeverCrashesNorBuffersPastTheBounds, ()) {
  RespLimits limits;
  limits.arguments_max = 8;
  limits.bulk_bytes_max = 64;
  limits.request_bytes_max = 128;
  limits.inline_bytes_max = 64;
  // Garbage built from RESP-ish tokens reaches deeper states than uniform bytes would.
  const auto pieces = *rc::gen::container<std::vector<std::string>>(rc::gen::oneOf(
      rc::gen::element<std::string>("*", "$", "\r\n", "\n", "\r", "-1", "0", "3", "99999",
                                    "\"", "'", " ", "PING"),
      rc::gen::container<std::string>(rc::gen::arbitrary<char>())));
  std::string bytes;
  for (const auto& piece : pieces) bytes += piece;
  const auto chunks = *rc::gen::nonEmpty(
      rc::gen::container<std::vector<std::size_t>>(rc::gen::inRange<std::size_t>(1, 16)));
  RespParser parser(limits);
  const Drained out = drain(parser, bytes, chunks);
  // Bounded by the limits plus one fed chunk (< 16 bytes) plus a CRLF.
  RC_ASSERT(out.buffered_max <= limits.request_bytes_max + limits.bulk_bytes_max + 16 + 2);
  for (const auto& request : out.requests) {
    RC_ASSERT(!request.empty());
    for (const auto& argument : request) RC_ASSERT(argument.size() <= limits.bulk_bytes_max);
  }
  if (!out.error.empty()) RC_ASSERT(out.error.rfind("Protocol error: ", 0) == 0);
}

}  // namespace
}  // namespace vigil::net
