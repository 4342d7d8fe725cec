#pragma once
// The files of a local cluster (`vigil cluster up`): which nodes it has, their ports, and
// where each node keeps its config, data, log and pid. docs/operations.md shows the tree:
//
//   DIR/cluster.json        the layout below: node ids and their three addresses
//   DIR/nK/node.yaml        node K's configuration (config/config_yaml.h)
//   DIR/nK/data/            node K's data_dir
//   DIR/nK/node.log         node K's stdout and stderr (appended across restarts)
//   DIR/nK/pid              node K's process id while it runs
//
// The layout file is the one source of truth for ports: a rerun of `cluster up` on an
// existing DIR reads it, so the nodes come back on the ports their peers know them by.

#include <cstdint>
#include <string>
#include <vector>

#include "cli/cluster_probe.h"
#include "config/config.h"
#include "core/status.h"

namespace vigil::cli {

// Node ids are n1..nN; N is bounded so that the three port blocks below never overlap.
inline constexpr std::uint32_t cluster_nodes_max = 64;
// Ports for --base-port P: node K (1-based) has client P+K-1, listen P+stride+K-1 and
// admin P+2*stride+K-1. With P=6401 that is client 6401.., listen 6501.., admin 6601...
inline constexpr std::uint32_t cluster_port_stride = 100;
static_assert(cluster_nodes_max <= cluster_port_stride, "port blocks would overlap");

struct ClusterNode {
  core::NodeId id;
  config::Address listen;
  config::Address client;
  config::Address admin;
  // The admin port's bearer token (security.admin_token_file of the node's node.yaml), for
  // the POSTs `vigil cluster repair` and `vigil chaos` send; empty when it has none. Not
  // in cluster.json: read_admin_tokens() fills it.
  std::string admin_token;
  // How the cluster tools reach the client and admin ports (security.tls of node.yaml, with
  // its ca_file); plain unless TLS is on. Not in cluster.json: read_admin_tokens() fills it.
  TlsTarget client_tls;
  TlsTarget admin_tls;
  friend bool operator==(const ClusterNode&, const ClusterNode&) = default;
};

struct ClusterLayout {
  std::string dir;  // absolute
  std::vector<ClusterNode> nodes;
  // The nodes run with --enable-fault-injection (`vigil chaos`; "fault_injection": true in
  // cluster.json, absent otherwise): part of their command line, so of their identity.
  bool fault_injection = false;
  // Every port of every node uses TLS with the certificates of cli/cluster_tls.h (`cluster
  // up --tls`; "tls": true in cluster.json, absent otherwise).
  bool tls = false;
  friend bool operator==(const ClusterLayout&, const ClusterLayout&) = default;
};

// The layout of `nodes` nodes on 127.0.0.1 from `base_port`. invalid_argument when nodes is
// outside 1..cluster_nodes_max or the highest port would exceed 65535.
// REQUIRES: dir is absolute.
core::Result<ClusterLayout> layout_from_base_port(const std::string& dir, std::uint32_t nodes,
                                                  std::uint32_t base_port);

// The lowest port a layout may start at, and the highest base port for `nodes` nodes.
inline constexpr std::uint32_t cluster_base_port_min = 1024;
std::uint32_t cluster_base_port_max(std::uint32_t nodes);

// DIR/cluster.json as text, and back. Parsing checks everything (ids n1..nN in order,
// addresses valid and distinct) and names `source` in every error (invalid_argument).
std::string layout_to_json(const ClusterLayout& layout);
core::Result<ClusterLayout> layout_from_json(const std::string& text, const std::string& dir,
                                             const std::string& source);

// Reads DIR/cluster.json: not_found when there is none, invalid_argument when it is bad.
core::Result<ClusterLayout> load_layout(const std::string& dir);
// Creates DIR and writes DIR/cluster.json (io_error naming the file).
core::Status save_layout(const ClusterLayout& layout);

// Paths of node `index` (0-based) of `layout`.
std::string node_dir(const ClusterLayout& layout, std::size_t index);
std::string node_config_path(const ClusterLayout& layout, std::size_t index);
// DIR/cluster.secret: the secret every node of a local cluster proves to its peers
// (security.cluster_secret_file), unless the overlay names another file.
std::string cluster_secret_path(const ClusterLayout& layout);
// Writes a fresh secret (mode 0600) to cluster_secret_path() unless the file exists.
core::Status ensure_cluster_secret(const ClusterLayout& layout);
// Fills every node's admin_token, client_tls and admin_tls from its node.yaml. A node whose
// file or token cannot be read keeps an empty token (its admin port then answers 401,
// which names the key) and plain TCP.
void read_admin_tokens(ClusterLayout& layout);
std::string node_data_dir(const ClusterLayout& layout, std::size_t index);
std::string node_log_path(const ClusterLayout& layout, std::size_t index);
std::string node_pid_path(const ClusterLayout& layout, std::size_t index);
// The index of node `id`; invalid_argument listing the cluster's ids when there is none.
core::Result<std::size_t> node_index(const ClusterLayout& layout, const std::string& id);

// The configuration of node `index`: `overlay` (every key a --config-overlay file gave,
// defaults elsewhere) with its node section replaced by the layout's: id, the three
// addresses, data_dir, and every node of the cluster as a seed, in the same order on every
// node. With layout.tls, security.tls turns on every port with the cluster's certificates
// (cli/cluster_tls.h) unless the overlay names its own cert_file. invalid_argument when
// the result does not validate (e.g. an overlay whose N is larger than the cluster).
core::Result<config::Config> node_config(const ClusterLayout& layout, std::size_t index,
                                         const config::Config& overlay);
// Writes node_config() of every node to its node.yaml, and creates the data directories.
// An existing node.yaml is kept unless `overwrite` (a rerun without an overlay keeps the
// files the first run wrote, edits included). io_error naming the file on failure.
core::Status write_node_configs(const ClusterLayout& layout, const config::Config& overlay,
                                bool overwrite);

}  // namespace vigil::cli
