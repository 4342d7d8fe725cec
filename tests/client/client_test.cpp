// vigil::Client against one fake node (tests/net/fake_node_service.h, whose ring is n1 and
// n2, n2 at an unknown address): every call's reply shape, typed errors, the retry bound,
// the async forms, and routing around a node whose address is unknown.

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "client/client.h"
#include "tests/net/resp_harness.h"

namespace vigil {
namespace {

using std::chrono::milliseconds;

ClientOptions options_for(const net::testing::Harness& harness) {
  ClientOptions options;
  options.seeds = {"127.0.0.1:" + std::to_string(harness.port())};
  options.retry_backoff_initial = milliseconds(1);
  options.retry_backoff_max = milliseconds(4);
  options.request_timeout = milliseconds(5000);
  options.random_seed = 7;
  return options;
}

TEST(Client, PlainAndCausalCommandsRoundTrip) {
  net::testing::Harness harness;
  Client client(options_for(harness));
  EXPECT_EQ(client.ring_version(), 1u);
  EXPECT_EQ(client.get("k"), std::nullopt);
  client.set("k", "v1");
  EXPECT_EQ(client.get("k"), "v1");
  const Versioned read = client.vget("k");
  EXPECT_FALSE(read.context.empty());
  EXPECT_EQ(read.values, (std::vector<std::optional<std::string>>{"v1"}));
  const std::string context = client.vset("k", "v2", read.context);
  EXPECT_EQ(client.vget("k").values, (std::vector<std::optional<std::string>>{"v2"}));
  EXPECT_TRUE(client.del("k"));
  EXPECT_FALSE(client.vdel("k", context).empty());
  EXPECT_EQ(client.get("k"), std::nullopt);
  const ClientStats stats = client.stats();
  EXPECT_EQ(stats.requests, 9u);
  EXPECT_EQ(stats.retries, 0u);
  EXPECT_EQ(stats.failures, 0u);
}

TEST(Client, AsyncFormsRunOnTheWorkerAndCarryErrors) {
  net::testing::Harness harness;
  Client client(options_for(harness));
  auto written = client.set_async("a", "1");
  auto read = client.get_async("a");  // queued after the write: one worker, in order
  written.get();
  EXPECT_EQ(read.get(), "1");
  EXPECT_EQ(client.vget_async("a").get().values.size(), 1u);
  EXPECT_TRUE(client.del_async("a").get());
  auto too_long = client.get_async(std::string(200, 'k'));  // over the fake's 100-byte keys
  try {
    too_long.get();
    FAIL() << "a key over the node's limit was accepted";
  } catch (const ClientError& error) {
    EXPECT_EQ(error.code(), ErrorCode::invalid_argument) << error.what();
    EXPECT_FALSE(error.retryable());
  }
}

TEST(Client, UnavailableIsRetriedAsThePolicySaysThenThrownTyped) {
  net::testing::Harness harness;
  ClientOptions options = options_for(harness);
  options.max_retries = 2;
  Client client(options);
  harness.service().unavailable = true;
  try {
    client.set("k", "v");
    FAIL() << "no quorum, yet the write succeeded";
  } catch (const ClientError& error) {
    EXPECT_EQ(error.code(), ErrorCode::unavailable) << error.what();
    EXPECT_NE(std::string(error.what()).find("UNAVAILABLE"), std::string::npos);
  }
  ClientStats stats = client.stats();
  EXPECT_EQ(stats.attempts, 3u) << "the first attempt and max_retries retries";
  EXPECT_EQ(stats.retries, 2u);
  EXPECT_EQ(stats.failures, 1u);
  EXPECT_EQ(stats.breaker_openings, 0u) << "a node that answers is not failing";
  // An invalid argument is not retried.
  harness.service().unavailable = false;
  EXPECT_THROW(client.set(std::string(200, 'k'), "v"), ClientError);
  EXPECT_EQ(client.stats().attempts, 4u);
}

TEST(Client, RoutesAroundAMemberWhoseAddressIsUnknown) {
  net::testing::Harness harness;
  Client client(options_for(harness));
  const std::vector<NodeView> nodes = client.nodes();
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes[0].id, "n1");
  EXPECT_TRUE(nodes[0].healthy);
  EXPECT_EQ(nodes[1].id, "n2");
  EXPECT_EQ(nodes[1].address, "");
  EXPECT_FALSE(nodes[1].healthy) << "no address: nothing can be sent to it";
  // Find a key whose primary is n2 (tokens 200 and 400 own (100, 200] and (300, 400]: few
  // keys); any key routes to n1 either way, as its first usable preference-list node.
  for (int i = 0; i < 20; ++i) client.set("key" + std::to_string(i), "v");
  const ClientStats stats = client.stats();
  EXPECT_EQ(stats.attempts, 20u);
  EXPECT_EQ(stats.token_aware, 20u);
  EXPECT_EQ(stats.failures, 0u);
}

TEST(Client, RefusesBadOptionsAndUnreachableSeedsWithTypedErrors) {
  ClientOptions options;
  try {
    Client client(options);
    FAIL();
  } catch (const ClientError& error) {
    EXPECT_EQ(error.code(), ErrorCode::invalid_argument);
  }
  options.seeds = {"127.0.0.1:1"};  // nothing listens on port 1
  options.connect_timeout = milliseconds(200);
  try {
    Client client(options);
    FAIL();
  } catch (const ClientError& error) {
    EXPECT_EQ(error.code(), ErrorCode::connection) << error.what();
  }
}

// TLS options that cannot work are refused before any connection, naming the option.
TEST(Client, RefusesUnusableTlsOptionsNamingThem) {
  const auto refused_for = [](const ClientTlsOptions& tls) -> std::string {
    ClientOptions options;
    options.seeds = {"127.0.0.1:1"};
    options.tls = tls;
    try {
      Client client(options);
    } catch (const ClientError& error) {
      if (error.code() == ErrorCode::invalid_argument) return error.what();
      return std::string("wrong code: ") + error.what();
    }
    return "accepted";
  };
  ClientTlsOptions off;
  off.ca_file = "/etc/ssl/certs/ca-certificates.crt";  // given, but TLS is off
  EXPECT_NE(refused_for(off).find("tls.enabled is false"), std::string::npos) << refused_for(off);
  ClientTlsOptions missing_ca;
  missing_ca.enabled = true;
  missing_ca.ca_file = "/nonexistent/ca.pem";
  EXPECT_NE(refused_for(missing_ca).find("tls.ca_file"), std::string::npos)
      << refused_for(missing_ca);
  ClientTlsOptions half_pair;
  half_pair.enabled = true;
  half_pair.cert_file = "/nonexistent/client.pem";
  EXPECT_NE(refused_for(half_pair).find("tls.key_file go together"), std::string::npos)
      << refused_for(half_pair);
}

}  // namespace
}  // namespace vigil
