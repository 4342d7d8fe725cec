#pragma once
// A scenario: what cluster to run, under what network and faults, with which workload and
// checks (docs/scenarios.md documents the file format). Loaded from YAML; every error names
// the file, line and reason (rule 4).

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/node/client.h"
#include "core/node/conditional_write.h"
#include "config/config.h"
#include "core/routing/routing_options.h"
#include "core/status.h"
#include "core/time.h"
#include "core/types.h"

namespace vigil::core {
struct NodeOptions;
}  // namespace vigil::core

namespace vigil::sim {

using core::Duration;
using core::NodeId;

struct LatencyModel {
  Duration min = std::chrono::milliseconds(1);
  Duration max = std::chrono::milliseconds(20);
};

struct NetworkModel {
  LatencyModel latency;
  double loss = 0;       // probability a message is dropped
  double duplicate = 0;  // probability a message is delivered twice
  double reorder = 0;    // probability a message gets extra delay (up to 10x max latency)
};

// The simulated disk: how long a commit takes to become durable (the fsync), drawn per
// commit. The node keeps working meanwhile (pipelined group commit, core/node/node_driver.h);
// a crash during it keeps or loses the commit in flight, by a coin.
struct DiskModel {
  LatencyModel commit_latency{std::chrono::microseconds(500), std::chrono::milliseconds(10)};
};

// read_modify_write: Jepsen's set test (VGET, then VSET with the read's context).
// blind: a put writes a unique value with no read and no context.
// set: a put writes a unique value as the client port's plain SET does, following
// cluster.config client.set_context: `coordinator`, one put without a context (the
// coordinating replica's state is the context); `read`, a read first, then the put with
// the read's context. A delete likewise. Checked like blind (each value is one write).
// counter: every put is an INCRBY of a drawn delta (ClientOp::incr; docs/counters.md), and
// the counter_sums check compares each key's final value with the acknowledged deltas.
enum class WorkloadMode : std::uint8_t { read_modify_write, blind, set, counter };

// Whether each value a put writes is the put's own (blind and set), not a merged set.
constexpr bool writes_own_value(WorkloadMode mode) {
  return mode != WorkloadMode::read_modify_write;
}

struct Workload {
  std::uint32_t clients = 8;
  std::uint32_t keys = 20;
  double rate_per_s = 200;  // operations per simulated second, all clients together
  double get = 0.4;         // the mix; sums to 1
  double put = 0.6;
  double del = 0.0;
  WorkloadMode mode = WorkloadMode::read_modify_write;
  core::Consistency consistency = core::Consistency::quorum;
  // 0: every operation goes to a node drawn at random (a load balancer, no session). N > 0:
  // each client keeps one connection, to node (client mod nodes), and pipelines: up to N
  // of its operations in flight at once, taking effect in order per key
  // (core/node/session_order.h, sim/simulation_clients.cpp).
  std::uint32_t pipeline = 0;
  // set mode: cluster.config client.set_context (filled by the loader).
  core::SetContext set_context = core::SetContext::coordinator;
  // set mode, `condition: nx|xx`: every put is the client port's SET k v NX (or XX): a
  // read, then core::decide_conditional_write, then the put with the read's context only
  // when the condition holds (nothing is recorded for a put that was not made).
  core::WriteCondition put_condition = core::WriteCondition::always;
  // workload.routing: none (the default) keeps the uniform draw above; token_aware,
  // round_robin or random route every call through a core::Router of the client's own,
  // with the cluster's routing and load_balancing settings and circuit breakers
  // (sim/client_routing.h). Not with pipeline > 0 (one connection: the loader refuses it).
  std::optional<core::RouteStrategy> routing;
  // workload.expire {fraction, after}: that fraction of puts carry an expiry, `after` from
  // the coordinating node's clock (SET k v PX, or EXPIRE's write; docs/expiry.md). The
  // checkers then treat an expiring put as a delete that takes effect at its expiry
  // (sim/check_deletes.h). 0: no put expires, and nothing is drawn for it.
  double expire_fraction = 0;
  Duration expire_after{0};
};

enum class FaultKind : std::uint8_t {
  partition,   // groups: nodes in different groups cannot talk (symmetric)
  one_way,     // from -> to links dropped (to -> from still works)
  heal,        // every partition and one-way cut removed
  crash,       // node: volatile state and uncommitted writes lost
  restart,     // node: starts again from its committed store
  pause,       // node: frozen for `length` (timers and inbox wait), then resumed
  clock,       // node: skew / drift / jump of its wall clock
  clog,        // node: every message to or from it slowed by `delay` for `length`
  lose_write,  // node: its next commit is lost (a lying disk)
  corrupt,     // node: one stored record corrupted
  // from[0] -> to[0] only: messages slowed by `delay` and lost with probability `loss` for
  // `length` (one slow or lossy link; both ways is two entries)
  link,
  // clients cut off from `nodes` for `length`: their requests and the replies drop
  client_partition,
  // every node-to-node message: lost with probability `loss`, duplicated with probability
  // `duplicate`, on top of the network model, for `length`
  burst,
};

struct Fault {
  Duration at{0};
  FaultKind kind = FaultKind::heal;
  std::vector<std::vector<NodeId>> groups;  // partition
  std::vector<NodeId> from, to;             // one_way
  NodeId node;                              // crash, restart, pause, clock, clog, disks
  Duration length{0};                       // pause, clog
  Duration skew{0};                         // clock: fixed offset
  double drift = 0;                         // clock: rate error (0.001 = 1ms per s)
  Duration jump{0};                         // clock: a one-off jump (negative: backward)
  Duration delay{0};                        // clog; link: its extra latency
  double loss = 0;                          // link, burst
  double duplicate = 0;                     // burst
  std::vector<std::uint32_t> clients;       // client_partition: client indexes (c0 = 0)
  std::vector<NodeId> nodes;                // client_partition
  std::size_t line = 0;                     // where it was written (1-based), for messages
  std::size_t column = 0;
};

// A check the run must pass (sim/checkers.h). `max` bounds a count that is otherwise only
// reported: stale_reads fails when more reads than `max` were stale (tombstones_collected:
// more records than `max` held only tombstones at the end, `{max_held: N}`).
struct CheckSpec {
  // no_lost_writes | stale_reads | read_your_writes | hints_drained | availability |
  // failure_detection | convergence | no_resurrection | tombstones_collected | latency
  std::string name;
  std::optional<std::uint64_t> max;
  std::optional<double> min;  // availability: the lowest fraction that passes
  bool expire = false;        // hints_drained: hints are expected to expire (or be dropped)
  bool final_reads_only = false;  // no_resurrection: `reads: final` (sim/check_deletes.h)
  // failure_detection and latency: the largest value of a reported number that passes, by
  // its name (`{failure_detection: {false_failures: {max: 0}}}`, `{latency: {p99_s: {max:
  // 2}}}`). convergence: "converge_time_s"
  // (`{convergence: {max_converge_time: 60s}}`).
  std::map<std::string, double> max_of;
};

enum class Expectation : std::uint8_t { pass, fail };

struct Scenario {
  std::string name;
  std::string file;  // where it was loaded from ("" when built in code)
  Duration duration = std::chrono::seconds(60);
  // After the end-of-run heal and the clients' last operations, before the final reads
  // (long enough for hinted handoff to replay what the returned nodes missed).
  Duration quiesce = std::chrono::seconds(10);
  std::uint32_t nodes = 5;
  config::Config config;  // every node's configuration (ids and addresses filled per node)
  NetworkModel network;
  DiskModel disk;
  Workload workload;
  std::vector<Fault> faults;     // sorted by `at`
  std::vector<CheckSpec> checks;
  Expectation expect = Expectation::pass;
  // The top-level `seed:` key: the seed `vigil sim FILE` runs when no --seed/--seeds is
  // given (explore writes it into the minimal scenarios it shrinks to).
  std::optional<std::uint64_t> seed;
  // Tests only: applied to every node's options after the configuration's (a planted bug,
  // core/node/options.h). Never loaded or written: no file can set it.
  std::function<void(core::NodeOptions&)> adjust_node_options;
};

// Node ids of a scenario: n1..nN.
std::vector<NodeId> scenario_node_ids(const Scenario& scenario);

// `file` names the source in error messages ("scenarios/x.yaml:12:5: faults[2].crash: no
// node n9 in a 5-node cluster").
core::Result<Scenario> load_scenario(std::string_view text, std::string_view file);
core::Result<Scenario> load_scenario_file(const std::string& path);

}  // namespace vigil::sim
