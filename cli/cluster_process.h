#pragma once
// Background processes of a local cluster: start one detached (its own session, output to a
// log file), find out whether a recorded pid is still that process, signal it, and stop it
// within a bound. Nothing here knows about Vigil nodes: tests drive it with `sleep`.

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "core/status.h"

namespace vigil::cli {

// Starts argv[0] (an absolute path) with argv in a new session (setsid: the terminal's
// Ctrl-C does not reach it, and it outlives the caller), stdin from /dev/null, stdout and
// stderr appended to `log_path` (created 0644). File descriptors other than 0-2 are closed
// in the child. Returns the child's pid once it has executed the program (so its command
// line already reads argv). io_error naming the log when it cannot be opened, the reason
// fork failed, or "cannot execute PROGRAM: reason" (also appended to the log).
// REQUIRES: !argv.empty().
core::Result<pid_t> spawn_detached(const std::vector<std::string>& argv,
                                   const std::string& log_path);

enum class ProcessState {
  gone,     // no such process, a zombie (it has exited), or another program under that pid
  running,  // running or sleeping
  stopped,  // stopped by SIGSTOP (`cluster pause`)
};
const char* process_state_name(ProcessState state);

// The state of `pid`, counting it only if its command line after the program name is
// `arguments` (so a pid the kernel reused for another program reads as gone: a recorded
// pid file is never trusted to signal an unrelated process). Reaps `pid` if it is a child
// of this process that has exited, so callers that spawned it never see it as a zombie.
ProcessState process_state(pid_t pid, const std::vector<std::string>& arguments);

// The pid in a pid file: not_found when there is no file, invalid_argument when it holds
// anything but one positive number (and a newline).
core::Result<pid_t> read_pid_file(const std::string& path);
core::Status write_pid_file(const std::string& path, pid_t pid);

// Sends `signal` to `pid` if process_state() says it is ours and not gone. Returns whether
// it was sent.
bool signal_process(pid_t pid, const std::vector<std::string>& arguments, int signal);

// Polls (every few milliseconds) until process_state(pid, arguments) is gone; false when
// `timeout` passed first.
bool wait_until_gone(pid_t pid, const std::vector<std::string>& arguments,
                     std::chrono::milliseconds timeout);

// SIGTERM, then up to `grace` for it to exit, then SIGKILL and up to `kill_wait` more.
// A stopped process is sent SIGCONT after SIGTERM so it can act on it. Returns ok when the
// process is gone (or was already), timeout naming the pid if even SIGKILL did not end it.
core::Status stop_process(pid_t pid, const std::vector<std::string>& arguments,
                          std::chrono::milliseconds grace,
                          std::chrono::milliseconds kill_wait = std::chrono::seconds(5));

// The last `lines` lines of a log file (at most its last 64KB), for error messages.
std::string log_tail(const std::string& path, std::size_t lines);

}  // namespace vigil::cli
