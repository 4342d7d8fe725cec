// The client port against a fake NodeService, driven by a real Redis client (hiredis) and,
// when installed, by redis-benchmark: commands and their replies and errors, pipelining
// order when the node answers out of order, causal contexts, the bounds, and that a
// malformed request closes only its own connection.

#include "net/resp_server.h"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <chrono>
#include <initializer_list>
#include <cstdio>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "core/wire/codec.h"
#include "net/causal_context.h"
#include "net/client_command_table.h"
#include "tests/net/fake_node_service.h"
#include "tests/net/resp_harness.h"

namespace vigil::net {
namespace {

using testing::command;
using testing::Harness;
using testing::Reply;
using testing::run;
using testing::text;

// client.set_context: coordinator (the default) makes SET and DEL one write each, without
// a context; `read` reads first and writes with the context read.
TEST(RespServer, SetAndDelFollowSetContext) {
  for (const core::SetContext mode : {core::SetContext::coordinator, core::SetContext::read}) {
    config::Config config = Harness::default_config();
    config.client.set_context = mode;
    Harness harness(config);
    redisContext* c = harness.connect();
    EXPECT_EQ(run(c, {"SET", "k", "v1"}), "+OK");
    EXPECT_EQ(run(c, {"SET", "k", "v2"}), "+OK");
    EXPECT_EQ(run(c, {"GET", "k"}), "v2");
    EXPECT_EQ(run(c, {"DEL", "k", "missing"}), ":1");
    const auto requests = harness.on_loop([&] { return harness.service().requests_; });
    std::size_t gets = 0, writes_with_context = 0;
    for (const core::ClientRequest& request : requests) {
      gets += request.op == core::ClientOp::get ? 1 : 0;
      writes_with_context += request.op != core::ClientOp::get && request.context ? 1 : 0;
    }
    if (mode == core::SetContext::coordinator) {
      EXPECT_EQ(gets, 1u) << "only the GET reads";
      EXPECT_EQ(writes_with_context, 0u);
      EXPECT_EQ(requests.size(), 5u) << "2 SETs, 1 GET, 2 DELs";
    } else {
      EXPECT_EQ(gets, 5u) << "each SET and each DEL key read first";
      EXPECT_EQ(writes_with_context, 3u) << "the DEL of a missing key writes nothing";
    }
  }
}

TEST(RespServer, AnswersTheBasicCommands) {
  Harness harness;
  redisContext* c = harness.connect();
  EXPECT_EQ(run(c, {"PING"}), "+PONG");
  EXPECT_EQ(run(c, {"PING", "hi"}), "hi");
  EXPECT_EQ(run(c, {"ECHO", "a\r\nb"}), "a\r\nb");
  EXPECT_EQ(run(c, {"GET", "k"}), "(nil)");
  EXPECT_EQ(run(c, {"SET", "k", "v1"}), "+OK");
  EXPECT_EQ(run(c, {"set", "k", "v2"}), "+OK");
  EXPECT_EQ(run(c, {"GET", "k"}), "v2");  // the coordinator's context: no sibling left behind
  EXPECT_EQ(run(c, {"SET", "j", ""}), "+OK");
  EXPECT_EQ(run(c, {"EXISTS", "k", "j", "missing", "k"}), ":3");
  Reply mget = command(c, {"MGET", "k", "missing", "j"});
  ASSERT_EQ(mget->type, REDIS_REPLY_ARRAY);
  ASSERT_EQ(mget->elements, 3u);
  EXPECT_EQ(std::string(mget->element[0]->str, mget->element[0]->len), "v2");
  EXPECT_EQ(mget->element[1]->type, REDIS_REPLY_NIL);
  EXPECT_EQ(mget->element[2]->len, 0u);
  EXPECT_EQ(run(c, {"DEL", "k", "missing", "j"}), ":2");
  EXPECT_EQ(run(c, {"GET", "k"}), "(nil)");
  EXPECT_EQ(run(c, {"EXISTS", "k"}), ":0");
  EXPECT_EQ(run(c, {"SELECT", "0"}), "+OK");
  EXPECT_EQ(run(c, {"CLIENT", "SETNAME", "tester"}), "+OK");
  EXPECT_EQ(run(c, {"CLIENT", "GETNAME"}), "tester");
}

TEST(RespServer, ErrorsUseRedisWording) {
  Harness harness;
  redisContext* c = harness.connect();
  EXPECT_EQ(run(c, {"FLUSHEVERYTHING", "x"}),
            "-ERR unknown command 'FLUSHEVERYTHING', with args beginning with: 'x' ");
  EXPECT_EQ(run(c, {"GET"}), "-ERR wrong number of arguments for 'get' command");
  EXPECT_EQ(run(c, {"GET", "a", "b"}), "-ERR wrong number of arguments for 'get' command");
  EXPECT_EQ(run(c, {"SET", "k", "v", "EX", "0"}), "-ERR invalid expire time in 'set' command");
  EXPECT_EQ(run(c, {"SET", "k", "v", "NX", "XX"}), "-ERR syntax error");
  EXPECT_EQ(run(c, {"MSET", "a", "1", "b"}), "-ERR wrong number of arguments for 'mset' command");
  EXPECT_EQ(run(c, {"SELECT", "1"}), "-ERR DB index is out of range (Vigil has one keyspace, 0)");
  EXPECT_EQ(run(c, {"GET", ""}), "-ERR empty keys are not supported (a key is 1..100 bytes)");
  EXPECT_EQ(run(c, {"GET", std::string(101, 'k')}),
            "-ERR key is 101 bytes, over the limit of 100 bytes (limits.key_bytes_max)");
  EXPECT_EQ(run(c, {"HELLO", "3"}),
            "-NOPROTO unsupported protocol version (Vigil speaks RESP2)");
  EXPECT_EQ(harness.on_loop([&] { return harness.metrics().errors().at("wrong_arity"); }), 3u);
  EXPECT_EQ(harness.on_loop([&] { return harness.metrics().errors().at("unknown_command"); }),
            1u);
  // None of these reached the node.
  EXPECT_EQ(harness.on_loop([&] { return harness.service().requests_.size(); }), 0u);
}

TEST(RespServer, OversizedValueIsAnErrorAndFarOversizedClosesOnlyThatConnection) {
  Harness harness;
  redisContext* c = harness.connect();
  redisContext* other = harness.connect();
  EXPECT_EQ(run(c, {"SET", "k", std::string(1001, 'v')}),
            "-ERR value is 1001 bytes, over the limit of 1000 bytes (limits.value_bytes_max)");
  EXPECT_EQ(run(c, {"SET", "k", std::string(1000, 'v')}), "+OK");
  // Past the parser's bound (value limit + 64 KiB) the request is a protocol error.
  std::string huge = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$200000\r\n";
  redisAppendFormattedCommand(c, huge.data(), huge.size());
  redisReply* raw = nullptr;
  ASSERT_EQ(redisGetReply(c, reinterpret_cast<void**>(&raw)), REDIS_OK);
  Reply reply(raw, &freeReplyObject);
  EXPECT_EQ(text(reply), "-ERR Protocol error: invalid bulk length '200000' (limit 66536 bytes)");
  EXPECT_EQ(command(c, {"PING"}), nullptr);  // closed
  EXPECT_EQ(run(other, {"PING"}), "+PONG");
}

TEST(RespServer, MalformedRequestClosesOnlyItsConnectionAfterEarlierReplies) {
  Harness harness;
  redisContext* bad = harness.connect();
  redisContext* good = harness.connect();
  EXPECT_EQ(run(good, {"SET", "k", "v"}), "+OK");
  const std::string bytes = "*1\r\n$4\r\nPING\r\n*1\r\n:oops\r\n";
  redisAppendFormattedCommand(bad, bytes.data(), bytes.size());
  redisReply* raw = nullptr;
  ASSERT_EQ(redisGetReply(bad, reinterpret_cast<void**>(&raw)), REDIS_OK);
  EXPECT_EQ(text(Reply(raw, &freeReplyObject)), "+PONG");
  ASSERT_EQ(redisGetReply(bad, reinterpret_cast<void**>(&raw)), REDIS_OK);
  EXPECT_EQ(text(Reply(raw, &freeReplyObject)), "-ERR Protocol error: expected '$', got ':'");
  EXPECT_NE(redisGetReply(bad, reinterpret_cast<void**>(&raw)), REDIS_OK);  // closed
  EXPECT_EQ(run(good, {"GET", "k"}), "v");
  EXPECT_EQ(harness.on_loop([&] { return harness.metrics().protocol_errors(); }), 1u);
}

TEST(RespServer, InlineCommandsWork) {
  Harness harness;
  redisContext* c = harness.connect();
  const std::string bytes = "PING\r\nECHO \"two words\"\r\n";
  redisAppendFormattedCommand(c, bytes.data(), bytes.size());
  redisReply* raw = nullptr;
  ASSERT_EQ(redisGetReply(c, reinterpret_cast<void**>(&raw)), REDIS_OK);
  EXPECT_EQ(text(Reply(raw, &freeReplyObject)), "+PONG");
  ASSERT_EQ(redisGetReply(c, reinterpret_cast<void**>(&raw)), REDIS_OK);
  EXPECT_EQ(text(Reply(raw, &freeReplyObject)), "two words");
}

TEST(RespServer, PipelinedRepliesComeInRequestOrderWhenTheNodeAnswersOutOfOrder) {
  Harness harness;
  redisContext* c = harness.connect();
  EXPECT_EQ(run(c, {"SET", "slow", "S"}), "+OK");
  EXPECT_EQ(run(c, {"SET", "fast", "F"}), "+OK");
  harness.on_loop([&] { harness.service().held_keys_.insert("slow"); });
  const std::vector<std::vector<std::string>> pipeline = {
      {"GET", "slow"}, {"PING"}, {"GET", "fast"}, {"ECHO", "e"}, {"GET", "slow"}};
  for (const auto& arguments : pipeline) {
    std::vector<const char*> pointers;
    std::vector<std::size_t> lengths;
    for (const auto& a : arguments) {
      pointers.push_back(a.data());
      lengths.push_back(a.size());
    }
    redisAppendCommandArgv(c, static_cast<int>(arguments.size()), pointers.data(),
                           lengths.data());
  }
  redisBufferWrite(c, nullptr);
  // Wait until the node has answered everything but the held key, then release it: PING,
  // GET fast and ECHO complete before the first GET slow. The second GET slow waits for the
  // first on the connection (per-key order) and only reaches the node after it.
  std::size_t requests = 0;
  for (int i = 0; i < 200 && requests < 2 + 2; ++i) {
    requests = harness.on_loop([&] { return harness.service().requests_.size(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a wrong 5th would arrive
  requests = harness.on_loop([&] { return harness.service().requests_.size(); });
  EXPECT_EQ(requests, 2u + 2u);  // one put per SET (set_context: coordinator), then 2 GETs
  harness.on_loop([&] {
    harness.service().held_keys_.clear();
    harness.service().release();
  });
  const std::vector<std::string> expected = {"S", "+PONG", "F", "e", "S"};
  for (const std::string& want : expected) {
    redisReply* raw = nullptr;
    ASSERT_EQ(redisGetReply(c, reinterpret_cast<void**>(&raw)), REDIS_OK);
    EXPECT_EQ(text(Reply(raw, &freeReplyObject)), want);
  }
}

TEST(RespServer, CausalContextsRoundTripAndSiblingsAreShown) {
  Harness harness;
  redisContext* c = harness.connect();
  Reply first = command(c, {"VGET", "k"});
  ASSERT_EQ(first->type, REDIS_REPLY_ARRAY);
  ASSERT_EQ(first->elements, 2u);
  EXPECT_EQ(first->element[0]->len, 0u);  // nothing yet: the empty context
  EXPECT_EQ(first->element[1]->elements, 0u);
  const std::string context_a = run(c, {"VSET", "k", "a", ""});
  ASSERT_NE(context_a.front(), '-') << context_a;
  // Two writers with the same (empty) context: siblings.
  const std::string context_b = run(c, {"VSET", "k", "b", ""});
  Reply both = command(c, {"VGET", "k"});
  ASSERT_EQ(both->element[1]->elements, 2u);
  EXPECT_EQ(std::string(both->element[1]->element[0]->str), "a");
  EXPECT_EQ(std::string(both->element[1]->element[1]->str), "b");
  // GET answers one of them, deterministically (the last), and counts it.
  EXPECT_EQ(run(c, {"GET", "k"}), "b");
  EXPECT_EQ(harness.on_loop([&] { return harness.metrics().get_siblings_resolved_count(); }), 1u);
  // The context decodes to what the node returned, and a write with it resolves both.
  const std::string merged(both->element[0]->str, both->element[0]->len);
  auto clock = decode_context(merged, harness.service().wall_now_us);
  ASSERT_TRUE(clock.ok()) << clock.status().to_string();
  EXPECT_EQ(clock->counter("n1"), 2u);
  const std::string context_c = run(c, {"VSET", "k", "c", merged});
  ASSERT_NE(context_c.front(), '-') << context_c;
  Reply resolved = command(c, {"VGET", "k"});
  ASSERT_EQ(resolved->element[1]->elements, 1u);
  EXPECT_EQ(std::string(resolved->element[1]->element[0]->str), "c");
  EXPECT_EQ(std::string(resolved->element[0]->str, resolved->element[0]->len), context_c);
  // The node received exactly the context the client passed.
  const auto requests = harness.on_loop([&] { return harness.service().requests_; });
  const core::ClientRequest& last_write = requests[requests.size() - 2];
  ASSERT_TRUE(last_write.context.has_value());
  EXPECT_EQ(*last_write.context, *clock);
  // VDEL with the latest context deletes; VGET then shows no values.
  const std::string after_delete = run(c, {"VDEL", "k", context_c});
  ASSERT_NE(after_delete.front(), '-') << after_delete;
  EXPECT_EQ(command(c, {"VGET", "k"})->element[1]->elements, 0u);
  EXPECT_EQ(run(c, {"GET", "k"}), "(nil)");
}

TEST(RespServer, BadAndFarFutureContextsAreRefused) {
  Harness harness;
  redisContext* c = harness.connect();
  EXPECT_EQ(run(c, {"VSET", "k", "v", "not base64!"}),
            "-ERR invalid context: not base64 (length 11 is not a multiple of 4)");
  EXPECT_EQ(run(c, {"VSET", "k", "v", "AAAA"}).rfind("-ERR invalid context: ", 0), 0u);
  // The empty clock's bytes are not its canonical text ("" is).
  EXPECT_EQ(run(c, {"VSET", "k", "v", "AAAAAA=="}),
            "-ERR invalid context: not in canonical form");
  core::VectorClock forged;
  forged.set("n9", {5, harness.service().wall_now_us + 3600LL * 1000000});
  EXPECT_EQ(run(c, {"VSET", "k", "v", encode_context(forged)}),
            "-ERR invalid context: the entry of n9 has a timestamp 3600 s ahead of this node's "
            "clock (at most 60 s are accepted)");
  EXPECT_EQ(run(c, {"VDEL", "k", encode_context(forged)}).rfind("-ERR invalid context", 0), 0u);
  core::VectorClock near;
  near.set("n9", {5, harness.service().wall_now_us + 30LL * 1000000});
  EXPECT_NE(run(c, {"VSET", "k", "v", encode_context(near)}).front(), '-');
  EXPECT_EQ(harness.on_loop([&] { return harness.metrics().errors().at("invalid_context"); }),
            5u);
}

TEST(RespServer, QuorumNotReachedIsUnavailableNeverOk) {
  Harness harness;
  redisContext* c = harness.connect();
  harness.service().unavailable = true;
  const std::string expected =
      "-UNAVAILABLE quorum not reached: 1 of 2 replicas answered (1 of 3 replicas reachable)";
  EXPECT_EQ(run(c, {"SET", "k", "v"}), expected);
  EXPECT_EQ(run(c, {"GET", "k"}), expected);
  EXPECT_EQ(run(c, {"MGET", "a", "b"}), expected);
  EXPECT_EQ(run(c, {"DEL", "a"}), expected);
  EXPECT_EQ(run(c, {"VSET", "k", "v", ""}), expected);
  harness.service().unavailable = false;
  EXPECT_EQ(run(c, {"SET", "k", "v"}), "+OK");
}

TEST(RespServer, ConsistencyIsPerConnectionAndReachesTheNode) {
  Harness harness;
  redisContext* c = harness.connect();
  redisContext* other = harness.connect();
  // Until it names one, a connection is at quorum_settings' R and W ("default").
  EXPECT_EQ(run(c, {"CONSISTENCY"}), "default");
  EXPECT_EQ(run(c, {"CONSISTENCY", "strong"}), "+OK");
  EXPECT_EQ(run(c, {"CONSISTENCY"}), "all");
  EXPECT_EQ(run(c, {"CONSISTENCY", "eventual"}), "+OK");
  EXPECT_EQ(run(c, {"CONSISTENCY"}), "one");
  EXPECT_EQ(run(c, {"CONSISTENCY", "most"}),
            "-ERR unknown consistency level 'most' (one, quorum, all; eventual = one, strong = "
            "all)");
  EXPECT_EQ(run(c, {"GET", "k"}), "(nil)");
  EXPECT_EQ(run(other, {"GET", "k"}), "(nil)");
  const auto requests = harness.on_loop([&] { return harness.service().requests_; });
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].consistency, core::Consistency::one);
  EXPECT_EQ(requests[1].consistency, core::Consistency::default_level);
  const auto& commands = harness.on_loop([&] { return harness.metrics().commands(); });
  EXPECT_EQ(commands.at({"get", "one"}).count(), 1u);
  EXPECT_EQ(commands.at({"get", "default"}).count(), 1u);
  EXPECT_EQ(commands.at({"consistency", "none"}).count(), 6u);
}

TEST(RespServer, ConnectionsOverTheLimitAreRefusedAndCounted) {
  config::Config config = Harness::default_config();
  config.limits.client_connections_max = 2;
  Harness harness(config);
  redisContext* a = harness.connect();
  redisContext* b = harness.connect();
  EXPECT_EQ(run(a, {"PING"}), "+PONG");
  EXPECT_EQ(run(b, {"PING"}), "+PONG");
  redisContext* c = harness.connect();
  EXPECT_EQ(run(c, {"PING"}), "-ERR max number of clients reached");
  EXPECT_EQ(harness.on_loop([&] { return harness.metrics().connections_refused(); }), 1u);
  EXPECT_EQ(run(a, {"QUIT"}), "+OK");
  // Once a closes, a new client fits again.
  for (int i = 0; i < 200 && harness.on_loop([&] { return harness.server().connection_count(); }) > 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(run(harness.connect(), {"PING"}), "+PONG");
}

TEST(RespServer, QuitAnswersOkThenCloses) {
  Harness harness;
  redisContext* c = harness.connect();
  const std::string bytes = "*1\r\n$4\r\nQUIT\r\n*1\r\n$4\r\nPING\r\n";
  redisAppendFormattedCommand(c, bytes.data(), bytes.size());
  redisReply* raw = nullptr;
  ASSERT_EQ(redisGetReply(c, reinterpret_cast<void**>(&raw)), REDIS_OK);
  EXPECT_EQ(text(Reply(raw, &freeReplyObject)), "+OK");
  EXPECT_NE(redisGetReply(c, reinterpret_cast<void**>(&raw)), REDIS_OK);  // no PONG: closed
}

TEST(RespServer, IntrospectionCommandsAnswerWhatRedisToolsAsk) {
  Harness harness;
  redisContext* c = harness.connect();
  Reply save = command(c, {"CONFIG", "GET", "save"});
  ASSERT_EQ(save->type, REDIS_REPLY_ARRAY);
  ASSERT_EQ(save->elements, 2u);
  EXPECT_EQ(std::string(save->element[0]->str), "save");
  EXPECT_EQ(command(c, {"CONFIG", "GET", "appendonly"})->elements, 2u);
  EXPECT_EQ(command(c, {"CONFIG", "GET", "*max*"})->elements, 6u);  // maxclients, maxmemory,
                                                                     // proto-max-bulk-len
  EXPECT_EQ(run(c, {"CONFIG", "SET", "save", ""}).rfind("-ERR CONFIG SET is not supported", 0),
            0u);
  // The count is the command table's (redis_commands_test.cpp checks it against the table).
  const std::size_t table = commands::command_table().size();
  EXPECT_EQ(run(c, {"COMMAND", "COUNT"}), ":" + std::to_string(table));
  Reply commands = command(c, {"COMMAND"});
  ASSERT_EQ(commands->elements, table);
  Reply docs = command(c, {"COMMAND", "DOCS", "get", "nosuch"});
  ASSERT_EQ(docs->elements, 2u);
  EXPECT_EQ(std::string(docs->element[0]->str), "get");
  Reply hello = command(c, {"HELLO", "2"});
  ASSERT_EQ(hello->type, REDIS_REPLY_ARRAY);
  EXPECT_EQ(hello->element[5]->integer, 2);
  EXPECT_EQ(run(c, {"SET", "k", "v"}), "+OK");
  const std::string info = run(c, {"INFO"});
  for (const char* part : {"# Server\r\n", "# Clients\r\nconnected_clients:1\r\n", "# Stats\r\n",
                           "# Commandstats\r\n", "cmdstat_set_default:calls=1,", "# Ring\r\n",
                           "owner_n2:fraction=0.500000", "# Vigil\r\n", "quorum_failures:0\r\n",
                           "consistency_quorum:r=2,w=2\r\n", "members_suspect:1\r\n",
                           "hints_stored:4\r\n"}) {
    EXPECT_NE(info.find(part), std::string::npos) << part;
  }
  const std::string clients = run(c, {"INFO", "clients"});
  EXPECT_EQ(clients, "# Clients\r\nconnected_clients:1\r\nmaxclients:1000\r\n");
  EXPECT_EQ(run(c, {"INFO", "nosuch"}), "");
}

// Replies completed in one loop turn leave in one write: 20 pipelined PINGs, sent in one
// write by the client and answered while the connection processes that read, are not
// written one by one.
TEST(RespServer, RepliesOfOneTurnShareOneWrite) {
  Harness harness;
  redisContext* c = harness.connect();
  for (int i = 0; i < 20; ++i) redisAppendCommand(c, "PING");
  for (int i = 0; i < 20; ++i) {
    redisReply* raw = nullptr;
    ASSERT_EQ(redisGetReply(c, reinterpret_cast<void**>(&raw)), REDIS_OK);
    EXPECT_EQ(text(Reply(raw, &freeReplyObject)), "+PONG");
  }
  const auto [writes, replies] = harness.on_loop([&] {
    return std::make_pair(harness.metrics().reply_writes(), harness.metrics().replies_written());
  });
  EXPECT_EQ(replies, 20u);
  EXPECT_LT(writes, replies);
}

// Pipelines `commands` while the node holds key "a" (the first command's): only that first
// request may reach the node while it is held, since the next command is a barrier (a
// connection-state or whole-keyspace command). Then the node answers everything.
void send_behind_a_held_key(Harness& harness, redisContext* c,
                            std::initializer_list<const char*> commands) {
  harness.on_loop([&] { harness.service().held_keys_.insert("a"); });
  for (const char* command : commands) redisAppendCommand(c, command);
  redisBufferWrite(c, nullptr);
  std::size_t requests = 0;
  for (int i = 0; i < 200 && requests < 1; ++i) {
    requests = harness.on_loop([&] { return harness.service().requests_.size(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(harness.on_loop([&] { return harness.service().requests_.size(); }), 1u);
  harness.on_loop([&] {
    harness.service().held_keys_.clear();
    harness.service().release();
  });
}

// A connection-state command is a barrier: the GET before CONSISTENCY runs at the old
// level, the one after it at the new level, although the node answers the first last.
TEST(RespServer, ConsistencyAppliesToTheCommandsAfterItOnly) {
  Harness harness;
  redisContext* c = harness.connect();
  send_behind_a_held_key(harness, c, {"GET a", "CONSISTENCY all", "GET b"});
  for (const char* want : {"(nil)", "+OK", "(nil)"}) {
    redisReply* raw = nullptr;
    ASSERT_EQ(redisGetReply(c, reinterpret_cast<void**>(&raw)), REDIS_OK);
    EXPECT_EQ(text(Reply(raw, &freeReplyObject)), want);
  }
  const auto requests_seen = harness.on_loop([&] { return harness.service().requests_; });
  ASSERT_EQ(requests_seen.size(), 2u);
  EXPECT_EQ(requests_seen[0].consistency, core::Consistency::default_level);
  EXPECT_EQ(requests_seen[1].consistency, core::Consistency::all);
  EXPECT_GE(harness.on_loop([&] { return harness.metrics().commands_ordered_waits(); }), 2u);
}

// SCAN reads the whole keyspace: it waits for the SET sent before it (held by the node
// here), so the page lists the key; the GET after SCAN waits for SCAN.
TEST(RespServer, ScanWaitsForTheWritesBeforeIt) {
  Harness harness;
  redisContext* c = harness.connect();
  send_behind_a_held_key(harness, c, {"SET a 1", "SCAN 0", "GET b"});
  redisReply* raw = nullptr;
  ASSERT_EQ(redisGetReply(c, reinterpret_cast<void**>(&raw)), REDIS_OK);
  EXPECT_EQ(text(Reply(raw, &freeReplyObject)), "+OK");
  ASSERT_EQ(redisGetReply(c, reinterpret_cast<void**>(&raw)), REDIS_OK);
  Reply page(raw, &freeReplyObject);
  ASSERT_EQ(page->type, REDIS_REPLY_ARRAY);
  ASSERT_EQ(page->element[1]->elements, 1u);
  EXPECT_EQ(std::string(page->element[1]->element[0]->str), "a");
  ASSERT_EQ(redisGetReply(c, reinterpret_cast<void**>(&raw)), REDIS_OK);
  EXPECT_EQ(text(Reply(raw, &freeReplyObject)), "(nil)");
  const auto seen = harness.on_loop([&] { return harness.service().requests_; });
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[1].op, core::ClientOp::scan);
}

TEST(RespServer, StopClosesConnectionsAndLateRepliesAreDropped) {
  auto harness = std::make_unique<Harness>();
  redisContext* c = harness->connect();
  harness->on_loop([&] { harness->service().held_keys_.insert("k"); });
  redisAppendCommand(c, "GET k");
  redisBufferWrite(c, nullptr);
  for (int i = 0; i < 200 && harness->on_loop([&] { return harness->service().requests_.size(); }) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  harness->on_loop([&] {
    harness->server().stop();
    harness->service().release();  // delivered after stop: must be dropped, not crash
  });
  redisReply* raw = nullptr;
  EXPECT_NE(redisGetReply(c, reinterpret_cast<void**>(&raw)), REDIS_OK);
  EXPECT_EQ(harness->on_loop([&] { return harness->metrics().commands_total(); }), 0u);
  harness.reset();
}

// redis-benchmark (Debian's redis-tools) runs to the end against the port without errors.
TEST(RespServer, RedisBenchmarkRunsWithoutErrors) {
  if (std::system("command -v redis-benchmark > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "redis-benchmark is not installed (Debian: redis-tools)";
  }
  Harness harness;
  const std::string command_line = "redis-benchmark -p " + std::to_string(harness.port()) +
                                   " -t set,get -n 2000 -r 100 -c 4 -P 4 -q 2>&1";
  FILE* pipe = popen(command_line.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = pclose(pipe);
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("SET: "), std::string::npos) << output;
  EXPECT_NE(output.find("GET: "), std::string::npos) << output;
  EXPECT_EQ(output.find("rror"), std::string::npos) << output;  // "Error", "error"
  EXPECT_EQ(output.find("WARN"), std::string::npos) << output;
  EXPECT_EQ(harness.on_loop([&] { return harness.metrics().errors_total(); }), 0u);
}

}  // namespace
}  // namespace vigil::net
