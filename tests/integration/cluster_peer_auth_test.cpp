// Peer authentication with real processes (docs/security.md): `vigil cluster up` gives its
// three nodes a shared secret; a fourth `vigil start` with another secret tries to join and
// to replicate a write, and this test process itself forges ReplicaWrite frames at n1's
// peer port, with and without a handshake. All of it is refused and counted, n4 never
// becomes a member, and no store holds what was sent.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <fstream>

#include "cluster_fixture.h"
#include "config/config_yaml.h"
#include "core/versions/version.h"
#include "core/wire/codec.h"
#include "net/peer_handshake.h"

namespace vigil::integration {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::uint16_t free_port() {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A ReplicaWrite that any replica would store if it believed it.
std::string forged_frame(const std::string& from, const std::string& to, const std::string& key) {
  core::SiblingSet set;
  core::VersionCounters counters;
  EXPECT_TRUE(set.write(from, core::VectorClock(), core::Value("forged"), 1000,
                        core::ConflictMode::siblings, core::SiblingLimits(), counters)
                  .ok());
  return core::encode_frame({from, to, core::ReplicaWrite{1, key, set}}).value();
}

class PeerAuthTest : public ClusterTest {
 protected:
  void TearDown() override {
    if (intruder_pid_ > 0) {
      ::kill(intruder_pid_, SIGKILL);
      ::waitpid(intruder_pid_, nullptr, 0);
    }
    ClusterTest::TearDown();
  }

  // Starts `vigil start` as n4 with n1's config, its own ports and another secret.
  void start_intruder() {
    const std::string base = dir() + "/n4";
    std::filesystem::create_directories(base);
    std::ofstream(base + "/wrong.secret") << "not the cluster secret, but long enough\n";
    std::filesystem::permissions(base + "/wrong.secret", std::filesystem::perms::owner_read |
                                                             std::filesystem::perms::owner_write);
    const std::string n1_path = dir() + "/n1/node.yaml";
    core::Result<config::Config> n1 = config::config_from_yaml(read_file(n1_path), n1_path);
    ASSERT_TRUE(n1.ok()) << n1.status().to_string();
    config::Config config = *n1;
    config.node.id = "n4";
    config.node.listen = {"127.0.0.1", free_port()};
    config.node.client = {"127.0.0.1", free_port()};
    config.node.admin = {"127.0.0.1", free_port()};
    config.node.data_dir = base + "/data";
    config.node.seeds.push_back({"n4", config.node.listen});
    config.security.cluster_secret_file = base + "/wrong.secret";
    intruder_client_port_ = config.node.client.port;
    std::ofstream(base + "/node.yaml") << config::config_to_yaml(config);
    for (const config::SeedNode& seed : n1->node.seeds) {
      if (seed.id == "n1") n1_peer_ = seed.address;
    }
    intruder_pid_ = ::fork();
    if (intruder_pid_ == 0) {
      const int log = ::open((base + "/node.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(log, 1);
      ::dup2(log, 2);
      ::execl(VIGIL_BINARY, VIGIL_BINARY, "start", "--config", (base + "/node.yaml").c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ASSERT_GT(intruder_pid_, 0);
  }

  // Connects to n1's peer port, sends `bytes`, and returns what n1 answered before it
  // closed the connection (bounded by 5 s).
  std::string send_to_n1(const std::string& bytes) {
    asio::io_context io;
    tcp::socket socket(io);
    socket.connect(tcp::endpoint(asio::ip::make_address(n1_peer_.host), n1_peer_.port));
    asio::write(socket, asio::buffer(bytes));
    std::string answer;
    std::array<char, 512> chunk{};
    bool closed = false;
    std::function<void()> read_more = [&] {
      socket.async_read_some(asio::buffer(chunk), [&](const boost::system::error_code& error,
                                                      std::size_t got) {
        answer.append(chunk.data(), got);
        if (error) {
          closed = true;
        } else {
          read_more();
        }
      });
    };
    read_more();
    io.run_for(seconds(5));
    EXPECT_TRUE(closed) << "n1 kept the connection open";
    return answer;
  }

  pid_t intruder_pid_ = 0;
  std::uint16_t intruder_client_port_ = 0;
  config::Address n1_peer_;
};

TEST_F(PeerAuthTest, IntruderWithTheWrongSecretIsRefusedAndStoresNothing) {
  // The cluster itself authenticated with its generated secret.
  for (std::size_t i = 0; i < nodes; ++i) {
    EXPECT_GT(status_counter(i, "peer_handshakes_accepted"), 0) << "node " << i + 1;
  }
  EXPECT_EQ(std::filesystem::status(dir() + "/cluster.secret").permissions() &
                std::filesystem::perms::others_all,
            std::filesystem::perms::none);

  ASSERT_NO_FATAL_FAILURE(start_intruder());
  // n4 gossips to its seeds at once: each refuses it.
  for (std::size_t i = 0; i < nodes; ++i) {
    EXPECT_TRUE(eventually([&] { return status_counter(i, "peer_handshakes_refused") >= 1; },
                           seconds(20)))
        << "node " << i + 1 << " never refused n4";
  }
  // A write coordinated by n4 needs ReplicaWrites to the others: none is accepted.
  {
    const timeval timeout{10, 0};
    Redis intruder(redisConnectWithTimeout("127.0.0.1", intruder_client_port_, timeout));
    ASSERT_TRUE(intruder && intruder->err == 0);
    redisSetTimeout(intruder.get(), timeout);
    for (int i = 0; i < 2; ++i) command(intruder.get(), {"SET", "via-n4-" + std::to_string(i), "x"});
  }

  // Forged frames from this process: without a handshake, and after a handshake with the
  // wrong secret (claiming to be n2).
  const std::string write = forged_frame("n2", "n1", "forged");
  EXPECT_EQ(send_to_n1(write), net::peer_handshake::encode(net::peer_handshake::Verdict{
                                   net::peer_handshake::Refusal::frame_before_handshake}));
  net::peer_handshake::Nonce nonce{};
  nonce.fill(7);
  net::PeerHandshake liar({net::PeerHandshake::Role::dialer, "n2",
                           {net::peer_handshake::make_secret("this is a wrong secret, too")}, nonce,
                           "n1"});
  const std::string answer = send_to_n1(liar.poll_output() + write + write);
  liar.handle_bytes(answer);
  EXPECT_EQ(liar.refusal(), net::peer_handshake::Refusal::refused_by_peer) << liar.refusal_reason();
  EXPECT_NE(liar.refusal_reason().find("no_shared_secret"), std::string::npos);
  EXPECT_GE(status_counter(0, "peer_handshakes_refused"), 3);

  // Nothing reached a store: a read at `all` asks every replica (N = 3 = the cluster).
  Redis client = connect(0);
  consistency(client.get(), "strong");
  for (const std::string key : {"forged", "via-n4-0", "via-n4-1"}) {
    EXPECT_EQ(text(command(client.get(), {"GET", key})), "(nil)") << key;
  }
  // n4 is in no node's membership.
  for (std::size_t i = 0; i < nodes; ++i) {
    const nlohmann::json status = nlohmann::json::parse(admin_get(i, "/status"), nullptr, false);
    ASSERT_FALSE(status.is_discarded());
    for (const nlohmann::json& member : status.at("members")) {
      EXPECT_NE(member.at("id").get<std::string>(), "n4") << "node " << i + 1;
    }
    EXPECT_EQ(status_counter(i, "peer_handshakes_accepted") > 0, true);
  }
  // The secret is in no log line.
  const std::string secret = read_file(dir() + "/cluster.secret");
  ASSERT_GT(secret.size(), 16U);
  for (std::size_t i = 1; i <= nodes; ++i) {
    const std::string log = read_file(dir() + "/n" + std::to_string(i) + "/node.log");
    EXPECT_EQ(log.find(secret.substr(0, 32)), std::string::npos) << "n" << i << "'s log";
  }
}

}  // namespace
}  // namespace vigil::integration
