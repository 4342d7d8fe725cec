// `vigil cluster up` when a node cannot start: the error names the node, says what the
// probe saw and shows the tail of the node's log, within the --timeout bound; `down`
// then stops the nodes that did start.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "tests/integration/cluster_fixture.h"

namespace vigil::integration {
namespace {

TEST(ClusterCli, UpNamesTheNodeThatCannotStartAndShowsItsLog) {
  // Hold a port, and lay the cluster out so that it is n2's client port (base + 1).
  const int holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(holder, 1), 0);
  socklen_t length = sizeof address;
  ::getsockname(holder, reinterpret_cast<sockaddr*>(&address), &length);
  const int taken = ntohs(address.sin_port);

  std::string pattern = (std::filesystem::temp_directory_path() / "vigil-cli-XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const std::string dir = pattern + "/cluster";
  const CommandResult up = run_command({VIGIL_BINARY, "cluster", "up", "--dir", dir,
                                        "--base-port", std::to_string(taken - 1), "--timeout",
                                        "20"},
                                       seconds(60));
  const CommandResult down =
      run_command({VIGIL_BINARY, "cluster", "down", "--dir", dir}, seconds(30));
  ::close(holder);
  std::error_code ignored;
  std::filesystem::remove_all(pattern, ignored);

  EXPECT_EQ(up.exit_code, 1) << describe(up);
  EXPECT_NE(up.err.find("node n2 exited while starting"), std::string::npos) << up.err;
  EXPECT_NE(up.err.find("last lines of " + dir + "/n2/node.log"), std::string::npos) << up.err;
  EXPECT_NE(up.err.find("Address already in use"), std::string::npos) << up.err;
  EXPECT_EQ(down.exit_code, 0) << describe(down);
}

TEST(ClusterCli, StatusOfAMissingDirectoryIsAUsageError) {
  const CommandResult status = run_command(
      {VIGIL_BINARY, "cluster", "status", "--dir", "/nonexistent/vigil-cluster"}, seconds(30));
  EXPECT_EQ(status.exit_code, 2);
  EXPECT_NE(status.err.find("no cluster in /nonexistent/vigil-cluster"), std::string::npos)
      << status.err;
}

}  // namespace
}  // namespace vigil::integration
