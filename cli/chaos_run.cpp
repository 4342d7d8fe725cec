// `vigil chaos` (cli/chaos_run.h). Theory of operation: the simulator's script
// (sim/simulation_faults.cpp) replayed against the wall clock. One thread, this one, is
// the nemesis: it sleeps until the next thing due (a scenario fault, the end of a pause,
// the end of a timed network rule, the end of the run) and does it; the workload runs in
// the client port's threads meanwhile. Every network change is pushed to every running node
// as its whole rule set, and a node that was restarted or resumed gets its rules again, so
// a node's filter always matches the scenario once the push lands. What cannot be exact on
// real processes is said in docs/scenarios.md: faults land a few milliseconds after their
// time (a restart waits for the node to listen), and a restarted node talks to everyone
// for the instant between binding its ports and receiving its rules.

#include "cli/chaos_run.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include "bench/run_directory.h"
#include "cli/chaos_client.h"
#include "cli/chaos_logs.h"
#include "cli/chaos_plan.h"
#include "cli/cluster_control.h"
#include "cli/cluster_files.h"
#include "cli/cluster_probe.h"
#include "config/config_yaml.h"
#include "sim/checkers.h"
#include "sim/report.h"
#include "sim/simulator.h"

namespace vigil::cli {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds admin_timeout{1000};
constexpr milliseconds ready_poll{20};
constexpr milliseconds client_timeout_slack{1000};  // as the simulator's client
constexpr milliseconds down_grace{10000};
constexpr std::chrono::microseconds interrupt_poll{100000};
constexpr std::size_t log_bytes_max = 64 * 1024 * 1024;  // a node log read back whole

// Checks that read more than the history and the fault timeline, and why chaos skips them.
const std::map<std::string, std::string>& skipped_checks() {
  static const std::map<std::string, std::string> reasons = {
      {"hints_drained",
       "reads every replica's contents and hint counters of every incarnation (a SIGKILLed "
       "process takes its counters with it); the final reads at `all` still gate lost writes"},
      {"convergence", "samples every replica's store from outside the processes"},
      {"tombstones_collected", "reads every node's store after the quiesce"},
  };
  return reasons;
}

enum class NodeState : std::uint8_t { up, crashed, paused };

struct Action {
  enum class Kind : std::uint8_t { fault, resume };
  Kind kind = Kind::fault;
  std::size_t index = 0;         // fault index, or node index for a resume
  std::uint64_t generation = 0;  // resume: the pause it ends
};

class ChaosRun {
 public:
  ChaosRun(const sim::Scenario& scenario, const ChaosOptions& options, ClusterLayout layout,
           std::string program, std::chrono::milliseconds client_timeout)
      : scenario_(scenario),
        options_(options),
        layout_(std::move(layout)),
        program_(std::move(program)),
        ids_(sim::scenario_node_ids(scenario)),
        network_(ids_, scenario.network),
        port_(client_options(client_timeout), network_),
        client_timeout_(client_timeout),
        states_(ids_.size(), NodeState::up),
        pause_generation_(ids_.size(), 0),
        pushed_(ids_.size()),
        run_start_wall_us_(std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count()) {}

  core::Status run() {
    note_timeline(0);
    push_rules(0);  // every filter starts empty; this checks that each node has one
    if (!push_failures_.empty()) {
      return core::error(core::Code::failed_precondition,
                         "cannot reach the fault filter of " + push_failures_ +
                             " (is it running with --enable-fault-injection?)");
    }
    port_.start_clients(scenario_.workload, options_.seed);
    run_script();
    if (!interrupted()) finish();
    if (interrupted()) {
      port_.stop();
      port_.finish(client_timeout_);
      return core::error(core::Code::unavailable,
                         "interrupted (SIGINT or SIGTERM): the run was stopped");
    }
    return core::Status::ok_status();
  }

  sim::SimulationResult result() {
    sim::SimulationResult result;
    std::lock_guard<std::mutex> held(port_.lock());
    result.history = port_.history();
    result.sim_time_us = end_us_;
    result.fault_timeline = timeline_;
    result.faults_injected = faults_applied_;
    result.counters = counters_;
    result.crashes = crashes_;
    for (const auto& [name, value] : port_.counters()) result.counters[name] += value;
    return result;
  }
  const std::map<core::NodeId, double>& wall_offset_s() const { return wall_offset_s_; }
  std::int64_t run_start_wall_us() const { return run_start_wall_us_; }
  double lateness_s_max() const { return static_cast<double>(lateness_us_max_) / 1e6; }
  const std::string& push_failures() const { return push_failures_; }

 private:
  ChaosClientOptions client_options(std::chrono::milliseconds client_timeout) const {
    ChaosClientOptions options;
    options.ids = ids_;
    for (const ClusterNode& node : layout_.nodes) options.addresses.push_back(node.client);
    options.client_timeout = client_timeout;
    return options;
  }

  void count(const std::string& name, std::uint64_t amount = 1) { counters_[name] += amount; }

  void progress(const std::string& line) {
    if (options_.progress)
      *options_.progress << fmt::format("  {:7.3f}s  ", port_.now_us() / 1e6) << line << '\n';
  }

  bool interrupted() const { return options_.interrupted && options_.interrupted->load(); }

  // Sleeps in slices of at most interrupt_poll, so that an interruption is seen soon.
  void sleep_until_us(std::int64_t at_us) {
    for (std::int64_t now_us = port_.now_us(); at_us > now_us && !interrupted();
         now_us = port_.now_us()) {
      std::this_thread::sleep_for(std::min<std::chrono::microseconds>(
          std::chrono::microseconds(at_us - now_us), interrupt_poll));
    }
  }

  // The scenario's faults, pauses' ends and timed rules' ends, in time order, until
  // `duration`.
  void run_script() {
    const std::int64_t duration_us = core::to_micros(scenario_.duration);
    for (std::size_t i = 0; i < scenario_.faults.size(); ++i) {
      const std::int64_t at_us = core::to_micros(scenario_.faults[i].at);
      if (at_us >= duration_us) {
        count("faults_skipped");
        continue;
      }
      pending_.emplace(at_us, Action{Action::Kind::fault, i, 0});
    }
    while (true) {
      std::int64_t next_us = duration_us;
      const bool action_due = !pending_.empty() && pending_.begin()->first < next_us;
      if (action_due) next_us = pending_.begin()->first;
      const std::optional<std::int64_t> expiry = network_.next_expiry_after(last_push_us_);
      const bool expiry_due = expiry && *expiry < next_us;
      if (expiry_due) next_us = *expiry;
      sleep_until_us(next_us);
      if (interrupted()) return;
      if (expiry_due) {
        push_rules(port_.now_us());
        continue;
      }
      if (!action_due) break;  // the end of the run
      const auto [at_us, action] = *pending_.begin();
      pending_.erase(pending_.begin());
      lateness_us_max_ = std::max(lateness_us_max_, port_.now_us() - at_us);
      if (action.kind == Action::Kind::resume) {
        resume(action.index, action.generation);
      } else {
        apply(scenario_.faults[action.index]);
      }
      note_timeline(port_.now_us());
    }
    end_of_run();
  }

  void apply(const sim::Fault& fault) {
    const std::string kind = fault_kind_name(fault.kind);
    faults_applied_ += 1;
    switch (fault.kind) {
      case sim::FaultKind::crash: return crash(index_of(fault.node));
      case sim::FaultKind::restart: return restart(index_of(fault.node));
      case sim::FaultKind::pause: return pause(index_of(fault.node), fault.length);
      default: break;
    }
    {
      std::lock_guard<std::mutex> held(port_.lock());
      network_.apply(fault, port_.now_us());
    }
    count("faults_" + kind);
    progress(kind + (fault.node.empty() ? "" : " " + fault.node));
    push_rules(port_.now_us());
  }

  std::size_t index_of(const core::NodeId& id) const {
    return static_cast<std::size_t>(std::find(ids_.begin(), ids_.end(), id) - ids_.begin());
  }

  void crash(std::size_t node) {
    if (states_[node] == NodeState::crashed) {
      count("faults_ignored");
      return;
    }
    const core::Status killed = cluster_kill(layout_, node);
    if (!killed.ok()) progress("crash " + ids_[node] + " failed: " + killed.message());
    states_[node] = NodeState::crashed;
    pushed_[node].reset();
    crashes_.push_back(sim::CrashRecord{static_cast<std::uint32_t>(node), port_.now_us(), -1});
    count("node_crashes");
    progress("crash " + ids_[node] + " (SIGKILL)");
  }

  void restart(std::size_t node) {
    if (states_[node] != NodeState::crashed) {
      count("faults_ignored");
      return;
    }
    const core::Status started = cluster_start(layout_, node, program_);
    if (!started.ok()) {
      progress("restart " + ids_[node] + " failed: " + started.message());
      count("node_restart_failures");
      return;
    }
    // Listening once its admin port answers (both ports are bound together).
    const auto deadline = Clock::now() + options_.start_timeout;
    const ClusterNode& target = layout_.nodes[node];
    while (!http_get(target.admin, "/fault", admin_timeout, target.admin_token, target.admin_tls)
                .ok() &&
           Clock::now() < deadline) {
      std::this_thread::sleep_for(ready_poll);
    }
    {
      std::lock_guard<std::mutex> held(port_.lock());
      port_.node_restarted(node);
    }
    states_[node] = NodeState::up;
    for (auto it = crashes_.rbegin(); it != crashes_.rend(); ++it) {
      if (it->node == node && it->restarted_us < 0) {
        it->restarted_us = port_.now_us();
        break;
      }
    }
    count("node_restarts");
    progress("restart " + ids_[node]);
    push_rules(port_.now_us());
  }

  void pause(std::size_t node, core::Duration length) {
    if (states_[node] != NodeState::up) {
      count("faults_ignored");
      return;
    }
    const core::Status paused = cluster_pause(layout_, node);
    if (!paused.ok()) progress("pause " + ids_[node] + " failed: " + paused.message());
    states_[node] = NodeState::paused;
    count("node_pauses");
    progress("pause " + ids_[node] + " (SIGSTOP)");
    pending_.emplace(port_.now_us() + core::to_micros(length),
                     Action{Action::Kind::resume, node, ++pause_generation_[node]});
  }

  void resume(std::size_t node, std::uint64_t generation) {
    if (states_[node] != NodeState::paused || generation != pause_generation_[node]) return;
    const core::Status resumed = cluster_resume(layout_, node);
    if (!resumed.ok()) progress("resume " + ids_[node] + " failed: " + resumed.message());
    states_[node] = NodeState::up;
    count("node_resumes");
    progress("resume " + ids_[node] + " (SIGCONT)");
    push_rules(port_.now_us());  // rules that changed while it was stopped
  }

  // Each running node's whole rule set, where it differs from what it last took.
  void push_rules(std::int64_t now_us) {
    last_push_us_ = now_us;
    const std::vector<net::FaultRules> rules = network_.rules(now_us);
    push_failures_.clear();
    for (std::size_t node = 0; node < ids_.size(); ++node) {
      if (states_[node] != NodeState::up || pushed_[node] == rules[node]) continue;
      const std::string body = net::fault_rules_to_json(rules[node]).dump();
      const core::Result<std::string> answer =
          http_request(layout_.nodes[node].admin, "POST", "/fault", 200, admin_timeout, body,
                       layout_.nodes[node].admin_token, layout_.nodes[node].admin_tls);
      if (answer.ok()) {
        pushed_[node] = rules[node];
        count("fault_rule_pushes");
      } else {
        count("fault_rule_push_failures");
        push_failures_ += (push_failures_.empty() ? "" : ", ") + ids_[node] + " (" +
                          answer.status().message() + ")";
        progress("rules for " + ids_[node] + " not taken: " + answer.status().message());
      }
    }
  }

  // As the simulator's end of run: the workload stops and everything but clocks heals.
  void end_of_run() {
    port_.stop();
    {
      std::lock_guard<std::mutex> held(port_.lock());
      network_.heal_everything();
    }
    for (std::size_t node = 0; node < ids_.size(); ++node) {
      if (states_[node] == NodeState::paused) resume(node, pause_generation_[node]);
      if (states_[node] == NodeState::crashed) restart(node);
    }
    push_rules(port_.now_us());
    count("final_heals");
    note_timeline(port_.now_us());
    progress("end of run: healed everything");
  }

  void finish() {
    const std::size_t unfinished = port_.finish(3 * client_timeout_);
    if (unfinished > 0) count("workload_operations_unfinished", unfinished);
    sleep_until_us(port_.now_us() + core::to_micros(scenario_.quiesce));
    progress("quiesced; final reads at `all`");
    std::lock_guard<std::mutex> held(port_.lock());
    count("final_reads_unanswered_keys", sim::run_final_reads(port_, scenario_.workload));
    end_us_ = port_.now_us();
    read_filters();
  }

  // What each node's filter did (since its last start) and where its wall clock stands.
  void read_filters() {
    for (std::size_t node = 0; node < ids_.size(); ++node) {
      const core::Result<std::string> body =
          http_get(layout_.nodes[node].admin, "/fault", admin_timeout,
                   layout_.nodes[node].admin_token, layout_.nodes[node].admin_tls);
      const auto local_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
      const nlohmann::json status =
          body ? nlohmann::json::parse(*body, nullptr, false) : nlohmann::json();
      if (!status.is_object() || !status.contains("counters") || !status.contains("wall_time_us")) {
        count("fault_filter_reads_failed");
        continue;
      }
      for (const char* name :
           {"frames_dropped_out", "frames_dropped_in", "frames_duplicated", "frames_delayed"}) {
        count(std::string("filter_") + name, status["counters"].value(name, std::uint64_t{0}));
      }
      wall_offset_s_[ids_[node]] =
          static_cast<double>(status["wall_time_us"].get<std::int64_t>() - local_us) / 1e6;
    }
  }

  void note_timeline(std::int64_t at_us) {
    sim::FaultState state;
    state.at_us = at_us;
    for (std::size_t node = 0; node < ids_.size(); ++node) {
      state.down.push_back(states_[node] != NodeState::up);
    }
    state.open.assign(ids_.size(), std::vector<bool>(ids_.size(), true));
    for (std::size_t from = 0; from < ids_.size(); ++from) {
      for (std::size_t to = 0; to < ids_.size(); ++to)
        state.open[from][to] = network_.open(from, to);
    }
    if (!timeline_.empty()) {
      sim::FaultState last = timeline_.back();
      last.at_us = at_us;
      if (last == state) return;
    }
    timeline_.push_back(std::move(state));
  }

  const sim::Scenario& scenario_;
  const ChaosOptions& options_;
  ClusterLayout layout_;
  std::string program_;
  std::vector<core::NodeId> ids_;
  ChaosNetwork network_;
  ChaosClientPort port_;
  std::chrono::milliseconds client_timeout_;
  std::vector<NodeState> states_;
  std::vector<std::uint64_t> pause_generation_;
  std::vector<std::optional<net::FaultRules>> pushed_;
  std::multimap<std::int64_t, Action> pending_;
  std::vector<sim::FaultState> timeline_;
  std::vector<sim::CrashRecord> crashes_;
  std::int64_t run_start_wall_us_ = 0;
  std::map<std::string, std::uint64_t> counters_;
  std::map<core::NodeId, double> wall_offset_s_;
  std::string push_failures_;
  std::int64_t last_push_us_ = 0;
  std::int64_t lateness_us_max_ = 0;
  std::int64_t end_us_ = 0;
  std::uint64_t faults_applied_ = 0;
};

// The scenario with only the checks chaos can run; the others go to `skipped`.
sim::Scenario runnable_checks(const sim::Scenario& scenario, std::vector<SkippedCheck>& skipped) {
  sim::Scenario runnable = scenario;
  runnable.checks.clear();
  for (const sim::CheckSpec& check : scenario.checks) {
    const auto reason = skipped_checks().find(check.name);
    if (reason == skipped_checks().end()) {
      runnable.checks.push_back(check);
    } else {
      skipped.push_back({check.name, reason->second});
    }
  }
  return runnable;
}

core::Result<std::string> write_overlay(const sim::Scenario& scenario, const std::string& dir) {
  const std::string path = dir + "/scenario-config.yaml";
  const std::string text = "# The configuration of scenario " + scenario.name +
                           " (vigil chaos): every node's, before its node section.\n" +
                           config::config_to_yaml(scenario.config);
  if (core::Status written = write_file_atomically(path, text); !written.ok()) return written;
  return path;
}

// Every node's judgements of its peers during the run, from its log (cli/chaos_logs.h), in
// time order as the failure_detection check reads them.
std::vector<sim::PeerTransitionRecord> read_peer_transitions(
    const ClusterLayout& layout, std::int64_t run_start_wall_us,
    std::map<std::string, std::uint64_t>& counters) {
  std::vector<sim::PeerTransitionRecord> all;
  for (std::size_t node = 0; node < layout.nodes.size(); ++node) {
    const core::Result<std::string> log =
        read_small_file(node_log_path(layout, node), log_bytes_max);
    if (!log) {
      counters["node_logs_unreadable"] += 1;
      continue;
    }
    for (sim::PeerTransitionRecord& record :
         peer_transitions_from_log(*log, layout.nodes[node].id, run_start_wall_us)) {
      all.push_back(std::move(record));
    }
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const sim::PeerTransitionRecord& a, const sim::PeerTransitionRecord& b) {
                     return a.at_us < b.at_us;
                   });
  counters["peer_transitions_logged"] = all.size();
  return all;
}

core::Status with_files(core::Status status, const std::string& dir) {
  return core::Status(status.code(), status.message() + "\n(files kept in " + dir + ")");
}

}  // namespace

core::Result<ChaosRecord> run_chaos(const sim::Scenario& scenario, const ChaosOptions& options) {
  if (core::Status supported = check_chaos_supported(scenario); !supported.ok()) return supported;
  std::string program = options.program;
  if (program.empty()) {
    core::Result<std::string> self = self_program();
    if (!self) return self.status();
    program = *self;
  }
  std::unique_ptr<bench::RunDirectory> temporary;
  std::string dir = options.dir;
  if (dir.empty()) {
    auto created = bench::RunDirectory::create("", "vigil-chaos");
    if (!created) return created.status();
    temporary = std::move(created).value();
    dir = temporary->path();
  } else {
    // A cluster left by an earlier run would bring its data (and its keys' elements) in.
    std::error_code ignored;
    if (std::filesystem::exists(dir + "/cluster", ignored)) {
      return core::error(core::Code::invalid_argument,
                         dir +
                             "/cluster already holds a cluster (an earlier run?): give "
                             "vigil chaos a new --dir");
    }
    if (core::Status made = make_directories(dir); !made.ok()) return made;
  }
  core::Result<std::string> overlay = write_overlay(scenario, dir);
  if (!overlay) return overlay.status();

  ClusterUpOptions up;
  up.dir = dir + "/cluster";
  up.nodes = scenario.nodes;
  up.config_overlay_path = *overlay;
  up.program = program;
  up.timeout = options.start_timeout;
  up.fault_injection = true;
  const auto started = Clock::now();
  core::Result<std::vector<NodeStatus>> nodes = cluster_up(up);
  core::Result<ClusterLayout> layout = open_cluster(up.dir);
  if (!nodes || !layout) {
    if (layout) (void)cluster_down(*layout, down_grace);
    if (temporary) temporary->keep();
    return with_files(nodes ? layout.status() : nodes.status(), dir);
  }
  if (!layout->fault_injection) {
    (void)cluster_down(*layout, down_grace);
    return core::error(core::Code::invalid_argument,
                       up.dir +
                           " holds a cluster laid out without fault injection; give "
                           "vigil chaos a new --dir");
  }

  const auto client_timeout =
      std::chrono::duration_cast<milliseconds>(scenario.config.timing.request_timeout) +
      client_timeout_slack;
  ChaosRecord record;
  auto run = std::make_unique<ChaosRun>(scenario, options, *layout, program, client_timeout);
  core::Status ran = run->run();
  sim::SimulationResult result = run->result();
  const std::int64_t run_start_wall_us = run->run_start_wall_us();
  record.fault_lateness_s_max = run->lateness_s_max();
  record.wall_offset_s = run->wall_offset_s();
  run.reset();
  const core::Status down = cluster_down(*layout, down_grace);
  if (ran.ok() && !down.ok()) ran = down;
  if (!ran.ok()) {
    if (temporary) temporary->keep();
    return with_files(ran, dir);
  }

  result.peer_transitions = read_peer_transitions(*layout, run_start_wall_us, result.counters);
  const sim::Scenario runnable = runnable_checks(scenario, record.skipped);
  record.notes = chaos_model_notes(scenario);
  sim::RunRecord& out = record.run;
  out.scenario = scenario.name;
  out.file = scenario.file;
  out.seed = options.seed;
  out.expect = scenario.expect;
  out.sim_time_s = static_cast<double>(result.sim_time_us) / 1e6;
  out.wall_s = std::chrono::duration<double>(Clock::now() - started).count();
  out.faults = result.faults_injected;
  out.ops = sim::count_operations(result.history);
  out.checks = sim::run_checks(runnable, result);
  out.counters = result.counters;
  out.checks_ok = std::all_of(out.checks.begin(), out.checks.end(),
                              [](const sim::CheckResult& check) { return check.ok; });

  record.history_path = dir + "/history.jsonl";
  std::ofstream history(record.history_path);
  result.history.write_jsonl(history);
  history.close();
  if (!history) return core::error(core::Code::io_error, record.history_path + ": cannot write");
  record.dir = dir;
  if (temporary && !out.met_expectation()) temporary->keep();
  if (temporary && out.met_expectation()) {
    record.dir.clear();
    record.history_path.clear();
  }
  return record;
}

void print_chaos_report(const ChaosRecord& record, std::ostream& out) {
  const sim::RunRecord& run = record.run;
  out << fmt::format("chaos {} ({}): {:.1f} s of real processes ({:.1f} s with start and stop)\n",
                     run.scenario, run.file.empty() ? "-" : run.file, run.sim_time_s, run.wall_s);
  out << fmt::format(
      "  ops ok/failed/indeterminate: {}/{}/{}; faults applied: {} (the latest "
      "{:.3f} s after its time)\n",
      run.ops.ok, run.ops.failed, run.ops.indeterminate, run.faults, record.fault_lateness_s_max);
  for (const sim::CheckResult& check : run.checks) {
    out << "  " << sim::check_summary(check) << '\n';
    if (check.ok) continue;
    for (const std::string& example : check.examples) out << "      " << example << '\n';
  }
  for (const SkippedCheck& skipped : record.skipped) {
    out << "  " << skipped.name << " skipped: " << skipped.reason << '\n';
  }
  const auto counter = [&run](const std::string& name) {
    const auto it = run.counters.find(name);
    return it == run.counters.end() ? std::uint64_t{0} : it->second;
  };
  out << fmt::format(
      "  clients: {} requests, {} timeouts, {} refused, {} reset, {} cut off; "
      "rule pushes {} ({} failed)\n",
      counter("client_requests"), counter("client_timeouts"), counter("client_connections_refused"),
      counter("client_connections_reset"), counter("client_requests_cut_off"),
      counter("fault_rule_pushes"), counter("fault_rule_push_failures"));
  out << fmt::format(
      "  fault filters: {} frames dropped sending, {} dropped arriving, {} "
      "duplicated, {} held back; wall clocks at the end:",
      counter("filter_frames_dropped_out"), counter("filter_frames_dropped_in"),
      counter("filter_frames_duplicated"), counter("filter_frames_delayed"));
  for (const auto& [node, offset] : record.wall_offset_s) {
    out << fmt::format(" {} {:+.3f}s", node, offset);
  }
  out << '\n';
  for (const std::string& note : record.notes) out << "  " << note << '\n';
  out << "result: " << sim::result_text(run) << '\n';
  if (!record.history_path.empty()) out << "history: " << record.history_path << '\n';
}

}  // namespace vigil::cli
