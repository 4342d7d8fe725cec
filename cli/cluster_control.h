#pragma once
// What `vigil cluster up|status|down|kill|restart|pause|resume` do (cli/command_cluster.cpp
// parses the flags and prints). `vigil bench cluster` and the integration tests use the same
// operations, the tests through the binary.
//
// A node is the process `<vigil> start --config DIR/nK/node.yaml`, started detached (its
// own session, output appended to DIR/nK/node.log, pid in DIR/nK/pid). A node counts as
// alive while that process exists and is not a zombie (cli/cluster_process.h), paused
// (SIGSTOP) included.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/cluster_layout.h"
#include "cli/cluster_process.h"
#include "core/status.h"

namespace vigil::cli {

struct ClusterUpOptions {
  std::string dir;  // created when missing; made absolute
  // Unset: 3 for a new DIR, and whatever DIR holds for an existing one (a different value
  // for an existing DIR is an invalid_argument error, as is a different --base-port).
  std::optional<std::uint32_t> nodes;
  std::optional<std::uint32_t> base_port;  // unset: free ports (cli/cluster_ports.h)
  // A YAML file of keys every node.yaml gets (its node section is replaced). Given on a
  // rerun, the node.yaml files are written again with it.
  std::string config_overlay_path;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};  // for every node to be ready
  std::string program;  // the vigil binary nodes run; empty: this process's (/proc/self/exe)
  // A new DIR's nodes run with --enable-fault-injection (ClusterLayout::fault_injection);
  // an existing DIR keeps what it was laid out with.
  bool fault_injection = false;
  // A new DIR's nodes use TLS on every port (ClusterLayout::tls, cli/cluster_tls.h); an
  // existing DIR laid out without it is an invalid_argument error.
  bool tls = false;
};

struct NodeStatus {
  std::string id;
  config::Address client;
  config::Address admin;
  std::optional<pid_t> pid;  // from the pid file
  ProcessState state = ProcessState::gone;
  bool alive() const { return state != ProcessState::gone; }
  bool started = false;  // set by cluster_up when this run started the node
};

// The path of this process's executable (readlink /proc/self/exe); io_error if unreadable.
core::Result<std::string> self_program();

// The arguments after the program name of node `index`'s process.
std::vector<std::string> node_arguments(const ClusterLayout& layout, std::size_t index);

// Lays out (or reloads) DIR, writes the configs, starts every node that is not alive, and
// waits until every node answers PING and its /status shows every member alive. On a
// timeout: unavailable naming the first node that is not ready, the last probe error and
// the tail of its log (the nodes stay up for inspection; `cluster down` stops them).
// A node that exits during the wait fails at once the same way.
core::Result<std::vector<NodeStatus>> cluster_up(const ClusterUpOptions& options);

// The layout of an existing DIR (not_found: "no cluster in DIR (no cluster.json)").
core::Result<ClusterLayout> open_cluster(const std::string& dir);

std::vector<NodeStatus> cluster_status(const ClusterLayout& layout);
// {"nodes": [{"id": "n1", "client": "127.0.0.1:PORT", "admin": "127.0.0.1:PORT",
//             "pid": 123, "alive": true}, ...]}; pid is null when there is no pid file.
std::string cluster_status_json(const std::vector<NodeStatus>& nodes);
// One line per node: "n1  client 127.0.0.1:P  admin 127.0.0.1:P  pid 123  running".
std::string cluster_status_text(const std::vector<NodeStatus>& nodes);

// SIGTERM to every alive node at once, up to `grace` for all to exit, SIGKILL to the rest;
// pid files of the nodes that are gone are removed. timeout naming any node that survived.
core::Status cluster_down(const ClusterLayout& layout, std::chrono::milliseconds grace);

// SIGKILL to node `index` and wait (bounded) until it is gone. The pid file stays, so
// status shows the node's last pid as not alive. failed_precondition if it was not alive.
core::Status cluster_kill(const ClusterLayout& layout, std::size_t index);
// Stops node `index` if alive (as cluster_down does for one node), starts it again with the
// same config and data, and waits until it is ready as cluster_up does.
core::Status cluster_restart(const ClusterLayout& layout, std::size_t index,
                             const std::string& program, std::chrono::milliseconds grace,
                             std::chrono::milliseconds timeout);
// Starts node `index` again with the same config and data, without waiting for it (its
// process runs and its pid file is written when this returns ok); `vigil chaos` restarts a
// node mid-partition, when no node could see every member alive. failed_precondition if it
// is alive.
core::Status cluster_start(const ClusterLayout& layout, std::size_t index,
                           const std::string& program);
// SIGSTOP / SIGCONT; failed_precondition if the node is not alive.
core::Status cluster_pause(const ClusterLayout& layout, std::size_t index);
core::Status cluster_resume(const ClusterLayout& layout, std::size_t index);

}  // namespace vigil::cli
