// The files of a local cluster (cli/cluster_layout.h).
//
// Every node gets the same seed list in the same order (all nodes, n1 first), as a real
// deployment should (docs/operations.md): membership then starts from the same view
// everywhere, and a node finds itself in the list and skips it (config/config.h).
// Node configs are written in full by config::config_to_yaml, so a person reading a node.yaml
// sees every key the node runs with; the overlay's keys are the ones that differ.

#include "cli/cluster_layout.h"

#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "cli/cluster_files.h"
#include "cli/cluster_tls.h"
#include "config/cluster_secret.h"
#include "config/config_yaml.h"

namespace vigil::cli {
namespace {

const char* const loopback = "127.0.0.1";

core::Status bad_layout(const std::string& source, const std::string& message) {
  return core::error(core::Code::invalid_argument, source + ": " + message);
}

std::string node_file(const ClusterLayout& layout, std::size_t index, const char* name) {
  return node_dir(layout, index) + "/" + name;
}

core::Result<config::Address> address_field(const nlohmann::json& node, const char* key,
                                            const std::string& where) {
  if (!node.contains(key) || !node[key].is_string()) {
    return bad_layout(where, std::string("missing \"") + key + "\" (text host:port)");
  }
  core::Result<config::Address> address = config::parse_address(node[key].get<std::string>());
  if (!address) return bad_layout(where + "." + key, address.status().message());
  return address;
}

core::Result<ClusterNode> node_from_json(const nlohmann::json& node, std::size_t index,
                                         const std::string& source) {
  const std::string where = source + ": nodes[" + std::to_string(index) + "]";
  if (!node.is_object()) return bad_layout(where, "expected an object");
  const std::string expected_id = "n" + std::to_string(index + 1);
  if (!node.contains("id") || !node["id"].is_string() ||
      node["id"].get<std::string>() != expected_id) {
    return bad_layout(where, "expected \"id\": \"" + expected_id + "\"");
  }
  ClusterNode out;
  out.id = expected_id;
  core::Result<config::Address> listen = address_field(node, "listen", where);
  if (!listen) return listen.status();
  core::Result<config::Address> client = address_field(node, "client", where);
  if (!client) return client.status();
  core::Result<config::Address> admin = address_field(node, "admin", where);
  if (!admin) return admin.status();
  out.listen = *listen;
  out.client = *client;
  out.admin = *admin;
  return out;
}

}  // namespace

std::uint32_t cluster_base_port_max(std::uint32_t nodes) {
  return 65535 - 2 * cluster_port_stride - (nodes == 0 ? 0 : nodes - 1);
}

core::Result<ClusterLayout> layout_from_base_port(const std::string& dir, std::uint32_t nodes,
                                                  std::uint32_t base_port) {
  if (nodes < 1 || nodes > cluster_nodes_max) {
    return core::error(core::Code::invalid_argument,
                       "--nodes must be 1.." + std::to_string(cluster_nodes_max) + " (got " +
                           std::to_string(nodes) + ")");
  }
  if (base_port < cluster_base_port_min || base_port > cluster_base_port_max(nodes)) {
    return core::error(core::Code::invalid_argument,
                       "--base-port must be " + std::to_string(cluster_base_port_min) + ".." +
                           std::to_string(cluster_base_port_max(nodes)) + " for " +
                           std::to_string(nodes) + " nodes (ports up to base+" +
                           std::to_string(2 * cluster_port_stride + nodes - 1) +
                           " are used; got " + std::to_string(base_port) + ")");
  }
  ClusterLayout layout;
  layout.dir = dir;
  for (std::uint32_t k = 0; k < nodes; ++k) {
    const auto port = [&](std::uint32_t block) {
      return static_cast<std::uint16_t>(base_port + block * cluster_port_stride + k);
    };
    layout.nodes.push_back({"n" + std::to_string(k + 1), {loopback, port(1)},
                            {loopback, port(0)}, {loopback, port(2)}, "", {}, {}});
  }
  return layout;
}

std::string layout_to_json(const ClusterLayout& layout) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const ClusterNode& node : layout.nodes) {
    nodes.push_back({{"id", node.id},
                     {"listen", config::format_address(node.listen)},
                     {"client", config::format_address(node.client)},
                     {"admin", config::format_address(node.admin)}});
  }
  nlohmann::json document = {{"nodes", nodes}};
  if (layout.fault_injection) document["fault_injection"] = true;
  if (layout.tls) document["tls"] = true;
  return document.dump(2) + "\n";
}

core::Result<ClusterLayout> layout_from_json(const std::string& text, const std::string& dir,
                                             const std::string& source) {
  const nlohmann::json document = nlohmann::json::parse(text, nullptr, false);
  if (document.is_discarded()) return bad_layout(source, "not valid JSON");
  if (!document.is_object() || !document.contains("nodes") || !document["nodes"].is_array()) {
    return bad_layout(source, "expected {\"nodes\": [...]}");
  }
  const nlohmann::json& nodes = document["nodes"];
  if (nodes.empty() || nodes.size() > cluster_nodes_max) {
    return bad_layout(source, "expected 1.." + std::to_string(cluster_nodes_max) + " nodes");
  }
  ClusterLayout layout;
  layout.dir = dir;
  if (document.contains("fault_injection")) {
    if (!document["fault_injection"].is_boolean()) {
      return bad_layout(source, "\"fault_injection\": expected true or false");
    }
    layout.fault_injection = document["fault_injection"].get<bool>();
  }
  if (document.contains("tls")) {
    if (!document["tls"].is_boolean()) return bad_layout(source, "\"tls\": expected true or false");
    layout.tls = document["tls"].get<bool>();
  }
  std::set<std::pair<std::string, std::uint16_t>> seen;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    core::Result<ClusterNode> node = node_from_json(nodes[i], i, source);
    if (!node) return node.status();
    for (const config::Address* address : {&node->listen, &node->client, &node->admin}) {
      if (!seen.insert({address->host, address->port}).second) {
        return bad_layout(source, "address " + config::format_address(*address) + " appears twice");
      }
    }
    layout.nodes.push_back(*node);
  }
  return layout;
}

core::Result<ClusterLayout> load_layout(const std::string& dir) {
  const std::string path = dir + "/cluster.json";
  core::Result<std::string> text = read_small_file(path);
  if (!text) return text.status();
  return layout_from_json(*text, dir, path);
}

core::Status save_layout(const ClusterLayout& layout) {
  core::Status made = make_directories(layout.dir);
  if (!made.ok()) return made;
  return write_file_atomically(layout.dir + "/cluster.json", layout_to_json(layout));
}

std::string cluster_secret_path(const ClusterLayout& layout) {
  return layout.dir + "/cluster.secret";
}

core::Status ensure_cluster_secret(const ClusterLayout& layout) {
  const std::string path = cluster_secret_path(layout);
  std::error_code error;
  if (std::filesystem::exists(path, error)) return core::Status::ok_status();
  core::Status made = make_directories(layout.dir);
  if (!made.ok()) return made;
  core::Result<std::string> secret = config::new_cluster_secret_text();
  if (!secret) return secret.status();
  return write_file_atomically(path, *secret, 0600);
}

void read_admin_tokens(ClusterLayout& layout) {
  for (std::size_t i = 0; i < layout.nodes.size(); ++i) {
    const std::string path = node_config_path(layout, i);
    core::Result<std::string> text = read_small_file(path);
    if (!text) continue;
    core::Result<config::Config> config = config::config_from_yaml(*text, path);
    if (!config) continue;
    const config::Config::Security::Tls& tls = config->security.tls;
    layout.nodes[i].client_tls = TlsTarget{tls.client, tls.ca_file};
    layout.nodes[i].admin_tls = TlsTarget{tls.admin, tls.ca_file};
    if (config->security.admin_token_file.empty()) continue;
    core::Result<config::ClusterSecretFile> token =
        config::read_secret_file(config->security.admin_token_file, "admin token file");
    if (token) layout.nodes[i].admin_token = token->secret;
  }
}

std::string node_dir(const ClusterLayout& layout, std::size_t index) {
  return layout.dir + "/" + layout.nodes.at(index).id;
}
std::string node_config_path(const ClusterLayout& layout, std::size_t index) {
  return node_file(layout, index, "node.yaml");
}
std::string node_data_dir(const ClusterLayout& layout, std::size_t index) {
  return node_file(layout, index, "data");
}
std::string node_log_path(const ClusterLayout& layout, std::size_t index) {
  return node_file(layout, index, "node.log");
}
std::string node_pid_path(const ClusterLayout& layout, std::size_t index) {
  return node_file(layout, index, "pid");
}

core::Result<std::size_t> node_index(const ClusterLayout& layout, const std::string& id) {
  std::string ids;
  for (std::size_t i = 0; i < layout.nodes.size(); ++i) {
    if (layout.nodes[i].id == id) return i;
    ids += (i == 0 ? "" : ", ") + layout.nodes[i].id;
  }
  return core::error(core::Code::invalid_argument,
                     "no node \"" + id + "\" in " + layout.dir + " (nodes: " + ids + ")");
}

core::Result<config::Config> node_config(const ClusterLayout& layout, std::size_t index,
                                         const config::Config& overlay) {
  config::Config config = overlay;
  const ClusterNode& node = layout.nodes.at(index);
  config.node.id = node.id;
  config.node.listen = node.listen;
  config.node.client = node.client;
  config.node.admin = node.admin;
  config.node.data_dir = node_data_dir(layout, index);
  // Authenticated by default: every node proves the cluster's own secret (cluster_up
  // writes it), unless the overlay names another.
  if (config.security.cluster_secret_file.empty()) {
    config.security.cluster_secret_file = cluster_secret_path(layout);
  }
  if (layout.tls && config.security.tls.cert_file.empty()) {
    config::Config::Security::Tls& tls = config.security.tls;
    tls.client = tls.peer = tls.admin = true;
    tls.cert_file = node_certificate_path(layout, index);
    tls.key_file = node_key_path(layout, index);
    tls.ca_file = cluster_ca_path(layout);
  }
  config.node.seeds.clear();
  for (const ClusterNode& seed : layout.nodes) config.node.seeds.push_back({seed.id, seed.listen});
  if (config.quorum_settings.n > layout.nodes.size()) {
    // Every key needs N distinct replicas; with fewer nodes no write could reach W.
    return core::error(core::Code::invalid_argument,
                       "quorum_settings.N (" + std::to_string(config.quorum_settings.n) +
                           ") is larger than the cluster (" +
                           std::to_string(layout.nodes.size()) +
                           " nodes); give a --config-overlay with a smaller N");
  }
  core::Status valid = config::validate(config);
  if (!valid.ok()) {
    return core::error(core::Code::invalid_argument,
                       "config of node " + node.id + ": " + valid.message());
  }
  return config;
}

core::Status write_node_configs(const ClusterLayout& layout, const config::Config& overlay,
                                bool overwrite) {
  for (std::size_t i = 0; i < layout.nodes.size(); ++i) {
    core::Result<config::Config> config = node_config(layout, i, overlay);
    if (!config) return config.status();
    core::Status made = make_directories(node_data_dir(layout, i));
    if (!made.ok()) return made;
    const std::string path = node_config_path(layout, i);
    std::error_code error;
    if (!overwrite && std::filesystem::exists(path, error)) continue;
    const std::string text = "# Written by `vigil cluster up` for node " + layout.nodes[i].id +
                             " of the cluster in " + layout.dir +
                             ".\n# Rerunning `cluster up` keeps this file "
                             "unless --config-overlay is given (docs/operations.md).\n\n" +
                             config::config_to_yaml(*config);
    core::Status written = write_file_atomically(path, text);
    if (!written.ok()) return written;
  }
  return core::Status::ok_status();
}

}  // namespace vigil::cli
