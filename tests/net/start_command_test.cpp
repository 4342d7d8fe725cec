// `vigil start` as a process: a bad configuration exits 2 naming the key; a good one
// serves until SIGTERM, then shuts down cleanly and exits 0. Ports are found free by
// binding port 0 (the OS picks) and released just before the node binds them. Every wait is
// bounded and the child is killed if a check fails.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "config/password_hash.h"
#include "tests/support/temp_directory.h"

extern char** environ;

namespace {

using vigil::testing_support::TempDirectory;

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A child process running the vigil binary, its stderr in a file; killed if still running
// when destroyed.
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::string& stderr_file) {
    std::vector<char*> argv;
    std::string binary = VIGIL_BINARY;
    argv.push_back(binary.data());
    std::vector<std::string> copies = args;
    for (std::string& arg : copies) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    EXPECT_EQ(posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Child() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // The exit code, or -1 if it did not exit within `wait_max` (or died of a signal).
  int wait_exit(std::chrono::seconds wait_max) {
    const auto deadline = std::chrono::steady_clock::now() + wait_max;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      const pid_t done = waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }
  void signal(int number) { kill(pid_, number); }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::uint16_t free_port(asio::io_context& io) {
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

bool accepts_connections(asio::io_context& io, std::uint16_t port) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    tcp::socket socket(io);
    boost::system::error_code error;
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), error);
    if (!error) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

TEST(StartCommand, InvalidConfigExitsTwoNamingTheKey) {
  TempDirectory dir{"vigil-start-test"};
  std::ofstream(dir.file("node.yaml")) << "quorum_settings:\n  R: 9\n";
  Child child({"start", "--config", dir.file("node.yaml")}, dir.file("stderr"));
  EXPECT_EQ(child.wait_exit(std::chrono::seconds(20)), 2);
  EXPECT_NE(read_file(dir.file("stderr")).find("quorum_settings.R"), std::string::npos);
}

TEST(StartCommand, ServesUntilSigtermThenExitsZero) {
  TempDirectory dir{"vigil-start-test"};
  asio::io_context io;
  const std::uint16_t listen = free_port(io);
  const std::uint16_t client = free_port(io);
  const std::uint16_t admin = free_port(io);
  std::ofstream(dir.file("node.yaml"))
      << "node:\n  id: n1\n  listen: 127.0.0.1:" << listen << "\n  client: 127.0.0.1:" << client
      << "\n  admin: 127.0.0.1:" << admin << "\n  data_dir: " << dir.file("data")
      << "\nquorum_settings:\n  N: 1\n  R: 1\n  W: 1\n";
  Child child({"start", "--config", dir.file("node.yaml")}, dir.file("stderr"));
  ASSERT_TRUE(accepts_connections(io, client)) << read_file(dir.file("stderr"));
  child.signal(SIGTERM);
  EXPECT_EQ(child.wait_exit(std::chrono::seconds(20)), 0) << read_file(dir.file("stderr"));
  const std::string log = read_file(dir.file("stderr"));
  EXPECT_NE(log.find("n1 starting"), std::string::npos) << log;
  EXPECT_NE(log.find("n1 stopped"), std::string::npos) << log;
  EXPECT_NE(log.find("is unauthenticated: no security.users are configured"), std::string::npos)
      << "a node without users warns at start-up: " << log;
  EXPECT_TRUE(std::filesystem::exists(dir.file("data/vigil.sqlite")));
}

// redis-cli's output for `args` against the client port, stderr included.
std::string redis_cli(const TempDirectory& dir, std::uint16_t port, const std::string& args) {
  const std::string out = dir.file("redis-cli.out");
  const std::string line = "timeout 20 redis-cli --no-auth-warning -p " + std::to_string(port) +
                           " " + args + " > " + out + " 2>&1";
  EXPECT_NE(std::system(line.c_str()), -1);
  std::string text = read_file(out);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

// A real node with security.users, through Debian's redis-cli (its piped output has no
// "(error) " prefix): without AUTH every command
// is refused with NOAUTH, `--user/--pass` and `-a` log in, a read-only user gets NOPERM on
// SET, and neither the password nor its hash reaches the log. The hashes use the least
// iteration count so the test stays fast.
TEST(StartCommand, UsersMustAuthenticateWithRedisCli) {
  TempDirectory dir{"vigil-start-test"};
  asio::io_context io;
  const std::uint16_t listen = free_port(io);
  const std::uint16_t client = free_port(io);
  const std::uint16_t admin = free_port(io);
  const std::string app_hash = vigil::config::format_password_hash(
      vigil::config::derive_password_hash("app-pw", std::vector<std::uint8_t>(16, 1), 1000));
  const std::string reader_hash = vigil::config::format_password_hash(
      vigil::config::derive_password_hash("reader-pw", std::vector<std::uint8_t>(16, 2), 1000));
  std::ofstream(dir.file("node.yaml"))
      << "node:\n  id: n1\n  listen: 127.0.0.1:" << listen << "\n  client: 127.0.0.1:" << client
      << "\n  admin: 127.0.0.1:" << admin << "\n  data_dir: " << dir.file("data")
      << "\nquorum_settings:\n  N: 1\n  R: 1\n  W: 1\nsecurity:\n  users:\n"
      << "    - {name: default, password_hash: \"" << app_hash << "\"}\n"
      << "    - {name: reader, password_hash: \"" << reader_hash
      << "\", permissions: read-only}\n";
  Child child({"start", "--config", dir.file("node.yaml")}, dir.file("stderr"));
  ASSERT_TRUE(accepts_connections(io, client)) << read_file(dir.file("stderr"));
  EXPECT_EQ(redis_cli(dir, client, "SET k v"), "NOAUTH Authentication required.");
  EXPECT_EQ(redis_cli(dir, client, "-a wrong SET k v"),
            "AUTH failed: WRONGPASS invalid username-password pair or user is disabled.\n"
            "NOAUTH Authentication required.");
  EXPECT_EQ(redis_cli(dir, client, "-a app-pw SET k v"), "OK");
  EXPECT_EQ(redis_cli(dir, client, "--user default --pass app-pw GET k"), "v");
  EXPECT_EQ(redis_cli(dir, client, "--user reader --pass reader-pw GET k"), "v");
  EXPECT_EQ(redis_cli(dir, client, "--user reader --pass reader-pw SET k w"),
            "NOPERM User reader has no permissions to run the 'set' command");
  EXPECT_EQ(redis_cli(dir, client, "--user reader --pass reader-pw ACL WHOAMI"), "reader");
  child.signal(SIGTERM);
  EXPECT_EQ(child.wait_exit(std::chrono::seconds(20)), 0) << read_file(dir.file("stderr"));
  const std::string log = read_file(dir.file("stderr"));
  EXPECT_NE(log.find("the client port requires AUTH (2 users configured)"), std::string::npos)
      << log;
  EXPECT_EQ(log.find("pbkdf2"), std::string::npos) << log;
  EXPECT_EQ(log.find("app-pw"), std::string::npos) << log;
}

}  // namespace
