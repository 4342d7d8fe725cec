// `vigil cluster up|status|down|kill|restart|pause|resume|repair`: a local cluster of real
// node processes for people and tests (cli/cluster_control.h does the work; docs/operations.md
// documents every flag). Exit 0 on success, 1 when the cluster did not do what was asked
// (a node did not come up, a node to signal is not running), 2 on a usage or input error.

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/cluster_control.h"
#include "cli/cluster_repair.h"
#include "cli/commands.h"

namespace vigil::cli {
namespace {

constexpr const char* default_dir = "vigil-cluster";

int report(const core::Status& status) {
  if (status.ok()) return 0;
  std::fprintf(stderr, "vigil cluster: %s\n", status.message().c_str());
  const core::Code code = status.code();
  return code == core::Code::invalid_argument || code == core::Code::not_found ? 2 : 1;
}

void add_dir_option(CLI::App& command, std::string& dir) {
  command.add_option("--dir", dir, "the cluster's directory")->capture_default_str();
}

void add_up(CLI::App& cluster, int& exit_code) {
  CLI::App* command = cluster.add_subcommand(
      "up", "start a local cluster (or the stopped nodes of an existing one) and wait for it");
  struct Flags {
    std::uint32_t nodes = 3;
    std::uint32_t base_port = 0;
    std::uint32_t timeout_s = 30;
    ClusterUpOptions options;
  };
  auto flags = std::make_shared<Flags>();
  flags->options.dir = default_dir;
  CLI::Option* nodes = command->add_option("--nodes", flags->nodes, "nodes n1..nN (new DIR)")
                           ->capture_default_str()
                           ->check(CLI::Range(std::uint32_t{1}, cluster_nodes_max));
  add_dir_option(*command, flags->options.dir);
  CLI::Option* base_port = command->add_option(
      "--base-port", flags->base_port,
      "node K: client P+K-1, listen P+100+K-1, admin P+200+K-1 (default: free ports)");
  command->add_option("--config-overlay", flags->options.config_overlay_path,
                      "YAML keys every node.yaml gets (rewrites the node.yaml files)");
  command->add_option("--timeout", flags->timeout_s, "seconds to wait for every node")
      ->capture_default_str()
      ->check(CLI::Range(std::uint32_t{1}, std::uint32_t{3600}));
  command->add_flag("--tls", flags->options.tls,
                    "new DIR: make a throwaway CA and node certificates (DIR/tls) and use TLS "
                    "on every port");
  command->callback([flags, nodes, base_port, &exit_code] {
    ClusterUpOptions options = flags->options;
    if (nodes->count() > 0) options.nodes = flags->nodes;
    if (base_port->count() > 0) options.base_port = flags->base_port;
    options.timeout = std::chrono::seconds(flags->timeout_s);
    core::Result<std::vector<NodeStatus>> statuses = cluster_up(options);
    if (!statuses) {
      exit_code = report(statuses.status());
      return;
    }
    for (const NodeStatus& node : *statuses) {
      std::printf("%s  client %s  admin %s  pid %d  %s\n", node.id.c_str(),
                  config::format_address(node.client).c_str(),
                  config::format_address(node.admin).c_str(), node.pid ? *node.pid : 0,
                  node.started ? "started" : "was running");
    }
    const core::Result<ClusterLayout> layout = open_cluster(options.dir);
    const std::string tls = layout && layout->tls
                                ? " --tls --cacert " + layout->dir + "/tls/ca.pem"
                                : std::string();
    std::printf("cluster up: %zu nodes; try: redis-cli%s -p %u\n", statuses->size(),
                tls.c_str(), static_cast<unsigned>(statuses->front().client.port));
    exit_code = 0;
  });
}

void add_status(CLI::App& cluster, int& exit_code) {
  CLI::App* command = cluster.add_subcommand("status", "each node's addresses, pid and state");
  auto dir = std::make_shared<std::string>(default_dir);
  auto json = std::make_shared<bool>(false);
  add_dir_option(*command, *dir);
  command->add_flag("--json", *json, "print {\"nodes\": [{id, client, admin, pid, alive}]}");
  command->callback([dir, json, &exit_code] {
    core::Result<ClusterLayout> layout = open_cluster(*dir);
    if (!layout) {
      exit_code = report(layout.status());
      return;
    }
    const std::vector<NodeStatus> statuses = cluster_status(*layout);
    const std::string text =
        *json ? cluster_status_json(statuses) + "\n" : cluster_status_text(statuses);
    std::fputs(text.c_str(), stdout);
    exit_code = 0;
  });
}

void add_down(CLI::App& cluster, int& exit_code) {
  CLI::App* command =
      cluster.add_subcommand("down", "SIGTERM every node, SIGKILL those still up after --timeout");
  auto dir = std::make_shared<std::string>(default_dir);
  auto timeout_s = std::make_shared<std::uint32_t>(10);
  add_dir_option(*command, *dir);
  command->add_option("--timeout", *timeout_s, "seconds to wait after SIGTERM")
      ->capture_default_str()
      ->check(CLI::Range(std::uint32_t{0}, std::uint32_t{3600}));
  command->callback([dir, timeout_s, &exit_code] {
    core::Result<ClusterLayout> layout = open_cluster(*dir);
    if (!layout) {
      exit_code = report(layout.status());
      return;
    }
    exit_code = report(cluster_down(*layout, std::chrono::seconds(*timeout_s)));
  });
}

// repair: anti-entropy exchanges now, on one node or all, waited for (cli/cluster_repair.h).
// Exit 1 also when an exchange failed: the replicas it compared may still differ.
void add_repair(CLI::App& cluster, int& exit_code) {
  CLI::App* command = cluster.add_subcommand(
      "repair", "start anti-entropy exchanges on every node (or --node) and wait for them");
  auto dir = std::make_shared<std::string>(default_dir);
  auto node = std::make_shared<std::string>();
  auto timeout_s = std::make_shared<std::uint32_t>(300);
  add_dir_option(*command, *dir);
  CLI::Option* node_option = command->add_option("--node", *node, "only this node, e.g. n2");
  command->add_option("--timeout", *timeout_s, "seconds to wait for the exchanges to finish")
      ->capture_default_str()
      ->check(CLI::Range(std::uint32_t{1}, std::uint32_t{86400}));
  command->callback([dir, node, node_option, timeout_s, &exit_code] {
    core::Result<ClusterLayout> layout = open_cluster(*dir);
    if (!layout) {
      exit_code = report(layout.status());
      return;
    }
    ClusterRepairOptions options;
    if (node_option->count() > 0) options.node = *node;
    options.timeout = std::chrono::seconds(*timeout_s);
    core::Result<std::vector<NodeRepair>> repaired = cluster_repair(*layout, options);
    if (!repaired) {
      exit_code = report(repaired.status());
      return;
    }
    std::fputs(cluster_repair_text(*repaired).c_str(), stdout);
    exit_code = 0;
    for (const NodeRepair& repair : *repaired) {
      if (repair.exchanges_failed == 0) continue;
      std::fprintf(stderr, "vigil cluster: %s: %llu exchanges failed (see its /status)\n",
                   repair.id.c_str(), static_cast<unsigned long long>(repair.exchanges_failed));
      exit_code = 1;
    }
  });
}

// kill, pause, resume and restart: one NODE argument and --dir.
template <typename Action>
void add_node_command(CLI::App& cluster, int& exit_code, const char* name, const char* help,
                      Action action) {
  CLI::App* command = cluster.add_subcommand(name, help);
  auto dir = std::make_shared<std::string>(default_dir);
  auto node = std::make_shared<std::string>();
  auto timeout_s = std::make_shared<std::uint32_t>(30);
  command->add_option("NODE", *node, "node id, e.g. n2")->required();
  add_dir_option(*command, *dir);
  if (std::string(name) == "restart") {
    command->add_option("--timeout", *timeout_s, "seconds to wait for the node to be ready")
        ->capture_default_str()
        ->check(CLI::Range(std::uint32_t{1}, std::uint32_t{3600}));
  }
  command->callback([dir, node, timeout_s, action, &exit_code] {
    core::Result<ClusterLayout> layout = open_cluster(*dir);
    if (!layout) {
      exit_code = report(layout.status());
      return;
    }
    core::Result<std::size_t> index = node_index(*layout, *node);
    if (!index) {
      exit_code = report(index.status());
      return;
    }
    exit_code = report(action(*layout, *index, std::chrono::seconds(*timeout_s)));
  });
}

}  // namespace

void add_cluster_command(CLI::App& app, int& exit_code) {
  CLI::App* cluster = app.add_subcommand(
      "cluster", "a local cluster of node processes (docs/operations.md)");
  cluster->require_subcommand(1);
  add_up(*cluster, exit_code);
  add_status(*cluster, exit_code);
  add_down(*cluster, exit_code);
  add_repair(*cluster, exit_code);
  using Seconds = std::chrono::seconds;
  add_node_command(*cluster, exit_code, "kill", "SIGKILL one node",
                   [](const ClusterLayout& layout, std::size_t index, Seconds) {
                     return cluster_kill(layout, index);
                   });
  add_node_command(*cluster, exit_code, "restart",
                   "stop one node (SIGTERM, then SIGKILL after 10s) if running, start it, wait",
                   [](const ClusterLayout& layout, std::size_t index, Seconds timeout) {
                     core::Result<std::string> program = self_program();
                     if (!program) return program.status();
                     return cluster_restart(layout, index, *program, Seconds(10), timeout);
                   });
  add_node_command(*cluster, exit_code, "pause", "SIGSTOP one node",
                   [](const ClusterLayout& layout, std::size_t index, Seconds) {
                     return cluster_pause(layout, index);
                   });
  add_node_command(*cluster, exit_code, "resume", "SIGCONT one paused node",
                   [](const ClusterLayout& layout, std::size_t index, Seconds) {
                     return cluster_resume(layout, index);
                   });
}

}  // namespace vigil::cli
