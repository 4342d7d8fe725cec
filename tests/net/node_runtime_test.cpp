// NodeRuntime with real sockets and real SQLite files: three runtimes in one io_context on
// loopback ports the OS picks, each in its own temporary data directory. A write through
// one node is read through another; an acknowledged write survives destroying the runtime
// (a crash: nothing more is committed) and re-opening it over the same directory; a
// graceful shutdown answers every request in flight exactly once. Every wait is bounded.

#include "net/node_runtime.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/temp_directory.h"

namespace vigil::net {
namespace {

using testing_support::TempDirectory;

namespace asio = boost::asio;

constexpr auto wait_max = std::chrono::seconds(20);

bool run_until(asio::io_context& io, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + wait_max;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.restart();
    io.run_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Node `index` (1-based) of a cluster of `nodes`. The seeds' ports are placeholders: the
// runtimes bind port 0 and are told each other's real ports before the loop runs.
config::Config node_config(const TempDirectory& dir, int index, int nodes) {
  config::Config config;
  config.node.id = "n" + std::to_string(index);
  config.node.data_dir = dir.path() + "/" + config.node.id;
  // Ports 1-3 (tcpmux and the like) are closed on any test machine: a placeholder that is
  // dialed by mistake is refused, never answered by some other service.
  for (int i = 1; i <= nodes; ++i) {
    config.node.seeds.push_back(config::SeedNode{
        "n" + std::to_string(i), config::Address{"127.0.0.1", static_cast<std::uint16_t>(i)}});
  }
  config.node.listen = config::Address{"127.0.0.1", static_cast<std::uint16_t>(index)};
  config.node.client = config::Address{"127.0.0.1", static_cast<std::uint16_t>(10 + index)};
  config.node.admin = config::Address{"127.0.0.1", static_cast<std::uint16_t>(20 + index)};
  if (nodes == 1) {
    config.quorum_settings = config::Config::QuorumSettings{1, 1, 1};
  }
  config.timing.request_timeout = std::chrono::seconds(2);
  config.timing.replication_timeout = std::chrono::milliseconds(500);
  const core::Status valid = config::validate(config);
  EXPECT_TRUE(valid.ok()) << valid.to_string();
  return config;
}

struct Cluster {
  Cluster(asio::io_context& io, const TempDirectory& dir, int nodes, bool fault_injection = false)
      : io_(io), fault_injection_(fault_injection) {
    for (int i = 1; i <= nodes; ++i) open(dir, i, nodes);
    connect();
  }
  void open(const TempDirectory& dir, int index, int nodes) {
    RuntimeOptions options;
    options.fault_injection = fault_injection_;
    options.listen_on_any_port = true;
    options.seed = static_cast<std::uint64_t>(index);
    options.check_invariants_every = 1;  // tests check the node after every input
    core::Result<std::unique_ptr<NodeRuntime>> runtime =
        NodeRuntime::open(io_, node_config(dir, index, nodes), options);
    ASSERT_TRUE(runtime.ok()) << runtime.status().to_string();
    if (runtimes.size() < static_cast<std::size_t>(index)) runtimes.resize(index);
    runtimes[index - 1] = std::move(runtime).value();
  }
  // Tells every runtime where every other one listens.
  void connect() {
    for (const auto& from : runtimes) {
      for (const auto& to : runtimes) {
        if (from && to && from != to) {
          from->set_peer_address(to->config().node.id, to->peer_address());
        }
      }
    }
  }
  asio::io_context& io_;
  bool fault_injection_ = false;
  std::vector<std::unique_ptr<NodeRuntime>> runtimes;
};

// Submits `request` and runs the loop until its reply; nullopt if none came in time.
std::optional<core::ClientReply> call(asio::io_context& io, NodeService& node,
                                      core::ClientRequest request) {
  std::optional<core::ClientReply> reply;
  int calls = 0;
  node.submit(std::move(request), [&](const core::ClientReply& r) {
    reply = r;
    ++calls;
  });
  const bool answered = run_until(io, [&] { return reply.has_value(); });
  EXPECT_TRUE(answered);
  EXPECT_LE(calls, 1);
  return reply;
}

core::ClientRequest put(const std::string& key, const std::string& value,
                        core::Consistency consistency = core::Consistency::quorum) {
  core::ClientRequest request;
  request.op = core::ClientOp::put;
  request.key = key;
  request.value = value;
  request.consistency = consistency;
  return request;
}

core::ClientRequest get(const std::string& key,
                        core::Consistency consistency = core::Consistency::quorum) {
  core::ClientRequest request;
  request.op = core::ClientOp::get;
  request.key = key;
  request.consistency = consistency;
  return request;
}

TEST(NodeRuntime, WriteOnOneNodeIsReadOnAnother) {
  TempDirectory dir{"vigil-node-runtime-test"};
  asio::io_context io;
  Cluster cluster(io, dir, 3);
  ASSERT_EQ(cluster.runtimes.size(), 3U);
  NodeRuntime& n1 = *cluster.runtimes[0];
  NodeRuntime& n2 = *cluster.runtimes[1];
  NodeRuntime& n3 = *cluster.runtimes[2];

  for (int i = 0; i < 20; ++i) {
    const std::string key = "key-" + std::to_string(i);
    const auto written = call(io, n1, put(key, "value-" + std::to_string(i)));
    ASSERT_TRUE(written.has_value());
    ASSERT_TRUE(written->status.ok()) << written->status.to_string();
  }
  for (int i = 0; i < 20; ++i) {
    const std::string key = "key-" + std::to_string(i);
    const auto read = call(io, i % 2 == 0 ? n2 : n3, get(key, core::Consistency::all));
    ASSERT_TRUE(read.has_value());
    ASSERT_TRUE(read->status.ok()) << read->status.to_string();
    ASSERT_EQ(read->values.size(), 1U);
    EXPECT_EQ(read->values[0], "value-" + std::to_string(i));
  }
  // Real frames crossed real connections, and commits covered the acknowledgements.
  const CounterSnapshot counters = n1.counters();
  EXPECT_GT(counters.get("peer_frames_sent"), 0U);
  EXPECT_GT(counters.get("peer_frames_received"), 0U);
  EXPECT_EQ(counters.get("peer_frames_bad"), 0U);
  EXPECT_GT(n1.store_stats().commits, 0U);
  EXPECT_EQ(n1.store_stats().commits, n1.store_stats().batch_size.count());
  EXPECT_EQ(n1.store_stats().commit_failures, 0U);
  bool connected_to_n2 = false;
  for (const PeerConnectionStatus& row : n1.peer_connections()) {
    if (row.peer == "n2") connected_to_n2 = row.state == PeerConnectionState::connected;
  }
  EXPECT_TRUE(connected_to_n2);
  const auto ownership = n1.ring_ownership();
  EXPECT_EQ(ownership.size(), 3U);
}

TEST(NodeRuntime, AcknowledgedWriteSurvivesACrash) {
  TempDirectory dir{"vigil-node-runtime-test"};
  {
    asio::io_context io;
    Cluster cluster(io, dir, 1);
    const auto written = call(io, *cluster.runtimes[0], put("durable", "yes"));
    ASSERT_TRUE(written.has_value());
    ASSERT_TRUE(written->status.ok()) << written->status.to_string();
    cluster.runtimes[0].reset();  // no shutdown(): a crash
  }
  asio::io_context io;
  Cluster cluster(io, dir, 1);
  const auto read = call(io, *cluster.runtimes[0], get("durable"));
  ASSERT_TRUE(read.has_value());
  ASSERT_TRUE(read->status.ok()) << read->status.to_string();
  ASSERT_EQ(read->values.size(), 1U);
  EXPECT_EQ(read->values[0], "yes");
}

TEST(NodeRuntime, InputsOfOneLoopTurnShareOneCommit) {
  TempDirectory dir{"vigil-node-runtime-test"};
  asio::io_context io;
  Cluster cluster(io, dir, 1);
  NodeRuntime& node = *cluster.runtimes[0];
  // The first flush commits the node's incarnation; let it happen apart.
  ASSERT_TRUE(run_until(io, [&] { return node.store_stats().commits == 1; }));
  constexpr int count = 50;
  int ok = 0;
  int answered = 0;
  for (int i = 0; i < count; ++i) {
    node.submit(put("batch-" + std::to_string(i), "v"), [&](const core::ClientReply& reply) {
      ++answered;
      ok += reply.status.ok() ? 1 : 0;
    });
  }
  EXPECT_EQ(answered, 0);
  ASSERT_TRUE(run_until(io, [&] { return answered == count; }));
  EXPECT_EQ(ok, count);
  // All fifty writes arrived in one turn of the loop: one commit covers them.
  EXPECT_EQ(node.store_stats().commits, 2U);
  EXPECT_EQ(node.store_stats().batch_size.sum(), 1.0 + count);
}

TEST(NodeRuntime, ClusterDataSurvivesRestartOfEveryNode) {
  TempDirectory dir{"vigil-node-runtime-test"};
  {
    asio::io_context io;
    Cluster cluster(io, dir, 3);
    const auto written =
        call(io, *cluster.runtimes[2], put("kept", "across restarts", core::Consistency::all));
    ASSERT_TRUE(written.has_value());
    ASSERT_TRUE(written->status.ok()) << written->status.to_string();
    int stopped = 0;
    for (const auto& runtime : cluster.runtimes) runtime->shutdown([&] { ++stopped; });
    ASSERT_TRUE(run_until(io, [&] { return stopped == 3; }));
  }
  asio::io_context io;
  Cluster cluster(io, dir, 3);
  // Every replica answers a read at `all`, through each node in turn.
  for (const auto& runtime : cluster.runtimes) {
    const auto read = call(io, *runtime, get("kept", core::Consistency::all));
    ASSERT_TRUE(read.has_value());
    ASSERT_TRUE(read->status.ok()) << read->status.to_string();
    ASSERT_EQ(read->values.size(), 1U);
    EXPECT_EQ(read->values[0], "across restarts");
  }
}

TEST(NodeRuntime, ShutdownAnswersEveryRequestOnce) {
  TempDirectory dir{"vigil-node-runtime-test"};
  asio::io_context io;
  // n1 of a three-node cluster whose other nodes never run: an `all` write cannot finish.
  Cluster cluster(io, dir, 0);
  cluster.open(dir, 1, 3);
  NodeRuntime& n1 = *cluster.runtimes[0];
  int calls = 0;
  core::Status status;
  n1.submit(put("stuck", "v", core::Consistency::all), [&](const core::ClientReply& reply) {
    ++calls;
    status = reply.status;
  });
  EXPECT_EQ(calls, 0);  // never answered from inside submit()
  bool stopped = false;
  n1.shutdown([&] { stopped = true; });
  ASSERT_TRUE(run_until(io, [&] { return stopped; }));
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(n1.is_closed());

  std::optional<core::ClientReply> late;
  n1.submit(get("stuck"), [&](const core::ClientReply& reply) { late = reply; });
  ASSERT_TRUE(run_until(io, [&] { return late.has_value(); }));
  EXPECT_EQ(late->status.code(), core::Code::unavailable);
}

// RuntimeOptions::fault_injection (vigil start --enable-fault-injection): only then has a
// node a fault filter; its drop rules cut the node off from a peer (a write at `all`
// through it fails, and succeeds once the rules are cleared) and its clock offset moves
// the node's wall clock.
TEST(NodeRuntime, FaultFilterOnlyWithTheFlagAndItCutsPeersAndMovesTheClock) {
  TempDirectory plain_dir{"vigil-node-runtime-test"};
  asio::io_context plain_io;
  Cluster plain(plain_io, plain_dir, 1);
  EXPECT_EQ(plain.runtimes[0]->fault_filter(), nullptr);

  TempDirectory dir{"vigil-node-runtime-test"};
  asio::io_context io;
  Cluster cluster(io, dir, 3, /*fault_injection=*/true);
  NodeRuntime& n1 = *cluster.runtimes[0];
  FaultFilter* filter = n1.fault_filter();
  ASSERT_NE(filter, nullptr);
  ASSERT_TRUE(call(io, n1, put("k", "v1", core::Consistency::all))->status.ok());

  // n1 alone on its side (a forwarded request would find no one either).
  FaultRules rules;
  rules.drop_to = {"n2", "n3"};
  rules.drop_from = {"n2", "n3"};
  rules.clock_offset_us = 60'000'000;
  filter->set(rules, steady_instant());
  const core::WallMicros other = cluster.runtimes[1]->wall_now();
  EXPECT_NEAR(static_cast<double>(n1.wall_now() - other), 60e6, 5e6);
  const auto cut = call(io, n1, put("k", "v2", core::Consistency::all));
  ASSERT_TRUE(cut.has_value());
  EXPECT_FALSE(cut->status.ok()) << "no peer can be reached: W = 3 cannot be met";
  EXPECT_GT(filter->counters().frames_dropped_out, 0U);

  filter->set(FaultRules{}, steady_instant());
  const auto healed = call(io, n1, put("k", "v3", core::Consistency::all));
  ASSERT_TRUE(healed.has_value());
  EXPECT_TRUE(healed->status.ok()) << healed->status.to_string();
}

TEST(NodeRuntime, UnusableDataDirectoryIsAnError) {
  TempDirectory dir{"vigil-node-runtime-test"};
  const std::string blocker = dir.path() + "/file";
  {
    std::FILE* file = std::fopen(blocker.c_str(), "w");
    ASSERT_NE(file, nullptr);
    std::fclose(file);
  }
  asio::io_context io;
  config::Config config = node_config(dir, 1, 1);
  config.node.data_dir = blocker + "/data";  // a path under a regular file
  RuntimeOptions options;
  options.listen_on_any_port = true;
  const auto runtime = NodeRuntime::open(io, config, options);
  ASSERT_FALSE(runtime.ok());
  EXPECT_EQ(runtime.status().code(), core::Code::io_error);
  EXPECT_NE(runtime.status().message().find(config.node.data_dir), std::string::npos);
}

}  // namespace
}  // namespace vigil::net
