// Background process supervision of `vigil cluster`, driven with ordinary programs (sleep,
// sh) in place of nodes: spawn detached, state, pause/resume, kill, stop with a grace
// period, identity through the command line, pid files and log tails.

#include "cli/cluster_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "cli/cluster_files.h"

namespace vigil::cli {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class ClusterProcess : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "vigil-proc-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
  }
  void TearDown() override {
    // Never leave a child behind, whatever the test did.
    for (const pid_t pid : spawned_) ::kill(pid, SIGKILL);
    for (const pid_t pid : spawned_) wait_until_gone(pid, {}, seconds(5));
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  pid_t spawn(const std::vector<std::string>& argv) {
    core::Result<pid_t> pid = spawn_detached(argv, log());
    EXPECT_TRUE(pid.ok()) << pid.status().to_string();
    if (!pid.ok()) return -1;
    spawned_.push_back(*pid);
    return *pid;
  }
  std::string log() const { return dir_ + "/child.log"; }

  std::string dir_;
  std::vector<pid_t> spawned_;
};

const std::vector<std::string> sleep_arguments{"1000"};

TEST_F(ClusterProcess, SpawnedChildRunsInItsOwnSessionAndPausesResumesAndDies) {
  const pid_t pid = spawn({"/bin/sleep", "1000"});
  ASSERT_GT(pid, 0);
  EXPECT_EQ(process_state(pid, sleep_arguments), ProcessState::running);
  EXPECT_EQ(::getsid(pid), pid);  // setsid: a session (and process group) of its own

  ASSERT_TRUE(signal_process(pid, sleep_arguments, SIGSTOP));
  for (int i = 0; i < 500 && process_state(pid, sleep_arguments) != ProcessState::stopped; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(process_state(pid, sleep_arguments), ProcessState::stopped);
  ASSERT_TRUE(signal_process(pid, sleep_arguments, SIGCONT));
  for (int i = 0; i < 500 && process_state(pid, sleep_arguments) != ProcessState::running; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(process_state(pid, sleep_arguments), ProcessState::running);

  ASSERT_TRUE(signal_process(pid, sleep_arguments, SIGKILL));
  EXPECT_TRUE(wait_until_gone(pid, sleep_arguments, seconds(5)));
  EXPECT_EQ(process_state(pid, sleep_arguments), ProcessState::gone);
  EXPECT_FALSE(signal_process(pid, sleep_arguments, SIGKILL));
}

TEST_F(ClusterProcess, AProcessWithOtherArgumentsIsNotOursAndIsNeverSignalled) {
  const pid_t pid = spawn({"/bin/sleep", "999"});
  ASSERT_GT(pid, 0);
  EXPECT_EQ(process_state(pid, {"999"}), ProcessState::running);
  // As if the pid file were stale and the kernel had reused the pid for another program.
  EXPECT_EQ(process_state(pid, sleep_arguments), ProcessState::gone);
  EXPECT_FALSE(signal_process(pid, sleep_arguments, SIGKILL));
  EXPECT_EQ(process_state(pid, {"999"}), ProcessState::running);
}

TEST_F(ClusterProcess, OutputGoesToTheLogAndAFailedExecIsReportedThere) {
  const pid_t echo = spawn({"/bin/sh", "-c", "echo out; echo err >&2"});
  ASSERT_GT(echo, 0);
  EXPECT_TRUE(wait_until_gone(echo, {"-c", "echo out; echo err >&2"}, seconds(5)));
  const core::Result<pid_t> missing = spawn_detached({"/nonexistent/vigil", "start"}, log());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            "cannot execute /nonexistent/vigil: No such file or directory");
  const core::Result<std::string> text = read_small_file(log());
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("out\n"), std::string::npos);
  EXPECT_NE(text->find("err\n"), std::string::npos);
  EXPECT_NE(text->find("cannot execute /nonexistent/vigil: No such file"), std::string::npos)
      << *text;
  EXPECT_EQ(log_tail(log(), 1).rfind("vigil cluster: cannot execute", 0), 0u) << log_tail(log(), 1);
}

TEST_F(ClusterProcess, StopEscalatesToSigkillAfterTheGracePeriod) {
  const std::vector<std::string> argv{"/bin/sh", "-c", "trap '' TERM; while :; do sleep 1; done"};
  const std::vector<std::string> arguments(argv.begin() + 1, argv.end());
  const pid_t pid = spawn(argv);
  ASSERT_GT(pid, 0);
  // Give the shell time to install its trap, so SIGTERM really is ignored.
  std::this_thread::sleep_for(milliseconds(200));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(stop_process(pid, arguments, milliseconds(300)).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(300));
  EXPECT_EQ(process_state(pid, arguments), ProcessState::gone);
}

TEST_F(ClusterProcess, StopOfAPausedProcessEndsIt) {
  const pid_t pid = spawn({"/bin/sleep", "1000"});
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(signal_process(pid, sleep_arguments, SIGSTOP));
  EXPECT_TRUE(stop_process(pid, sleep_arguments, seconds(5)).ok());
  EXPECT_EQ(process_state(pid, sleep_arguments), ProcessState::gone);
}

TEST_F(ClusterProcess, PidFilesRoundTripAndBadOnesAreRefused) {
  const std::string path = dir_ + "/pid";
  EXPECT_EQ(read_pid_file(path).status().code(), core::Code::not_found);
  ASSERT_TRUE(write_pid_file(path, 4242).ok());
  EXPECT_EQ(*read_pid_file(path), 4242);
  for (const char* text : {"", "\n", "abc", "-3", "0", "12 13", "99999999999999999999",
                           "1234567890123456789012345678901234567890123456789012345678901234"}) {
    ASSERT_TRUE(write_file_atomically(path, text).ok());
    EXPECT_EQ(read_pid_file(path).status().code(), core::Code::invalid_argument) << text;
  }
  EXPECT_EQ(process_state(0, {}), ProcessState::gone);
}

TEST_F(ClusterProcess, LogTailGivesTheLastLines) {
  ASSERT_TRUE(write_file_atomically(log(), "a\nb\nc\nd\n").ok());
  EXPECT_EQ(log_tail(log(), 2), "c\nd\n");
  EXPECT_EQ(log_tail(log(), 10), "a\nb\nc\nd\n");
  EXPECT_NE(log_tail(dir_ + "/none", 3).find("no log"), std::string::npos);
}

}  // namespace
}  // namespace vigil::cli
