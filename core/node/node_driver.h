#pragma once
// core::NodeDriver: the one place that drives a core::Node (node.h's driving protocol).
// The simulator (sim/node_host.cpp), the production runtime (net/node_runtime.cpp) and
// the test harness (tests/core/node_cluster.h) all go through it; none repeats the steps.
//
//   NodeDriver driver(options, ring, storage, seed, driver_options);
//   driver.start();                          // the constructor's staged incarnation
//   loop:
//     driver.client_request(now, request);   // any number of inputs (a batch) ...
//     driver.message(now, envelope);
//     driver.timeout(now);
//     DriverEffects effects = driver.flush(now);   // ... then one flush
//     send effects.messages, answer effects.replies, arm a timer for effects.next_timeout
//     pipelined, when effects.commit == started: storage.finish_commit() (anywhere), then
//     effects = driver.commit_done(now, status) and carry them out the same way
//
// flush() is group commit: it commits the storage once for every input since the last
// flush, when the node staged anything; if the commit fails it calls
// handle_storage_failure() first, which withdraws everything produced since the last good
// commit and puts failure answers in its place. Only then does it drain the messages,
// replies and peer transitions. Nothing an input produces can leave before the commit that
// makes its writes durable: "durable before acknowledged" holds by construction. The
// simulator and the tests flush after every input; net/ flushes once per loop turn.
//
// Pipelined group commit (DriverOptions::pipelined; production and the simulator). A flush
// only begins the commit (CommittableStorage::begin_commit) and returns what may leave
// before it; the environment makes it durable (finish_commit, the fsync: on a commit
// thread in net/, after a drawn disk latency in sim/) and calls commit_done(), which
// releases what it covered. Meanwhile the node keeps taking inputs into the next batch,
// whose commit begins when the one in flight returns (one in flight at a time, so a batch
// waits for at most one fsync before its own). What waits and what does not:
//   - acknowledgements and anything that shows staged data (client replies, ReplicaWrite-
//     Reply, ReplicaReadReply, CoordinateReply, HintDeliveryReply, AeTreeReply,
//     AeKeysReply, AeSyncReply, TombstoneQueryReply) wait for the commit of
//     the batch that produced them, or, when that batch staged nothing, for the commit
//     in flight (it may have staged what they show);
//   - requests to peers (ReplicaWrite, ReplicaRead, CoordinateRequest, HintWrite,
//     HintDelivery) and membership traffic leave at once: they acknowledge nothing, so a
//     coordinator's replicas make the write durable while it does (overlapped fsyncs);
//   - except while a new actor epoch is staged or committing (Node::take_identity_staged):
//     then everything waits, so no dot of an epoch that a crash could forget ever leaves.
// A failed commit gives everything held back to the node (Node::give_back) and lets it
// withdraw all of it with what it produced since (handle_storage_failure): what covered
// the failed batch and every batch after it. The simulator models the crash windows: a
// crash between begin and finish keeps or loses the batch in flight by a coin, and always
// loses the open one (store::MemoryStore::crash).
//
// The storage seam (CommittableStorage, core/node/node_storage.h). The node only ever sees
// NodeStorage: it reads and stages, and cannot commit. The driver needs two more things of
// the same object, "has anything been staged" and "commit"; they are a separate interface
// derived from NodeStorage (not new virtuals on NodeStorage itself) so that the promise
// "the node never commits" stays a type fact, and store::TypedStorage implements both by
// forwarding to store::Store. core/ still does no I/O: commit() is a virtual call into the
// environment's store.
//
// Invariants (TigerBeetle). The driver runs Node::check_invariants() after inputs per
// DriverOptions::check_invariants_every: after every input in the simulator and tests
// (the default), every Kth input in production, where a check costs time proportional to
// the requests in flight (docs/operations.md has the measured figure and the policy).
// A check that fails aborts the process (VIGIL_ASSERT). Independently of the policy, the
// driver always asserts the O(1) promise of handle_timeout(): it leaves no timer due.
//
// Time: core never reads a clock; every input and flush() takes its Now. An environment
// that measures commit latency times its flush() call (only a flush whose
// DriverEffects::commit says a commit was attempted did one).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "core/membership/membership.h"
#include "core/node/client.h"
#include "core/node/node.h"
#include "core/node/node_storage.h"
#include "core/ring/ring.h"
#include "core/status.h"
#include "core/time.h"
#include "core/wire/messages.h"

namespace vigil::core {

struct DriverOptions {
  // Node::check_invariants() runs after every Kth input (start, client request, message,
  // timeout, and the storage-failure handling of a flush all count); 1 = every input,
  // 0 = never. The simulator and the tests use 1; production uses
  // production_invariant_interval.
  std::uint64_t check_invariants_every = 1;
  // false: flush() commits in place (both halves) and releases everything it covers.
  // true (pipelined group commit): flush() only begins the commit and returns what may
  // leave before it; the environment then makes it durable (CommittableStorage::
  // finish_commit(), on any thread the store allows) and calls commit_done(), which
  // releases what the commit covered. Production and the simulator use true.
  bool pipelined = false;
  // Pipelined: how many commits may be in flight at once. A batch that finds them all busy
  // waits for the oldest to return before its own begins. More than one lets a batch's
  // fsync start at once instead of after the one before it (an fsync of a log covers
  // everything written before it, so several overlap well; docs/performance.md).
  std::size_t commits_in_flight_max = 1;
};

// Production's and the simulator's depth of the commit pipeline.
inline constexpr std::size_t pipelined_commits_max = 4;

// Production's K. One check walks every request in flight: ~6 us at 100 in flight, ~80 us
// at 1,000, ~3.5 ms at 10,000 (the default bound), against ~4 us per input and flush
// (scripts/invariant-cost.sh); every 4096th input keeps it under 1% of the CPU even at the
// bound (docs/operations.md has the figures and the reasoning).
inline constexpr std::uint64_t production_invariant_interval = 4096;

// What a flush did with the storage.
enum class CommitOutcome : std::uint8_t {
  none,       // nothing staged: no commit attempted
  committed,  // a commit was attempted and returned ok
  failed,     // a commit was attempted and failed; the node withdrew and answered failure
  started,    // pipelined: a commit began; finish it, then call commit_done()
};

// The effects of one flush, for the environment to carry out.
struct DriverEffects {
  std::vector<Envelope> messages;  // to send, in this order
  std::vector<ClientReply> replies;
  std::vector<PeerTransition> transitions;  // peer state changes judged since the last flush
  std::optional<Instant> next_timeout;      // call timeout() then; nullopt: no timer armed
  std::size_t inputs = 0;                   // inputs this flush covered (the batch size)
  CommitOutcome commit = CommitOutcome::none;
  Status commit_status;  // the failed commit's error (ok otherwise)
};

class NodeDriver {
 public:
  // Constructs the node over `storage` (which stages its new incarnation; start() and a
  // flush make it durable). REQUIRES: as Node's constructor; `storage` outlives the driver.
  NodeDriver(NodeOptions options, Ring ring, CommittableStorage& storage, std::uint64_t seed,
             DriverOptions driver_options = {});
  ~NodeDriver();
  NodeDriver(const NodeDriver&) = delete;
  NodeDriver& operator=(const NodeDriver&) = delete;

  // Inputs. Each is handed to the node at once; its effects wait for flush().
  // start(): call once after construction, then flush, before anything else leaves.
  void start();
  void client_request(const Now& now, ClientRequest request);
  void message(const Now& now, Envelope envelope);
  // Fires the node's due timers. Asserts the node left no timer due at `now`.
  void timeout(const Now& now);

  // Commits when staged (handle_storage_failure(now, error) on failure), then drains.
  // Pipelined: begins a commit when staged and none is in flight (commit == started).
  DriverEffects flush(const Now& now);
  // Pipelined only: the oldest commit in flight has finished with `status` (the result of
  // CommittableStorage::finish_commit(); commits are reported in the order they began).
  // Releases what it covered, or on failure lets the node withdraw everything not yet
  // released; begins the next commit when the node staged more meanwhile (commit ==
  // started). After a failure the commits that were still in flight are reported too, and
  // release nothing. REQUIRES: commits_in_flight() > 0.
  DriverEffects commit_done(const Now& now, const Status& status);
  std::size_t commits_in_flight() const { return in_flight_.size() + abandoned_; }

  // Views and queries (counters, members, hints_pending) go through the node.
  Node& node() { return *node_; }
  const Node& node() const { return *node_; }
  // How many times check_invariants() ran (tests; the policy's proof).
  std::uint64_t invariant_checks() const { return invariant_checks_; }

 private:
  // What waits for a commit: acknowledgements, and whatever else may not leave yet.
  struct Held {
    std::vector<Envelope> messages;
    std::vector<ClientReply> replies;
  };
  struct InFlight {
    Held held;              // released when this commit (and every older one) returned ok
    bool identity = false;  // it carries a new actor epoch
  };

  void input_done();
  void check_per_policy();  // Node::check_invariants() when the policy says so
  DriverEffects flush_in_place(const Now& now);
  // Pipelined: takes the node's outputs, sending at once what may precede the commits.
  void collect(DriverEffects& effects);
  // Pipelined: begins a commit of what is staged when there is room, or hands what waits
  // to the newest commit in flight, or releases it when nothing is staged or in flight.
  void advance(const Now& now, DriverEffects& effects);
  // `outstanding`: commits still in flight whose returns will come (and be ignored).
  void fail(const Now& now, const Status& status, std::size_t outstanding,
            DriverEffects& effects);
  void finish(DriverEffects& effects);  // transitions and the next deadline

  CommittableStorage& storage_;
  DriverOptions driver_options_;
  std::unique_ptr<Node> node_;
  std::deque<InFlight> in_flight_;  // pipelined: oldest first
  std::size_t abandoned_ = 0;       // in flight when a commit failed: returns are ignored
  bool identity_open_ = false;      // the open batch (not yet committing) stages a new epoch
  Held open_held_;                  // produced since the newest commit began
  std::size_t inputs_in_batch_ = 0;
  std::uint64_t inputs_since_check_ = 0;
  std::uint64_t invariant_checks_ = 0;
};

}  // namespace vigil::core
