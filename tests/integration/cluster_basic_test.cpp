// A real 3-node cluster answers Redis clients: a write through one node is read through
// every other (hiredis), and redis-cli from Debian's redis-tools works against it.

#include "tests/integration/cluster_fixture.h"

namespace vigil::integration {
namespace {

using ClusterBasic = ClusterTest;

TEST_F(ClusterBasic, SetOnOneNodeGetOnAnother) {
  std::vector<Redis> clients;
  for (std::size_t i = 0; i < nodes; ++i) clients.push_back(connect(i));
  for (std::size_t writer = 0; writer < nodes; ++writer) {
    const std::string key = "key-from-n" + std::to_string(writer + 1);
    // Binary-safe: CR, LF and NUL inside the value.
    const std::string value =
        std::string("value\r\n\0 written", 16) + " via n" + std::to_string(writer + 1);
    ASSERT_EQ(text(command(clients[writer].get(), {"SET", key, value})), "+OK");
    for (std::size_t reader = 0; reader < nodes; ++reader) {
      // Default level quorum: R + W > N, so every reader sees the acknowledged write.
      EXPECT_EQ(text(command(clients[reader].get(), {"GET", key})), value)
          << "written via n" << writer + 1 << ", read via n" << reader + 1;
    }
  }
  EXPECT_EQ(text(command(clients[1].get(), {"GET", "never-written"})), "(nil)");
  EXPECT_EQ(text(command(clients[2].get(), {"EXISTS", "key-from-n1", "never-written"})), ":1");
  EXPECT_EQ(text(command(clients[0].get(), {"DEL", "key-from-n2"})), ":1");
  EXPECT_EQ(text(command(clients[2].get(), {"GET", "key-from-n2"})), "(nil)");
  const Reply mget = command(clients[1].get(), {"MGET", "key-from-n1", "key-from-n2"});
  ASSERT_TRUE(mget && mget->type == REDIS_REPLY_ARRAY && mget->elements == 2) << text(mget);
  EXPECT_EQ(mget->element[0]->type, REDIS_REPLY_STRING);
  EXPECT_EQ(mget->element[1]->type, REDIS_REPLY_NIL);
}

TEST_F(ClusterBasic, RedisCliSetsAndGetsThroughDifferentNodes) {
  const auto redis_cli = [&](std::size_t node, std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(),
                     {"/usr/bin/redis-cli", "-h", cluster_nodes()[node].client_host, "-p",
                      std::to_string(cluster_nodes()[node].client_port)});
    return run_command(arguments, seconds(20));
  };
  const CommandResult set = redis_cli(0, {"SET", "cli-key", "cli value"});
  ASSERT_EQ(set.exit_code, 0) << describe(set);
  EXPECT_EQ(set.out, "OK\n");
  const CommandResult get = redis_cli(2, {"GET", "cli-key"});
  ASSERT_EQ(get.exit_code, 0) << describe(get);
  EXPECT_EQ(get.out, "cli value\n");
  const CommandResult ping = redis_cli(1, {"PING"});
  EXPECT_EQ(ping.out, "PONG\n") << describe(ping);
  // INFO is Redis-style sections; redis-cli prints them as they come.
  const CommandResult info = redis_cli(1, {"INFO"});
  ASSERT_EQ(info.exit_code, 0) << describe(info);
  EXPECT_NE(info.out.find("# Server"), std::string::npos) << info.out;
  // An unknown command is an error reply, not a hang or a closed connection.
  const CommandResult unknown = redis_cli(0, {"NOSUCHCOMMAND", "x"});
  EXPECT_NE(unknown.out.find("ERR unknown command"), std::string::npos) << describe(unknown);
}

TEST_F(ClusterBasic, StatusListsEveryNodeAliveWithItsPid) {
  for (const NodeInfo& node : cluster_nodes()) {
    EXPECT_TRUE(node.alive) << node.id;
    EXPECT_GT(node.pid, 0) << node.id;
  }
  EXPECT_EQ(cluster_nodes()[0].id, "n1");
  EXPECT_EQ(cluster_nodes()[2].id, "n3");
  // A rerun of `up` on the running cluster leaves every node alone.
  const CommandResult again = vigil({"cluster", "up", "--dir", dir()}, seconds(60));
  ASSERT_EQ(again.exit_code, 0) << describe(again);
  EXPECT_EQ(again.out.find("started"), std::string::npos) << again.out;
  const std::vector<NodeInfo> before = cluster_nodes();
  refresh_status();
  for (std::size_t i = 0; i < nodes; ++i) EXPECT_EQ(cluster_nodes()[i].pid, before[i].pid);
}

}  // namespace
}  // namespace vigil::integration
