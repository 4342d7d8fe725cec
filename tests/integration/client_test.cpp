// vigil::Client against a real 3-node cluster while one node is SIGKILLed and restarted,
// then SIGSTOPped and SIGCONTed: requests keep succeeding, every failure is a typed
// ClientError of a retryable kind and no request takes longer than the retry bound, and the
// victim's circuit breaker opens while it is gone and closes once it is back. First, the
// `vigil client` front end on the same cluster (one cluster start for both: they are cheap
// to check together), and that each SET goes to its key's primary (token-aware routing).

#include <atomic>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "client/client.h"
#include "tests/integration/cluster_fixture.h"

namespace vigil::integration {
namespace {

class ClientCluster : public ClusterTest {};

// One thread writing and reading through the client until told to stop.
class Workload {
 public:
  explicit Workload(Client& client) : client_(client), thread_([this] { run(); }) {}
  ~Workload() { stop(); }
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::uint64_t successes() const { return successes_; }
  std::map<ErrorCode, std::uint64_t> errors() const {
    std::lock_guard lock(mutex_);
    return errors_;
  }
  milliseconds slowest() const { return milliseconds(slowest_ms_.load()); }

 private:
  void run() {
    for (std::uint64_t i = 0; !stopping_; ++i) {
      const std::string key = "key" + std::to_string(i % 50);
      const auto start = Clock::now();
      try {
        if (i % 2 == 0) {
          client_.set(key, std::to_string(i));
        } else {
          (void)client_.get(key);
        }
        ++successes_;
      } catch (const ClientError& error) {
        std::lock_guard lock(mutex_);
        ++errors_[error.code()];
      }
      const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
      if (took > slowest_ms_) slowest_ms_ = took;
    }
  }

  Client& client_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> successes_{0};
  std::atomic<std::int64_t> slowest_ms_{0};
  mutable std::mutex mutex_;
  std::map<ErrorCode, std::uint64_t> errors_;
  std::thread thread_;
};

// SETs node `index` has answered on its client port (INFO commandstats, every level).
std::uint64_t sets_answered(redisContext* context) {
  const Reply reply = command(context, {"INFO", "commandstats"});
  if (!reply || reply->type != REDIS_REPLY_STRING) return 0;
  std::istringstream lines(std::string(reply->str, reply->len));
  std::uint64_t calls = 0;
  for (std::string line; std::getline(lines, line);) {
    const std::size_t at = line.find(":calls=");
    if (line.rfind("cmdstat_set_", 0) == 0 && at != std::string::npos) {
      calls += std::stoull(line.substr(at + 7));
    }
  }
  return calls;
}

NodeView view_of(const Client& client, const std::string& id) {
  for (const NodeView& node : client.nodes()) {
    if (node.id == id) return node;
  }
  return {};
}

TEST_F(ClientCluster, KeepsWorkingThroughKillRestartPauseAndResumeAsTheBreakerOpensAndCloses) {
  ClientOptions options;
  for (const NodeInfo& node : cluster_nodes()) {
    options.seeds.push_back(node.client_host + ":" + std::to_string(node.client_port));
  }
  options.connect_timeout = milliseconds(300);
  options.request_timeout = milliseconds(1000);
  options.max_retries = 3;
  options.retry_backoff_initial = milliseconds(20);
  options.retry_backoff_max = milliseconds(100);
  options.health_check_interval = milliseconds(300);
  options.breaker_threshold = 3;
  options.breaker_timeout = milliseconds(500);
  options.breaker_half_open_requests = 2;
  options.random_seed = 16;
  // `vigil client` (cli/command_client.cpp) on the same cluster first: one-shot commands,
  // the interactive mode on a pipe, and a short bench.
  const std::string seeds = options.seeds[0] + "," + options.seeds[1] + "," + options.seeds[2];
  const CommandResult set = vigil({"client", "--seeds", seeds, "set", "cli-key", "v 1"}, seconds(30));
  EXPECT_EQ(set.out, "OK\n") << describe(set);
  const CommandResult get = vigil({"client", "--seeds", seeds, "get", "cli-key"}, seconds(30));
  EXPECT_EQ(get.out, "\"v 1\"\n") << describe(get);
  const CommandResult lines = run_command({VIGIL_BINARY, "client", "--seeds", seeds}, seconds(30),
                                          "set a \"b c\"\nget a\ndel a\nget a\nnodes\n");
  EXPECT_EQ(lines.exit_code, 0) << describe(lines);
  EXPECT_EQ(lines.out.substr(0, 32), "OK\n\"b c\"\n(integer) 1\n(nil)\nring ") << describe(lines);
  const CommandResult bench = vigil({"client", "--seeds", seeds, "bench", "-c", "2", "-n", "100"},
                                    seconds(60));
  EXPECT_EQ(bench.exit_code, 0) << describe(bench);
  EXPECT_NE(bench.out.find("SET: 100 requests, 2 connections"), std::string::npos) << bench.out;
  EXPECT_NE(bench.out.find("0 errors, 0 retries, 100.0% token-aware"), std::string::npos)
      << bench.out;

  Client client(options);
  ASSERT_EQ(client.nodes().size(), 3u);

  // Token-aware: each SET is answered by its key's primary (the first node of the
  // preference list the client computed from VRING), so no node forwards it.
  std::map<std::string, std::uint64_t> expected;
  std::map<std::string, std::uint64_t> before;
  for (std::size_t i = 0; i < cluster_nodes().size(); ++i) {
    before[cluster_nodes()[i].id] = sets_answered(connect(i).get());
  }
  for (int i = 0; i < 30; ++i) {
    const std::string key = "routed" + std::to_string(i);
    client.set(key, "v");
    ++expected[client.preference_list(key).at(0)];
  }
  for (std::size_t i = 0; i < cluster_nodes().size(); ++i) {
    const std::string& id = cluster_nodes()[i].id;
    EXPECT_EQ(sets_answered(connect(i).get()) - before[id], expected[id]) << id;
  }
  // The bound on one request: every attempt's timeout, the backoffs, and the health checks
  // and ring refresh a request may run first (each within connect_timeout per node).
  const milliseconds bound = 4 * options.request_timeout + 3 * options.retry_backoff_max +
                             8 * options.connect_timeout;

  Workload workload(client);
  const auto breaker_is = [&](const std::string& state, bool healthy) {
    const NodeView n2 = view_of(client, "n2");
    return n2.breaker == state && n2.healthy == healthy;
  };
  const auto opened = [&] { return view_of(client, "n2").breaker != "closed"; };
  const auto progress = [&](std::uint64_t since) {
    return eventually([&] { return workload.successes() >= since + 20; }, seconds(20));
  };
  ASSERT_TRUE(progress(0));

  ASSERT_EQ(cluster("kill", "n2").exit_code, 0);
  EXPECT_TRUE(eventually(opened, seconds(10))) << "n2's breaker never opened while it was dead";
  EXPECT_TRUE(progress(workload.successes())) << "requests stopped while n2 was dead";
  const CommandResult restart = cluster("restart", "n2");
  ASSERT_EQ(restart.exit_code, 0) << describe(restart);
  EXPECT_TRUE(eventually([&] { return breaker_is("closed", true); }, seconds(10)))
      << "n2's breaker did not close after its restart: " << view_of(client, "n2").breaker;

  ASSERT_EQ(cluster("pause", "n2").exit_code, 0);
  EXPECT_TRUE(eventually(opened, seconds(10))) << "n2's breaker never opened while paused";
  EXPECT_TRUE(progress(workload.successes())) << "requests stopped while n2 was paused";
  ASSERT_EQ(cluster("resume", "n2").exit_code, 0);
  EXPECT_TRUE(eventually([&] { return breaker_is("closed", true); }, seconds(10)))
      << "n2's breaker did not close after SIGCONT: " << view_of(client, "n2").breaker;
  EXPECT_TRUE(progress(workload.successes()));
  workload.stop();

  for (const auto& [code, count] : workload.errors()) {
    EXPECT_TRUE(code == ErrorCode::unavailable || code == ErrorCode::timeout ||
                code == ErrorCode::connection)
        << count << " requests failed with " << error_code_name(code);
  }
  EXPECT_LE(workload.slowest(), bound) << "a request outlived the retry bound";
  const ClientStats stats = client.stats();
  EXPECT_GE(stats.breaker_openings, 2u);
  EXPECT_GE(stats.breaker_closings, 2u);
  EXPECT_GT(stats.retries, 0u) << "attempts on the dead node were retried elsewhere";
  std::cout << "client through the faults: " << stats.requests << " requests, " << stats.retries
            << " retries, " << stats.failures << " failed, " << stats.breaker_openings
            << " breaker openings, slowest " << workload.slowest().count() << " ms\n";
}

}  // namespace
}  // namespace vigil::integration
