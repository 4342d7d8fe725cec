#pragma once
// Runs one scenario with one seed: a cluster of real core::Node state machines under a
// seeded, single-threaded, virtual-time simulator (see sim/simulator.cpp's theory of
// operation). The same (scenario, seed) always gives the same trace hash and history, on
// every run and build.

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/membership/membership.h"
#include "core/versions/pn_counter.h"
#include "sim/history.h"
#include "sim/invariant_interval.h"
#include "sim/scenario.h"

namespace vigil::sim {

// The trace hash after each event, for `--check-determinism` to name where two runs of
// one seed part (sim/run.cpp). Bounded: past `max` events nothing more is kept.
struct EventHashLog {
  std::size_t max = 4'000'000;  // 32 MB
  std::vector<std::uint64_t> hashes;
};

struct SimulationOptions {
  // Each node's invariants after every Kth input (sim_invariant_interval, node_host.h), and
  // once more for every live node at the end. Does not change the trace.
  std::uint64_t check_invariants_every = sim_invariant_interval;
  std::ostream* trace = nullptr;  // when set, one line per processed event
  EventHashLog* hash_log = nullptr;
  // When set, a run that is compared against an earlier run's log as it goes: the trace
  // line of the first event whose hash differs from `compare_with->hashes` at the same
  // index (or of the first event past its end when the earlier run stopped sooner) goes
  // to `first_difference`, with its index, and nothing more is compared.
  const EventHashLog* compare_with = nullptr;
  std::optional<std::uint64_t> describe_event;  // also: the line of this event (0-based)
  struct Described {
    std::uint64_t index = 0;
    std::string line;
  };
  std::optional<Described>* first_difference = nullptr;
};

// How the faults stood from `at_us` on (until the next entry): which nodes were down
// (crashed or paused) and which links carried messages (open[from][to]; partitions and
// one-way cuts). For the availability check.
struct FaultState {
  std::int64_t at_us = 0;
  std::vector<bool> down;               // by node index
  std::vector<std::vector<bool>> open;  // by node index, from then to
  friend bool operator==(const FaultState&, const FaultState&) = default;
};

// A peer state change one node judged (core::Node::take_peer_transitions), for the
// failure_detection check (sim/check_failure_detection.h).
struct PeerTransitionRecord {
  std::int64_t at_us = 0;
  core::NodeId observer;
  core::PeerTransition transition;
};

// One crash of a node: when it went down and when it was restarted (-1: never, the run
// ended first; the end-of-run heal restarts it, which counts).
struct CrashRecord {
  std::uint32_t node = 0;  // index: n1 is 0
  std::int64_t crashed_us = 0;
  std::int64_t restarted_us = -1;
};

// What the convergence check reads (sim/check_convergence.h), recorded only when the
// scenario lists that check (sampling costs O(records) per sample). From the end-of-run
// heal on, the replicas' divergence is sampled at a bounded cadence until a sample finds
// none; the last figures are taken after the quiesce, before the final reads.
struct ConvergenceRecord {
  bool recorded = false;
  std::int64_t heal_us = -1;       // the end-of-run heal
  std::int64_t converged_us = -1;  // the first sample with no divergent key; -1: none
  std::uint64_t samples = 0;
  std::uint64_t divergent_keys_at_heal = 0;  // the first sample's count
  std::uint64_t keys = 0;            // distinct keys held, after the quiesce
  std::uint64_t divergent_keys = 0;  // after the quiesce
  std::vector<std::string> examples;  // divergent keys after the quiesce, the first few
};

// What the tombstones_collected check reads (sim/check_deletes.h), recorded only when the
// scenario lists that check: every node's store after the quiesce, before the final reads
// (which read at `all` and repair, so they could write tombstones back).
struct TombstoneRecord {
  bool recorded = false;
  std::uint64_t records = 0;    // records over all nodes' stores
  std::uint64_t held = 0;       // of those, records whose state is only tombstones
  std::uint64_t keys_held = 0;  // distinct keys with such a record
  std::vector<std::string> examples;  // "n2 k7", the first few held
};

struct SimulationResult {
  // xxhash64 chained over every processed event (time, kind, node, and the frame, request
  // or reply it carries): equal hashes mean the same run.
  std::uint64_t trace_hash = 0;
  std::int64_t sim_time_us = 0;  // virtual time when the run ended (after the final reads)
  std::uint64_t events = 0;
  std::uint64_t faults_injected = 0;  // scenario faults fired (the final heal not counted)
  // The workload's operations, then the final reads (final_read = true). Final reads are
  // made by client index workload.clients (one past the workload's clients).
  History history;
  // Ordered (deterministic reports). The simulator's own:
  //   messages_{sent,arrived,duplicated,reordered}, messages_dropped_{partition,in_flight,
  //   loss,link_full,node_down,too_large,queue_full}; client_{requests,replies,
  //   replies_late,timeouts,connections_refused,connections_reset};
  //   operations_{started,skipped_in_flight_max}; node_{crashes,restarts,pauses,resumes,
  //   inputs}; store_commits, store_commit_failures, paused_inputs_dropped;
  //   faults_<kind>, faults_ignored, faults_skipped, faults_corrupt_nothing_*;
  //   final_heals, final_reads_unanswered_keys, workload_fibers_unfinished;
  //   events, events_queue_peak, fiber_switches.
  // And every node counter (core/node/node.h) summed over nodes and incarnations as
  // "node.<name>". A counter that never moved may be absent.
  std::map<std::string, std::uint64_t> counters;
  // For the hinted-handoff and availability checks (sim/check_hints.h,
  // sim/check_availability.h). After the quiesce, before the final reads (which repair):
  // the hints each node still held, and the live values each replica of every workload key
  // held (preference-list replicas only).
  std::map<core::NodeId, std::uint64_t> hints_pending;
  std::map<core::Key, std::map<core::NodeId, std::vector<core::Value>>> replica_values;
  // counter_sums (sim/check_counters.h): each key's counter as its preference-list replicas
  // hold it together (every counter version of every replica merged), at the same moment.
  std::map<core::Key, core::CounterTotal> replica_counters;
  std::vector<FaultState> fault_timeline;  // in time order, from time 0
  // Membership (sim/check_failure_detection.h): every transition every node judged, in
  // the order judged; every crash, in time order; and each node's view at the end of the
  // run (after the final reads), by node id.
  std::vector<PeerTransitionRecord> peer_transitions;
  std::vector<CrashRecord> crashes;
  std::map<core::NodeId, std::vector<core::PeerStatus>> final_views;
  ConvergenceRecord convergence;
  TombstoneRecord tombstones;
};

// REQUIRES: `scenario` is valid (as load_scenario returns it: at least one node, faults
// naming existing nodes and sorted by `at`, a valid config). A violated invariant, here
// or in a node, aborts the process after printing "replay: vigil sim <file> --seed <seed>".
SimulationResult simulate(const Scenario& scenario, std::uint64_t seed,
                          const SimulationOptions& options = {});

}  // namespace vigil::sim
