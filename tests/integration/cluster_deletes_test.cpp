// Tombstone collection between real processes (docs/deletes.md): keys are written, n3 is
// SIGKILLed, the keys are deleted while it is down, and the grace (2 s here) passes. The
// two live nodes keep their tombstones (n3 cannot vouch) and the keys read as deleted.
// n3 comes back still holding the values; anti-entropy gives it the tombstones, and the
// collector then drops them from every node's store. The deleted keys never come back.

#include "tests/integration/cluster_fixture.h"

namespace vigil::integration {
namespace {

using ClusterDeletes = ClusterTest;

// Hints expire within the grace (the config check insists), and collection runs often.
constexpr const char* gc_overlay_extra = R"(hint_storage:
  maintenance:
    check_interval: 500ms
    retry_interval: 500ms
    expiry: 2s
tombstone_gc:
  grace: 2s
  scan_interval: 200ms
)";

std::string gc_overlay() {
  std::string overlay = test_overlay;
  const std::size_t hints = overlay.find("hint_storage:");
  const std::size_t limits = overlay.find("limits:");
  return overlay.substr(0, hints) + gc_overlay_extra + overlay.substr(limits);
}

TEST_F(ClusterDeletes, DeletedKeysStayDeletedAndTheirTombstonesLeaveEveryStore) {
  ASSERT_EQ(vigil({"cluster", "down", "--dir", dir()}, seconds(30)).exit_code, 0);
  const std::string overlay_path = dir() + "/../gc-overlay.yaml";
  std::ofstream(overlay_path) << gc_overlay();
  CommandResult up = vigil({"cluster", "up", "--dir", dir(), "--config-overlay", overlay_path,
                            "--timeout", "60"},
                           seconds(90));
  ASSERT_EQ(up.exit_code, 0) << describe(up);
  refresh_status();

  constexpr int keys = 50;
  const auto key_name = [](int i) { return "deleted-" + std::to_string(i); };
  {
    Redis writer = connect(0);
    consistency(writer.get(), "all");
    for (int i = 0; i < keys; ++i) {
      ASSERT_EQ(text(command(writer.get(), {"SET", key_name(i), "v"})), "+OK") << i;
    }
  }
  ASSERT_EQ(cluster("kill", "n3").exit_code, 0);
  {
    Redis deleter = connect(0);
    for (int i = 0; i < keys; ++i) {
      ASSERT_EQ(text(command(deleter.get(), {"DEL", key_name(i)})), ":1") << i;
    }
  }
  std::this_thread::sleep_for(seconds(4));  // past the grace
  {
    Redis reader = connect(1);
    for (int i = 0; i < keys; ++i) {
      EXPECT_EQ(text(command(reader.get(), {"GET", key_name(i)})), "(nil)") << i;
    }
  }
  EXPECT_EQ(status_counter(0, "tombstones_collected"), 0) << "n3 could not vouch";
  EXPECT_EQ(status_counter(1, "tombstones_collected"), 0);

  up = vigil({"cluster", "up", "--dir", dir(), "--timeout", "60"}, seconds(90));
  ASSERT_EQ(up.exit_code, 0) << describe(up);
  refresh_status();

  // Every store empties: the trees hash the stores, so 0 keys in every tree.
  const auto stored_keys = [this](std::size_t index) {
    const nlohmann::json status =
        nlohmann::json::parse(admin_get(index, "/status"), nullptr, false);
    if (status.is_discarded()) return -1;
    const nlohmann::json& trees = status["anti_entropy"]["trees"];
    int total = 0;
    for (const nlohmann::json& tree : trees) total += tree["keys"].get<int>();
    return total;
  };
  const auto deadline = std::chrono::steady_clock::now() + seconds(60);
  while (std::chrono::steady_clock::now() < deadline &&
         (stored_keys(0) != 0 || stored_keys(1) != 0 || stored_keys(2) != 0)) {
    std::this_thread::sleep_for(milliseconds(250));
  }
  for (std::size_t i = 0; i < nodes; ++i) EXPECT_EQ(stored_keys(i), 0) << "node " << i;
  long long collected = 0;
  for (std::size_t i = 0; i < nodes; ++i) collected += status_counter(i, "tombstones_collected");
  EXPECT_GE(collected, 3 * keys);

  Redis reader = connect(2);
  consistency(reader.get(), "all");
  for (int i = 0; i < keys; ++i) {
    EXPECT_EQ(text(command(reader.get(), {"GET", key_name(i)})), "(nil)") << i;
  }
}

}  // namespace
}  // namespace vigil::integration
