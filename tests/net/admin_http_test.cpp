// The admin port against a fake NodeService, with a Boost.Beast client: /metrics,
// /status (anti-entropy included) and POST /repair, 404 and 405, keep-alive, and that a
// malformed or oversized request gets an error and closes only its own connection.

#include "net/admin_http.h"

#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "tests/net/fake_node_service.h"
#include "tests/support/temp_directory.h"

namespace vigil::net {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

class Harness {
 public:
  explicit Harness(FaultFilter* filter = nullptr, const config::Config& base = config())
      : service_(io_, base), server_(io_, service_, metrics_, base) {
    service_.filter = filter;
    auto bound = server_.start();
    if (!bound.ok()) throw std::runtime_error(bound.status().to_string());
    port_ = bound->port();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Harness() {
    std::promise<void> stopped;
    boost::asio::post(io_, [&] {
      server_.stop();
      stopped.set_value();
    });
    stopped.get_future().wait();
    work_.reset();
    thread_.join();
  }
  const Metrics& metrics() const { return metrics_; }
  static config::Config config() {
    config::Config config;
    config.node.admin = {"127.0.0.1", 0};
    return config;
  }
  // A connected client socket (on the test thread's own io_context).
  tcp::socket connect(boost::asio::io_context& client_io) {
    tcp::socket socket(client_io);
    socket.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                 static_cast<unsigned short>(port_)));
    return socket;
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
  testing::FakeNodeService service_;
  Metrics metrics_;
  AdminHttpServer server_;
  int port_ = 0;
  std::thread thread_;
};

http::response<http::string_body> request(tcp::socket& socket, http::verb method,
                                          std::string target, bool keep_alive = false,
                                          std::string body = "",
                                          std::string authorization = "") {
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!authorization.empty()) req.set(http::field::authorization, authorization);
  req.keep_alive(keep_alive);
  if (!body.empty()) {
    req.body() = std::move(body);
    req.prepare_payload();
  }
  http::write(socket, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.skip(method == http::verb::head);  // a HEAD response has no body to read
  http::read(socket, buffer, parser);
  return parser.release();
}

// True when the server has closed `socket` (a read ends with EOF or a reset).
bool closed_by_server(tcp::socket& socket) {
  char byte;
  boost::system::error_code error;
  boost::asio::read(socket, boost::asio::buffer(&byte, 1), error);
  return error == boost::asio::error::eof || error == boost::asio::error::connection_reset;
}

TEST(AdminHttp, ServesMetrics) {
  Harness harness;
  boost::asio::io_context io;
  tcp::socket socket = harness.connect(io);
  auto response = request(socket, http::verb::get, "/metrics");
  EXPECT_EQ(response.result(), http::status::ok);
  EXPECT_EQ(response[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(response.body().find("\nvigil_node_hints_stored_total 4\n"), std::string::npos);
  EXPECT_NE(response.body().find("vigil_member_phi{member=\"n2\"} 9.5\n"), std::string::npos);
  // Anti-entropy's counters are there like every other (zero in the fake).
  for (const char* name : {"ae_keys_compared", "ae_keys_repaired_missing",
                           "ae_keys_repaired_inconsistent", "ae_keys_repaired_background",
                           "ae_bytes_sent", "ae_exchanges_started",
                           "ae_corrupt_records_repaired"}) {
    EXPECT_NE(response.body().find("\nvigil_node_" + std::string(name) + "_total 0\n"),
              std::string::npos)
        << name;
  }
  EXPECT_TRUE(closed_by_server(socket));  // Connection: close was asked
}

TEST(AdminHttp, ServesStatusAsJson) {
  Harness harness;
  boost::asio::io_context io;
  tcp::socket socket = harness.connect(io);
  auto response = request(socket, http::verb::get, "/status?pretty=1");
  ASSERT_EQ(response.result(), http::status::ok);
  EXPECT_EQ(response[http::field::content_type], "application/json");
  const auto status = nlohmann::json::parse(response.body());
  EXPECT_EQ(status["node"]["id"], "n1");
  EXPECT_EQ(status["node"]["client"], "127.0.0.1:6401");
  EXPECT_EQ(status["ring"]["ownership"]["n2"], 0.5);
  ASSERT_EQ(status["members"].size(), 2u);
  EXPECT_EQ(status["members"][1]["id"], "n2");
  EXPECT_EQ(status["members"][1]["state"], "suspect");
  EXPECT_EQ(status["members"][1]["phi"], 9.5);
  EXPECT_EQ(status["members"][1]["incarnation"], 1);
  EXPECT_EQ(status["members"][1]["heartbeat"], 37);
  EXPECT_EQ(status["members"][0]["self"], true);
  ASSERT_EQ(status["routes"].size(), 1u);
  EXPECT_EQ(status["routes"][0]["peer"], "n2");
  EXPECT_EQ(status["routes"][0]["breaker"], "open");
  EXPECT_EQ(status["peer_connections"][0]["state"], "backoff");
  EXPECT_EQ(status["counters"]["hints_delivered"], 3);
  const auto& ae = status["anti_entropy"];
  EXPECT_EQ(ae["exchanges_completed"], 7);
  EXPECT_EQ(ae["exchanges_pending"], 0);
  ASSERT_EQ(ae["trees"].size(), 1u);
  const auto& tree = ae["trees"][0];
  EXPECT_EQ(tree["replicas"], nlohmann::json::array({"n1", "n2"}));
  EXPECT_EQ(tree["root_hash"], "00abcdef01234567");
  EXPECT_EQ(tree["keys"], 42);
  ASSERT_EQ(tree["peers"].size(), 2u);
  EXPECT_EQ(tree["peers"][0]["peer"], "n2");
  EXPECT_DOUBLE_EQ(tree["peers"][0]["last_exchange_seconds_ago"].get<double>(), 2.5);
  EXPECT_EQ(tree["peers"][0]["outcome"], "equal");
  EXPECT_TRUE(tree["peers"][1]["last_exchange_seconds_ago"].is_null());
  EXPECT_EQ(tree["peers"][1]["outcome"], "");
}

TEST(AdminHttp, PostRepairStartsExchangesAndAnswers202) {
  Harness harness;
  boost::asio::io_context io;
  tcp::socket socket = harness.connect(io);
  auto response = request(socket, http::verb::post, "/repair", true);
  ASSERT_EQ(response.result(), http::status::accepted);
  EXPECT_EQ(response[http::field::content_type], "application/json");
  const auto body = nlohmann::json::parse(response.body());
  EXPECT_EQ(body["exchanges_completed"], 7);
  EXPECT_EQ(body["exchanges_pending"], 1);  // the fake queues one per request
  // Only POST starts anything: GET and HEAD are 405 naming POST, and change nothing.
  auto get = request(socket, http::verb::get, "/repair", true);
  EXPECT_EQ(get.result(), http::status::method_not_allowed);
  EXPECT_EQ(get[http::field::allow], "POST");
  EXPECT_NE(get.body().find("/repair takes POST"), std::string::npos);
  auto status = nlohmann::json::parse(request(socket, http::verb::get, "/status", true).body());
  EXPECT_EQ(status["anti_entropy"]["exchanges_pending"], 1);
  EXPECT_EQ(request(socket, http::verb::post, "/repair", true).result(), http::status::accepted);
  status = nlohmann::json::parse(request(socket, http::verb::get, "/status", true).body());
  EXPECT_EQ(status["anti_entropy"]["exchanges_pending"], 2);
}

TEST(AdminHttp, OtherPathsAre404AndOtherMethods405WithKeepAlive) {
  Harness harness;
  boost::asio::io_context io;
  tcp::socket socket = harness.connect(io);
  auto missing = request(socket, http::verb::get, "/nope", true);
  EXPECT_EQ(missing.result(), http::status::not_found);
  EXPECT_NE(missing.body().find("POST /repair"), std::string::npos);
  EXPECT_EQ(request(socket, http::verb::post, "/repairs", true).result(),
            http::status::not_found);
  auto post = request(socket, http::verb::post, "/metrics", true);
  EXPECT_EQ(post.result(), http::status::method_not_allowed);
  EXPECT_EQ(post[http::field::allow], "GET, HEAD");
  auto head = request(socket, http::verb::head, "/status", true);
  EXPECT_EQ(head.result(), http::status::ok);
  EXPECT_EQ(head.body(), "");
  EXPECT_GT(std::stoul(std::string(head[http::field::content_length])), 100u);
  // The same connection still serves (keep-alive).
  EXPECT_EQ(request(socket, http::verb::get, "/metrics", true).result(), http::status::ok);
}

TEST(AdminHttp, BadRequestsCloseOnlyTheirConnection) {
  Harness harness;
  boost::asio::io_context io;
  tcp::socket good = harness.connect(io);
  EXPECT_EQ(request(good, http::verb::get, "/status", true).result(), http::status::ok);

  tcp::socket garbage = harness.connect(io);
  const std::string junk = "NOT HTTP AT ALL\r\n\r\n";
  boost::asio::write(garbage, boost::asio::buffer(junk));
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(garbage, buffer, response);
  EXPECT_EQ(response.result(), http::status::bad_request);
  EXPECT_TRUE(closed_by_server(garbage));

  tcp::socket oversized = harness.connect(io);
  const std::string big = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') +
                          "\r\n\r\n";
  boost::system::error_code ignored;
  boost::asio::write(oversized, boost::asio::buffer(big), ignored);
  beast::flat_buffer big_buffer;
  http::response<http::string_body> big_response;
  http::read(oversized, big_buffer, big_response, ignored);
  if (!ignored) {
    EXPECT_EQ(big_response.result(), http::status::bad_request);
  }
  EXPECT_TRUE(closed_by_server(oversized));

  tcp::socket body = harness.connect(io);
  const std::string with_body = "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n";
  boost::asio::write(body, boost::asio::buffer(with_body));
  beast::flat_buffer body_buffer;
  http::response<http::string_body> body_response;
  http::read(body, body_buffer, body_response);
  EXPECT_EQ(body_response.result(), http::status::payload_too_large);
  EXPECT_TRUE(closed_by_server(body));

  EXPECT_EQ(request(good, http::verb::get, "/metrics", true).result(), http::status::ok);
}

}  // namespace
}  // namespace vigil::net

namespace vigil::net {
namespace {

TEST(AdminHttp, FaultIsRefusedWithoutTheFaultInjectionFlag) {
  Harness harness;  // no filter: the node was started without --enable-fault-injection
  boost::asio::io_context io;
  tcp::socket socket = harness.connect(io);
  auto post = request(socket, http::verb::post, "/fault", true, R"({"drop_to": ["n2"]})");
  EXPECT_EQ(post.result(), http::status::forbidden);
  EXPECT_NE(post.body().find("--enable-fault-injection"), std::string::npos) << post.body();
  EXPECT_EQ(request(socket, http::verb::get, "/fault", true).result(), http::status::forbidden);
}

TEST(AdminHttp, FaultPostReplacesTheFilterRulesAndRefusesBadBodies) {
  FaultFilter filter(7);
  Harness harness(&filter);
  boost::asio::io_context io;
  tcp::socket socket = harness.connect(io);
  auto post = request(socket, http::verb::post, "/fault", true,
                      R"({"drop_to": ["n2"], "drop_from": ["n3"], "clock_offset_us": 5000000})");
  ASSERT_EQ(post.result(), http::status::ok) << post.body();
  const auto body = nlohmann::json::parse(post.body());
  EXPECT_EQ(body["rules"]["drop_to"], nlohmann::json::array({"n2"}));
  EXPECT_EQ(body["rules"]["clock_offset_us"], 5000000);
  // The rules the handler set are the filter's (the server runs on its own thread, but
  // the response was written after they were set).
  EXPECT_EQ(filter.rules().drop_from, std::set<core::NodeId>{"n3"});
  EXPECT_EQ(filter.rules().clock_offset_us, 5000000);

  auto bad = request(socket, http::verb::post, "/fault", true, R"({"loss": 2})");
  EXPECT_EQ(bad.result(), http::status::bad_request);
  EXPECT_NE(bad.body().find("loss: expected a number in [0, 1]"), std::string::npos)
      << bad.body();
  auto unknown = request(socket, http::verb::post, "/fault", true, R"({"partition": 1})");
  EXPECT_EQ(unknown.result(), http::status::bad_request);
  EXPECT_NE(unknown.body().find("partition: unknown key"), std::string::npos) << unknown.body();
  EXPECT_EQ(filter.rules().drop_to, std::set<core::NodeId>{"n2"});  // refused: unchanged
  auto put = request(socket, http::verb::put, "/fault", true);
  EXPECT_EQ(put.result(), http::status::method_not_allowed);
  auto cleared = request(socket, http::verb::post, "/fault", true, "{}");
  ASSERT_EQ(cleared.result(), http::status::ok);
  EXPECT_EQ(filter.rules(), FaultRules{});
}

// security.admin_token_file: POSTs need the bearer token (401 without it or with another),
// views stay open unless admin_token_for_views; a 401 is counted.
TEST(AdminHttp, TokenGuardsMutatingEndpoints) {
  testing_support::TempDirectory dir("admin-token");
  const std::string token = "an admin token of some length";
  std::ofstream(dir.path() + "/admin.token") << token << "\n";
  config::Config config = Harness::config();
  config.security.admin_token_file = dir.path() + "/admin.token";
  Harness harness(nullptr, config);
  boost::asio::io_context io;
  tcp::socket socket = harness.connect(io);
  auto refused = request(socket, http::verb::post, "/repair", true);
  EXPECT_EQ(refused.result(), http::status::unauthorized);
  EXPECT_EQ(refused[http::field::www_authenticate], "Bearer realm=\"vigil-admin\"");
  for (const std::string& wrong : std::vector<std::string>{"Bearer " + token + "x", "Bearer an admin token", "Basic abc",
                                  "Bearer ", token}) {
    EXPECT_EQ(request(socket, http::verb::post, "/repair", true, "", wrong).result(),
              http::status::unauthorized)
        << wrong;
  }
  EXPECT_EQ(request(socket, http::verb::post, "/fault", true, "{}").result(),
            http::status::unauthorized);
  EXPECT_EQ(request(socket, http::verb::post, "/repair", true, "", "Bearer " + token).result(),
            http::status::accepted);
  EXPECT_EQ(request(socket, http::verb::get, "/metrics", true).result(), http::status::ok);
  const auto metrics = request(socket, http::verb::get, "/metrics", true);
  EXPECT_NE(metrics.body().find("\nvigil_admin_requests_unauthorized_total 7\n"),
            std::string::npos);
}

TEST(AdminHttp, TokenForViewsGuardsMetricsAndStatus) {
  testing_support::TempDirectory dir("admin-token");
  const std::string token = "0123456789abcdef0123456789abcdef";
  std::ofstream(dir.path() + "/admin.token") << token;
  config::Config config = Harness::config();
  config.security.admin_token_file = dir.path() + "/admin.token";
  config.security.admin_token_for_views = true;
  Harness harness(nullptr, config);
  boost::asio::io_context io;
  tcp::socket socket = harness.connect(io);
  for (const char* path : {"/metrics", "/status"}) {
    EXPECT_EQ(request(socket, http::verb::get, path, true).result(), http::status::unauthorized);
    const auto ok = request(socket, http::verb::get, path, true, "", "Bearer " + token);
    EXPECT_EQ(ok.result(), http::status::ok) << path;
    EXPECT_EQ(ok.body().find(token), std::string::npos) << path;  // never echoed
  }
  // Another path is still 404, not 401: the token guards endpoints, not the port's map.
  EXPECT_EQ(request(socket, http::verb::get, "/nothing", true).result(),
            http::status::not_found);
}

TEST(AdminHttp, AMissingOrShortTokenFileStopsTheServerNamingIt) {
  testing_support::TempDirectory dir("admin-token");
  std::ofstream(dir.path() + "/short.token") << "short";
  for (const std::string& file :
       std::vector<std::string>{dir.path() + "/absent.token", dir.path() + "/short.token"}) {
    boost::asio::io_context io;
    config::Config config = Harness::config();
    config.security.admin_token_file = file;
    testing::FakeNodeService service(io, config);
    Metrics metrics;
    AdminHttpServer server(io, service, metrics, config);
    const auto started = server.start();
    ASSERT_FALSE(started.ok());
    EXPECT_NE(started.status().message().find("security.admin_token_file"), std::string::npos);
    EXPECT_NE(started.status().message().find(file), std::string::npos)
        << started.status().message();
  }
}

}  // namespace
}  // namespace vigil::net
