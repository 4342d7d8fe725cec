// Background processes of a local cluster (cli/cluster_process.h).
//
// The process that starts a node does not stay around to supervise it (`cluster up`
// returns once the cluster answers), so a node's identity lives in its pid file. A pid alone
// is not enough: after the node exits, the kernel may give that number to any program, and
// `cluster down` must never signal it. /proc/PID/cmdline must therefore still read
// `<any vigil binary> start --config DIR/nK/node.yaml`. A zombie counts as gone: once its
// parent is gone a node's zombie waits for init to reap it, and in a container whose init
// does not reap, it can wait forever.

#include "cli/cluster_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

#include "cli/cluster_files.h"

namespace vigil::cli {
namespace {

constexpr auto poll_interval = std::chrono::milliseconds(10);

// Only async-signal-safe calls between fork and exec: this runs in the child. `report_fd`
// is the write end of a close-on-exec pipe: exec closes it (the parent reads EOF: success),
// or the child writes errno into it (the parent reads the reason).
[[noreturn]] void exec_child(const std::vector<char*>& argv, int log_fd, int report_fd) {
  ::setsid();
  const int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd >= 0) ::dup2(null_fd, 0);
  ::dup2(log_fd, 1);
  ::dup2(log_fd, 2);
  // Keep the report pipe as fd 3 (close-on-exec) and close everything above it.
  if (report_fd != 3) {
    ::dup2(report_fd, 3);
    report_fd = 3;
  }
  ::fcntl(report_fd, F_SETFD, FD_CLOEXEC);
  ::close_range(4, ~0U, 0);
  ::execv(argv[0], argv.data());
  const int saved = errno;
  const char* reason = std::strerror(saved);
  const char prefix[] = "vigil cluster: cannot execute ";
  [[maybe_unused]] ssize_t ignored = ::write(2, prefix, sizeof prefix - 1);
  ignored = ::write(2, argv[0], std::strlen(argv[0]));
  ignored = ::write(2, ": ", 2);
  ignored = ::write(2, reason, std::strlen(reason));
  ignored = ::write(2, "\n", 1);
  ignored = ::write(report_fd, &saved, sizeof saved);
  ::_exit(127);
}

// The NUL-separated arguments of /proc/PID/cmdline after the program name; false when the
// file cannot be read or is empty (a zombie's is).
bool read_arguments(pid_t pid, std::vector<std::string>& out) {
  core::Result<std::string> text =
      read_small_file("/proc/" + std::to_string(pid) + "/cmdline", 256 * 1024);
  if (!text) return false;
  std::vector<std::string> all;
  std::size_t start = 0;
  while (start < text->size()) {
    const std::size_t end = text->find('\0', start);
    const std::size_t stop = end == std::string::npos ? text->size() : end;
    all.push_back(text->substr(start, stop - start));
    start = stop + 1;
  }
  if (all.empty()) return false;  // a zombie's cmdline is empty
  out.assign(all.begin() + 1, all.end());
  return true;
}

// The state letter of /proc/PID/stat (after the parenthesised command name), or 0.
char state_letter(pid_t pid) {
  core::Result<std::string> stat = read_small_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return 0;
  const std::size_t close = stat->rfind(')');
  if (close == std::string::npos || close + 2 >= stat->size()) return 0;
  return (*stat)[close + 2];
}

}  // namespace

core::Result<pid_t> spawn_detached(const std::vector<std::string>& argv,
                                   const std::string& log_path) {
  VIGIL_ASSERT(!argv.empty(), "spawn_detached needs a program");
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return core::error(core::Code::io_error,
                       log_path + ": cannot open for append: " + std::strerror(errno));
  }
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    const int saved = errno;
    ::close(log_fd);
    return core::error(core::Code::io_error, std::string("pipe: ") + std::strerror(saved));
  }
  // Built before fork: the child may not allocate.
  std::vector<char*> raw;
  for (const std::string& argument : argv) raw.push_back(const_cast<char*>(argument.c_str()));
  raw.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int saved = errno;
    ::close(log_fd);
    ::close(report[0]);
    ::close(report[1]);
    return core::error(core::Code::io_error, std::string("fork: ") + std::strerror(saved));
  }
  if (pid == 0) {
    ::close(report[0]);
    exec_child(raw, log_fd, report[1]);
  }
  ::close(log_fd);
  ::close(report[1]);
  // Until exec the child's /proc entry shows this program: wait for exec so that callers
  // can identify the child by its command line as soon as this returns.
  int child_errno = 0;
  ssize_t got = 0;
  do {
    got = ::read(report[0], &child_errno, sizeof child_errno);
  } while (got < 0 && errno == EINTR);
  ::close(report[0]);
  if (got > 0) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return core::error(core::Code::io_error,
                       "cannot execute " + argv[0] + ": " + std::strerror(child_errno));
  }
  return pid;
}

const char* process_state_name(ProcessState state) {
  switch (state) {
    case ProcessState::gone: return "gone";
    case ProcessState::running: return "running";
    case ProcessState::stopped: return "stopped";
  }
  return "unknown";
}

ProcessState process_state(pid_t pid, const std::vector<std::string>& arguments) {
  if (pid <= 0) return ProcessState::gone;
  int status = 0;
  // Ours and exited: reap it (ECHILD when it is not our child; that is fine).
  if (::waitpid(pid, &status, WNOHANG) == pid) return ProcessState::gone;
  const char letter = state_letter(pid);
  if (letter == 0 || letter == 'Z' || letter == 'X') return ProcessState::gone;
  std::vector<std::string> actual;
  if (!read_arguments(pid, actual) || actual != arguments) return ProcessState::gone;
  // Only 'T' is a job-control stop (SIGSTOP, `vigil cluster pause`). 't' is a tracing stop:
  // a debugger, or LeakSanitizer's stop-the-world while an instrumented node exits, which
  // must not read as "paused" (it did, in CI, for a node that was exiting with an error).
  return letter == 'T' ? ProcessState::stopped : ProcessState::running;
}

core::Result<pid_t> read_pid_file(const std::string& path) {
  core::Result<std::string> text = read_small_file(path, 64);
  if (!text) {
    if (text.status().code() == core::Code::resource_exhausted) {
      return core::error(core::Code::invalid_argument, path + ": not a pid file");
    }
    return text.status();
  }
  std::string digits = *text;
  if (!digits.empty() && digits.back() == '\n') digits.pop_back();
  pid_t pid = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
  if (digits.empty() || error != std::errc{} || end != digits.data() + digits.size() || pid <= 0) {
    return core::error(core::Code::invalid_argument,
                       path + ": expected one positive process id, got \"" + digits + "\"");
  }
  return pid;
}

core::Status write_pid_file(const std::string& path, pid_t pid) {
  return write_file_atomically(path, std::to_string(pid) + "\n");
}

bool signal_process(pid_t pid, const std::vector<std::string>& arguments, int signal) {
  if (process_state(pid, arguments) == ProcessState::gone) return false;
  return ::kill(pid, signal) == 0;
}

bool wait_until_gone(pid_t pid, const std::vector<std::string>& arguments,
                     std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (process_state(pid, arguments) != ProcessState::gone) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll_interval);
  }
  return true;
}

core::Status stop_process(pid_t pid, const std::vector<std::string>& arguments,
                          std::chrono::milliseconds grace, std::chrono::milliseconds kill_wait) {
  if (signal_process(pid, arguments, SIGTERM)) {
    // A stopped process keeps SIGTERM pending until it runs again.
    signal_process(pid, arguments, SIGCONT);
    if (wait_until_gone(pid, arguments, grace)) return core::Status::ok_status();
  }
  if (!signal_process(pid, arguments, SIGKILL)) return core::Status::ok_status();
  if (wait_until_gone(pid, arguments, kill_wait)) return core::Status::ok_status();
  return core::error(core::Code::timeout,
                     "process " + std::to_string(pid) + " still there after SIGKILL");
}

std::string log_tail(const std::string& path, std::size_t lines) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "(no log at " + path + ")";
  struct stat info {};
  constexpr off_t tail_bytes_max = 64 * 1024;
  off_t start = 0;
  if (::fstat(fd, &info) == 0 && info.st_size > tail_bytes_max) {
    start = info.st_size - tail_bytes_max;
  }
  std::string text;
  char buffer[4096];
  ssize_t got = 0;
  ::lseek(fd, start, SEEK_SET);
  while ((got = ::read(fd, buffer, sizeof buffer)) > 0) {
    text.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(fd);
  std::size_t cut = text.size();
  if (!text.empty() && text.back() == '\n') --cut;
  for (std::size_t seen = 0; cut > 0; --cut) {
    if (text[cut - 1] == '\n' && ++seen == lines) break;
  }
  return text.substr(cut);
}

}  // namespace vigil::cli
