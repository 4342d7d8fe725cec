// What an operator does after installing, in a temporary root: `cmake --install` of this
// build with DESTDIR (the layout of the Debian package when the prefix is /usr), then the
// installed binary checks the installed example configuration, and a node is started by
// hand with the installed unit's ExecStart line (%i = n1, its absolute paths under the
// root), from the unit's WorkingDirectory, on free loopback ports with its data in the
// root. It answers PING and INFO over RESP, and stops cleanly on SIGTERM within the unit's
// TimeoutStopSec. systemd itself does not run. Every wait is bounded; the node gets
// SIGKILL if this test process dies (PR_SET_PDEATHSIG) and in the fixture's destructor.

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cluster_ports.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/support/temp_directory.h"

namespace vigil::integration {
namespace {

namespace fs = std::filesystem;
using testing_support::TempDirectory;

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The installed file whose path ends with `tail` (one of them), or empty.
fs::path find_installed(const fs::path& root, const std::string& tail) {
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const std::string path = entry.path().string();
    if (entry.is_regular_file() && path.size() >= tail.size() &&
        path.compare(path.size() - tail.size(), tail.size(), tail) == 0) {
      return entry.path();
    }
  }
  return {};
}

// KEY=VALUE lines of a unit file's [Service] and [Unit] sections (last one wins).
std::map<std::string, std::string> unit_settings(const std::string& text) {
  std::map<std::string, std::string> settings;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#' || line[0] == '[') continue;
    const std::size_t equals = line.find('=');
    if (equals != std::string::npos) settings[line.substr(0, equals)] = line.substr(equals + 1);
  }
  return settings;
}

std::vector<std::string> split_words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// A node process started by the test; SIGKILLed at the latest when this goes.
class NodeProcess {
 public:
  NodeProcess(const std::vector<std::string>& argv, const fs::path& directory,
              const fs::path& log) {
    std::vector<char*> raw;
    for (const std::string& argument : argv) raw.push_back(const_cast<char*>(argument.c_str()));
    raw.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // the test was killed: so is the node
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd < 0 || ::chdir(directory.c_str()) != 0) ::_exit(126);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execv(raw[0], raw.data());
      ::_exit(127);
    }
  }
  ~NodeProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;

  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      exit_status_ = status;
      return false;
    }
    return true;
  }
  void signal(int number) const {
    if (pid_ > 0) ::kill(pid_, number);
  }
  // The raw wait status once it has exited (running() returned false).
  int exit_status() const { return exit_status_; }

 private:
  pid_t pid_ = -1;
  int exit_status_ = -1;
};

TEST(Install, AnOperatorInstallsChecksTheConfigAndRunsTheUnitsCommandLine) {
  TempDirectory temp{"vigil-install-test"};
  const fs::path root = fs::path(temp.path()) / "root";

  // 1. Install this build into the temporary root.
  const CommandResult install = run_command(
      {"/usr/bin/env", "DESTDIR=" + root.string(), VIGIL_CMAKE_COMMAND, "--install",
       VIGIL_BUILD_DIR},
      seconds(120));
  ASSERT_EQ(install.exit_code, 0) << describe(install);

  const fs::path vigil = find_installed(root, "/bin/vigil");
  const fs::path unit = find_installed(root, "/lib/systemd/system/vigil@.service");
  const fs::path example = find_installed(root, "/vigil/node.yaml.example");
  ASSERT_FALSE(vigil.empty()) << "no bin/vigil under " << root;
  ASSERT_FALSE(unit.empty()) << "no vigil@.service under " << root;
  ASSERT_FALSE(example.empty()) << "no vigil/node.yaml.example under " << root;
  for (const char* tail : {"/share/vigil/example-node.yaml", "/share/doc/vigil/operations.md",
                           "/share/doc/vigil/README.md", "/share/doc/vigil/dashboards/vigil.json",
                           "/share/doc/vigil/alerts.yaml"}) {
    EXPECT_FALSE(find_installed(root, tail).empty()) << "not installed: " << tail;
  }

  // 2. The installed binary says what it is, and accepts the shipped example.
  const CommandResult version = run_command({vigil.string(), "--version"}, seconds(10));
  ASSERT_EQ(version.exit_code, 0) << describe(version);
  EXPECT_TRUE(std::regex_search(version.out, std::regex(R"(^vigil \d+\.\d+\.\d+ \(commit \S+, )")))
      << version.out;
  const CommandResult check =
      run_command({vigil.string(), "config", "check", example.string()}, seconds(10));
  EXPECT_EQ(check.exit_code, 0) << describe(check);

  // 3. The unit: what the issue asks of it, and its paths are where the install put things.
  std::map<std::string, std::string> settings = unit_settings(read_text(unit));
  EXPECT_EQ(settings["Restart"], "on-failure");
  EXPECT_EQ(settings["User"], "vigil");
  EXPECT_FALSE(settings["LimitNOFILE"].empty());
  // Longer than the graceful shutdown: timing.request_timeout (the example's 5s) + commit.
  std::smatch stop;
  const std::string stop_timeout = settings["TimeoutStopSec"];
  ASSERT_TRUE(std::regex_match(stop_timeout, stop, std::regex(R"((\d+)s)"))) << stop_timeout;
  EXPECT_GT(std::stoi(stop[1]), 5 * 2);
  std::vector<std::string> exec = split_words(settings["ExecStart"]);
  ASSERT_GE(exec.size(), 2U) << settings["ExecStart"];
  for (std::string& word : exec) {
    word = replace_all(word, "%i", "n1");
    if (!word.empty() && word[0] == '/') word = root.string() + word;
  }
  EXPECT_EQ(fs::path(exec[0]), vigil) << "ExecStart runs another binary than the installed one";
  const fs::path working = root.string() + settings["WorkingDirectory"];

  // 4. The operator's /etc/vigil/n1.yaml: the example with this machine's ports and data
  //    directory (postinst makes the state directory; here the test does).
  const auto config_at = std::find(exec.begin(), exec.end(), "--config");
  ASSERT_NE(config_at, exec.end());
  ASSERT_NE(config_at + 1, exec.end());
  const fs::path config_path = *(config_at + 1);
  EXPECT_EQ(config_path.parent_path(), example.parent_path());
  const core::Result<std::uint32_t> base = cli::choose_base_port(1);
  ASSERT_TRUE(base.ok()) << base.status().to_string();
  const std::string client_port = std::to_string(*base);
  const std::string listen_port = std::to_string(*base + 100);
  const std::string admin_port = std::to_string(*base + 200);
  std::string config = read_text(example);
  const std::regex data_dir(R"(data_dir: \S+)");
  ASSERT_TRUE(std::regex_search(config, data_dir));
  config = std::regex_replace(config, data_dir, "data_dir: " + (working / "n1").string());
  config = replace_all(config, "127.0.0.1:7401", "127.0.0.1:" + listen_port);
  config = replace_all(config, "127.0.0.1:6401", "127.0.0.1:" + client_port);
  config = replace_all(config, "127.0.0.1:9401", "127.0.0.1:" + admin_port);
  fs::create_directories(working);
  std::ofstream(config_path) << config;
  const CommandResult check_n1 =
      run_command({vigil.string(), "config", "check", config_path.string()}, seconds(10));
  ASSERT_EQ(check_n1.exit_code, 0) << describe(check_n1);

  // 5. Start it as the unit would, and talk to it.
  const fs::path log = fs::path(temp.path()) / "n1.log";
  NodeProcess node(exec, working, log);
  Redis redis;
  const bool answered = eventually(
      [&] {
        if (!node.running()) return true;  // reported below
        redis.reset(redisConnectWithTimeout("127.0.0.1", std::stoi(client_port),
                                            timeval{1, 0}));
        if (!redis || redis->err != 0) return false;
        redisSetTimeout(redis.get(), timeval{5, 0});
        return text(command(redis.get(), {"PING"})) == "+PONG";
      },
      seconds(30));
  ASSERT_TRUE(answered && node.running()) << "the node did not answer PING; its log:\n"
                                          << read_text(log);
  const std::string info = text(command(redis.get(), {"INFO", "server"}));
  const std::string first_line = version.out.substr(0, version.out.find('\n'));
  std::smatch commit;
  ASSERT_TRUE(std::regex_search(first_line, commit, std::regex(R"(commit (\S+),)")));
  EXPECT_NE(info.find("vigil_git_commit:" + commit[1].str() + "\r\n"), std::string::npos)
      << info;
  EXPECT_TRUE(fs::exists(working / "n1" / "vigil.sqlite")) << "no store in the data_dir";

  // 6. systemctl stop: SIGTERM, a clean exit within TimeoutStopSec.
  redis.reset();
  node.signal(SIGTERM);
  const bool stopped = eventually([&] { return !node.running(); }, seconds(std::stoi(stop[1])));
  ASSERT_TRUE(stopped) << "still running after TimeoutStopSec; its log:\n" << read_text(log);
  EXPECT_TRUE(WIFEXITED(node.exit_status()) && WEXITSTATUS(node.exit_status()) == 0)
      << "wait status " << node.exit_status() << "; its log:\n"
      << read_text(log);
  EXPECT_NE(read_text(log).find(" stopped\n"), std::string::npos) << read_text(log);
}


// A program using the client library, built against the installed tree only: its CMake
// finds the package (find_package(vigil)), compiles against <vigil/client.h>, links
// vigil::Client, and the program's request ends in a typed error (nothing listens on port
// 1). The program is built with this build's compiler and sanitizer flags, which the
// installed archives were compiled with.
TEST(Install, AProgramFindsTheClientLibraryWithFindPackage) {
  TempDirectory temp{"vigil-install-client-test"};
  const fs::path root = fs::path(temp.path()) / "root";
  const CommandResult install = run_command(
      {"/usr/bin/env", "DESTDIR=" + root.string(), VIGIL_CMAKE_COMMAND, "--install",
       VIGIL_BUILD_DIR},
      seconds(120));
  ASSERT_EQ(install.exit_code, 0) << describe(install);
  const fs::path config = find_installed(root, "/cmake/vigil/vigilConfig.cmake");
  ASSERT_FALSE(config.empty()) << "no vigilConfig.cmake under " << root;
  EXPECT_FALSE(find_installed(root, "/include/vigil/client.h").empty());

  const fs::path source = fs::path(temp.path()) / "program";
  fs::create_directories(source);
  std::ofstream(source / "CMakeLists.txt") << "cmake_minimum_required(VERSION 3.25)\n"
                                              "project(program LANGUAGES CXX)\n"
                                              "find_package(vigil 0.1 REQUIRED)\n"
                                              "add_executable(program main.cpp)\n"
                                              "target_link_libraries(program PRIVATE vigil::Client)\n";
  std::ofstream(source / "main.cpp") << R"(#include <vigil/client.h>
#include <iostream>
int main() {
  vigil::ClientOptions options;
  options.seeds = {"127.0.0.1:1"};
  try {
    vigil::Client client(options);
  } catch (const vigil::ClientError& error) {
    std::cout << vigil::error_code_name(error.code()) << "\n";
    return 0;
  }
  return 1;
}
)";
  const fs::path build = fs::path(temp.path()) / "build";
  const CommandResult configure = run_command(
      {VIGIL_CMAKE_COMMAND, "-S", source.string(), "-B", build.string(),
       "-Dvigil_DIR=" + config.parent_path().string(),
       std::string("-DCMAKE_CXX_COMPILER=") + VIGIL_CXX_COMPILER,
       std::string("-DCMAKE_CXX_FLAGS=") + VIGIL_SANITIZE_FLAGS},
      seconds(120));
  ASSERT_EQ(configure.exit_code, 0) << describe(configure);
  const CommandResult compile =
      run_command({VIGIL_CMAKE_COMMAND, "--build", build.string()}, seconds(300));
  ASSERT_EQ(compile.exit_code, 0) << describe(compile);
  const CommandResult program = run_command({(build / "program").string()}, seconds(30));
  EXPECT_EQ(program.exit_code, 0) << describe(program);
  EXPECT_EQ(program.out, "connection\n") << describe(program);
}

}  // namespace
}  // namespace vigil::integration
