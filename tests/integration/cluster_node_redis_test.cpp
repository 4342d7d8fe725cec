// A real Node.js client library against a real cluster: tests/clients/node_redis_test.js
// runs node-redis (Debian 12's node-redis 4.5.1, scripts/install-deps.sh) through two nodes
// of a 3-node cluster: strings, MSET, SET NX/XX, expiry, counters, pipelines without a
// transaction, SCAN with the library's scanIterator, KEYS, DBSIZE, binary keys and values,
// and errors, also while the third node is paused (the script stops and resumes it).

#include <csignal>
#include <cstdlib>

#include "tests/integration/cluster_fixture.h"

namespace vigil::integration {
namespace {

// Debian installs node modules under /usr/share/nodejs. Debian's nodejs searches it by
// itself; other builds (nodesource's) need NODE_PATH, which costs Debian's nothing.
constexpr const char* node_modules = "/usr/share/nodejs";

std::string node_binary() {
  for (const char* candidate : {"/usr/bin/node", "/usr/bin/nodejs"}) {
    if (::access(candidate, X_OK) == 0) return candidate;
  }
  return "";
}

bool node_redis_installed(const std::string& node) {
  return !node.empty() &&
         run_command({"/usr/bin/env", std::string("NODE_PATH=") + node_modules, node, "-e",
                      "require('redis')"},
                     seconds(30))
                 .exit_code == 0;
}

using ClusterNodeRedis = ClusterTest;

TEST_F(ClusterNodeRedis, OrdinaryCallsWorkAndErrorsSayWhy) {
  const std::string node = node_binary();
  if (!node_redis_installed(node)) {
    GTEST_SKIP() << "node-redis is not installed (Debian: nodejs and node-redis; "
                    "scripts/install-deps.sh)";
  }
  std::vector<std::string> argv{"/usr/bin/env", std::string("NODE_PATH=") + node_modules, node,
                                VIGIL_SOURCE_DIR "/tests/clients/node_redis_test.js"};
  for (std::size_t i : {0, 1}) {
    argv.push_back(cluster_nodes().at(i).client_host);
    argv.push_back(std::to_string(cluster_nodes().at(i).client_port));
  }
  ASSERT_GT(cluster_nodes().at(2).pid, 0);
  argv.push_back(std::to_string(cluster_nodes().at(2).pid));
  const CommandResult result = run_command(argv, seconds(90));
  // Whatever the script did, the third node runs again (SIGCONT is harmless when it does).
  ::kill(cluster_nodes().at(2).pid, SIGCONT);
  EXPECT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_NE(result.out.find("9 of 9 checks passed"), std::string::npos) << describe(result);
}

}  // namespace
}  // namespace vigil::integration
