// The observability pack against what a node really exports: every metric that the
// Grafana dashboard (docs/dashboards/vigil.json) and the Prometheus rules (docs/alerts.yaml)
// query must be a sample name in the /metrics text of a real NodeRuntime (SQLite store in a
// temporary directory, no sockets needed to render the text), and every label they select
// or group by must be one of that metric's labels (or one Prometheus adds: instance, job,
// or le on a histogram's buckets). The dashboard is also checked against the shape Grafana
// imports (panels with ids, grid positions, targets on the datasource variable), and the
// rules against the shape of a rule file; `promtool check rules` and `promtool test rules`
// (ctest docs.alerts_*) check the PromQL itself.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <boost/asio/io_context.hpp>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "net/metrics.h"
#include "net/node_runtime.h"
#include "tests/support/temp_directory.h"

namespace vigil::net {
namespace {

using testing_support::TempDirectory;

std::string read_file(const std::string& relative) {
  std::ifstream in(std::string(VIGIL_SOURCE_DIR) + "/" + relative);
  EXPECT_TRUE(in.good()) << relative;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Sample name -> the label names its samples carry, from a Prometheus text exposition.
using Exported = std::map<std::string, std::set<std::string>>;

Exported parse_exposition(const std::string& text) {
  Exported exported;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      // A family with no samples yet (no members, no commands) is still exported.
      const std::string name = line.substr(7, line.find(' ', 7) - 7);
      const std::string type = line.substr(line.rfind(' ') + 1);
      exported[name];
      if (type == "histogram") {
        for (const char* suffix : {"_bucket", "_sum", "_count"}) exported[name + suffix];
        exported[name + "_bucket"].insert("le");
      }
      continue;
    }
    if (line[0] == '#') continue;
    const std::size_t end = line.find_first_of("{ ");
    std::set<std::string>& labels = exported[line.substr(0, end)];
    if (end == std::string::npos || line[end] != '{') continue;
    // name{a="x",b="y\"z"} value: label names up to '=', values quoted with escapes.
    std::size_t i = end + 1;
    while (i < line.size() && line[i] != '}') {
      const std::size_t equals = line.find('=', i);
      labels.insert(line.substr(i, equals - i));
      i = equals + 2;  // past ="
      while (i < line.size() && line[i] != '"') i += line[i] == '\\' ? 2 : 1;
      i += 1;  // past the closing quote
      if (i < line.size() && line[i] == ',') i += 1;
    }
  }
  return exported;
}

// The /metrics text of a real node, with one client command recorded so that the client
// families carry their labels. Its peers are never started: members and peer connections
// are listed all the same.
std::string node_exposition() {
  TempDirectory dir{"vigil-observability-test"};
  boost::asio::io_context io;
  config::Config config;
  config.node.id = "n1";
  config.node.data_dir = dir.path() + "/n1";
  for (int i = 1; i <= 3; ++i) {
    config.node.seeds.push_back(config::SeedNode{
        "n" + std::to_string(i), config::Address{"127.0.0.1", static_cast<std::uint16_t>(i)}});
  }
  config.node.listen = config::Address{"127.0.0.1", 1};
  RuntimeOptions options;
  options.listen_on_any_port = true;
  core::Result<std::unique_ptr<NodeRuntime>> runtime = NodeRuntime::open(io, config, options);
  EXPECT_TRUE(runtime.ok()) << runtime.status().to_string();
  if (!runtime.ok()) return "";
  Metrics metrics;
  metrics.record_command("get", "quorum", 0.001);
  metrics.record_error("unavailable");
  return metrics.exposition(**runtime);
}

const Exported& exported() {
  static const Exported value = parse_exposition(node_exposition());
  return value;
}

// Metric names in a PromQL expression: every identifier that starts with vigil_, and `up`.
std::set<std::string> metric_names(const std::string& expr) {
  std::set<std::string> names;
  const std::regex name(R"(\b(vigil_[a-z0-9_]+|up)\b)");
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), name);
       it != std::sregex_iterator(); ++it) {
    names.insert((*it)[1]);
  }
  return names;
}

// Problems of one expression: unknown metrics, labels no metric of it carries.
std::vector<std::string> check_expression(const std::string& where, const std::string& expr) {
  std::vector<std::string> problems;
  std::set<std::string> labels = {"instance", "job"};
  const std::set<std::string> names = metric_names(expr);
  if (names.empty()) problems.push_back(where + ": no vigil_ metric in `" + expr + "`");
  for (const std::string& name : names) {
    if (name == "up") continue;  // Prometheus' own per target
    const auto it = exported().find(name);
    if (it == exported().end()) {
      problems.push_back(where + ": `" + name + "` is not exported by /metrics");
      continue;
    }
    labels.insert(it->second.begin(), it->second.end());
  }
  // Labels in selectors {a="x", b=~"y"} and in by (...) / without (...) clauses.
  const std::regex selector(R"(\{([^}]*)\})");
  const std::regex matcher(R"(([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=))");
  const std::regex grouping(R"(\b(?:by|without)\s*\(([^)]*)\))");
  const std::regex label_name(R"([a-zA-Z_][a-zA-Z0-9_]*)");
  std::set<std::string> used;
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), selector);
       it != std::sregex_iterator(); ++it) {
    const std::string inside = (*it)[1];
    for (auto m = std::sregex_iterator(inside.begin(), inside.end(), matcher);
         m != std::sregex_iterator(); ++m) {
      used.insert((*m)[1]);
    }
  }
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), grouping);
       it != std::sregex_iterator(); ++it) {
    const std::string inside = (*it)[1];
    for (auto m = std::sregex_iterator(inside.begin(), inside.end(), label_name);
         m != std::sregex_iterator(); ++m) {
      used.insert((*m)[0]);
    }
  }
  for (const std::string& label : used) {
    if (labels.count(label) == 0) {
      problems.push_back(where + ": label `" + label + "` is on none of its metrics: `" + expr +
                         "`");
    }
  }
  return problems;
}

TEST(Observability, TheExpositionParserSeesFamiliesSamplesAndLabels) {
  const Exported parsed = parse_exposition(
      "# HELP a_seconds x\n# TYPE a_seconds histogram\n"
      "a_seconds_bucket{command=\"g\\\"e,t\",le=\"1\"} 2\n"
      "# TYPE b_total counter\nb_total 3\n# TYPE c gauge\n");
  EXPECT_EQ(parsed.at("a_seconds_bucket"), (std::set<std::string>{"command", "le"}));
  EXPECT_TRUE(parsed.count("a_seconds_sum") == 1 && parsed.count("a_seconds_count") == 1);
  EXPECT_TRUE(parsed.at("b_total").empty());
  EXPECT_EQ(parsed.count("c"), 1U);
}

TEST(Observability, TheCheckFindsUnknownMetricsAndLabels) {
  EXPECT_TRUE(check_expression("t", "sum by (command) (rate(vigil_client_requests_total[1m]))")
                  .empty());
  EXPECT_EQ(check_expression("t", "rate(vigil_no_such_metric_total[1m])").size(), 1U);
  EXPECT_EQ(check_expression("t", "sum by (colour) (vigil_member_phi{member=\"n2\"})").size(),
            1U);
  EXPECT_EQ(check_expression("t", "vigil_member_phi{peer=\"n2\"}").size(), 1U);
}

TEST(Observability, ANodeExportsTheFiguresTheDashboardNeeds) {
  for (const char* name :
       {"vigil_client_requests_total", "vigil_client_request_duration_seconds_bucket",
        "vigil_node_quorum_failures_total", "vigil_node_hints_pending", "vigil_member_phi",
        "vigil_store_commit_duration_seconds_bucket", "vigil_store_commit_batch_size_bucket",
        "vigil_store_commit_failures_total", "vigil_build_info",
        "vigil_node_read_repairs_sent_total", "vigil_node_ae_keys_repaired_missing_total"}) {
    EXPECT_EQ(exported().count(name), 1U) << name;
  }
  EXPECT_EQ(exported().at("vigil_client_requests_total"),
            (std::set<std::string>{"command", "consistency"}));
  EXPECT_EQ(exported().at("vigil_member_phi"), (std::set<std::string>{"member"}));
}

TEST(Observability, DashboardIsAGrafanaDashboardOverExportedMetrics) {
  const nlohmann::json dashboard = nlohmann::json::parse(read_file("docs/dashboards/vigil.json"));
  ASSERT_TRUE(dashboard.is_object());
  EXPECT_TRUE(dashboard.at("title").is_string());
  EXPECT_TRUE(dashboard.at("uid").is_string());
  EXPECT_TRUE(dashboard.at("schemaVersion").is_number_integer());
  std::set<std::string> variables;
  for (const auto& variable : dashboard.at("templating").at("list")) {
    variables.insert(variable.at("name").get<std::string>());
  }
  EXPECT_EQ(variables, (std::set<std::string>{"datasource", "instance"}));

  std::vector<std::string> problems;
  std::set<int> ids;
  std::set<std::string> queried;
  const std::set<std::string> types = {"row", "timeseries", "stat", "table"};
  for (const auto& panel : dashboard.at("panels")) {
    const std::string title = panel.at("title").get<std::string>();
    EXPECT_FALSE(title.empty());
    EXPECT_TRUE(ids.insert(panel.at("id").get<int>()).second) << "duplicate id: " << title;
    EXPECT_EQ(types.count(panel.at("type").get<std::string>()), 1U) << title;
    const auto& grid = panel.at("gridPos");
    EXPECT_GT(grid.at("w").get<int>(), 0) << title;
    EXPECT_GT(grid.at("h").get<int>(), 0) << title;
    EXPECT_LE(grid.at("x").get<int>() + grid.at("w").get<int>(), 24) << title;
    if (panel.at("type") == "row") continue;
    EXPECT_EQ(panel.at("datasource").at("uid"), "${datasource}") << title;
    ASSERT_FALSE(panel.at("targets").empty()) << title;
    for (const auto& target : panel.at("targets")) {
      EXPECT_FALSE(target.at("refId").get<std::string>().empty()) << title;
      const std::string expr = target.at("expr").get<std::string>();
      for (std::string& problem : check_expression("panel \"" + title + "\"", expr)) {
        problems.push_back(std::move(problem));
      }
      for (const std::string& name : metric_names(expr)) queried.insert(name);
    }
  }
  EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems);
  // What the issue asks the dashboard to show.
  for (const char* name :
       {"vigil_client_requests_total", "vigil_client_request_duration_seconds_bucket",
        "vigil_node_quorum_failures_total", "vigil_node_hints_pending", "vigil_member_phi",
        "vigil_store_commit_duration_seconds_bucket", "vigil_store_commit_batch_size_bucket",
        "vigil_node_read_repairs_sent_total", "vigil_node_ae_keys_repaired_missing_total"}) {
    EXPECT_EQ(queried.count(name), 1U) << "the dashboard does not show " << name;
  }
}

TEST(Observability, AlertRulesQueryExportedMetrics) {
  const YAML::Node file = YAML::Load(read_file("docs/alerts.yaml"));
  std::vector<std::string> problems;
  std::set<std::string> alerts;
  for (const YAML::Node& group : file["groups"]) {
    ASSERT_TRUE(group["name"].IsScalar());
    for (const YAML::Node& rule : group["rules"]) {
      const std::string alert = rule["alert"].as<std::string>();
      alerts.insert(alert);
      const std::string severity = rule["labels"]["severity"].as<std::string>();
      EXPECT_TRUE(severity == "warning" || severity == "critical") << alert;
      EXPECT_FALSE(rule["annotations"]["summary"].as<std::string>().empty()) << alert;
      EXPECT_FALSE(rule["annotations"]["description"].as<std::string>().empty()) << alert;
      for (std::string& problem :
           check_expression("alert " + alert, rule["expr"].as<std::string>())) {
        problems.push_back(std::move(problem));
      }
    }
  }
  EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems);
  for (const char* alert : {"VigilNodeDown", "VigilQuorumFailuresRising",
                            "VigilHintBacklogGrowing", "VigilCommitLatencyHigh",
                            "VigilRefusingWrites"}) {
    EXPECT_EQ(alerts.count(alert), 1U) << alert;
  }
}

}  // namespace
}  // namespace vigil::net
