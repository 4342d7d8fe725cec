// `vigil bench repair --processes` on a small scale: three real nodes, 3000 keys, 1% of
// them erased from n3's SQLite file with its persisted trees; the run must end with equal
// tree roots, stream at least the keys that differed, and leave no process behind (even
// when it fails or is killed at the deadline: any node still running `start --config` under
// the test's directory is killed and reported).

#include <nlohmann/json.hpp>

#include "tests/integration/cluster_fixture.h"

namespace vigil::integration {
namespace {

void kill_nodes_under(const std::string& dir) {
  std::error_code error;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, error);
       !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    if (it->path().filename() != "pid") continue;
    std::ifstream pid_file(it->path());
    int pid = 0;
    if (!(pid_file >> pid) || pid <= 0) continue;
    std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline");
    const std::string line((std::istreambuf_iterator<char>(cmdline)),
                           std::istreambuf_iterator<char>());
    if (line.find(dir) != std::string::npos) {
      ADD_FAILURE() << "a node (pid " << pid << ") outlived the benchmark";
      ::kill(pid, SIGKILL);
    }
  }
}

TEST(BenchRepairProcesses, ANodeThatLostKeysConvergesByAntiEntropyAlone) {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "vigil-bench-repair-test-XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const std::string dir = pattern;
  const CommandResult run = run_command(
      {VIGIL_BINARY, "bench", "repair", "--keys", "3000", "--no-write-path", "--processes",
       "--dir", dir, "--json"},
      std::chrono::seconds(240));
  kill_nodes_under(dir);
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  const nlohmann::json report = nlohmann::json::parse(run.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << run.out;
  const nlohmann::json& real = report["processes"];
  EXPECT_TRUE(real["converged"].get<bool>()) << run.out;
  EXPECT_EQ(real["keys_erased"].get<int>(), 30);
  EXPECT_GE(real["keys_streamed"].get<int>(), 30) << "the erased keys came back by sync";
  EXPECT_GE(real["exchanges"].get<int>(), 1);
  // The run's own directory is removed when it succeeds.
  std::error_code error;
  EXPECT_TRUE(std::filesystem::is_empty(dir, error)) << dir;
  std::filesystem::remove_all(dir, error);
}

}  // namespace
}  // namespace vigil::integration
