#pragma once
// Runs one scenario with one seed: a cluster of real core::Node state machines under a
// seeded, single-threaded, virtual-time simulator (see sim/simulator.cpp's theory of
// operation). The same (scenario, seed) always gives the same trace hash and history, on
// every run and build.

#include <cstdint>
#include <map>
#include <ostream>
#include <string>

#include "sim/history.h"
#include "sim/scenario.h"

namespace vigil::sim {

struct SimulationOptions {
  std::ostream* trace = nullptr;  // when set, one line per processed event
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
  // And every node counter (core/node.h) summed over nodes and incarnations as
  // "node.<name>". A counter that never moved may be absent.
  std::map<std::string, std::uint64_t> counters;
};

// REQUIRES: `scenario` is valid (as load_scenario returns it: at least one node, faults
// naming existing nodes and sorted by `at`, a valid config). A violated invariant, here
// or in a node, aborts the process after printing "replay: vigil sim <file> --seed <seed>".
SimulationResult simulate(const Scenario& scenario, std::uint64_t seed,
                          const SimulationOptions& options = {});

}  // namespace vigil::sim
