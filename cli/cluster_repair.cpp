// `vigil cluster repair` (cli/cluster_repair.h). Why "pending == 0 and completed rose"
// rather than pending == 0 alone: POST /repair only queues the exchanges; a poll that
// arrives before the node ran its first input after the POST would see a node that has
// not started yet, or had nothing running before, as done. The count of exchanges
// completed only grows, so a rise past the value read before the POST proves that at
// least one exchange of this request (or a scheduled one that overlapped it, which
// compares the same trees) ran to its end, and pending == 0 that none is left.

#include "cli/cluster_repair.h"

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/cluster_probe.h"

namespace vigil::cli {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds request_timeout{5000};

core::Result<std::uint64_t> unsigned_at(const nlohmann::json& object, const char* name,
                                        const char* where) {
  if (!object.is_object() || !object.contains(name) || !object[name].is_number_unsigned()) {
    return core::error(core::Code::invalid_argument,
                       std::string("/status has no unsigned ") + where + "." + name);
  }
  return object[name].get<std::uint64_t>();
}

core::Result<RepairSnapshot> read_node(const ClusterNode& node) {
  core::Result<std::string> body = http_get(node.admin, "/status", request_timeout,
                                            node.admin_token, node.admin_tls);
  if (!body) return core::Status(body.status().code(), node.id + ": " + body.status().message());
  core::Result<RepairSnapshot> snapshot = repair_snapshot_from_status(*body);
  if (!snapshot) {
    return core::Status(snapshot.status().code(), node.id + ": " + snapshot.status().message());
  }
  return snapshot;
}

bool done(const RepairSnapshot& before, const RepairSnapshot& now) {
  if (now.exchanges_pending != 0) return false;
  return !now.has_peers || now.exchanges_completed > before.exchanges_completed ||
         now.exchanges_skipped > before.exchanges_skipped;
}

NodeRepair delta(const std::string& id, const RepairSnapshot& before, const RepairSnapshot& now,
                 double seconds) {
  NodeRepair repair;
  repair.id = id;
  repair.exchanges_finished = now.exchanges_completed - before.exchanges_completed;
  repair.exchanges_failed = now.exchanges_failed - before.exchanges_failed;
  repair.exchanges_skipped = now.exchanges_skipped - before.exchanges_skipped;
  repair.repaired_missing = now.repaired_missing - before.repaired_missing;
  repair.repaired_inconsistent = now.repaired_inconsistent - before.repaired_inconsistent;
  repair.repaired_background = now.repaired_background - before.repaired_background;
  repair.seconds = seconds;
  return repair;
}

}  // namespace

core::Result<RepairSnapshot> repair_snapshot_from_status(const std::string& body) {
  const nlohmann::json document = nlohmann::json::parse(body, nullptr, false);
  if (document.is_discarded() || !document.is_object() || !document.contains("anti_entropy") ||
      !document.contains("counters")) {
    return core::error(core::Code::invalid_argument,
                       "/status has no \"anti_entropy\" and \"counters\" (an older node?)");
  }
  const nlohmann::json& ae = document["anti_entropy"];
  const nlohmann::json& counters = document["counters"];
  RepairSnapshot snapshot;
  const std::pair<const char*, std::uint64_t*> ae_fields[] = {
      {"exchanges_completed", &snapshot.exchanges_completed},
      {"exchanges_pending", &snapshot.exchanges_pending}};
  for (const auto& [name, field] : ae_fields) {
    core::Result<std::uint64_t> value = unsigned_at(ae, name, "anti_entropy");
    if (!value) return value.status();
    *field = *value;
  }
  const std::pair<const char*, std::uint64_t*> counter_fields[] = {
      {"ae_keys_repaired_missing", &snapshot.repaired_missing},
      {"ae_keys_repaired_inconsistent", &snapshot.repaired_inconsistent},
      {"ae_keys_repaired_background", &snapshot.repaired_background},
      {"ae_exchanges_failed", &snapshot.exchanges_failed},
      {"ae_exchanges_skipped_peer_down", &snapshot.exchanges_skipped}};
  for (const auto& [name, field] : counter_fields) {
    core::Result<std::uint64_t> value = unsigned_at(counters, name, "counters");
    if (!value) return value.status();
    *field = *value;
  }
  if (!ae.contains("trees") || !ae["trees"].is_array()) {
    return core::error(core::Code::invalid_argument, "/status has no anti_entropy.trees list");
  }
  for (const nlohmann::json& tree : ae["trees"]) {
    if (tree.is_object() && tree.contains("peers") && tree["peers"].is_array() &&
        !tree["peers"].empty()) {
      snapshot.has_peers = true;
    }
  }
  return snapshot;
}

core::Result<std::vector<NodeRepair>> cluster_repair(const ClusterLayout& layout,
                                                     const ClusterRepairOptions& options) {
  std::vector<std::size_t> chosen;
  if (options.node) {
    core::Result<std::size_t> index = node_index(layout, *options.node);
    if (!index) return index.status();
    chosen.push_back(*index);
  } else {
    for (std::size_t i = 0; i < layout.nodes.size(); ++i) chosen.push_back(i);
  }
  const auto started = Clock::now();
  const auto deadline = started + options.timeout;
  std::map<std::size_t, RepairSnapshot> before;
  for (std::size_t index : chosen) {
    core::Result<RepairSnapshot> snapshot = read_node(layout.nodes[index]);
    if (!snapshot) return snapshot.status();
    before[index] = *snapshot;
  }
  for (std::size_t index : chosen) {
    const ClusterNode& node = layout.nodes[index];
    core::Result<std::string> posted =
        http_request(node.admin, "POST", "/repair", 202, request_timeout, "", node.admin_token,
                     node.admin_tls);
    if (!posted)
      return core::Status(posted.status().code(), node.id + ": " + posted.status().message());
  }
  std::map<std::size_t, NodeRepair> finished;
  std::map<std::size_t, RepairSnapshot> last;
  while (finished.size() < chosen.size()) {
    for (std::size_t index : chosen) {
      if (finished.contains(index)) continue;
      core::Result<RepairSnapshot> now = read_node(layout.nodes[index]);
      if (!now) return now.status();
      last[index] = *now;
      if (!done(before[index], *now)) continue;
      const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
      finished[index] = delta(layout.nodes[index].id, before[index], *now, seconds);
    }
    if (finished.size() == chosen.size()) break;
    if (Clock::now() + options.poll_interval > deadline) {
      std::string waiting;
      for (std::size_t index : chosen) {
        if (finished.contains(index)) continue;
        const RepairSnapshot& now = last[index];
        waiting += (waiting.empty() ? "" : ", ") + layout.nodes[index].id + " (" +
                   std::to_string(now.exchanges_pending) + " exchanges pending, " +
                   std::to_string(now.exchanges_completed - before[index].exchanges_completed) +
                   " finished since the request)";
      }
      const auto seconds =
          std::chrono::duration_cast<std::chrono::seconds>(options.timeout).count();
      return core::error(core::Code::timeout,
                         "repair not finished after " + std::to_string(seconds) + " s: " + waiting);
    }
    std::this_thread::sleep_for(options.poll_interval);
  }
  std::vector<NodeRepair> results;
  for (std::size_t index : chosen) {
    const NodeRepair& repair = finished[index];
    if (repair.exchanges_finished == 0 && repair.exchanges_skipped > 0) {
      return core::error(core::Code::failed_precondition,
                         repair.id + ": no exchange could run: its peers are down");
    }
    results.push_back(repair);
  }
  return results;
}

std::string cluster_repair_text(const std::vector<NodeRepair>& nodes) {
  std::string text;
  for (const NodeRepair& node : nodes) {
    char line[512];
    std::snprintf(line, sizeof line,
                  "%s  exchanges %llu (%llu failed, %llu skipped: peer down)  keys repaired "
                  "%llu missing, %llu inconsistent, %llu background  %.1fs\n",
                  node.id.c_str(), static_cast<unsigned long long>(node.exchanges_finished),
                  static_cast<unsigned long long>(node.exchanges_failed),
                  static_cast<unsigned long long>(node.exchanges_skipped),
                  static_cast<unsigned long long>(node.repaired_missing),
                  static_cast<unsigned long long>(node.repaired_inconsistent),
                  static_cast<unsigned long long>(node.repaired_background), node.seconds);
    text += line;
  }
  return text;
}

}  // namespace vigil::cli
