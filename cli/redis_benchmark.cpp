// Driving redis-benchmark and redis-server (cli/redis_benchmark.h). The CSV is read by its
// header, not by column position, so a redis-benchmark that adds a column still parses;
// fields are quoted numbers ("88495.58"), parsed with from_chars (locale-independent).

#include "cli/redis_benchmark.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>

namespace vigil::cli {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t captured_bytes_max = 16 * 1024 * 1024;

std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  for (const char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      fields.push_back(field);
      field.clear();
    } else if (c != '\r') {
      field += c;
    }
  }
  fields.push_back(field);
  return fields;
}

core::Status bad_csv(const std::string& line, const std::string& why) {
  return core::error(core::Code::invalid_argument,
                     "redis-benchmark output: " + why + ": \"" + line.substr(0, 200) + "\"");
}

bool parse_number(const std::string& text, double& out) {
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, out);
  return error == std::errc{} && stop == end;
}

}  // namespace

core::Result<std::vector<BenchmarkRow>> parse_redis_benchmark_csv(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  std::map<std::string, std::size_t> columns;
  std::size_t width = 0;
  std::vector<BenchmarkRow> rows;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line.front() != '"') return bad_csv(line, "not a CSV line (a server error?)");
    const std::vector<std::string> fields = csv_fields(line);
    if (columns.empty()) {
      for (std::size_t i = 0; i < fields.size(); ++i) columns[fields[i]] = i;
      for (const char* name : {"test", "rps", "p50_latency_ms", "p99_latency_ms"}) {
        if (!columns.contains(name)) return bad_csv(line, std::string("no column ") + name);
      }
      width = fields.size();
      continue;
    }
    if (fields.size() != width) return bad_csv(line, "wrong number of fields");
    BenchmarkRow row;
    row.test = fields[columns["test"]];
    if (!parse_number(fields[columns["rps"]], row.requests_per_second) ||
        !parse_number(fields[columns["p50_latency_ms"]], row.p50_ms) ||
        !parse_number(fields[columns["p99_latency_ms"]], row.p99_ms)) {
      return bad_csv(line, "a figure is not a number");
    }
    rows.push_back(row);
  }
  if (rows.empty()) {
    return core::error(core::Code::invalid_argument, "redis-benchmark output: no result rows");
  }
  return rows;
}

std::vector<std::string> redis_benchmark_errors(const std::string& output) {
  static constexpr std::string_view prefix = "Error from server: ";
  std::vector<std::string> errors;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::size_t at = line.find(prefix);
    if (at != std::string::npos) errors.push_back(line.substr(at + prefix.size()));
  }
  return errors;
}

bool is_quorum_error(const std::string& message) {
  return message.starts_with("UNAVAILABLE") || message.starts_with("TIMEOUT");
}

core::Result<std::string> find_program(const std::string& name, const std::string& hint) {
  const char* path = std::getenv("PATH");
  std::istringstream directories(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string directory;
  while (std::getline(directories, directory, ':')) {
    if (directory.empty()) continue;
    const std::string candidate = directory + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return core::error(core::Code::not_found, name + " not found in PATH (" + hint + ")");
}

core::Result<CapturedRun> run_captured(const std::vector<std::string>& argv,
                                       std::chrono::milliseconds timeout) {
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    return core::error(core::Code::io_error, std::string("pipe: ") + std::strerror(errno));
  }
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return core::error(core::Code::io_error, std::string("pipe: ") + std::strerror(errno));
  }
  std::vector<char*> raw;
  for (const std::string& argument : argv) raw.push_back(const_cast<char*>(argument.c_str()));
  raw.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    for (const int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
    return core::error(core::Code::io_error, std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::execv(raw[0], raw.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  CapturedRun run;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&run.out, &run.err};
  const auto deadline = Clock::now() + timeout;
  bool timed_out = false;
  for (int open = 2; open > 0;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    if (::poll(fds, 2, static_cast<int>(left)) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[65536];
      const ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
      if (got > 0) {
        if (sinks[i]->size() < captured_bytes_max) {
          sinks[i]->append(buffer, static_cast<std::size_t>(got));
        }
      } else if (got == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open;
      }
    }
  }
  for (const pollfd& entry : fds) {
    if (entry.fd >= 0) ::close(entry.fd);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout).count();
    return core::error(core::Code::timeout,
                       argv[0] + " did not finish within " + std::to_string(seconds) + "s");
  }
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  return run;
}

}  // namespace vigil::cli
