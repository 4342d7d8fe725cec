// Running a case in a forked child, and judging a run.
//
// A violated invariant aborts the process (core/assert.h: a failed assertion is our own
// bug, and nothing may run on in a state that broke one). Explore exists to find exactly
// those, so each run happens in a child: the child runs the scenario and writes its
// verdict down a pipe; a child killed by a signal is a failing run whose signature is the
// assertion's place, read from the "invariant violated at FILE:LINE" line it printed on
// the stderr the parent captured. A fork is cheap next to a run (copy-on-write, the
// parent is single-threaded), and nothing the child does reaches the parent's runs.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <sstream>
#include <string>

#include "sim/explore.h"

namespace vigil::sim {
namespace {

constexpr std::size_t captured_bytes_max = 64 * 1024;

std::string read_all(int fd) {
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    if (text.size() < captured_bytes_max) text.append(buffer, static_cast<std::size_t>(got));
  }
  return text;
}

void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t wrote = ::write(fd, text.data() + done, text.size() - done);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) return;
    done += static_cast<std::size_t>(wrote);
  }
}

// The verdict as lines: failed, signature, detail, operations, sim_time_s, faults.
std::string encode(const RunVerdict& verdict) {
  std::ostringstream out;
  out.precision(17);
  out << (verdict.failed ? 1 : 0) << '\n' << verdict.signature << '\n' << verdict.detail << '\n'
      << verdict.operations << '\n' << verdict.sim_time_s << '\n' << verdict.faults << '\n';
  return out.str();
}

bool decode(const std::string& text, RunVerdict& verdict) {
  std::istringstream in(text);
  std::string line;
  int failed = 0;
  if (!(in >> failed)) return false;
  std::getline(in, line);
  std::getline(in, verdict.signature);
  std::getline(in, verdict.detail);
  verdict.failed = failed != 0;
  return static_cast<bool>(in >> verdict.operations >> verdict.sim_time_s >> verdict.faults);
}

// "vigil: invariant violated at sim/check_copies.cpp:48: copies >= ... (message)".
RunVerdict from_crash(const std::string& captured, int status) {
  RunVerdict verdict;
  verdict.failed = true;
  const std::string marker = "invariant violated at ";
  const std::size_t at = captured.find(marker);
  if (at != std::string::npos) {
    const std::size_t start = at + marker.size();
    const std::size_t colon = captured.find(':', start);
    const std::size_t end = colon == std::string::npos ? colon : captured.find(':', colon + 1);
    verdict.signature = "invariant " + captured.substr(start, end - start);
    const std::size_t eol = captured.find('\n', at);
    verdict.detail = captured.substr(at, eol == std::string::npos ? eol : eol - at);
  } else {
    verdict.signature = WIFSIGNALED(status)
                            ? "killed by signal " + std::to_string(WTERMSIG(status))
                            : "exited " + std::to_string(WEXITSTATUS(status));
    verdict.detail = verdict.signature;
  }
  return verdict;
}

}  // namespace

RunVerdict judge(const Scenario& scenario, const RunRecord& record) {
  RunVerdict verdict;
  verdict.failed = !record.met_expectation();
  verdict.operations = record.ops.ok + record.ops.failed + record.ops.indeterminate;
  verdict.sim_time_s = record.sim_time_s;
  verdict.faults = scenario.faults.size();
  if (!record.deterministic) {
    verdict.signature = "nondeterministic";
  }
  for (const CheckResult& check : record.checks) {
    if (check.ok || !verdict.signature.empty()) continue;
    verdict.signature = check.name;
    verdict.detail = check.name + " failed";
    if (!check.examples.empty()) verdict.detail += ": " + check.examples.front();
  }
  if (verdict.failed && verdict.signature.empty()) {
    verdict.signature = "passed (expected fail)";  // a template expecting fail
  }
  return verdict;
}

RunVerdict run_isolated(const Scenario& scenario, std::uint64_t seed) {
  int result_pipe[2];
  int error_pipe[2];
  if (::pipe(result_pipe) != 0) return RunVerdict{true, "cannot fork", "pipe() failed"};
  if (::pipe(error_pipe) != 0) {
    ::close(result_pipe[0]);
    ::close(result_pipe[1]);
    return RunVerdict{true, "cannot fork", "pipe() failed"};
  }
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(result_pipe[0]);
    ::close(error_pipe[0]);
    ::dup2(error_pipe[1], STDERR_FILENO);
    write_all(result_pipe[1], encode(judge(scenario, run_scenario(scenario, seed))));
    ::_exit(0);
  }
  ::close(result_pipe[1]);
  ::close(error_pipe[1]);
  if (child < 0) {
    ::close(result_pipe[0]);
    ::close(error_pipe[0]);
    return RunVerdict{true, "cannot fork", "fork() failed"};
  }
  // The child writes its verdict only at the end, so reading stderr to its end first
  // cannot block on a full result pipe.
  const std::string captured = read_all(error_pipe[0]);
  const std::string result = read_all(result_pipe[0]);
  ::close(result_pipe[0]);
  ::close(error_pipe[0]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  RunVerdict verdict;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && decode(result, verdict)) return verdict;
  verdict = from_crash(captured, status);
  verdict.faults = scenario.faults.size();
  verdict.sim_time_s = 0;
  return verdict;
}

}  // namespace vigil::sim
