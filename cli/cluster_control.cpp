// The operations of `vigil cluster` (cli/cluster_control.h).
//
// `up` is idempotent: on an existing DIR it reuses the recorded layout, leaves alive nodes
// alone and starts the others from their data, so "run it again" is also how a person
// brings back a cluster after a reboot or after `cluster down`. Readiness means what a
// client needs: the node answers PING on its client port, and its own membership view
// (/status) has every member alive, i.e. the nodes found each other through the seeds.
// Every wait is bounded, and a failure names the node and shows the tail of its log,
// because the usual cause (a port taken, a bad config, a crash) is written there.

#include "cli/cluster_control.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <system_error>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/cluster_files.h"
#include "cli/cluster_ports.h"
#include "cli/cluster_probe.h"
#include "cli/cluster_tls.h"
#include "config/config_yaml.h"

namespace vigil::cli {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto probe_timeout = std::chrono::milliseconds(1000);
constexpr auto ready_poll_interval = std::chrono::milliseconds(100);
constexpr std::size_t log_tail_lines = 20;

std::string absolute_dir(const std::string& dir) {
  std::error_code error;
  std::filesystem::path path = std::filesystem::absolute(dir, error).lexically_normal();
  std::string text = path.string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  return text;
}

core::Result<config::Config> load_overlay(const std::string& path) {
  if (path.empty()) return config::Config{};
  core::Result<std::string> text = read_small_file(path, config::config_text_bytes_max);
  if (!text) return core::error(core::Code::invalid_argument, text.status().message());
  return config::config_from_yaml(*text, path);
}

// The layout of a new DIR, or the recorded one checked against the flags.
core::Result<ClusterLayout> layout_for(const ClusterUpOptions& options, const std::string& dir) {
  core::Result<ClusterLayout> existing = load_layout(dir);
  if (existing) {
    const std::uint32_t count = static_cast<std::uint32_t>(existing->nodes.size());
    if (options.nodes && *options.nodes != count) {
      return core::error(core::Code::invalid_argument,
                         dir + " holds a " + std::to_string(count) + "-node cluster; --nodes " +
                             std::to_string(*options.nodes) +
                             " differs (use another --dir, or leave --nodes out)");
    }
    if (options.tls && !existing->tls) {
      return core::error(core::Code::invalid_argument,
                         dir + " holds a cluster without TLS; --tls needs a new --dir");
    }
    if (options.base_port) {
      core::Result<ClusterLayout> wanted = layout_from_base_port(dir, count, *options.base_port);
      if (!wanted || wanted->nodes != existing->nodes) {
        return core::error(core::Code::invalid_argument,
                           dir + "/cluster.json records other ports than --base-port " +
                               std::to_string(*options.base_port) +
                               " gives (leave --base-port out to reuse them)");
      }
    }
    return existing;
  }
  if (existing.status().code() != core::Code::not_found) return existing.status();
  const std::uint32_t nodes = options.nodes.value_or(3);
  std::uint32_t base_port = 0;
  if (options.base_port) {
    base_port = *options.base_port;
  } else {
    if (nodes < 1 || nodes > cluster_nodes_max) return layout_from_base_port(dir, nodes, 0);
    core::Result<std::uint32_t> chosen = choose_base_port(nodes);
    if (!chosen) return chosen.status();
    base_port = *chosen;
  }
  core::Result<ClusterLayout> layout = layout_from_base_port(dir, nodes, base_port);
  if (!layout) return layout;
  layout->fault_injection = options.fault_injection;
  layout->tls = options.tls;
  core::Status saved = save_layout(*layout);
  if (!saved.ok()) return saved;
  return layout;
}

std::vector<std::string> node_argv(const ClusterLayout& layout, std::size_t index,
                                   const std::string& program) {
  std::vector<std::string> argv{program};
  for (std::string& argument : node_arguments(layout, index)) argv.push_back(argument);
  return argv;
}

NodeStatus status_of(const ClusterLayout& layout, std::size_t index) {
  NodeStatus status;
  const ClusterNode& node = layout.nodes[index];
  status.id = node.id;
  status.client = node.client;
  status.admin = node.admin;
  core::Result<pid_t> pid = read_pid_file(node_pid_path(layout, index));
  if (pid) {
    status.pid = *pid;
    status.state = process_state(*pid, node_arguments(layout, index));
  }
  return status;
}

// A marker in the log, so a person reading it sees where each run of the node begins.
void append_start_marker(const std::string& log_path, const std::string& id) {
  const std::time_t now = std::time(nullptr);
  char stamp[32] = "";
  std::tm utc{};
  if (::gmtime_r(&now, &utc) != nullptr) std::strftime(stamp, sizeof stamp, "%FT%TZ", &utc);
  FILE* file = std::fopen(log_path.c_str(), "a");
  if (file == nullptr) return;
  std::fprintf(file, "--- vigil cluster: starting %s at %s ---\n", id.c_str(), stamp);
  std::fclose(file);
}

core::Status start_node(const ClusterLayout& layout, std::size_t index,
                        const std::string& program) {
  const std::string log_path = node_log_path(layout, index);
  append_start_marker(log_path, layout.nodes[index].id);
  core::Result<pid_t> pid = spawn_detached(node_argv(layout, index, program), log_path);
  if (!pid) return pid.status();
  return write_pid_file(node_pid_path(layout, index), *pid);
}

// Ok when node `index` is ready; the reason it is not otherwise.
core::Status probe_ready(const ClusterLayout& layout, std::size_t index) {
  const ClusterNode& node = layout.nodes[index];
  core::Status pong = probe_ping(node.client, probe_timeout, node.client_tls);
  if (!pong.ok()) return pong;
  core::Result<std::string> body =
      http_get(node.admin, "/status", probe_timeout, node.admin_token, node.admin_tls);
  if (!body) return body.status();
  std::vector<std::string> ids;
  for (const ClusterNode& member : layout.nodes) ids.push_back(member.id);
  return status_shows_all_alive(*body, ids);
}

core::Status not_ready(const ClusterLayout& layout, std::size_t index, const std::string& why) {
  const std::string log_path = node_log_path(layout, index);
  return core::error(core::Code::unavailable,
                     "node " + layout.nodes[index].id + " " + why + "\nlast lines of " +
                         log_path + ":\n" + log_tail(log_path, log_tail_lines));
}

// Waits until every node in `indices` is ready, or fails naming the first that is not.
core::Status wait_until_ready(const ClusterLayout& layout, std::vector<std::size_t> indices,
                              std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::vector<std::string> last_error(layout.nodes.size(), "was not probed");
  while (!indices.empty()) {
    std::vector<std::size_t> waiting;
    for (const std::size_t index : indices) {
      const NodeStatus status = status_of(layout, index);
      if (!status.alive()) {
        return not_ready(layout, index, "exited while starting (" + last_error[index] + ")");
      }
      if (status.state == ProcessState::stopped) {
        return not_ready(layout, index,
                         "is paused (SIGSTOP); `vigil cluster resume " + status.id + "` first");
      }
      const core::Status ready = probe_ready(layout, index);
      if (!ready.ok()) {
        last_error[index] = ready.message();
        waiting.push_back(index);
      }
    }
    indices = std::move(waiting);
    if (indices.empty()) break;
    if (Clock::now() >= deadline) {
      const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout).count();
      return not_ready(layout, indices.front(),
                       "did not come up within " + std::to_string(seconds) +
                           "s: " + last_error[indices.front()]);
    }
    std::this_thread::sleep_for(ready_poll_interval);
  }
  return core::Status::ok_status();
}

core::Status require_alive(const ClusterLayout& layout, std::size_t index,
                           const NodeStatus& status) {
  if (status.alive()) return core::Status::ok_status();
  return core::error(core::Code::failed_precondition,
                     "node " + layout.nodes[index].id + " is not running");
}

core::Status send_signal(const ClusterLayout& layout, std::size_t index, int signal) {
  const NodeStatus status = status_of(layout, index);
  core::Status alive = require_alive(layout, index, status);
  if (!alive.ok()) return alive;
  if (!signal_process(*status.pid, node_arguments(layout, index), signal)) {
    return core::error(core::Code::failed_precondition,
                       "node " + status.id + " exited before it could be signalled");
  }
  return core::Status::ok_status();
}

}  // namespace

core::Result<std::string> self_program() {
  std::error_code error;
  const std::filesystem::path path = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) {
    return core::error(core::Code::io_error, "/proc/self/exe: cannot read: " + error.message());
  }
  return path.string();
}

std::vector<std::string> node_arguments(const ClusterLayout& layout, std::size_t index) {
  std::vector<std::string> arguments{"start", "--config", node_config_path(layout, index)};
  if (layout.fault_injection) arguments.push_back("--enable-fault-injection");
  return arguments;
}

core::Result<ClusterLayout> open_cluster(const std::string& dir) {
  const std::string absolute = absolute_dir(dir);
  core::Result<ClusterLayout> layout = load_layout(absolute);
  if (!layout && layout.status().code() == core::Code::not_found) {
    return core::error(core::Code::not_found,
                       "no cluster in " + absolute + " (no cluster.json; `vigil cluster up`)");
  }
  if (layout) read_admin_tokens(*layout);
  return layout;
}

core::Result<std::vector<NodeStatus>> cluster_up(const ClusterUpOptions& options) {
  const std::string dir = absolute_dir(options.dir);
  core::Result<config::Config> overlay = load_overlay(options.config_overlay_path);
  if (!overlay) return overlay.status();
  std::string program = options.program;
  if (program.empty()) {
    core::Result<std::string> self = self_program();
    if (!self) return self.status();
    program = *self;
  }
  core::Result<ClusterLayout> layout = layout_for(options, dir);
  if (!layout) return layout.status();
  if (overlay->security.cluster_secret_file.empty()) {
    core::Status secret = ensure_cluster_secret(*layout);
    if (!secret.ok()) return secret;
  }
  if (layout->tls) {
    core::Status certificates = ensure_cluster_tls(*layout);
    if (!certificates.ok()) return certificates;
  }
  core::Status written =
      write_node_configs(*layout, *overlay, !options.config_overlay_path.empty());
  if (!written.ok()) return written;
  read_admin_tokens(*layout);

  std::vector<NodeStatus> statuses;
  std::vector<std::size_t> indices;
  for (std::size_t i = 0; i < layout->nodes.size(); ++i) {
    NodeStatus status = status_of(*layout, i);
    if (!status.alive()) {
      core::Status started = start_node(*layout, i, program);
      if (!started.ok()) return started;
      status.started = true;
    }
    statuses.push_back(status);
    indices.push_back(i);
  }
  core::Status ready = wait_until_ready(*layout, indices, options.timeout);
  if (!ready.ok()) return ready;
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    const bool started = statuses[i].started;
    statuses[i] = status_of(*layout, i);
    statuses[i].started = started;
  }
  return statuses;
}

std::vector<NodeStatus> cluster_status(const ClusterLayout& layout) {
  std::vector<NodeStatus> statuses;
  for (std::size_t i = 0; i < layout.nodes.size(); ++i) statuses.push_back(status_of(layout, i));
  return statuses;
}

std::string cluster_status_json(const std::vector<NodeStatus>& nodes) {
  // ordered_json: the keys in the documented order, not sorted.
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const NodeStatus& node : nodes) {
    nlohmann::ordered_json entry = nlohmann::ordered_json::object();
    entry["id"] = node.id;
    entry["client"] = config::format_address(node.client);
    entry["admin"] = config::format_address(node.admin);
    entry["pid"] = node.pid ? nlohmann::ordered_json(*node.pid) : nlohmann::ordered_json(nullptr);
    entry["alive"] = node.alive();
    list.push_back(entry);
  }
  nlohmann::ordered_json document = nlohmann::ordered_json::object();
  document["nodes"] = list;
  return document.dump();
}

std::string cluster_status_text(const std::vector<NodeStatus>& nodes) {
  std::string text;
  for (const NodeStatus& node : nodes) {
    const char* state = node.state == ProcessState::running   ? "running"
                        : node.state == ProcessState::stopped ? "paused"
                                                              : "down";
    text += node.id + "  client " + config::format_address(node.client) + "  admin " +
            config::format_address(node.admin) + "  pid " +
            (node.pid ? std::to_string(*node.pid) : std::string("-")) + "  " + state + "\n";
  }
  return text;
}

core::Status cluster_down(const ClusterLayout& layout, std::chrono::milliseconds grace) {
  std::vector<NodeStatus> statuses = cluster_status(layout);
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    if (!statuses[i].alive()) continue;
    signal_process(*statuses[i].pid, node_arguments(layout, i), SIGTERM);
    signal_process(*statuses[i].pid, node_arguments(layout, i), SIGCONT);
  }
  const auto deadline = Clock::now() + grace;
  std::string survivors;
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    if (statuses[i].alive()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::max(deadline - Clock::now(), Clock::duration::zero()));
      // After the grace period: SIGKILL (stop_process with no grace left does just that).
      if (!wait_until_gone(*statuses[i].pid, node_arguments(layout, i), left)) {
        core::Status killed =
            stop_process(*statuses[i].pid, node_arguments(layout, i), std::chrono::milliseconds(0));
        if (!killed.ok()) {
          survivors += (survivors.empty() ? "" : ", ") + statuses[i].id;
          continue;
        }
      }
    }
    std::error_code ignored;
    std::filesystem::remove(node_pid_path(layout, i), ignored);
  }
  if (survivors.empty()) return core::Status::ok_status();
  return core::error(core::Code::timeout, "still running after SIGKILL: " + survivors);
}

core::Status cluster_kill(const ClusterLayout& layout, std::size_t index) {
  const NodeStatus status = status_of(layout, index);
  core::Status alive = require_alive(layout, index, status);
  if (!alive.ok()) return alive;
  signal_process(*status.pid, node_arguments(layout, index), SIGKILL);
  if (!wait_until_gone(*status.pid, node_arguments(layout, index), std::chrono::seconds(5))) {
    return core::error(core::Code::timeout,
                       "node " + status.id + " still running 5s after SIGKILL");
  }
  return core::Status::ok_status();
}

core::Status cluster_restart(const ClusterLayout& layout, std::size_t index,
                             const std::string& program, std::chrono::milliseconds grace,
                             std::chrono::milliseconds timeout) {
  const NodeStatus status = status_of(layout, index);
  if (status.alive()) {
    core::Status stopped = stop_process(*status.pid, node_arguments(layout, index), grace);
    if (!stopped.ok()) return stopped;
  }
  core::Status started = start_node(layout, index, program);
  if (!started.ok()) return started;
  return wait_until_ready(layout, {index}, timeout);
}

core::Status cluster_start(const ClusterLayout& layout, std::size_t index,
                           const std::string& program) {
  if (status_of(layout, index).alive()) {
    return core::error(core::Code::failed_precondition,
                       "node " + layout.nodes[index].id + " is already running");
  }
  return start_node(layout, index, program);
}

core::Status cluster_pause(const ClusterLayout& layout, std::size_t index) {
  return send_signal(layout, index, SIGSTOP);
}

core::Status cluster_resume(const ClusterLayout& layout, std::size_t index) {
  return send_signal(layout, index, SIGCONT);
}

}  // namespace vigil::cli
