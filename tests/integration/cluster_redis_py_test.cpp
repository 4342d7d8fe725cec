// A real client library against a real cluster: tests/clients/redis_py_test.py runs
// redis-py (Debian's python3-redis, scripts/install-deps.sh) through two nodes of a 3-node
// cluster: strings, MGET/MSET, SET NX/XX/GET, binary keys and values, a pipeline without a
// transaction reading its own writes, a transaction pipeline failing with MULTI's reason
// (and nothing inside it run), the refusals and COMMAND introspection, and SCAN (scan_iter),
// KEYS, DBSIZE and INFO keyspace.

#include "tests/integration/cluster_fixture.h"

namespace vigil::integration {
namespace {

// Debian's interpreter, not whatever python3 is first on PATH: python3-redis installs
// into /usr/lib/python3/dist-packages, which only /usr/bin/python3 reads.
constexpr const char* python = "/usr/bin/python3";

bool redis_py_installed() {
  return run_command({python, "-c", "import redis"}, seconds(30)).exit_code == 0;
}

using ClusterRedisPy = ClusterTest;

TEST_F(ClusterRedisPy, OrdinaryCallsWorkAndRefusalsSayWhy) {
  if (!redis_py_installed()) {
    GTEST_SKIP() << "redis-py is not installed (Debian: python3-redis; scripts/install-deps.sh)";
  }
  std::vector<std::string> argv{python, VIGIL_SOURCE_DIR "/tests/clients/redis_py_test.py"};
  for (std::size_t i : {0, 1}) {
    argv.push_back(cluster_nodes().at(i).client_host);
    argv.push_back(std::to_string(cluster_nodes().at(i).client_port));
  }
  const CommandResult result = run_command(argv, seconds(60));
  EXPECT_EQ(result.exit_code, 0) << describe(result);
  // "N of N checks passed": every check the script has, however many that is.
  const std::size_t at = result.out.find(" checks passed");
  ASSERT_NE(at, std::string::npos) << describe(result);
  const std::size_t line = result.out.rfind(": ", at);
  ASSERT_NE(line, std::string::npos) << describe(result);
  const std::string counts = result.out.substr(line + 2, at - line - 2);  // "9 of 9"
  const std::size_t of = counts.find(" of ");
  ASSERT_NE(of, std::string::npos) << describe(result);
  EXPECT_EQ(counts.substr(0, of), counts.substr(of + 4)) << describe(result);
}

}  // namespace
}  // namespace vigil::integration
