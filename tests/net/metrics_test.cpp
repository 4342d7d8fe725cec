// The Prometheus exposition: exact lines for known figures (golden-ish), the format's
// rules checked over the whole text (HELP and TYPE before each family's samples, every
// family once, sample lines well formed, escaping), and the histogram layout.

#include "net/metrics.h"

#include <gtest/gtest.h>

#include <limits>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "net/prometheus_text.h"
#include "tests/net/fake_node_service.h"

namespace vigil::net {
namespace {

bool contains_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string got; std::getline(in, got);) {
    if (got == line) return true;
  }
  return false;
}

TEST(PrometheusText, EscapesAndFormats) {
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(escape_help("x\\y\nz\""), "x\\\\y\\nz\"");
  EXPECT_EQ(format_sample_value(3), "3");
  EXPECT_EQ(format_sample_value(0.25), "0.25");
  EXPECT_EQ(format_sample_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_sample_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_sample_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(sanitize_metric_name("replies_code_io-error"), "replies_code_io_error");
  EXPECT_EQ(sanitize_metric_name("9lives"), "_9lives");
}

TEST(PrometheusText, HistogramBucketsAreCumulative) {
  PrometheusText text;
  Histogram histogram({1, 2, 4});
  for (double v : {0.5, 1.0, 3.0, 3.5, 100.0}) histogram.observe(v);
  text.family("x_seconds", "histogram", "Help.");
  text.histogram("x_seconds", {{"command", "g\"et"}}, histogram);
  EXPECT_EQ(text.text(),
            "# HELP x_seconds Help.\n"
            "# TYPE x_seconds histogram\n"
            "x_seconds_bucket{command=\"g\\\"et\",le=\"1\"} 2\n"
            "x_seconds_bucket{command=\"g\\\"et\",le=\"2\"} 2\n"
            "x_seconds_bucket{command=\"g\\\"et\",le=\"4\"} 4\n"
            "x_seconds_bucket{command=\"g\\\"et\",le=\"+Inf\"} 5\n"
            "x_seconds_sum{command=\"g\\\"et\"} 108\n"
            "x_seconds_count{command=\"g\\\"et\"} 5\n");
}

TEST(Metrics, ExpositionHasTheNodeAndClientFigures) {
  boost::asio::io_context io;
  config::Config config;
  testing::FakeNodeService service(io, config);
  Metrics metrics;
  metrics.record_command("get", "quorum", 0.0003);
  metrics.record_command("get", "quorum", 0.02);
  metrics.record_command("set", "all", 0.001);
  metrics.record_error("unavailable");
  metrics.connection_opened();
  metrics.connection_refused();
  const std::string text = metrics.exposition(service);

  for (const char* line : {
           "# TYPE vigil_client_requests_total counter",
           "vigil_client_requests_total{command=\"get\",consistency=\"quorum\"} 2",
           "vigil_client_requests_total{command=\"set\",consistency=\"all\"} 1",
           "# TYPE vigil_client_request_duration_seconds histogram",
           "vigil_client_request_duration_seconds_bucket{command=\"get\",consistency=\"quorum\","
           "le=\"0.00025\"} 0",
           "vigil_client_request_duration_seconds_bucket{command=\"get\",consistency=\"quorum\","
           "le=\"0.0005\"} 1",
           "vigil_client_request_duration_seconds_bucket{command=\"get\",consistency=\"quorum\","
           "le=\"+Inf\"} 2",
           "vigil_client_request_duration_seconds_count{command=\"get\",consistency=\"quorum\"} 2",
           "vigil_client_errors_total{kind=\"unavailable\"} 1",
           "vigil_client_errors_total{kind=\"timeout\"} 0",
           "vigil_client_connections 1",
           "vigil_client_connections_refused_total 1",
           "vigil_node_info{node=\"n1\"} 1",
           "# HELP vigil_node_quorum_failures_total Client requests answered unavailable: R or W "
           "not reached.",
           "vigil_node_quorum_failures_total 0",
           "vigil_node_hints_stored_total 4",
           "vigil_node_hints_delivered_total 3",
           "vigil_node_hints_expired_total 1",
           "vigil_node_tombstones_held 3",
           "vigil_node_hints_pending 2",
           "vigil_peer_connection_state{peer=\"n2\",address=\"127.0.0.1:7402\",state=\"backoff\"} 1",
           "vigil_peer_connection_state{peer=\"n2\",address=\"127.0.0.1:7402\",state=\"connected\"} 0",
           "vigil_peer_send_queue_bytes{peer=\"n2\"} 128",
           "vigil_member_state{member=\"n2\",state=\"suspect\"} 1",
           "vigil_member_state{member=\"n2\",state=\"alive\"} 0",
           "vigil_member_phi{member=\"n2\"} 9.5",
           "vigil_member_heartbeat{member=\"n1\"} 40",
           "vigil_member_incarnation{member=\"n1\"} 2",
           "vigil_peer_breaker_state{peer=\"n2\",state=\"open\"} 1",
           "vigil_peer_breaker_state{peer=\"n2\",state=\"closed\"} 0",
           "vigil_node_breaker_openings_total 0",
           "vigil_node_routes_short_circuited_total 0",
           "vigil_node_forward_retries_silence_total 0",
           "vigil_ring_ownership_ratio{node=\"n1\"} 0.5",
           "vigil_store_commit_duration_seconds_bucket{le=\"0.0025\"} 1",
           "vigil_store_commit_duration_seconds_count 1",
           "vigil_store_commit_batch_size_bucket{le=\"2\"} 0",
           "vigil_store_commit_batch_size_bucket{le=\"4\"} 1",
           "vigil_store_commits_total 1",
       }) {
    EXPECT_TRUE(contains_line(text, line)) << "missing: " << line << "\nin:\n" << text;
  }
}

TEST(Metrics, ExpositionFollowsTheTextFormat) {
  boost::asio::io_context io;
  testing::FakeNodeService service(io, config::Config{});
  Metrics metrics;
  metrics.record_command("get", "one", 0.01);
  metrics.record_command("ping", "none", 0.00001);
  const std::string text = metrics.exposition(service);
  ASSERT_FALSE(text.empty());
  ASSERT_EQ(text.back(), '\n');
  const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+)");
  const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram))");
  const std::regex sample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? )"
      R"((-?[0-9.e+-]+|\+Inf|-Inf|NaN))");
  std::set<std::string> families;
  std::string current;
  std::string current_type;
  std::string pending_help;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::smatch match;
    if (std::regex_match(line, match, help)) {
      pending_help = match[1];
      EXPECT_TRUE(families.insert(pending_help).second) << "family twice: " << line;
    } else if (std::regex_match(line, match, type)) {
      EXPECT_EQ(match[1], pending_help) << "TYPE without its HELP: " << line;
      current = match[1];
      current_type = match[2];
    } else {
      ASSERT_TRUE(std::regex_match(line, match, sample)) << "malformed: " << line;
      const std::string name = match[1];
      const bool belongs =
          name == current || (current_type == "histogram" &&
                              (name == current + "_bucket" || name == current + "_sum" ||
                               name == current + "_count"));
      EXPECT_TRUE(belongs) << line << " outside its family " << current;
    }
  }
  EXPECT_GT(families.size(), 20u);
}

}  // namespace
}  // namespace vigil::net
