// Data survives: stop the whole cluster (`cluster down`) and start it again (`cluster up`
// on the same DIR), and every acknowledged write is there, on the same ports.

#include "tests/integration/cluster_fixture.h"

namespace vigil::integration {
namespace {

using ClusterRestart = ClusterTest;

TEST_F(ClusterRestart, WholeClusterDownAndUpKeepsEveryAcknowledgedWrite) {
  std::vector<std::pair<std::string, std::string>> written;
  {
    std::vector<Redis> clients;
    for (std::size_t i = 0; i < nodes; ++i) clients.push_back(connect(i));
    for (int i = 0; i < 300; ++i) {
      const std::string key = "durable-" + std::to_string(i);
      const std::string value = "value-" + std::to_string(i);
      // Through every node in turn; only acknowledged writes are expected back.
      if (text(command(clients[i % nodes].get(), {"SET", key, value})) == "+OK") {
        written.emplace_back(key, value);
      }
    }
    ASSERT_EQ(text(command(clients[0].get(), {"DEL", "durable-7"})), ":1");
  }
  ASSERT_EQ(written.size(), 300u);
  const std::vector<NodeInfo> before = cluster_nodes();

  const CommandResult down = vigil({"cluster", "down", "--dir", dir()}, seconds(30));
  ASSERT_EQ(down.exit_code, 0) << describe(down);
  refresh_status();
  for (const NodeInfo& node : cluster_nodes()) EXPECT_FALSE(node.alive) << node.id;

  const CommandResult up = vigil({"cluster", "up", "--dir", dir(), "--timeout", "60"}, seconds(90));
  ASSERT_EQ(up.exit_code, 0) << describe(up);
  refresh_status();
  for (std::size_t i = 0; i < nodes; ++i) {
    EXPECT_TRUE(cluster_nodes()[i].alive);
    EXPECT_EQ(cluster_nodes()[i].client_port, before[i].client_port) << "same ports on rerun";
    EXPECT_NE(cluster_nodes()[i].pid, before[i].pid) << "a new process";
  }

  Redis reader = connect(1);
  consistency(reader.get(), "all");
  std::size_t wrong = 0;
  for (const auto& [key, value] : written) {
    const std::string expected = key == "durable-7" ? "(nil)" : value;
    const std::string got = text(command(reader.get(), {"GET", key}));
    if (got != expected && ++wrong <= 5) ADD_FAILURE() << key << " after restart: " << got;
  }
  EXPECT_EQ(wrong, 0u) << "of " << written.size() << " acknowledged writes";
}

}  // namespace
}  // namespace vigil::integration
