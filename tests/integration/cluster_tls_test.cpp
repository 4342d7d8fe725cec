// TLS with real processes (docs/security.md, "TLS"): `vigil cluster up --tls` makes a CA
// and node certificates and turns TLS on for every port; its readiness probes, and then
// `vigil cluster repair`, reach the nodes over TLS. redis-cli --tls works against the
// client port and a write replicates over mutual-TLS peer connections; a client without
// TLS is closed, and a peer presenting a certificate of another CA (or none) is refused;
// every refusal is counted. vigil::Client (and `vigil client --dir`) reach the cluster over
// TLS, and refuse a node whose certificate another CA signed.

#include "cli/cluster_tls.h"

#include <array>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <fstream>

#include "client/client.h"
#include "cluster_fixture.h"

namespace vigil::integration {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

class ClusterTlsTest : public ClusterTest {
 protected:
  std::vector<std::string> up_flags() const override { return {"--tls"}; }
  // A short handshake bound, so the silent client below is closed within seconds.
  std::string overlay() const override {
    return std::string(test_overlay) + "security:\n  tls:\n    handshake_timeout: 2s\n";
  }
  std::string ca_file() const { return dir() + "/tls/ca.pem"; }

  // GET `path` over HTTPS from node `index`'s admin port, verifying it against the CA.
  std::string https_get(std::size_t index, const std::string& path) {
    try {
      asio::io_context io;
      ssl::context context(ssl::context::tls_client);
      context.load_verify_file(ca_file());
      context.set_verify_mode(ssl::verify_peer);
      ssl::stream<tcp::socket> stream(io, context);
      tcp::resolver resolver(io);
      asio::connect(
          stream.next_layer(),
          resolver.resolve("127.0.0.1", std::to_string(cluster_nodes()[index].admin_port)));
      stream.handshake(ssl::stream_base::client);
      http::request<http::string_body> request{http::verb::get, path, 11};
      request.set(http::field::host, "127.0.0.1");
      http::write(stream, request);
      beast::flat_buffer buffer;
      http::response<http::string_body> response;
      http::read(stream, buffer, response);
      return response.result() == http::status::ok ? response.body() : "";
    } catch (const std::exception&) {
      return "";
    }
  }

  long long counter(std::size_t index, const std::string& name) {
    const nlohmann::json status =
        nlohmann::json::parse(https_get(index, "/status"), nullptr, false);
    if (status.is_discarded() || !status.contains("counters") ||
        !status["counters"].contains(name)) {
      return -1;
    }
    return status["counters"][name].get<long long>();
  }

  // n1's peer port, from the cluster's layout.
  std::uint16_t n1_peer_port() {
    std::ifstream in(dir() + "/cluster.json");
    const nlohmann::json layout = nlohmann::json::parse(in);
    const std::string listen = layout.at("nodes").at(0).at("listen").get<std::string>();
    return static_cast<std::uint16_t>(std::stoi(listen.substr(listen.rfind(':') + 1)));
  }

  // Dials n1's peer port with TLS, presenting `certificate` (none when empty), sends a few
  // bytes and reads: true when n1 closed the connection within 5 s without sending a byte
  // of application data.
  bool peer_refuses(const cli::PemCertificate* certificate) {
    asio::io_context io;
    ssl::context context(ssl::context::tls_client);
    context.set_verify_mode(ssl::verify_none);  // the intruder does not care who n1 is
    if (certificate != nullptr) {
      context.use_certificate(asio::buffer(certificate->certificate), ssl::context::pem);
      context.use_private_key(asio::buffer(certificate->private_key), ssl::context::pem);
    }
    ssl::stream<tcp::socket> stream(io, context);
    stream.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), n1_peer_port()));
    bool closed = false;
    std::size_t received = 0;
    std::array<char, 256> chunk{};
    std::function<void()> read_more = [&] {
      stream.async_read_some(asio::buffer(chunk),
                             [&](const boost::system::error_code& error, std::size_t got) {
                               received += got;
                               if (error) {
                                 closed = true;
                               } else {
                                 read_more();
                               }
                             });
    };
    stream.async_handshake(ssl::stream_base::client, [&](const boost::system::error_code& error) {
      if (error) {
        closed = true;  // refused inside the handshake (TLS 1.2, or an alert in time)
        return;
      }
      // TLS 1.3: the client finishes first; the acceptor's verdict arrives as an alert.
      asio::async_write(stream, asio::buffer(std::string("VHS hello")),
                        [](const boost::system::error_code&, std::size_t) {});
      read_more();
    });
    io.run_for(seconds(5));
    return closed && received == 0;
  }
};

TEST_F(ClusterTlsTest, RedisCliOverTlsWorksAndPlainClientsAndForeignPeersAreRefused) {
  const NodeInfo& n1 = cluster_nodes()[0];
  // redis-cli --tls: a write on n1 read back through n3, both reaching their quorums over
  // the peers' mutual TLS.
  const auto redis_cli = [&](std::size_t node, std::vector<std::string> arguments) {
    std::vector<std::string> argv{"/usr/bin/redis-cli",
                                  "--tls",
                                  "--cacert",
                                  ca_file(),
                                  "-h",
                                  "127.0.0.1",
                                  "-p",
                                  std::to_string(cluster_nodes()[node].client_port)};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    return run_command(argv, seconds(30));
  };
  const CommandResult set = redis_cli(0, {"SET", "tls-key", "over-tls"});
  ASSERT_EQ(set.out, "OK\n") << describe(set);
  const CommandResult get = redis_cli(2, {"GET", "tls-key"});
  EXPECT_EQ(get.out, "over-tls\n") << describe(get);
  for (std::size_t i = 0; i < nodes; ++i) {
    EXPECT_GT(counter(i, "peer_handshakes_accepted"), 0) << "node " << i + 1;
    EXPECT_EQ(counter(i, "peer_tls_handshakes_refused"), 0) << "node " << i + 1;
  }

  // A client without TLS: the node closes the connection, no reply.
  const timeval timeout{5, 0};
  Redis plain(redisConnectWithTimeout("127.0.0.1", n1.client_port, timeout));
  ASSERT_TRUE(plain && plain->err == 0);
  redisSetTimeout(plain.get(), timeout);
  const Reply pong = command(plain.get(), {"PING"});
  EXPECT_FALSE(pong) << text(pong);
  EXPECT_NE(https_get(0, "/metrics").find("vigil_tls_handshakes_failed_total{port=\"client\"} 1"),
            std::string::npos);
  // A client that connects and never starts the handshake holds its slot only until
  // security.tls.handshake_timeout (2 s here), then is closed and counted.
  {
    asio::io_context io;
    tcp::socket silent(io);
    silent.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                 static_cast<std::uint16_t>(n1.client_port)));
    const auto connected = Clock::now();
    std::array<char, 16> chunk{};
    boost::system::error_code closed;
    silent.async_read_some(asio::buffer(chunk), [&](const boost::system::error_code& error,
                                                    std::size_t) { closed = error; });
    io.run_for(seconds(10));
    EXPECT_TRUE(closed) << "the silent client was not closed";
    EXPECT_LT(Clock::now() - connected, seconds(8));
  }
  EXPECT_NE(https_get(0, "/metrics").find("vigil_tls_handshakes_failed_total{port=\"client\"} 2"),
            std::string::npos);
  // The admin port is HTTPS only: plain HTTP gets nothing.
  EXPECT_EQ(admin_get(0, "/status"), "");

  // vigil::Client over TLS: a token-aware round trip with the cluster's CA, the write above
  // read back; then a Client that trusts only another CA refuses the nodes.
  {
    ClientOptions options;
    for (const NodeInfo& node : cluster_nodes()) {
      options.seeds.push_back("127.0.0.1:" + std::to_string(node.client_port));
    }
    options.tls.enabled = true;
    options.tls.ca_file = ca_file();
    options.connect_timeout = seconds(5);  // room for slow handshakes under ASan
    Client client(options);
    EXPECT_EQ(client.get("tls-key"), std::optional<std::string>("over-tls"));
    client.set("client-tls-key", "through vigil::Client");
    EXPECT_EQ(client.get("client-tls-key"), std::optional<std::string>("through vigil::Client"));
    EXPECT_EQ(client.stats().failures, 0u);

    const auto foreign = cli::make_ca_certificate("another CA", std::chrono::hours(24));
    ASSERT_TRUE(foreign.ok());
    const std::string foreign_file = dir() + "/foreign-ca.pem";
    std::ofstream(foreign_file) << foreign->certificate;
    options.tls.ca_file = foreign_file;
    options.max_retries = 0;
    try {
      Client refused(options);
      ADD_FAILURE() << "a Client trusting another CA reached the cluster";
    } catch (const ClientError& error) {
      EXPECT_EQ(error.code(), ErrorCode::connection) << error.what();
      EXPECT_NE(std::string(error.what()).find("TLS handshake failed"), std::string::npos)
          << error.what();
    }
  }
  // `vigil client --dir` takes TLS and the CA from the cluster directory.
  const CommandResult cli_get =
      vigil({"client", "--dir", dir(), "--connect-timeout-ms", "5000", "get", "client-tls-key"},
            seconds(30));
  EXPECT_EQ(cli_get.out, "\"through vigil::Client\"\n") << describe(cli_get);

  // A peer whose certificate another CA signed, and one with no certificate: refused.
  const auto rogue_ca = cli::make_ca_certificate("vigil local cluster CA", std::chrono::hours(24));
  ASSERT_TRUE(rogue_ca.ok());
  const auto rogue = cli::make_node_certificate(*rogue_ca, "127.0.0.1", std::chrono::hours(24));
  ASSERT_TRUE(rogue.ok());
  const long long refused_before = counter(0, "peer_tls_handshakes_refused");
  EXPECT_TRUE(peer_refuses(&*rogue));
  EXPECT_TRUE(peer_refuses(nullptr));
  EXPECT_TRUE(
      eventually([&] { return counter(0, "peer_tls_handshakes_refused") >= refused_before + 2; },
                 seconds(10)));

  // The cluster tools reach the admin ports over TLS.
  const CommandResult repair = vigil({"cluster", "repair", "--dir", dir()}, seconds(60));
  EXPECT_EQ(repair.exit_code, 0) << describe(repair);
}

}  // namespace
}  // namespace vigil::integration
