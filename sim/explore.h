#pragma once
// Explore: generated fault schedules, swarm testing and shrinking (`vigil explore`,
// docs/scenarios.md "Explore"). A template scenario gives the cluster, config, workload
// and checks; each run draws a swarm (a random subset of the fault kinds, Groce et al.
// 2012: leaving kinds out lets the others go deeper) and a schedule of faults of those
// kinds; a failing run is shrunk to a small case and written as an ordinary scenario file.
//
// Randomness is split by purpose (sim/seeds.h's derive_seed over the explore seed): run i
// has its own stream for its swarm, its fault count, each of its faults (fault j draws
// from its own stream, so dropping one leaves every other as it was) and its simulation
// seed. Shrinking never redraws: it edits the case and keeps the simulation seed.
//
// Why not RapidCheck's generators: its Random's splitting is internal to the library (a
// run could not be named by (seed, index) across versions), its shrinking knows values,
// not that removing a node must drop the faults naming it or that a case must stay a
// loadable scenario, and the shipped binary would link a test library. The generator here
// is written to shrink well instead: faults are independent units (a crash carries its
// restart, a partition its heal), each shrinkable alone.

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sim/run.h"
#include "sim/scenario.h"

namespace vigil::sim {

// The swarm's dimensions: every fault kind the simulator has (sim/scenario.h's FaultKind;
// heal and restart come with partition/one_way and crash). New kinds go at the end: the
// swarm draws one coin per kind in this order, so the earlier coins stay where they were.
enum class SwarmKind : std::uint8_t {
  partition, one_way, crash, pause, clock, clog, lose_write, corrupt,
  link, client_partition, burst
};
inline constexpr std::size_t swarm_kind_count = 11;
const char* swarm_kind_name(SwarmKind kind);
std::optional<SwarmKind> parse_swarm_kind(std::string_view name);
std::set<SwarmKind> all_swarm_kinds();

// One generated fault and what undoes it: written as one or two scenario entries.
struct FaultUnit {
  SwarmKind kind = SwarmKind::crash;
  Duration at{0};
  // partition, one_way: until a `heal: all`; crash: until the restart; pause, clog, link,
  // client_partition, burst: `for`.
  // Past the end of the run the end-of-run heal undoes it (nothing more is written).
  Duration length{0};
  std::vector<std::vector<NodeId>> groups;  // partition
  std::vector<NodeId> from, to;             // one_way, link (one each); client_partition: to
  NodeId node;                              // crash, pause, clock, clog, lose_write, corrupt
  Duration skew{0};                         // clock
  double drift = 0;                         // clock
  Duration jump{0};                         // clock
  Duration delay{0};                        // clog; link: its extra latency
  double loss = 0;                          // link, burst
  double duplicate = 0;                     // burst
  std::vector<std::uint32_t> clients;       // client_partition (its nodes are `to`)
};

// One run: the template (its own faults cleared) with a schedule of units and a seed.
struct ExploreCase {
  Scenario base;  // name, cluster, workload, duration, checks; faults unused
  std::vector<FaultUnit> units;
  std::uint64_t seed = 0;  // the simulation's seed
};

// The scenario a case runs: `base` with the units written as fault entries in time order
// and `seed:` set. nullopt when the loader would refuse the schedule (a node crashed and
// paused at once, a fault at or after the end, a node beyond the cluster).
std::optional<Scenario> case_scenario(const ExploreCase& run);

struct ExploreOptions {
  std::uint64_t seed = 1;
  std::uint32_t faults_max = 6;  // faults drawn per run: 1 to this many
  std::set<SwarmKind> kinds = all_swarm_kinds();
};

struct GeneratedRun {
  std::vector<SwarmKind> swarm;  // the kinds this run enabled
  ExploreCase run;
};

// Run `index` of an exploration. A drawn fault that clashes with an earlier one on the
// same node (crash during a pause, ...) is left out, not redrawn.
GeneratedRun generate_run(const Scenario& base, const ExploreOptions& options,
                          std::uint64_t index);

// A run's result as explore judges it.
struct RunVerdict {
  bool failed = false;    // did not meet the expectation (the template expects pass)
  std::string signature;  // what failed: a check's name, "invariant <file>:<line>",
                          // "nondeterministic"; shrinking keeps it
  std::string detail;     // one line for people
  std::uint64_t operations = 0;
  double sim_time_s = 0;
  std::uint64_t faults = 0;  // fault entries in the scenario
};

// Runs a scenario with a seed and judges it. run_isolated is the one explore uses.
using CaseRunner = std::function<RunVerdict(const Scenario&, std::uint64_t seed)>;

// Runs in a forked child, so that a violated invariant (which aborts, core/assert.h) is a
// failing run with a signature, not the end of the exploration. The child's stderr is
// captured; its first "invariant violated" line names the signature.
RunVerdict run_isolated(const Scenario& scenario, std::uint64_t seed);
// In this process (what the child does): RunRecord -> verdict.
RunVerdict judge(const Scenario& scenario, const RunRecord& record);

struct ShrinkResult {
  ExploreCase smallest;
  RunVerdict verdict;         // of `smallest`: the same signature as the failure
  std::uint32_t attempts = 0; // runs tried
};

// Shrinks a failing case: passes in turn (drop faults; move faults earlier and make them
// shorter; fewer clients, keys and operations; a shorter duration; fewer nodes), each
// keeping a change only when the run still fails with `failure.signature`, until a round
// changes nothing or `attempts_max` runs were tried. `log` gets one line per kept change.
ShrinkResult shrink_case(const ExploreCase& failing, const RunVerdict& failure,
                         const CaseRunner& runner, std::uint32_t attempts_max,
                         const std::function<void(const std::string&)>& log = {});

// A case's size, as shrinking reports it: fault entries written, operations the workload
// asks for (rate x duration; a run that aborted counted none itself), simulated seconds
// (duration + quiesce; the final reads add a little).
struct CaseSize {
  std::size_t faults = 0;
  std::uint64_t operations = 0;
  double sim_seconds = 0;
};
CaseSize case_size(const Scenario& scenario);

// One run of an exploration, as it is reported.
struct ExploredRun {
  std::uint64_t index = 0;
  GeneratedRun generated;
  RunVerdict verdict;
};

// A failure shrunk and written.
struct ShrunkFailure {
  ExploredRun found;
  ShrinkResult shrunk;
  CaseSize before, after;
  std::string file;       // DIR/<template>-<seed>-min.yaml
  bool replayed = false;  // the written file, loaded again and run, fails the same way
  std::string replay_signature;
};

struct ExploreRunOptions {
  ExploreOptions generate;
  std::uint64_t runs = 100;
  std::string out_dir = ".";
  std::string template_stem = "explore";  // the template's file name without .yaml
  std::uint32_t shrink_attempts_max = 300;
  bool keep_going = false;  // explore every run; by default stop at the first failure
  CaseRunner runner = run_isolated;
  std::function<void(const ExploredRun&)> on_run;
  std::function<void(const std::string&)> on_shrink_step;
  std::function<void(const ShrunkFailure&)> on_shrunk;
};

struct ExploreSummary {
  std::uint64_t runs = 0;
  std::uint64_t failures = 0;
  std::vector<ShrunkFailure> shrunk;
  std::string error;  // a minimal file that could not be written
};

// The exploration: runs 0..runs-1 of `tmpl` (its own faults ignored), each failure shrunk,
// written and replayed from the written file.
ExploreSummary explore(const Scenario& tmpl, const ExploreRunOptions& options);

}  // namespace vigil::sim
