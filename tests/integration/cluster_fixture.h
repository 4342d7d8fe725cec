#pragma once
// A real 3-node cluster for one test: `vigil cluster up --nodes 3` in a fresh temp dir with
// free ports (cluster up picks them, probing by bind, at a random base below the ephemeral
// range, so parallel ctest runs do not collide), short timeouts from a config overlay, and
// `vigil cluster down` in TearDown whatever the test did (then SIGKILL of any pid file's
// process still there). Clients are hiredis (C++) and redis-cli (subprocess), both from
// Debian: the tests do not hand-write a protocol client.
//
// Every wait is bounded: commands run with a deadline (killed after it), hiredis
// connections have connect and command timeouts.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace vigil::integration {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

struct CommandResult {
  int exit_code = -1;  // -1 when killed at the deadline or by a signal
  bool timed_out = false;
  std::string out;
  std::string err;
};

// Runs argv (argv[0] a path) with `input` on stdin, collecting stdout and stderr; kills it
// (SIGKILL) when `timeout` passes.
inline CommandResult run_command(const std::vector<std::string>& argv, milliseconds timeout,
                                 const std::string& input = "") {
  CommandResult result;
  int in_pipe[2];
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0 ||
      ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    result.err = "pipe failed";
    return result;
  }
  std::vector<char*> raw;
  for (const std::string& argument : argv) raw.push_back(const_cast<char*>(argument.c_str()));
  raw.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in_pipe[0], 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::execv(raw[0], raw.data());
    ::_exit(127);
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  // Small inputs only (a pipe holds 64KB): written at once, then EOF.
  if (!input.empty()) {
    [[maybe_unused]] ssize_t written = ::write(in_pipe[1], input.data(), input.size());
  }
  ::close(in_pipe[1]);
  const auto deadline = Clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_count = 2;
  while (open_count > 0) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      result.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    if (::poll(fds, 2, static_cast<int>(left)) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
      if (got > 0) {
        sinks[i]->append(buffer, static_cast<std::size_t>(got));
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  for (const pollfd& entry : fds) {
    if (entry.fd >= 0) ::close(entry.fd);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!result.timed_out && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

inline std::string describe(const CommandResult& result) {
  return "exit " + std::to_string(result.exit_code) + (result.timed_out ? " (timed out)" : "") +
         "\nstdout: " + result.out + "\nstderr: " + result.err;
}

struct RedisFree {
  void operator()(redisContext* context) const { redisFree(context); }
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using Redis = std::unique_ptr<redisContext, RedisFree>;
using Reply = std::unique_ptr<redisReply, RedisFree>;

// Short timeouts so a test that waits for a failure waits seconds, not the defaults'
// minutes: requests time out after 2s, the failure detector suspects after ~1s of silence,
// and hints are retried every 500ms.
inline constexpr const char* test_overlay = R"(# integration tests: short timeouts
timing:
  request_timeout: 2s
  replication_timeout: 500ms
  retry_interval: 200ms
gossip_protocol:
  interval: 200ms
  probe_timeout: 100ms
phi_accrual:
  bootstrap_time: 0s
failure_detector:
  suspicious_threshold: 1s
  failure_threshold: 2s
  recovery_timeout: 1s
hint_storage:
  maintenance:
    check_interval: 500ms
    retry_interval: 500ms
limits:
  value_bytes_max: 64KB
)";
inline constexpr std::uint64_t test_value_bytes_max = 64 * 1024;
inline constexpr auto test_request_timeout = seconds(2);

// One command (argv form, so values may hold any bytes).
inline Reply command(redisContext* context, const std::vector<std::string>& arguments) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const std::string& argument : arguments) {
    argv.push_back(argument.data());
    lengths.push_back(argument.size());
  }
  return Reply(static_cast<redisReply*>(redisCommandArgv(
      context, static_cast<int>(argv.size()), argv.data(), lengths.data())));
}

// "+OK"/bulk/integer/nil/error of a reply, for assertions and messages.
inline std::string text(const Reply& reply) {
  if (!reply) return "(no reply: connection error or timeout)";
  switch (reply->type) {
    case REDIS_REPLY_STATUS: return "+" + std::string(reply->str, reply->len);
    case REDIS_REPLY_ERROR: return "-" + std::string(reply->str, reply->len);
    case REDIS_REPLY_STRING: return std::string(reply->str, reply->len);
    case REDIS_REPLY_INTEGER: return ":" + std::to_string(reply->integer);
    case REDIS_REPLY_NIL: return "(nil)";
    case REDIS_REPLY_ARRAY: return "(array of " + std::to_string(reply->elements) + ")";
    default: return "(type " + std::to_string(reply->type) + ")";
  }
}

// Sets the connection's consistency level; fails the test unless +OK.
inline void consistency(redisContext* context, const std::string& level) {
  const Reply reply = command(context, {"CONSISTENCY", level});
  ASSERT_EQ(text(reply), "+OK") << "CONSISTENCY " << level;
}

// Polls `condition` every 100ms until it holds or `timeout` passes; returns whether it held.
template <typename Condition>
bool eventually(Condition condition, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(100));
  }
  return true;
}

struct NodeInfo {
  std::string id;
  std::string client_host;
  int client_port = 0;
  int admin_port = 0;
  int pid = 0;
  bool alive = false;
};

class ClusterTest : public ::testing::Test {
 protected:
  static constexpr std::size_t nodes = 3;
  // How many nodes SetUp starts; a test needing more (so that no node holds every key)
  // overrides it.
  virtual std::size_t cluster_size() const { return nodes; }
  // The configuration overlay every node starts with (a test may add keys to it).
  virtual std::string overlay() const { return test_overlay; }
  // Flags `cluster up` gets besides the node count, dir, overlay and timeout (e.g. --tls).
  virtual std::vector<std::string> up_flags() const { return {}; }

  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "vigil-it-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    temp_ = pattern;
    dir_ = temp_ + "/cluster";
    std::ofstream(temp_ + "/overlay.yaml") << overlay();
    std::vector<std::string> arguments{"cluster", "up", "--nodes", std::to_string(cluster_size()),
                                       "--dir", dir_, "--config-overlay",
                                       temp_ + "/overlay.yaml", "--timeout", "60"};
    for (const std::string& flag : up_flags()) arguments.push_back(flag);
    const CommandResult up = vigil(arguments, seconds(90));
    ASSERT_EQ(up.exit_code, 0) << describe(up);
    refresh_status();
    ASSERT_EQ(nodes_.size(), cluster_size());
  }

  void TearDown() override {
    if (dir_.empty()) return;
    const CommandResult down = vigil({"cluster", "down", "--dir", dir_, "--timeout", "10"},
                                     seconds(30));
    EXPECT_EQ(down.exit_code, 0) << describe(down);
    kill_leftovers();
    if (HasFailure()) print_logs();
    std::error_code ignored;
    std::filesystem::remove_all(temp_, ignored);
  }

  // `vigil ARGS...` with a deadline.
  static CommandResult vigil(std::vector<std::string> arguments, milliseconds timeout) {
    arguments.insert(arguments.begin(), VIGIL_BINARY);
    return run_command(arguments, timeout);
  }
  CommandResult cluster(const std::string& verb, const std::string& node,
                        milliseconds timeout = seconds(60)) {
    return vigil({"cluster", verb, node, "--dir", dir_}, timeout);
  }

  // Reads `vigil cluster status --json` into nodes_.
  void refresh_status() {
    const CommandResult status = vigil({"cluster", "status", "--dir", dir_, "--json"}, seconds(30));
    ASSERT_EQ(status.exit_code, 0) << describe(status);
    const nlohmann::json document = nlohmann::json::parse(status.out);
    nodes_.clear();
    for (const nlohmann::json& node : document.at("nodes")) {
      NodeInfo info;
      info.id = node.at("id").get<std::string>();
      const std::string client = node.at("client").get<std::string>();
      const std::string admin = node.at("admin").get<std::string>();
      info.client_host = client.substr(0, client.rfind(':'));
      info.client_port = std::stoi(client.substr(client.rfind(':') + 1));
      info.admin_port = std::stoi(admin.substr(admin.rfind(':') + 1));
      info.pid = node.at("pid").is_null() ? 0 : node.at("pid").get<int>();
      info.alive = node.at("alive").get<bool>();
      nodes_.push_back(info);
    }
  }

  // A hiredis connection to node `index` (0-based) with 10s connect and command timeouts
  // (far above the nodes' 2s request timeout, so a node's own timeout answers first even on
  // a loaded machine).
  Redis connect(std::size_t index) {
    const timeval timeout{10, 0};
    Redis context(redisConnectWithTimeout(nodes_.at(index).client_host.c_str(),
                                          nodes_.at(index).client_port, timeout));
    EXPECT_TRUE(context && context->err == 0)
        << "connect to " << nodes_.at(index).id << ": " << (context ? context->errstr : "null");
    if (context && context->err == 0) redisSetTimeout(context.get(), timeout);
    return context;
  }

  // GET `path` from node `index`'s admin port (Boost.Beast); the body, or "" on any error.
  std::string admin_get(std::size_t index, const std::string& path) {
    namespace beast = boost::beast;
    namespace http = beast::http;
    try {
      boost::asio::io_context io;
      beast::tcp_stream stream(io);
      stream.expires_after(seconds(5));
      boost::asio::ip::tcp::resolver resolver(io);
      stream.connect(resolver.resolve(nodes_.at(index).client_host,
                                      std::to_string(nodes_.at(index).admin_port)));
      http::request<http::string_body> request{http::verb::get, path, 11};
      request.set(http::field::host, nodes_.at(index).client_host);
      http::write(stream, request);
      beast::flat_buffer buffer;
      http::response<http::string_body> response;
      http::read(stream, buffer, response);
      beast::error_code ignored;
      stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
      return response.result() == http::status::ok ? response.body() : "";
    } catch (const std::exception&) {
      return "";
    }
  }

  // A counter from node `index`'s /status ("counters"), or -1 when unreadable.
  long long status_counter(std::size_t index, const std::string& name) {
    const nlohmann::json status = nlohmann::json::parse(admin_get(index, "/status"), nullptr, false);
    if (status.is_discarded() || !status.contains("counters") ||
        !status["counters"].contains(name)) {
      return -1;
    }
    return status["counters"][name].get<long long>();
  }

  const std::string& dir() const { return dir_; }
  const std::vector<NodeInfo>& cluster_nodes() const { return nodes_; }

 private:
  // SIGKILL for any node process `cluster down` left (it checks identity; so do we: the
  // pid must still run `... start --config <this cluster's node.yaml>`).
  void kill_leftovers() {
    for (std::size_t i = 1; i <= nodes; ++i) {
      const std::string node_dir = dir_ + "/n" + std::to_string(i);
      std::ifstream pid_file(node_dir + "/pid");
      int pid = 0;
      if (!(pid_file >> pid) || pid <= 0) continue;
      std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline");
      std::string line((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
      if (line.find(node_dir + "/node.yaml") != std::string::npos) {
        ADD_FAILURE() << "node n" << i << " (pid " << pid << ") survived cluster down";
        ::kill(pid, SIGKILL);
      }
    }
  }

  void print_logs() {
    for (std::size_t i = 1; i <= nodes; ++i) {
      const std::string log = dir_ + "/n" + std::to_string(i) + "/node.log";
      std::ifstream in(log);
      std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      constexpr std::size_t tail_bytes = 4000;
      std::printf("---- %s (last %zu bytes) ----\n%s\n", log.c_str(), tail_bytes,
                  all.size() > tail_bytes ? all.substr(all.size() - tail_bytes).c_str()
                                          : all.c_str());
    }
  }

  std::string temp_;
  std::string dir_;
  std::vector<NodeInfo> nodes_;
};

}  // namespace vigil::integration
