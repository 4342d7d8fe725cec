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

#include <type_traits>
#include <utility>
#include <variant>

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
  if (!driver_options_.pipelined) return flush_in_place(now);
  DriverEffects effects;
  effects.inputs = std::exchange(inputs_in_batch_, 0);
  collect(effects);
  advance(now, effects);
  finish(effects);
  return effects;
}

DriverEffects NodeDriver::commit_done(const Now& now, const Status& status) {
  VIGIL_ASSERT(driver_options_.pipelined && commits_in_flight() > 0,
               "commit_done without a commit in flight");
  DriverEffects effects;
  effects.inputs = std::exchange(inputs_in_batch_, 0);
  collect(effects);  // an environment may finish a commit between an input and its flush
  if (abandoned_ > 0) {
    abandoned_ -= 1;  // a return from before a failure: what it covered is withdrawn
  } else if (!status.ok()) {
    // Its held effects are given back by fail(), with the rest; the others will return.
    fail(now, status, in_flight_.size() - 1, effects);
    finish(effects);
    return effects;
  } else {
    InFlight returned = std::move(in_flight_.front());
    in_flight_.pop_front();
    for (Envelope& message : returned.held.messages) {
      effects.messages.push_back(std::move(message));
    }
    for (ClientReply& reply : returned.held.replies) effects.replies.push_back(std::move(reply));
    effects.commit = CommitOutcome::committed;
  }
  advance(now, effects);
  finish(effects);
  return effects;
}

// Overlapped fsyncs: a message that asks something of a peer acknowledges nothing, so it
// may leave before the commit of the batch that produced it (a coordinator's ReplicaWrite
// goes out while its own copy is being made durable). If the node then crashes before that
// commit, the peer holds a version this node lost: harmless, because a restarted node
// takes a new actor epoch and can never mint the same dot again, and because the client
// was not answered. Answers (ReplicaWriteReply, ReplicaReadReply, CoordinateReply,
// HintDeliveryReply, anti-entropy's AeTreeReply, AeKeysReply and AeSyncReply, which
// show staged data or acknowledge merges, TombstoneQueryReply, which vouches for a
// staged tombstone, and the enumeration's KeyScanReply and KeyCountReply, which show
// staged keys) and client replies do acknowledge, or show staged data: they wait for the commit that covers them. Membership traffic touches no
// storage.
namespace {

bool may_precede_commit(const Message& message) {
  return std::visit(
      [](const auto& m) {
        using M = std::decay_t<decltype(m)>;
        return !(std::is_same_v<M, ReplicaWriteReply> || std::is_same_v<M, ReplicaReadReply> ||
                 std::is_same_v<M, CoordinateReply> || std::is_same_v<M, HintDeliveryReply> ||
                 std::is_same_v<M, AeTreeReply> || std::is_same_v<M, AeKeysReply> ||
                 std::is_same_v<M, AeSyncReply> || std::is_same_v<M, TombstoneQueryReply> ||
                 std::is_same_v<M, KeyScanReply> || std::is_same_v<M, KeyCountReply>);
      },
      message);
}

void append(std::vector<Envelope>& to, std::vector<Envelope>& from) {
  for (Envelope& envelope : from) to.push_back(std::move(envelope));
  from.clear();
}

void append(std::vector<ClientReply>& to, std::vector<ClientReply>& from) {
  for (ClientReply& reply : from) to.push_back(std::move(reply));
  from.clear();
}

}  // namespace

void NodeDriver::collect(DriverEffects& effects) {
  // A new actor epoch must be durable before any dot it mints leaves: while one is staged
  // or committing, every message waits.
  identity_open_ = node_->take_identity_staged() || identity_open_;
  bool identity_pending = identity_open_;
  for (const InFlight& commit : in_flight_) identity_pending = identity_pending || commit.identity;
  for (Envelope& envelope : node_->take_messages()) {
    if (!identity_pending && may_precede_commit(envelope.message)) {
      effects.messages.push_back(std::move(envelope));
    } else {
      open_held_.messages.push_back(std::move(envelope));
    }
  }
  for (ClientReply& reply : node_->take_replies()) open_held_.replies.push_back(std::move(reply));
}

void NodeDriver::advance(const Now& now, DriverEffects& effects) {
  const bool may_begin = in_flight_.size() + abandoned_ < driver_options_.commits_in_flight_max;
  if (may_begin) node_->stage_for_commit();
  if (storage_.has_uncommitted()) {
    if (!may_begin) return;
    const Status status = storage_.begin_commit();
    if (!status.ok()) return fail(now, status, in_flight_.size(), effects);
    InFlight commit;
    commit.held = std::exchange(open_held_, {});
    commit.identity = std::exchange(identity_open_, false);
    in_flight_.push_back(std::move(commit));
    effects.commit = CommitOutcome::started;
    return;
  }
  identity_open_ = false;  // nothing staged: a staged epoch was withdrawn, or is committing
  if (!in_flight_.empty()) {
    // Nothing staged: what waits shows at most what the newest commit in flight covers.
    append(in_flight_.back().held.messages, open_held_.messages);
    append(in_flight_.back().held.replies, open_held_.replies);
    return;
  }
  // Nothing staged and nothing committing: all that waits rests on durable state.
  append(effects.messages, open_held_.messages);
  append(effects.replies, open_held_.replies);
}

void NodeDriver::fail(const Now& now, const Status& status, std::size_t outstanding,
                      DriverEffects& effects) {
  // Everything not released goes back to the node, oldest first, and is withdrawn there
  // with the rest (Node::handle_storage_failure); what replaces it leaves at once.
  Held unreleased;
  for (InFlight& commit : in_flight_) {
    append(unreleased.messages, commit.held.messages);
    append(unreleased.replies, commit.held.replies);
  }
  append(unreleased.messages, open_held_.messages);
  append(unreleased.replies, open_held_.replies);
  in_flight_.clear();
  abandoned_ += outstanding;
  identity_open_ = false;
  node_->give_back(std::move(unreleased.messages), std::move(unreleased.replies));
  node_->handle_storage_failure(now, status);
  check_per_policy();
  effects.commit = CommitOutcome::failed;
  effects.commit_status = status;
  for (Envelope& message : node_->take_messages()) effects.messages.push_back(std::move(message));
  for (ClientReply& reply : node_->take_replies()) effects.replies.push_back(std::move(reply));
}

void NodeDriver::finish(DriverEffects& effects) {
  effects.transitions = node_->take_peer_transitions();
  effects.next_timeout = node_->poll_timeout();
}

DriverEffects NodeDriver::flush_in_place(const Now& now) {
  DriverEffects effects;
  effects.inputs = std::exchange(inputs_in_batch_, 0);
  node_->stage_for_commit();
  if (storage_.has_uncommitted()) {
    const Status status = storage_.commit();
    effects.commit = status.ok() ? CommitOutcome::committed : CommitOutcome::failed;
    if (!status.ok()) {
      node_->handle_storage_failure(now, status);
      check_per_policy();  // checked like an input, though not one of the batch's
      effects.commit_status = status;
    }
  }
  (void)node_->take_identity_staged();  // durable now, or withdrawn with everything else
  effects.messages = node_->take_messages();
  effects.replies = node_->take_replies();
  finish(effects);
  return effects;
}

}  // namespace vigil::core
