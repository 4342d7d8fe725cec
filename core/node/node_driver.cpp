// NodeDriver: theory of operation.
//
// The driver is node.h's driving protocol written once. Inputs go to the node at once and
// only count; flush() does the rest in the one order that keeps "durable before
// acknowledged": commit what the batch staged, on failure let the node withdraw and answer
// failure, and only then take the messages, replies and peer transitions, and read the
// next deadline. A flush never commits when nothing is staged: a store with a sticky error
// fails even an empty commit, and a node that staged nothing has nothing to withdraw (so
// a read-only batch after a disk failure is still answered).
//
// Invariants are checked where they are known to hold: after the node finished an input
// (or the failure handling), before anything of it leaves. The check is a read of the
// node's state; it changes nothing, so when it runs (every input, every Kth, never) cannot
// change what the node sends. The timer promise of handle_timeout() (no due timer left
// behind, or an environment would spin) is O(1) and checked on every timeout.

#include "core/node/node_driver.h"

#include <utility>

#include "core/assert.h"

namespace vigil::core {

NodeDriver::NodeDriver(NodeOptions options, Ring ring, CommittableStorage& storage,
                       std::uint64_t seed, DriverOptions driver_options)
    : storage_(storage),
      driver_options_(driver_options),
      node_(std::make_unique<Node>(std::move(options), std::move(ring), storage, seed)) {}

NodeDriver::~NodeDriver() = default;

void NodeDriver::start() {
  input_done();
}

void NodeDriver::client_request(const Now& now, ClientRequest request) {
  node_->handle_client_request(now, std::move(request));
  input_done();
}

void NodeDriver::message(const Now& now, Envelope envelope) {
  node_->handle_message(now, std::move(envelope));
  input_done();
}

void NodeDriver::timeout(const Now& now) {
  node_->handle_timeout(now);
  const std::optional<Instant> next = node_->poll_timeout();
  VIGIL_ASSERT(!next || *next > now.monotonic, "handle_timeout left a timer that was already due");
  input_done();
}

void NodeDriver::input_done() {
  inputs_in_batch_ += 1;
  check_per_policy();
}

void NodeDriver::check_per_policy() {
  const std::uint64_t every = driver_options_.check_invariants_every;
  if (every == 0) return;
  inputs_since_check_ += 1;
  if (inputs_since_check_ < every) return;
  inputs_since_check_ = 0;
  invariant_checks_ += 1;
  node_->check_invariants();
}

DriverEffects NodeDriver::flush(const Now& now) {
  DriverEffects effects;
  effects.inputs = std::exchange(inputs_in_batch_, 0);
  if (storage_.has_uncommitted()) {
    const Status status = storage_.commit();
    effects.commit = status.ok() ? CommitOutcome::committed : CommitOutcome::failed;
    if (!status.ok()) {
      node_->handle_storage_failure(now, status);
      check_per_policy();  // checked like an input, though not one of the batch's
      effects.commit_status = status;
    }
  }
  effects.messages = node_->take_messages();
  effects.replies = node_->take_replies();
  effects.transitions = node_->take_peer_transitions();
  effects.next_timeout = node_->poll_timeout();
  return effects;
}

}  // namespace vigil::core
