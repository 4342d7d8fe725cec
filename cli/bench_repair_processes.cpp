#include "cli/bench_repair_processes.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "bench/run_directory.h"
#include "cli/cluster_control.h"
#include "cli/cluster_files.h"
#include "cli/cluster_probe.h"
#include "cli/cluster_repair.h"
#include "store/sqlite_store.h"

namespace vigil::cli {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::size_t victim = 2;  // n3
constexpr std::uint64_t pipeline_depth = 1000;
constexpr auto converge_timeout = std::chrono::minutes(5);
constexpr auto status_timeout = seconds(5);

// Only anti-entropy repairs: no hints to replay, no read repair.
constexpr const char* overlay_text =
    "# vigil bench repair --processes: only anti-entropy can bring a replica back\n"
    "quorum_settings:\n  N: 3\n  W: 2\n  R: 2\n"
    "hint_storage:\n  enabled: false\n"
    "read_repair:\n  enabled: false\n";

std::string key_name(std::uint64_t i) { return "repair-" + std::to_string(i); }

double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

core::Status fill(const config::Address& client, const ProcessRepairOptions& options) {
  const timeval timeout{10, 0};
  std::unique_ptr<redisContext, decltype(&redisFree)> context(
      redisConnectWithTimeout(client.host.c_str(), client.port, timeout), &redisFree);
  if (!context || context->err) {
    return core::error(core::Code::unavailable,
                       "fill: cannot connect to n1's client port: " +
                           std::string(context ? context->errstr : "out of memory"));
  }
  redisSetTimeout(context.get(), timeval{30, 0});
  const std::string value(options.value_bytes, 'r');
  for (std::uint64_t first = 0; first < options.keys; first += pipeline_depth) {
    const std::uint64_t end = std::min(options.keys, first + pipeline_depth);
    for (std::uint64_t i = first; i < end; ++i) {
      const std::string key = key_name(i);
      redisAppendCommand(context.get(), "SET %b %b", key.data(), key.size(), value.data(),
                         value.size());
    }
    for (std::uint64_t i = first; i < end; ++i) {
      void* raw = nullptr;
      if (redisGetReply(context.get(), &raw) != REDIS_OK) {
        return core::error(core::Code::unavailable,
                           "fill: no reply for " + key_name(i) + ": " + context->errstr);
      }
      std::unique_ptr<redisReply, decltype(&freeReplyObject)> reply(
          static_cast<redisReply*>(raw), &freeReplyObject);
      if (reply->type != REDIS_REPLY_STATUS || std::string(reply->str, reply->len) != "OK") {
        return core::error(core::Code::unavailable,
                           "fill: SET " + key_name(i) + " was not OK: " +
                               std::string(reply->str ? reply->str : "", reply->len));
      }
    }
  }
  return core::Status::ok_status();
}

// n3's store loses every stride-th key and its persisted trees (a snapshot that does not
// decode makes the node rebuild them from the store at start-up).
core::Result<std::uint64_t> erase_from_store(const std::string& path,
                                             const ProcessRepairOptions& options) {
  auto store = store::SqliteStore::open(path);
  if (!store) return store.status();
  const auto stride = static_cast<std::uint64_t>(
      std::max(1.0, std::round(1.0 / options.divergent_fraction)));
  store::WriteBatch batch;
  for (std::uint64_t i = 0; i < options.keys; i += stride) batch.key_erases.push_back(key_name(i));
  batch.meta_puts.emplace_back("ae.trees", "erased by vigil bench repair --processes");
  if (core::Status applied = (*store)->apply(batch); !applied.ok()) return applied;
  if (core::Status committed = (*store)->commit(); !committed.ok()) return committed;
  return static_cast<std::uint64_t>(batch.key_erases.size());
}

struct NodeFigures {
  std::string root;
  std::uint64_t keys_received = 0;
  std::uint64_t state_bytes = 0;
  std::uint64_t exchanges = 0;
};

core::Result<NodeFigures> node_figures(const ClusterNode& node) {
  core::Result<std::string> body =
      http_get(node.admin, "/status", status_timeout, node.admin_token, node.admin_tls);
  if (!body) return core::Status(body.status().code(), node.id + ": " + body.status().message());
  const nlohmann::json status = nlohmann::json::parse(*body, nullptr, false);
  try {
    NodeFigures figures;
    const nlohmann::json& trees = status.at("anti_entropy").at("trees");
    if (trees.size() != 1) {
      return core::error(core::Code::failed_precondition,
                         node.id + ": expected one replica set (3 nodes, N = 3), /status shows " +
                             std::to_string(trees.size()));
    }
    figures.root = trees[0].at("root_hash").get<std::string>();
    figures.exchanges = status.at("anti_entropy").at("exchanges_completed").get<std::uint64_t>();
    const nlohmann::json& counters = status.at("counters");
    figures.keys_received = counters.value("ae_keys_received", std::uint64_t{0});
    figures.state_bytes = counters.value("ae_bytes_sent", std::uint64_t{0}) +
                          counters.value("ae_bytes_received", std::uint64_t{0});
    return figures;
  } catch (const nlohmann::json::exception& error) {
    return core::error(core::Code::invalid_argument,
                       node.id + ": /status is not what repair reads: " + error.what());
  }
}

core::Result<std::vector<NodeFigures>> all_figures(const ClusterLayout& layout) {
  std::vector<NodeFigures> all;
  for (const ClusterNode& node : layout.nodes) {
    core::Result<NodeFigures> figures = node_figures(node);
    if (!figures) return figures.status();
    all.push_back(std::move(figures).value());
  }
  return all;
}

core::Status run(const ClusterLayout& layout, const ProcessRepairOptions& options,
                 const std::string& program, ProcessRepairFigures& figures) {
  auto started = Clock::now();
  if (core::Status filled = fill(layout.nodes.front().client, options); !filled.ok()) {
    return filled;
  }
  figures.fill_seconds = since(started);
  core::Result<std::vector<NodeFigures>> before = all_figures(layout);
  if (!before) return before.status();

  if (core::Status killed = cluster_kill(layout, victim); !killed.ok()) return killed;
  auto erased = erase_from_store(node_data_dir(layout, victim) + "/vigil.sqlite", options);
  if (!erased) return core::Status(erased.status().code(), "n3's store: " + erased.status().message());
  figures.keys_erased = *erased;

  started = Clock::now();
  if (core::Status restarted = cluster_restart(layout, victim, program, seconds(30), seconds(120));
      !restarted.ok()) {
    return restarted;
  }
  figures.restart_seconds = since(started);
  started = Clock::now();
  ClusterRepairOptions repair;
  repair.timeout = converge_timeout;
  if (auto repaired = cluster_repair(layout, repair); !repaired) return repaired.status();
  const auto deadline = Clock::now() + converge_timeout;
  core::Result<std::vector<NodeFigures>> after = all_figures(layout);
  for (;;) {
    if (!after) return after.status();
    std::set<std::string> roots;
    for (const NodeFigures& node : *after) roots.insert(node.root);
    figures.converged = roots.size() == 1;
    if (figures.converged || Clock::now() >= deadline) break;
    std::this_thread::sleep_for(milliseconds(50));
    after = all_figures(layout);
  }
  figures.repair_seconds = since(started);
  for (std::size_t i = 0; i < after->size(); ++i) {
    // n3's counters started again from zero with its restart.
    const NodeFigures base = i == victim ? NodeFigures{} : (*before)[i];
    const NodeFigures& now = (*after)[i];
    figures.keys_streamed += now.keys_received - base.keys_received;
    figures.state_bytes += now.state_bytes - base.state_bytes;
    figures.exchanges += now.exchanges - base.exchanges;
  }
  if (figures.keys_erased > 0) {
    figures.keys_per_second = static_cast<double>(figures.keys_erased) / figures.repair_seconds;
    figures.over_streaming =
        static_cast<double>(figures.keys_streamed) / static_cast<double>(figures.keys_erased);
  }
  return core::Status::ok_status();
}

}  // namespace

core::Result<ProcessRepairFigures> run_process_repair_bench(const ProcessRepairOptions& options) {
  std::string program = options.program;
  if (program.empty()) {
    core::Result<std::string> self = self_program();
    if (!self) return self.status();
    program = *self;
  }
  auto work = bench::RunDirectory::create(options.dir, "vigil-bench-repair");
  if (!work) return work.status();
  const std::string overlay = (*work)->file("overlay.yaml");
  if (core::Status written = write_file_atomically(overlay, overlay_text); !written.ok()) {
    return written;
  }
  ClusterUpOptions up;
  up.dir = (*work)->file("cluster");
  up.nodes = 3;
  up.config_overlay_path = overlay;
  up.program = program;
  up.timeout = seconds(60);
  ProcessRepairFigures figures;
  figures.keys = options.keys;
  core::Result<std::vector<NodeStatus>> nodes = cluster_up(up);
  core::Result<ClusterLayout> layout = open_cluster(up.dir);
  core::Status status = nodes.ok() ? (layout ? run(*layout, options, program, figures)
                                             : layout.status())
                                   : nodes.status();
  // Down in every case: a cluster that did not come up whole still has processes.
  if (layout) {
    const core::Status down = cluster_down(*layout, seconds(30));
    if (status.ok()) status = down;
  }
  if (!status.ok()) {
    (*work)->keep();
    return core::Status(status.code(),
                        status.message() + "\n(files kept in " + (*work)->path() + ")");
  }
  return figures;
}

std::string process_repair_text(const ProcessRepairFigures& f) {
  return fmt::format(
      "repair (real processes: 3 `vigil start` nodes, N=3, SQLite; {} keys, {} erased from n3 "
      "with its persisted trees)\n"
      "  fill through n1: {:.2f} s ({:.0f} SETs/s, pipelined {})\n"
      "  n3 restarted (trees rebuilt from its store) and ready in {:.2f} s\n"
      "  repair: {:.2f} s from the restart to equal tree roots; {:.0f} divergent keys/s; "
      "{} exchanges\n"
      "  keys streamed {} (sum of ae_keys_received) for {} that differed: over-streaming "
      "{:.3f} (ideal 1.0)\n"
      "  key-state bytes sent and received: {}\n"
      "  converged: {}\n",
      f.keys, f.keys_erased, f.fill_seconds,
      f.fill_seconds > 0 ? static_cast<double>(f.keys) / f.fill_seconds : 0.0, pipeline_depth,
      f.restart_seconds, f.repair_seconds, f.keys_per_second, f.exchanges, f.keys_streamed,
      f.keys_erased, f.over_streaming, f.state_bytes, f.converged ? "yes" : "no");
}

nlohmann::json process_repair_json(const ProcessRepairFigures& f) {
  return nlohmann::json{{"keys", f.keys},
                        {"keys_erased", f.keys_erased},
                        {"fill_seconds", f.fill_seconds},
                        {"restart_seconds", f.restart_seconds},
                        {"repair_seconds", f.repair_seconds},
                        {"keys_per_second", f.keys_per_second},
                        {"exchanges", f.exchanges},
                        {"keys_streamed", f.keys_streamed},
                        {"over_streaming", f.over_streaming},
                        {"state_bytes", f.state_bytes},
                        {"converged", f.converged}};
}

}  // namespace vigil::cli
