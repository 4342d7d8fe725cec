// A connection's pipelined commands take effect in order per key (docs/client-protocol.md,
// core/node/session_order.h): hiredis sends several commands before reading any reply, as
// redis-py's pipeline(transaction=False) does, and a GET after a SET of the same key sees
// the SET, on every node of a real 3-node cluster.

#include "tests/integration/cluster_fixture.h"

namespace vigil::integration {
namespace {

using ClusterPipelining = ClusterTest;

// Sends every command before reading any reply; returns the replies in order.
std::vector<std::string> pipeline(redisContext* context,
                                  const std::vector<std::vector<std::string>>& commands) {
  for (const auto& arguments : commands) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const std::string& argument : arguments) {
      argv.push_back(argument.data());
      lengths.push_back(argument.size());
    }
    EXPECT_EQ(
        redisAppendCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data()),
        REDIS_OK);
  }
  std::vector<std::string> replies;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(context, &raw) != REDIS_OK) {
      replies.push_back("(no reply: connection error or timeout)");
      break;
    }
    replies.push_back(text(Reply(static_cast<redisReply*>(raw))));
  }
  return replies;
}

TEST_F(ClusterPipelining, GetAfterSetOfTheSameKeySeesTheSet) {
  std::vector<Redis> clients;
  for (std::size_t i = 0; i < nodes; ++i) clients.push_back(connect(i));
  for (std::size_t node = 0; node < nodes; ++node) {
    redisContext* client = clients[node].get();
    const std::string n = std::to_string(node + 1);
    EXPECT_EQ(pipeline(client, {{"SET", "p1-" + n, "1"}, {"GET", "p1-" + n}}),
              (std::vector<std::string>{"+OK", "1"}))
        << "via n" << n;
    EXPECT_EQ(pipeline(client, {{"SET", "p2-" + n, "a"},
                                {"SET", "p2-" + n, "b"},
                                {"GET", "p2-" + n},
                                {"DEL", "p2-" + n, "p1-" + n},
                                {"MGET", "p1-" + n, "p2-" + n},
                                {"SET", "p1-" + n, "2"},
                                {"EXISTS", "p1-" + n, "p2-" + n}}),
              (std::vector<std::string>{"+OK", "+OK", "b", ":2", "(array of 2)", "+OK", ":1"}))
        << "via n" << n;
    // Many rounds of overwrites of one key, each read back in the same pipeline.
    std::vector<std::vector<std::string>> commands;
    std::vector<std::string> expected;
    for (int round = 0; round < 20; ++round) {
      commands.push_back({"SET", "p3-" + n, std::to_string(round)});
      commands.push_back({"GET", "p3-" + n});
      commands.push_back({"PING"});
      expected.insert(expected.end(), {"+OK", std::to_string(round), "+PONG"});
    }
    EXPECT_EQ(pipeline(client, commands), expected) << "via n" << n;
  }
  // A CONSISTENCY change applies to the commands after it, not to those before it.
  EXPECT_EQ(pipeline(clients[0].get(), {{"SET", "p4", "x"},
                                        {"CONSISTENCY", "all"},
                                        {"GET", "p4"},
                                        {"CONSISTENCY"},
                                        {"CONSISTENCY", "quorum"}}),
            (std::vector<std::string>{"+OK", "+OK", "x", "all", "+OK"}));
  // The values were written: another node's connection reads them.
  EXPECT_EQ(text(command(clients[1].get(), {"GET", "p1-1"})), "2");
  EXPECT_EQ(text(command(clients[2].get(), {"GET", "p3-1"})), "19");
}

}  // namespace
}  // namespace vigil::integration
