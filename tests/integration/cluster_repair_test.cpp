// Anti-entropy between real processes: with hinted handoff and read repair off, a node that
// was down while keys were written gets them only through anti-entropy. `vigil cluster
// repair` starts exchanges on every node and waits for them; then the restarted node
// serves every key at consistency one and the three nodes' trees (which hash their stores)
// are equal. The restart itself also triggers exchanges (a peer came back), and the
// transport may deliver writes it queued for n3 once n3 is back, so this shows the end
// state and that `cluster repair` waits for and reports exchanges, not which path brought
// each key.

#include "tests/integration/cluster_fixture.h"

namespace vigil::integration {
namespace {

using ClusterRepair = ClusterTest;

constexpr const char* repair_overlay_extra = R"(hint_storage:
  enabled: false
  maintenance:
    check_interval: 500ms
    retry_interval: 500ms
read_repair:
  enabled: false
)";

// The test overlay with hints and read repair off (its hint_storage section replaced).
std::string repair_overlay() {
  std::string overlay = test_overlay;
  const std::size_t hints = overlay.find("hint_storage:");
  const std::size_t limits = overlay.find("limits:");
  return overlay.substr(0, hints) + repair_overlay_extra + overlay.substr(limits);
}

TEST_F(ClusterRepair, ClusterRepairConvergesANodeThatMissedWrites) {
  // The fixture's cluster, restarted with the overlay above.
  ASSERT_EQ(vigil({"cluster", "down", "--dir", dir()}, seconds(30)).exit_code, 0);
  const std::string overlay_path = dir() + "/../repair-overlay.yaml";
  // With an admin token: `vigil cluster repair` must send it (POST /repair is 401 without).
  const std::string token_path = dir() + "/../admin.token";
  std::ofstream(token_path) << "the admin token of this test cluster\n";
  std::ofstream(overlay_path) << repair_overlay() << "security:\n  admin_token_file: \""
                              << token_path << "\"\n";
  CommandResult up = vigil({"cluster", "up", "--dir", dir(), "--config-overlay", overlay_path,
                            "--timeout", "60"},
                           seconds(90));
  ASSERT_EQ(up.exit_code, 0) << describe(up);
  refresh_status();

  const CommandResult killed = cluster("kill", "n3");
  ASSERT_EQ(killed.exit_code, 0) << describe(killed);
  constexpr int keys = 200;
  {
    Redis writer = connect(0);
    for (int i = 0; i < keys; ++i) {
      const std::string key = "missed-" + std::to_string(i);
      ASSERT_EQ(text(command(writer.get(), {"SET", key, "v" + std::to_string(i)})), "+OK") << key;
    }
  }
  up = vigil({"cluster", "up", "--dir", dir(), "--timeout", "60"}, seconds(90));
  ASSERT_EQ(up.exit_code, 0) << describe(up);
  refresh_status();

  const CommandResult repair =
      vigil({"cluster", "repair", "--dir", dir(), "--timeout", "120"}, seconds(150));
  ASSERT_EQ(repair.exit_code, 0) << describe(repair);
  for (const char* id : {"n1", "n2", "n3"}) {
    EXPECT_NE(repair.out.find(std::string(id) + "  exchanges "), std::string::npos)
        << describe(repair);
  }

  // n3 serves every key on its own. (Not all of them came by sync: the peer transport
  // may still deliver ReplicaWrites it queued while n3 was down, once n3 is back.)
  Redis reader = connect(2);
  consistency(reader.get(), "one");
  int wrong = 0;
  for (int i = 0; i < keys; ++i) {
    const std::string key = "missed-" + std::to_string(i);
    const std::string got = text(command(reader.get(), {"GET", key}));
    if (got != "v" + std::to_string(i) && ++wrong <= 5) ADD_FAILURE() << key << ": " << got;
  }
  EXPECT_EQ(wrong, 0);
  // Equal trees: the three stores hold equal states for every key.
  std::set<std::string> roots;
  for (std::size_t i = 0; i < nodes; ++i) {
    const nlohmann::json status = nlohmann::json::parse(admin_get(i, "/status"), nullptr, false);
    ASSERT_FALSE(status.is_discarded());
    const nlohmann::json& trees = status["anti_entropy"]["trees"];
    ASSERT_EQ(trees.size(), 1u) << "3 nodes, N = 3: one replica set";
    EXPECT_GE(trees[0]["keys"].get<int>(), keys);
    roots.insert(trees[0]["root_hash"].get<std::string>());
  }
  EXPECT_EQ(roots.size(), 1u);
}

TEST_F(ClusterRepair, RepairOfOneNodeAndItsErrors) {
  const CommandResult one =
      vigil({"cluster", "repair", "--dir", dir(), "--node", "n2", "--timeout", "60"}, seconds(90));
  ASSERT_EQ(one.exit_code, 0) << describe(one);
  EXPECT_EQ(one.out.rfind("n2  exchanges ", 0), 0u) << one.out;
  EXPECT_EQ(one.out.find("n1"), std::string::npos) << "only n2: " << one.out;

  const CommandResult unknown =
      vigil({"cluster", "repair", "--dir", dir(), "--node", "n9"}, seconds(30));
  EXPECT_EQ(unknown.exit_code, 2) << describe(unknown);
  EXPECT_NE(unknown.err.find("n9"), std::string::npos) << unknown.err;

  ASSERT_EQ(cluster("kill", "n1").exit_code, 0);
  const CommandResult down_node =
      vigil({"cluster", "repair", "--dir", dir(), "--timeout", "10"}, seconds(40));
  EXPECT_EQ(down_node.exit_code, 1) << describe(down_node);
  EXPECT_NE(down_node.err.find("n1"), std::string::npos) << down_node.err;
}

}  // namespace
}  // namespace vigil::integration
