// `vigil bench <what>`: one sub-subcommand per benchmark, each in its own add_bench_*
// function below and its driver in bench/. A new benchmark adds one function and one line
// in add_bench_command.

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "bench/repair_bench.h"
#include "bench/sim_bench.h"
#include "bench/store_bench.h"
#include "cli/bench_repair_processes.h"
#include "cli/commands.h"

namespace vigil::cli {
namespace {

void add_bench_store(CLI::App& bench, int& exit_code) {
  CLI::App* command = bench.add_subcommand(
      "store", "committed puts/s through SqliteStore with group commit, beside raw SQLite");
  auto options = std::make_shared<bench::StoreBenchOptions>();
  auto json = std::make_shared<bool>(false);
  command->add_option("--rows", options->rows, "rows to write")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, bench::store_bench_rows_max));
  command->add_option("--batch", options->batch, "puts per commit (group commit)")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, bench::store_bench_rows_max));
  command->add_option("--value-bytes", options->value_bytes, "bytes per stored value")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{0}, bench::store_bench_value_bytes_max));
  command->add_option("--rounds", options->rounds, "alternating rounds; each side keeps its best")
      ->capture_default_str()
      ->check(CLI::Range(std::uint32_t{1}, bench::store_bench_rounds_max));
  command->add_option("--dir", options->dir,
                      "directory for the run's fresh temp directory (default: system temp)");
  command->add_flag("--json", *json, "print one JSON object");
  command->callback([options, json, &exit_code] {
    core::Result<bench::StoreBenchResult> result = bench::run_store_bench(*options);
    if (!result) {
      std::fprintf(stderr, "vigil bench store: %s\n", result.status().to_string().c_str());
      exit_code = result.status().code() == core::Code::invalid_argument ? 2 : 1;
      return;
    }
    const std::string text =
        *json ? bench::store_bench_json(*result) + "\n" : bench::store_bench_text(*result);
    std::fputs(text.c_str(), stdout);
    exit_code = 0;
  });
}

void add_bench_sim(CLI::App& bench, int& exit_code) {
  CLI::App* command = bench.add_subcommand(
      "sim", "simulated seconds and events per wall second: 5 nodes, 200 ops/s, nemesis on");
  auto options = std::make_shared<bench::SimBenchOptions>();
  auto json = std::make_shared<bool>(false);
  command->add_option("--duration", options->duration_s, "simulated seconds of workload per run")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{60}, bench::sim_bench_duration_s_max));
  command->add_option("--seed", options->seed, "first seed")->capture_default_str();
  command->add_option("--runs", options->runs, "runs, with consecutive seeds")
      ->capture_default_str()
      ->check(CLI::Range(std::uint32_t{1}, std::uint32_t{1000}));
  command->add_flag("--json", *json, "print one JSON object");
  command->callback([options, json, &exit_code] {
    core::Result<bench::SimBenchResult> result = bench::run_sim_bench(*options);
    if (!result) {
      std::fprintf(stderr, "vigil bench sim: %s\n", result.status().to_string().c_str());
      exit_code = 2;
      return;
    }
    const std::string text =
        *json ? bench::sim_bench_json(*result) + "\n" : bench::sim_bench_text(*result);
    std::fputs(text.c_str(), stdout);
    exit_code = 0;
  });
}

void add_bench_repair(CLI::App& bench, int& exit_code) {
  CLI::App* command = bench.add_subcommand(
      "repair", "anti-entropy: repair of a 3-node simulated cluster, and the trees' write cost");
  auto options = std::make_shared<bench::RepairBenchOptions>();
  auto json = std::make_shared<bool>(false);
  command->add_option("--keys", options->keys, "keys on every replica (K)")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, bench::repair_bench_keys_max));
  command->add_option("--divergent-fraction", options->divergent_fraction,
                      "fraction of the keys one replica misses (F)")
      ->capture_default_str()
      ->check(CLI::Range(1e-6, 0.5));
  command->add_option("--value-bytes", options->value_bytes, "bytes per value")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{64 * 1024}));
  command->add_option("--writes", options->writes, "writes per write-path round (W)")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{100}, bench::repair_bench_keys_max));
  command->add_option("--write-rounds", options->write_rounds,
                      "write-path rounds per side (trees on, off), alternating; best kept")
      ->capture_default_str()
      ->check(CLI::Range(std::uint32_t{1}, bench::repair_bench_rounds_max));
  command->add_flag("--no-write-path", [options](std::int64_t) { options->write_path = false; },
                    "skip the write-path measurement");
  command->add_flag("--no-sqlite", [options](std::int64_t) { options->sqlite = false; },
                    "write path over MemoryStore only");
  command->add_option("--dir", options->dir, "parent of the SQLite temp directory");
  auto processes = std::make_shared<bool>(false);
  command->add_flag("--processes", *processes,
                    "also repair a cluster of real `vigil start` processes (K keys, F of them "
                    "erased from n3's SQLite file)");
  command->add_flag("--json", *json, "print one JSON object");
  command->callback([options, json, processes, &exit_code] {
    core::Result<bench::RepairBenchResult> result = bench::run_repair_bench(*options);
    if (!result) {
      std::fprintf(stderr, "vigil bench repair: %s\n", result.status().to_string().c_str());
      exit_code = result.status().code() == core::Code::invalid_argument ? 2 : 1;
      return;
    }
    std::optional<ProcessRepairFigures> real;
    if (*processes) {
      ProcessRepairOptions real_options;
      real_options.keys = options->keys;
      real_options.divergent_fraction = options->divergent_fraction;
      real_options.value_bytes = options->value_bytes;
      real_options.dir = options->dir;
      core::Result<ProcessRepairFigures> figures = run_process_repair_bench(real_options);
      if (!figures) {
        std::fprintf(stderr, "vigil bench repair --processes: %s\n",
                     figures.status().to_string().c_str());
        exit_code = 1;
        return;
      }
      real = std::move(figures).value();
    }
    std::string text;
    if (*json) {
      nlohmann::json document = nlohmann::json::parse(bench::repair_bench_json(*result));
      if (real) document["processes"] = process_repair_json(*real);
      text = document.dump() + "\n";
    } else {
      text = bench::repair_bench_text(*result) + (real ? process_repair_text(*real) : "");
    }
    std::fputs(text.c_str(), stdout);
    exit_code = result->stores_equal && (!real || real->converged) ? 0 : 1;
  });
}

}  // namespace

void add_bench_command(CLI::App& app, int& exit_code) {
  CLI::App* bench =
      app.add_subcommand("bench", "benchmarks, each beside a peer measured in the same run");
  bench->require_subcommand(1);
  add_bench_store(*bench, exit_code);
  add_bench_sim(*bench, exit_code);
  add_bench_cluster(*bench, exit_code);
  add_bench_repair(*bench, exit_code);
}

}  // namespace vigil::cli
