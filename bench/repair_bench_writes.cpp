// The repair benchmark, part (b): what the anti-entropy trees cost the write path
// (bench/repair_bench.h). One node, a ring of one (N = R = W = 1): a client write is
// coordinated, applied to the local replica (where NodeContext::stage_key updates the
// tree: two SHA-256 state hashes, O(depth) XORs, and the tree's journal row staged with
// the data) and committed. Requests go in batches of 100 followed by one flush (group
// commit, as net/ batches a loop turn), so the figure is the node's CPU per write plus the
// store's commit per batch. Rounds alternate trees on and off (and which goes first) so
// that drift hits both; each side keeps its best round. A fresh store and node per round:
// every write is an insert of a new key.

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <system_error>

#include "bench/repair_bench.h"
#include "bench/run_directory.h"
#include "core/node/node_driver.h"
#include "store/memory_store.h"
#include "store/sqlite_store.h"
#include "store/typed_storage.h"

namespace vigil::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr core::WallMicros wall_epoch_us = 1'700'000'000'000'000;
constexpr std::uint64_t batch = 100;

core::NodeOptions single_node_options(bool trees) {
  core::NodeOptions options;
  options.id = "n1";
  options.replicas = 1;
  options.one = options.quorum = options.all = options.default_level = core::QuorumCounts{1, 1};
  options.membership.enabled = false;
  options.hints.enabled = false;
  options.read_repair_enabled = false;
  options.anti_entropy.trees_enabled = trees;
  return options;
}

// One round: `writes` puts through a fresh node over `storage`; seconds, or an error.
core::Result<double> write_round(core::CommittableStorage& storage, bool trees,
                                 const RepairBenchOptions& options) {
  const core::Ring ring = core::Ring::build({"n1"}, core::RingOptions{});
  core::NodeDriver driver(single_node_options(trees), ring, storage, 7,
                          core::DriverOptions{core::production_invariant_interval, false, 1});
  std::int64_t now_us = 0;
  const auto now = [&now_us] {
    return core::Now{core::instant_from_micros(now_us), wall_epoch_us + now_us};
  };
  driver.start();
  (void)driver.flush(now());
  const core::Value value(options.value_bytes, 'w');
  std::uint64_t answered = 0;
  const auto started = Clock::now();
  for (std::uint64_t sent = 0; sent < options.writes;) {
    const std::uint64_t end = std::min(options.writes, sent + batch);
    for (; sent < end; ++sent) {
      core::ClientRequest request;
      request.id = sent + 1;
      request.op = core::ClientOp::put;
      request.consistency = core::Consistency::one;
      request.key = "w-" + std::to_string(sent);
      request.value = value;
      driver.client_request(now(), std::move(request));
    }
    // Messages to itself (if the node sends any) are delivered until none is left.
    for (int steps = 0; answered < sent; ++steps) {
      if (steps > 1000) return core::error(core::Code::timeout, "writes were not answered");
      now_us += 1;
      core::DriverEffects effects = driver.flush(now());
      for (const core::ClientReply& reply : effects.replies) {
        if (!reply.status.ok()) return reply.status;
        answered += 1;
      }
      for (core::Envelope& envelope : effects.messages) {
        driver.message(now(), std::move(envelope));
      }
    }
  }
  return std::chrono::duration<double>(Clock::now() - started).count();
}

core::Result<double> sqlite_round(const RunDirectory& directory, int round, bool trees,
                                  const RepairBenchOptions& options) {
  const std::string path =
      directory.file("round-" + std::to_string(round) + (trees ? "-on" : "-off") + ".sqlite");
  auto store = store::SqliteStore::open(path);
  if (!store) return store.status();
  store::TypedStorage storage(**store);
  return write_round(storage, trees, options);
}

core::Result<WritePathFigures> run_side(const std::string& kind, const RunDirectory* directory,
                                        const RepairBenchOptions& options) {
  WritePathFigures figures;
  figures.store = kind;
  for (std::uint32_t round = 0; round < options.write_rounds; ++round) {
    const bool on_first = round % 2 == 0;
    for (const bool trees : {on_first, !on_first}) {
      core::Result<double> seconds = core::error(core::Code::invalid_argument, "no store");
      if (directory) {
        seconds = sqlite_round(*directory, static_cast<int>(round), trees, options);
      } else {
        store::MemoryStore store;
        store::TypedStorage storage(store);
        seconds = write_round(storage, trees, options);
      }
      if (!seconds) return seconds.status();
      (trees ? figures.on_round_seconds : figures.off_round_seconds).push_back(*seconds);
    }
  }
  const double writes = static_cast<double>(options.writes);
  figures.on_writes_per_second =
      writes / *std::min_element(figures.on_round_seconds.begin(), figures.on_round_seconds.end());
  figures.off_writes_per_second = writes / *std::min_element(figures.off_round_seconds.begin(),
                                                             figures.off_round_seconds.end());
  figures.cost = 1.0 - figures.on_writes_per_second / figures.off_writes_per_second;
  return figures;
}

}  // namespace

core::Result<std::vector<WritePathFigures>> run_write_path_bench(
    const RepairBenchOptions& options) {
  std::vector<WritePathFigures> all;
  auto memory = run_side("memory", nullptr, options);
  if (!memory) return memory.status();
  all.push_back(std::move(memory).value());
  if (!options.sqlite) return all;
  auto directory = RunDirectory::create(options.dir, "vigil-bench-repair");
  if (!directory) return directory.status();
  auto sqlite = run_side("sqlite", directory->get(), options);
  if (!sqlite) return sqlite.status();
  all.push_back(std::move(sqlite).value());
  return all;
}

}  // namespace vigil::bench
