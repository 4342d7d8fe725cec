// The Redis commands that client libraries send beyond GET and SET, against a fake node
// through a real client (hiredis): MULTI/EXEC refused without running any part of the
// transaction, FLUSHDB/FLUSHALL/WATCH/MSETNX refused with their reasons, MSET's all-or-an-
// error answer, SET NX/XX/GET deciding on a read and writing with its context, and COMMAND
// describing exactly the commands that run.

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <set>
#include <string>
#include <vector>

#include "net/client_command_table.h"
#include "net/set_options.h"
#include "tests/net/resp_harness.h"

namespace vigil::net {
namespace {

using testing::command;
using testing::Harness;
using testing::Reply;
using testing::run;

constexpr const char* multi_refused =
    "-ERR MULTI/EXEC transactions are not supported by Vigil (keys are replicated "
    "independently); use a pipeline without a transaction";

std::size_t requests(Harness& harness) {
  return harness.on_loop([&] { return harness.service().requests_.size(); });
}

std::string bulk(const redisReply* reply) {
  return reply->type == REDIS_REPLY_STRING ? std::string(reply->str, reply->len) : "<not bulk>";
}

// What redis-py's pipeline(transaction=True) sends: MULTI, the commands, EXEC in one go.
// Nothing between MULTI and EXEC runs; EXEC aborts with MULTI's reason.
TEST(RedisCommands, MultiIsRefusedAndNothingUntilExecRuns) {
  Harness harness;
  redisContext* c = harness.connect();
  for (const char* line : {"MULTI", "SET k v", "GET k", "EXEC"}) redisAppendCommand(c, line);
  std::vector<std::string> replies;
  for (int i = 0; i < 4; ++i) {
    redisReply* raw = nullptr;
    ASSERT_EQ(redisGetReply(c, reinterpret_cast<void**>(&raw)), REDIS_OK);
    replies.push_back(testing::text(Reply(raw, &freeReplyObject)));
  }
  EXPECT_EQ(replies[0], multi_refused);
  EXPECT_EQ(replies[1], std::string(multi_refused) +
                            " (not run: this connection sent MULTI; EXEC or DISCARD ends it)");
  EXPECT_EQ(replies[2], replies[1]);
  EXPECT_EQ(replies[3],
            "-EXECABORT Transaction discarded because of previous errors: MULTI/EXEC "
            "transactions are not supported by Vigil (keys are replicated independently); use "
            "a pipeline without a transaction");
  EXPECT_EQ(requests(harness), 0u) << "the SET inside the refused transaction never ran";
  // After EXEC the connection is itself again.
  EXPECT_EQ(run(c, {"GET", "k"}), "(nil)");
  EXPECT_EQ(run(c, {"EXEC"}), "-ERR EXEC without MULTI");
  EXPECT_EQ(run(c, {"DISCARD"}), "-ERR DISCARD without MULTI");
  EXPECT_EQ(run(c, {"multi"}), multi_refused);
  EXPECT_EQ(run(c, {"DISCARD"}), "+OK");
  EXPECT_EQ(run(c, {"SET", "k", "v"}), "+OK");
  EXPECT_EQ(harness.on_loop([&] { return harness.metrics().errors().at("unsupported"); }), 5u);
}

TEST(RedisCommands, WatchFlushAndMsetnxAreRefusedWithTheirReasons) {
  Harness harness;
  redisContext* c = harness.connect();
  EXPECT_EQ(run(c, {"WATCH", "k"}).rfind("-ERR watch is not supported by Vigil (there are no "
                                         "MULTI/EXEC transactions to watch for)", 0), 0u);
  EXPECT_EQ(run(c, {"FLUSHDB"}).rfind("-ERR flushdb is not supported by Vigil: emptying a "
                                      "replicated keyspace means a tombstone for every key", 0),
            0u);
  EXPECT_EQ(run(c, {"FLUSHALL", "ASYNC"}).rfind("-ERR flushall is not supported by Vigil", 0),
            0u);
  EXPECT_EQ(run(c, {"MSETNX", "a", "1"}).rfind("-ERR msetnx is not supported by Vigil: it "
                                               "promises all keys or none", 0), 0u);
  EXPECT_EQ(requests(harness), 0u);
}

// COMMAND, COUNT, LIST, INFO and DOCS come from the one table the dispatcher runs: every
// listed command runs, and no refused command is listed.
TEST(RedisCommands, CommandDescribesExactlyWhatRuns) {
  Harness harness;
  redisContext* c = harness.connect();
  const std::size_t table = commands::command_table().size();
  EXPECT_EQ(run(c, {"COMMAND", "COUNT"}), ":" + std::to_string(table));
  Reply list = command(c, {"COMMAND", "LIST"});
  ASSERT_EQ(list->elements, table);
  std::set<std::string> listed;
  for (std::size_t i = 0; i < list->elements; ++i) listed.insert(bulk(list->element[i]));
  for (const char* name : {"mset", "set", "get", "vget", "consistency"}) {
    EXPECT_EQ(listed.count(name), 1u) << name;
  }
  for (const char* name : {"multi", "exec", "flushdb", "msetnx", "watch"}) {
    EXPECT_EQ(listed.count(name), 0u) << name;
    EXPECT_NE(commands::find_refused_command(name), nullptr) << name;
  }
  Reply info = command(c, {"COMMAND", "INFO", "mset", "multi"});
  ASSERT_EQ(info->elements, 2u);
  EXPECT_EQ(info->element[0]->element[1]->integer, -3);  // arity
  EXPECT_EQ(info->element[0]->element[5]->integer, 2);   // key step
  EXPECT_EQ(info->element[1]->type, REDIS_REPLY_NIL);
  // SET's docs: key, value, [NX|XX], [GET], [EX s|PX ms|EXAT|PXAT|KEEPTTL], as redis-cli
  // shows them in its hints.
  Reply docs = command(c, {"COMMAND", "DOCS", "set"});
  ASSERT_EQ(docs->elements, 2u);
  const redisReply* fields = docs->element[1];
  ASSERT_EQ(fields->elements, 8u);
  const redisReply* arguments = fields->element[7];
  ASSERT_EQ(arguments->elements, 5u);
  const redisReply* condition = arguments->element[2];
  ASSERT_EQ(condition->elements, 8u);  // name, type, flags, arguments
  EXPECT_EQ(bulk(condition->element[3]), "oneof");
  EXPECT_EQ(condition->element[7]->elements, 2u);
  const redisReply* expiration = arguments->element[4];
  ASSERT_EQ(expiration->elements, 8u);
  EXPECT_EQ(bulk(expiration->element[1]), "expiration");
  EXPECT_EQ(expiration->element[7]->elements, 5u);
  const redisReply* ex = expiration->element[7]->element[0];
  ASSERT_EQ(ex->elements, 6u);  // name, type, token
  EXPECT_EQ(bulk(ex->element[5]), "EX");
  // The table is ordered by name (find_command's binary search relies on it).
  for (std::size_t i = 1; i < table; ++i) {
    EXPECT_LT(commands::command_table()[i - 1].name, commands::command_table()[i].name);
  }
}

TEST(RedisCommands, MsetWritesEveryKeyOrNamesTheKeysNotWritten) {
  Harness harness;
  redisContext* c = harness.connect();
  EXPECT_EQ(run(c, {"MSET", "a", "1", "b", std::string("\0\r\n", 3)}), "+OK");
  Reply values = command(c, {"MGET", "a", "b"});
  ASSERT_EQ(values->elements, 2u);
  EXPECT_EQ(bulk(values->element[0]), "1");
  EXPECT_EQ(bulk(values->element[1]), std::string("\0\r\n", 3));
  // A key named twice takes its last value, written once.
  const std::size_t before = requests(harness);
  EXPECT_EQ(run(c, {"MSET", "a", "2", "a", "3"}), "+OK");
  EXPECT_EQ(requests(harness) - before, 1u);
  EXPECT_EQ(run(c, {"GET", "a"}), "3");
  // A bad key or value writes nothing.
  EXPECT_EQ(run(c, {"MSET", "a", "4", "", "x"}).rfind("-ERR empty keys", 0), 0u);
  EXPECT_EQ(run(c, {"GET", "a"}), "3");
  // One key short of its quorum: an error naming it, never OK.
  harness.on_loop([&] { harness.service().unavailable_keys = {"b", "d"}; });
  EXPECT_EQ(run(c, {"MSET", "a", "5", "b", "x", "c", "y", "d", "z"}),
            "-UNAVAILABLE MSET wrote 2 of 4 keys; not written (outcome unknown): 'b', 'd' "
            "(first: quorum not reached: 1 of 2 replicas answered (1 of 3 replicas "
            "reachable)). MSET is not atomic across keys: the others are written");
  harness.on_loop([&] { harness.service().unavailable_keys.clear(); });
  EXPECT_EQ(run(c, {"GET", "c"}), "y");
}

// NX, XX and GET read first and write with the read's context (client.set_context either
// way): the write replaces exactly what the read saw.
TEST(RedisCommands, SetNxXxGetDecideOnAReadAndWriteWithItsContext) {
  for (const core::SetContext mode : {core::SetContext::coordinator, core::SetContext::read}) {
    config::Config config = Harness::default_config();
    config.client.set_context = mode;
    Harness harness(config);
    redisContext* c = harness.connect();
    EXPECT_EQ(run(c, {"SET", "k", "v", "NX"}), "+OK");
    EXPECT_EQ(run(c, {"SET", "k", "w", "nx"}), "(nil)");
    EXPECT_EQ(run(c, {"GET", "k"}), "v");
    EXPECT_EQ(run(c, {"SET", "k", "w", "XX"}), "+OK");
    EXPECT_EQ(run(c, {"GET", "k"}), "w");
    EXPECT_EQ(run(c, {"SET", "absent", "v", "XX"}), "(nil)");
    EXPECT_EQ(run(c, {"EXISTS", "absent"}), ":0");
    EXPECT_EQ(run(c, {"SET", "k", "z", "GET"}), "w");
    EXPECT_EQ(run(c, {"SET", "new", "v", "NX", "GET"}), "(nil)");
    EXPECT_EQ(run(c, {"SET", "new", "q", "GET", "NX"}), "v") << "not written: the old value";
    EXPECT_EQ(run(c, {"GET", "new"}), "v");
    EXPECT_EQ(run(c, {"SET", "new", "q", "XX", "GET"}), "v");
    EXPECT_EQ(run(c, {"GET", "new"}), "q");
    // A deleted key (only tombstones) is absent for NX, and the NX write supersedes them.
    EXPECT_EQ(run(c, {"DEL", "new"}), ":1");
    EXPECT_EQ(run(c, {"SET", "new", "again", "XX"}), "(nil)");
    EXPECT_EQ(run(c, {"SET", "new", "again", "NX"}), "+OK");
    Reply versions = command(c, {"VGET", "new"});
    ASSERT_EQ(versions->element[1]->elements, 1u) << "no delete sibling left";
    // Every conditional write carried its read's context.
    const auto all = harness.on_loop([&] { return harness.service().requests_; });
    std::size_t puts = 0;
    for (const core::ClientRequest& request : all) {
      if (request.op != core::ClientOp::put) continue;
      ++puts;
      EXPECT_TRUE(request.context.has_value()) << request.key << " " << request.value;
    }
    EXPECT_EQ(puts, 6u);
    // A failed read writes nothing and says why.
    harness.on_loop([&] { harness.service().unavailable = true; });
    EXPECT_EQ(run(c, {"SET", "k", "v", "NX"}).rfind("-UNAVAILABLE quorum not reached", 0), 0u);
  }
}

TEST(SetOptions, ParseAsRedisDoes) {
  auto parsed = parse_set_options({});
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(parsed->reads_first());
  parsed = parse_set_options({"nx", "GET"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->condition, core::WriteCondition::if_absent);
  EXPECT_TRUE(parsed->get);
  parsed = parse_set_options({"Xx", "xx"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->condition, core::WriteCondition::if_present);
  EXPECT_EQ(parse_set_options({"NX", "XX"}).status().message(), "ERR syntax error");
  EXPECT_EQ(parse_set_options({"NOPE"}).status().message(), "ERR syntax error");
}

TEST(SetOptions, ExpiryOptionsTakeAPositiveIntegerAndExcludeEachOther) {
  auto parsed = parse_set_options({"ex", "10"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->expiry.kind, ExpiryOption::Kind::relative);
  EXPECT_EQ(parsed->expiry.amount_ms, 10000);
  EXPECT_FALSE(parsed->reads_first()) << "an expiry rides on the write itself";
  parsed = parse_set_options({"NX", "PXAT", "1700000000123"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->expiry.kind, ExpiryOption::Kind::absolute);
  EXPECT_EQ(parsed->expiry.amount_ms, 1700000000123);
  parsed = parse_set_options({"KEEPTTL"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->reads_first()) << "KEEPTTL needs the current expiry";
  EXPECT_EQ(parse_set_options({"EX"}).status().message(), "ERR syntax error");
  EXPECT_EQ(parse_set_options({"EX", "1", "PX", "5"}).status().message(), "ERR syntax error");
  EXPECT_EQ(parse_set_options({"EX", "1", "KEEPTTL"}).status().message(), "ERR syntax error");
  EXPECT_EQ(parse_set_options({"EX", "0"}).status().message(),
            "ERR invalid expire time in 'set' command");
  EXPECT_EQ(parse_set_options({"PX", "-5"}).status().message(),
            "ERR invalid expire time in 'set' command");
  EXPECT_EQ(parse_set_options({"EX", "1.5"}).status().message(),
            "ERR value is not an integer or out of range");
  EXPECT_EQ(parse_set_options({"EX", "99999999999999999"}).status().message(),
            "ERR invalid expire time, it is too large or too small");
  core::ClientRequest request;
  parse_set_options({"EXAT", "5"})->expiry.apply(request, 0);
  EXPECT_EQ(request.expires_at_us, 5'000'000);
  EXPECT_FALSE(request.expires_in);
}

}  // namespace
}  // namespace vigil::net

namespace vigil::net {
namespace {

using testing::Harness;

TEST(RedisCommands, ScanKeysAndDbsizeParseAndFilter) {
  config::Config config = Harness::default_config();
  config.client.keys_max = 3;
  Harness harness(config);
  redisContext* c = harness.connect();
  EXPECT_EQ(run(c, {"MSET", "user:1", "a", "user:2", "b", "session:1", "c"}), "+OK");
  Reply page = command(c, {"SCAN", "0", "MATCH", "user:*", "COUNT", "100", "TYPE", "string"});
  ASSERT_EQ(page->elements, 2u);
  EXPECT_EQ(bulk(page->element[0]), "0");
  ASSERT_EQ(page->element[1]->elements, 2u);
  EXPECT_EQ(bulk(page->element[1]->element[0]), "user:1");
  const core::ClientRequest& sent =
      harness.on_loop([&]() -> core::ClientRequest { return harness.service().requests_.back(); });
  EXPECT_EQ(sent.op, core::ClientOp::scan);
  EXPECT_EQ(sent.scan_count, 100u);
  EXPECT_EQ(run(c, {"DBSIZE"}), ":3");
  Reply keys = command(c, {"KEYS", "*:1"});
  ASSERT_EQ(keys->elements, 2u);
  // Refused before the node is asked.
  const std::size_t before = requests(harness);
  EXPECT_NE(run(c, {"SCAN", "17"}).find("invalid cursor '17'"), std::string::npos);
  EXPECT_NE(run(c, {"SCAN", "-1"}).find("not a decimal number"), std::string::npos);
  EXPECT_NE(run(c, {"SCAN", "0", "COUNT", "0"}).find("COUNT must be a positive integer"),
            std::string::npos);
  EXPECT_NE(run(c, {"SCAN", "0", "TYPE", "hash"}).find("only strings"), std::string::npos);
  EXPECT_NE(run(c, {"SCAN", "0", "MATCH"}).find("syntax error"), std::string::npos);
  EXPECT_EQ(requests(harness), before);
  // KEYS walks past client.keys_max (4 keys now, 3 allowed): refused, whatever the pattern.
  EXPECT_EQ(run(c, {"SET", "other", "d"}), "+OK");
  EXPECT_NE(run(c, {"KEYS", "nothing*"}).find("client.keys_max"), std::string::npos);
}

}  // namespace
}  // namespace vigil::net
