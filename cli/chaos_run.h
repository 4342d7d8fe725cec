#pragma once
// `vigil chaos SCENARIO.yaml`: the simulator's scenario file on real processes
// (docs/scenarios.md, "Chaos: the same file on real processes").
//
// The run: refuse what a real cluster cannot do (cli/chaos_plan.h); lay out and start a
// local cluster (`vigil cluster up`'s code, cli/cluster_control.h) of the scenario's nodes
// with its configuration, every node started with --enable-fault-injection; run the
// scenario's workload against the nodes' RESP ports (cli/chaos_client.h); apply the faults
// at their times (run time, from the moment the workload starts): crash = SIGKILL,
// restart = start the node again from its data, pause = SIGSTOP then SIGCONT after `for`,
// network and clock faults = each node's filter rules (POST /fault); at `duration` stop the
// workload and heal everything (as the simulator does), wait for the operations in flight,
// let the cluster quiesce, read every key at `all`, stop the cluster, and run the
// scenario's checks on the history.
//
// Checks. Those that read only the history (no_lost_writes, stale_reads, read_your_writes,
// no_resurrection) run as in the simulator; availability runs on the fault timeline the
// runner records, failure_detection on the crashes it records and the peer judgements
// every node logged (cli/chaos_logs.h). The others need the simulator's view inside every
// node (hints_drained, convergence, tombstones_collected: replica contents, hint counters
// of killed incarnations, stores) and are skipped, each with its reason in the report.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/types.h"
#include "sim/run.h"
#include "sim/scenario.h"

namespace vigil::cli {

struct ChaosOptions {
  // Where the run keeps its files (the cluster in DIR/cluster, the history in
  // DIR/history.jsonl); created, and kept; refused when DIR/cluster exists (an earlier
  // run's data would join this one). Empty: a temporary directory, removed after a run
  // that met its expectation and kept (and named) otherwise.
  std::string dir;
  std::string program;     // the vigil binary the nodes run; empty: this process's
  std::uint64_t seed = 1;  // the workload's draws (keys, nodes, mix)
  std::chrono::milliseconds start_timeout{std::chrono::seconds(60)};  // cluster up, restarts
  std::ostream* progress = nullptr;  // one line per fault applied, when set
  // Set (by a signal handler) to stop early: the workload stops, the cluster is taken
  // down and the run fails as interrupted, its files kept. Checked every 100 ms.
  const std::atomic<bool>* interrupted = nullptr;
};

struct SkippedCheck {
  std::string name;
  std::string reason;
};

struct ChaosRecord {
  sim::RunRecord run;  // sim_time_s is the run's real duration
  std::vector<SkippedCheck> skipped;
  std::string dir;           // where its files are (empty once removed)
  std::string history_path;  // DIR/history.jsonl (when kept)
  // Faults as applied: how late the latest one was applied after its time, in seconds
  // (a restart or a request to a node takes real time).
  double fault_lateness_s_max = 0;
  // Each node's wall clock minus this process's, read from GET /fault after the final
  // reads (within the request's few milliseconds): the clock faults as the nodes have them.
  std::map<core::NodeId, double> wall_offset_s;
  // What of the scenario's network and disk models a real cluster does not follow
  // (chaos_model_notes).
  std::vector<std::string> notes;
};

// invalid_argument for a scenario it cannot run (naming every fault it refuses); other
// errors when the cluster cannot be started or driven (the files are kept and named).
core::Result<ChaosRecord> run_chaos(const sim::Scenario& scenario, const ChaosOptions& options);

// What `vigil chaos` prints for people: the run, each check, the skipped checks.
void print_chaos_report(const ChaosRecord& record, std::ostream& out);

}  // namespace vigil::cli
