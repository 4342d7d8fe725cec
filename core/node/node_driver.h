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
//
// flush() is group commit: it commits the storage once for every input since the last
// flush, when the node staged anything; if the commit fails it calls
// handle_storage_failure() first, which withdraws everything produced since the last good
// commit and puts failure answers in its place. Only then does it drain the messages,
// replies and peer transitions. Nothing an input produces can leave before the commit that
// makes its writes durable: "durable before acknowledged" holds by construction. The
// simulator and the tests flush after every input; net/ flushes once per loop turn.
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

#include <cstdint>
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
};

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
  DriverEffects flush(const Now& now);

  // Views and queries (counters, members, hints_pending) go through the node.
  Node& node() { return *node_; }
  const Node& node() const { return *node_; }
  // How many times check_invariants() ran (tests; the policy's proof).
  std::uint64_t invariant_checks() const { return invariant_checks_; }

 private:
  void input_done();
  void check_per_policy();  // Node::check_invariants() when the policy says so

  CommittableStorage& storage_;
  DriverOptions driver_options_;
  std::unique_ptr<Node> node_;
  std::size_t inputs_in_batch_ = 0;
  std::uint64_t inputs_since_check_ = 0;
  std::uint64_t invariant_checks_ = 0;
};

}  // namespace vigil::core
