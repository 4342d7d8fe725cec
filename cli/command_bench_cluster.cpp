// `vigil bench cluster [--requests N] [--nodes 3|5|...] [--no-kill] [--dir D] [--json]`:
// Vigil's cluster (3 nodes by default; N=3, W=2, R=2, durable commits) beside a single
// redis-server in memory and one with an everysec AOF, all driven by the same
// redis-benchmark command on the same machine in the same run (docs/performance.md,
// "Cluster"). Then, unless --no-kill, the node-kill run (cli/bench_cluster_kill.h): the same
// load before, during and after the last node is SIGKILLed and restarted.
//
// Each target runs alone: the cluster is stopped before the first redis-server starts, so
// no target's idle work (gossip, AOF rewrite) falls in another's measurement. For every
// target: `redis-benchmark -h 127.0.0.1 -p PORT -t set,get -n N -r 100000 -c 50 -d 100
// --csv`, then the same with `-P 16`. redis-benchmark drives one node (n1), which
// coordinates every request, as a client connected to one node would; n1 is a replica of
// every key at N=3, so each write is made durable on n1 and one other node before the
// reply. A run that saw a server error (redis-benchmark exits 1 and prints it) fails the
// benchmark rather than report a figure for it.
//
// The same cluster is then driven through vigil::Client (cli/client_bench.h), token-aware
// over every node: 50 connections (one client each, so 50 connections to every node), the
// same -n, keys and value size, SET then GET, so its row reads beside redis-benchmark's
// against one node in the same run. A client run that ended any request in an error fails
// the benchmark as redis-benchmark's server errors do.
//
// With --tls, a second cluster of the same shape comes up after the first is down, with
// TLS on every port (`cluster up --tls`: client, peer and admin), and the same two
// redis-benchmark runs drive it with `--tls --cacert CA`; the report gives its throughput
// as a share of the plain cluster's in the same run (the cost of TLS), and the vigil::Client
// run is repeated over TLS (ClientOptions::tls with the cluster's CA). The node-kill run is
// not repeated over TLS.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/bench_cluster_kill.h"
#include "cli/client_bench.h"
#include "cli/cluster_control.h"
#include "cli/cluster_files.h"
#include "cli/cluster_ports.h"
#include "cli/cluster_probe.h"
#include "cli/commands.h"
#include "cli/redis_benchmark.h"

namespace vigil::cli {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::uint64_t requests_max = 100'000'000;
constexpr auto benchmark_timeout = std::chrono::minutes(30);
constexpr auto server_start_timeout = seconds(30);

struct BenchClusterOptions {
  std::uint64_t requests = 200'000;
  std::uint32_t nodes = 3;
  bool kill = true;  // the node-kill run
  std::string dir;  // parent of the run's temp directory; empty: the system temp directory
  bool json = false;
  bool tls = false;  // also the TLS cluster (above)
};

struct Programs {
  std::string benchmark;
  std::string server;
  std::string vigil;
};

struct Run {
  std::string target;  // "vigil", "redis", "redis-aof"
  std::uint32_t pipeline = 1;
  BenchmarkRow row;
};

const char* const target_names[] = {"vigil", "vigil-tls", "vigil-client", "vigil-client-tls",
                                    "redis", "redis-aof"};

// redis-server rewrites its command line (its process title), so it is followed as this
// process's child by pid, not by cluster_process.h's command-line identity.
bool child_exited(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == pid;
}

void stop_child(pid_t pid, std::chrono::milliseconds grace) {
  ::kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (child_exited(pid)) return;
    usleep(20'000);
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

std::string target_title(const std::string& target, std::uint32_t nodes) {
  if (target == "vigil") return fmt::format("vigil, {} nodes (N=3 W=2 R=2, durable)", nodes);
  if (target == "vigil-client") return fmt::format("  same, vigil::Client over {} nodes", nodes);
  if (target == "vigil-tls") return "  same, TLS on every port";
  if (target == "vigil-client-tls") return "  same, vigil::Client, TLS on every port";
  if (target == "redis") return "redis-server, in memory";
  return "redis-server, AOF everysec";
}

core::Result<Programs> find_programs() {
  Programs programs;
  core::Result<std::string> benchmark =
      find_program("redis-benchmark", "Debian: apt-get install redis-tools");
  if (!benchmark) return benchmark.status();
  core::Result<std::string> server =
      find_program("redis-server", "Debian: apt-get install redis-server");
  if (!server) return server.status();
  core::Result<std::string> vigil = self_program();
  if (!vigil) return vigil.status();
  return Programs{*benchmark, *server, *vigil};
}

// Both redis-benchmark runs (-P 1 and -P 16) against one port.
// `tls_arguments`: redis-benchmark's --tls --cacert CA for a TLS port, else none.
core::Status drive(const Programs& programs, const BenchClusterOptions& options,
                   const std::string& target, std::uint16_t port, std::vector<Run>& runs,
                   const std::vector<std::string>& tls_arguments = {}) {
  for (const std::uint32_t pipeline : {1u, 16u}) {
    std::vector<std::string> argv{programs.benchmark, "-h", "127.0.0.1", "-p",
                                  std::to_string(port), "-t", "set,get", "-n",
                                  std::to_string(options.requests), "-r", "100000", "-c", "50",
                                  "-d", "100", "--csv"};
    argv.insert(argv.end(), tls_arguments.begin(), tls_arguments.end());
    if (pipeline > 1) {
      argv.push_back("-P");
      argv.push_back(std::to_string(pipeline));
    }
    if (!options.json) {
      std::fprintf(stderr, "bench cluster: %s, -P %u ...\n", target.c_str(), pipeline);
    }
    core::Result<CapturedRun> run = run_captured(argv, benchmark_timeout);
    if (!run) return run.status();
    core::Result<std::vector<BenchmarkRow>> rows = parse_redis_benchmark_csv(run->out);
    if (run->exit_code != 0 || !rows) {
      return core::error(core::Code::unavailable,
                         "redis-benchmark against " + target + " (-P " +
                             std::to_string(pipeline) + ") failed, exit " +
                             std::to_string(run->exit_code) + ": " +
                             (rows ? std::string() : rows.status().message()) + " " +
                             run->err.substr(0, 500));
    }
    for (const BenchmarkRow& row : *rows) runs.push_back({target, pipeline, row});
  }
  return core::Status::ok_status();
}

// The token-aware run through vigil::Client over every node of `nodes`; over TLS verified
// against `tls_ca` when it is not empty (target vigil-client-tls).
core::Status drive_client(const BenchClusterOptions& options, const std::vector<NodeStatus>& nodes,
                          std::vector<Run>& runs, const std::string& tls_ca = "") {
  const std::string target = tls_ca.empty() ? "vigil-client" : "vigil-client-tls";
  ClientBenchOptions bench;
  bench.client.tls.enabled = !tls_ca.empty();
  bench.client.tls.ca_file = tls_ca;
  for (const NodeStatus& node : nodes) {
    bench.client.seeds.push_back(config::format_address(node.client));
  }
  bench.connections = 50;
  bench.requests = options.requests;
  bench.keys = 100'000;
  bench.value_bytes = 100;
  if (!options.json) {
    std::fprintf(stderr, "bench cluster: vigil through vigil::Client%s ...\n",
                 tls_ca.empty() ? "" : " over TLS");
  }
  try {
    for (const ClientBenchRow& row : run_client_bench(bench)) {
      if (row.errors > 0) {
        return core::error(core::Code::unavailable,
                           fmt::format("vigil::Client {}: {} of {} requests failed; first: {}",
                                       row.command, row.errors, row.requests, row.first_error));
      }
      runs.push_back({target, 1, {row.command, row.requests_per_second, row.p50_ms, row.p99_ms}});
    }
  } catch (const ClientError& error) {
    return core::error(core::Code::unavailable,
                       std::string("vigil::Client could not start: ") + error.what());
  }
  return core::Status::ok_status();
}

// The cluster run; with `tls` the TLS cluster's (redis-benchmark as target vigil-tls, then
// vigil::Client as vigil-client-tls; no node-kill run).
core::Status bench_vigil(const Programs& programs, const BenchClusterOptions& options,
                         const std::string& work, std::vector<Run>& runs,
                         std::vector<KillPhase>& kill_phases, bool tls = false) {
  const std::string overlay = work + "/overlay.yaml";
  core::Status written = write_file_atomically(
      overlay, "# vigil bench cluster: the issue's N=3, W=2, R=2 (also the defaults)\n"
               "quorum_settings:\n  N: 3\n  W: 2\n  R: 2\n");
  if (!written.ok()) return written;
  ClusterUpOptions up;
  up.dir = work + (tls ? "/cluster-tls" : "/cluster");
  up.tls = tls;
  up.nodes = options.nodes;
  up.config_overlay_path = overlay;
  up.program = programs.vigil;
  core::Result<std::vector<NodeStatus>> nodes = cluster_up(up);
  // Down in every case: a cluster that did not come up whole still has processes.
  core::Result<ClusterLayout> layout = open_cluster(up.dir);
  if (!nodes) {
    if (layout) (void)cluster_down(*layout, seconds(30));
    return nodes.status();
  }
  if (tls) {
    const std::vector<std::string> tls_arguments{"--tls", "--cacert", up.dir + "/tls/ca.pem"};
    core::Status driven =
        drive(programs, options, "vigil-tls", nodes->front().client.port, runs, tls_arguments);
    if (driven.ok()) driven = drive_client(options, *nodes, runs, up.dir + "/tls/ca.pem");
    const core::Status down = layout ? cluster_down(*layout, seconds(30)) : layout.status();
    return driven.ok() ? down : driven;
  }
  core::Status driven = drive(programs, options, "vigil", nodes->front().client.port, runs);
  if (driven.ok()) driven = drive_client(options, *nodes, runs);
  if (driven.ok() && options.kill && layout) {
    KillRunOptions kill;
    kill.benchmark = programs.benchmark;
    kill.vigil = programs.vigil;
    kill.port = nodes->front().client.port;
    kill.requests = options.requests;
    kill.victim = nodes->size() - 1;
    if (!options.json) std::fprintf(stderr, "bench cluster: vigil, node-kill run ...\n");
    core::Result<std::vector<KillPhase>> phases = run_kill_phases(*layout, kill);
    if (phases) {
      kill_phases = std::move(phases).value();
    } else {
      driven = phases.status();
    }
  }
  const core::Status down = layout ? cluster_down(*layout, seconds(30)) : layout.status();
  return driven.ok() ? down : driven;
}

core::Status bench_redis(const Programs& programs, const BenchClusterOptions& options,
                         const std::string& work, bool aof, std::vector<Run>& runs) {
  const std::string target = aof ? "redis-aof" : "redis";
  const std::string dir = work + "/" + target;
  core::Status made = make_directories(dir);
  if (!made.ok()) return made;
  core::Result<std::uint32_t> port = choose_base_port(1);
  if (!port) return port.status();
  std::vector<std::string> argv{programs.server, "--port", std::to_string(*port), "--bind",
                                "127.0.0.1", "--dir", dir, "--save", ""};
  for (const char* flag : aof ? std::vector<const char*>{"--appendonly", "yes",
                                                         "--appendfsync", "everysec"}
                              : std::vector<const char*>{"--appendonly", "no"}) {
    argv.push_back(flag);
  }
  core::Result<pid_t> pid = spawn_detached(argv, dir + "/redis.log");
  if (!pid) return pid.status();
  const config::Address address{"127.0.0.1", static_cast<std::uint16_t>(*port)};
  const auto deadline = std::chrono::steady_clock::now() + server_start_timeout;
  core::Status ready = probe_ping(address, milliseconds(1000));
  bool exited = false;
  while (!ready.ok() && std::chrono::steady_clock::now() < deadline &&
         !(exited = child_exited(*pid))) {
    usleep(100'000);
    ready = probe_ping(address, milliseconds(1000));
  }
  core::Status driven = ready.ok() ? drive(programs, options, target, address.port, runs)
                                   : core::error(core::Code::unavailable,
                                                 target + " did not answer PING: " +
                                                     ready.message() + "\n" +
                                                     log_tail(dir + "/redis.log", 10));
  if (!exited) stop_child(*pid, seconds(10));
  return driven;
}

const Run* find_run(const std::vector<Run>& runs, const std::string& target,
                    std::uint32_t pipeline, const std::string& test) {
  for (const Run& run : runs) {
    if (run.target == target && run.pipeline == pipeline && run.row.test == test) return &run;
  }
  return nullptr;
}

double ratio(const std::vector<Run>& runs, const std::string& other, std::uint32_t pipeline,
             const std::string& test) {
  const Run* vigil = find_run(runs, "vigil", pipeline, test);
  const Run* peer = find_run(runs, other, pipeline, test);
  if (!vigil || !peer || peer->row.requests_per_second <= 0) return 0;
  return vigil->row.requests_per_second / peer->row.requests_per_second;
}

// The TLS cluster's throughput over the plain one's (0 without a --tls run).
double tls_share(const std::vector<Run>& runs, std::uint32_t pipeline, const std::string& test) {
  const Run* plain = find_run(runs, "vigil", pipeline, test);
  const Run* tls = find_run(runs, "vigil-tls", pipeline, test);
  if (!plain || !tls || plain->row.requests_per_second <= 0) return 0;
  return tls->row.requests_per_second / plain->row.requests_per_second;
}

// vigil::Client's throughput over TLS as a share of its plain one (0 without a --tls run).
double client_tls_share(const std::vector<Run>& runs, const std::string& test) {
  const Run* plain = find_run(runs, "vigil-client", 1, test);
  const Run* tls = find_run(runs, "vigil-client-tls", 1, test);
  if (!plain || !tls || plain->row.requests_per_second <= 0) return 0;
  return tls->row.requests_per_second / plain->row.requests_per_second;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  std::string five;
  std::string fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

double rps(const std::vector<Run>& runs, const std::string& target, const std::string& test) {
  const Run* run = find_run(runs, target, 1, test);
  return run ? run->row.requests_per_second : 0;
}

std::string text_report(const std::vector<Run>& runs, const std::vector<KillPhase>& kill,
                        const BenchClusterOptions& options, const std::string& load_before,
                        const std::string& load_after) {
  std::string out = fmt::format(
      "redis-benchmark -t set,get -n {} -r 100000 -c 50 -d 100 [-P 16], one target at a time;\n"
      "vigil::Client: the same load, token-aware over every node (-c 50, no pipelining)\n"
      "load average before: {}; after: {}\n\n",
      options.requests, load_before, load_after);
  out += fmt::format("{:<42} {:>3} {:<4} {:>12} {:>8} {:>8}\n", "target", "-P", "test",
                     "requests/s", "p50 ms", "p99 ms");
  for (const std::uint32_t pipeline : {1u, 16u}) {
    for (const char* test : {"SET", "GET"}) {
      for (const char* target : target_names) {
        const Run* run = find_run(runs, target, pipeline, test);
        if (!run) continue;
        out += fmt::format("{:<42} {:>3} {:<4} {:>12.0f} {:>8.3f} {:>8.3f}\n",
                           target_title(target, options.nodes), pipeline, test, run->row.requests_per_second,
                           run->row.p50_ms, run->row.p99_ms);
      }
    }
  }
  out += "\nvigil throughput as a share of (issue 10's aim vs in-memory redis: -P 1 SET >= 40%, "
         "GET >= 50%; -P 16 SET >= 15%, GET >= 25%)\n";
  out += fmt::format("{:>3} {:<4} {:>16} {:>16}\n", "-P", "test", "redis in memory",
                     "redis AOF");
  for (const std::uint32_t pipeline : {1u, 16u}) {
    for (const char* test : {"SET", "GET"}) {
      out += fmt::format("{:>3} {:<4} {:>15.1f}% {:>15.1f}%\n", pipeline, test,
                         100 * ratio(runs, "redis", pipeline, test),
                         100 * ratio(runs, "redis-aof", pipeline, test));
    }
  }
  out += "\nvigil::Client token-aware over every node, as a share of redis-benchmark against "
         "n1 (-P 1)\n";
  for (const char* test : {"SET", "GET"}) {
    const double one_node = rps(runs, "vigil", test);
    out += fmt::format("    {:<4} {:>15.1f}%\n", test,
                       one_node > 0 ? 100 * rps(runs, "vigil-client", test) / one_node : 0.0);
  }
  if (find_run(runs, "vigil-tls", 1, "SET") != nullptr) {
    out += "\nvigil with TLS on every port, as a share of the plain cluster (the cost of TLS)\n";
    for (const std::uint32_t pipeline : {1u, 16u}) {
      for (const char* test : {"SET", "GET"}) {
        out += fmt::format("{:>3} {:<4} {:>15.1f}%\n", pipeline, test,
                           100 * tls_share(runs, pipeline, test));
      }
    }
    out += "vigil::Client over TLS, as a share of vigil::Client plain\n";
    for (const char* test : {"SET", "GET"}) {
      out += fmt::format("    {:<4} {:>15.1f}%\n", test, 100 * client_tls_share(runs, test));
    }
  }
  if (!kill.empty()) {
    out += kill_phases_text(kill, options.nodes - 1, rps(runs, "redis", "SET"),
                            rps(runs, "redis", "GET"));
  }
  return out;
}

std::string json_report(const std::vector<Run>& runs, const std::vector<KillPhase>& kill,
                        const BenchClusterOptions& options, const std::string& load_before,
                        const std::string& load_after) {
  nlohmann::json list = nlohmann::json::array();
  for (const Run& run : runs) {
    list.push_back({{"target", run.target},
                    {"pipeline", run.pipeline},
                    {"test", run.row.test},
                    {"requests_per_second", run.row.requests_per_second},
                    {"p50_ms", run.row.p50_ms},
                    {"p99_ms", run.row.p99_ms}});
  }
  nlohmann::json ratios = nlohmann::json::array();
  for (const std::uint32_t pipeline : {1u, 16u}) {
    for (const char* test : {"SET", "GET"}) {
      ratios.push_back({{"pipeline", pipeline},
                        {"test", test},
                        {"vigil_over_redis", ratio(runs, "redis", pipeline, test)},
                        {"vigil_over_redis_aof", ratio(runs, "redis-aof", pipeline, test)},
                        {"vigil_tls_over_vigil", tls_share(runs, pipeline, test)}});
    }
  }
  nlohmann::json client = nlohmann::json::array();
  for (const char* test : {"SET", "GET"}) {
    const double one_node = rps(runs, "vigil", test);
    client.push_back(
        {{"test", test},
         {"client_over_one_node", one_node > 0 ? rps(runs, "vigil-client", test) / one_node : 0.0},
         {"client_tls_over_client", client_tls_share(runs, test)}});
  }
  return nlohmann::json{{"requests", options.requests},
                        {"client_ratios", client},
                        {"nodes", options.nodes},
                        {"kill_run", kill_phases_json(kill)},
                        {"load_average_before", load_before},
                        {"load_average_after", load_after},
                        {"runs", list},
                        {"ratios", ratios}}
      .dump();
}

core::Result<std::string> run_bench(const BenchClusterOptions& options) {
  core::Result<Programs> programs = find_programs();
  if (!programs) return programs.status();
  std::error_code error;
  const std::filesystem::path parent =
      options.dir.empty() ? std::filesystem::temp_directory_path(error)
                          : std::filesystem::path(options.dir);
  std::string pattern = (parent / "vigil-bench-cluster-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return core::error(core::Code::io_error, pattern + ": cannot create the run's directory");
  }
  const std::string work = pattern;
  const std::string load_before = load_average();
  std::vector<Run> runs;
  std::vector<KillPhase> kill;
  core::Status status = bench_vigil(*programs, options, work, runs, kill);
  if (status.ok() && options.tls) {
    std::vector<KillPhase> none;
    status = bench_vigil(*programs, options, work, runs, none, true);
  }
  if (status.ok()) status = bench_redis(*programs, options, work, false, runs);
  if (status.ok()) status = bench_redis(*programs, options, work, true, runs);
  const std::string load_after = load_average();
  if (!status.ok()) {
    return core::error(status.code(), status.message() + "\n(files kept in " + work + ")");
  }
  std::filesystem::remove_all(work, error);
  return options.json ? json_report(runs, kill, options, load_before, load_after) + "\n"
                      : text_report(runs, kill, options, load_before, load_after);
}

}  // namespace

void add_bench_cluster(CLI::App& bench, int& exit_code) {
  CLI::App* command = bench.add_subcommand(
      "cluster",
      "redis-benchmark against a cluster, beside redis-server in memory and with AOF, and "
      "through a node kill");
  auto options = std::make_shared<BenchClusterOptions>();
  command->add_option("--requests", options->requests, "requests per redis-benchmark test (-n)")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1000}, requests_max));
  command->add_option("--nodes", options->nodes, "cluster nodes (N stays 3)")
      ->capture_default_str()
      ->check(CLI::Range(3u, 9u));
  command->add_flag("--no-kill{false}", options->kill,
                    "skip the run during which a node is SIGKILLed and restarted");
  command->add_option("--dir", options->dir,
                      "directory for the run's fresh temp directory (default: system temp)");
  command->add_flag("--json", options->json, "print one JSON object");
  command->add_flag("--tls", options->tls,
                    "also a cluster with TLS on every port, reported as a share of the plain one");
  command->callback([options, &exit_code] {
    core::Result<std::string> report = run_bench(*options);
    if (!report) {
      std::fprintf(stderr, "vigil bench cluster: %s\n", report.status().message().c_str());
      exit_code = report.status().code() == core::Code::not_found ? 2 : 1;
      return;
    }
    std::fputs(report->c_str(), stdout);
    exit_code = 0;
  });
}

}  // namespace vigil::cli
