// Anti-entropy: replicas that converge by themselves (Dynamo 4.7; Riak's tictac AAE, after
// Martin Sumner; Cassandra's repair; seed sections 2.2, 4.2 and 4.3; docs/anti-entropy.md).
//
// Theory of operation.
// - Trees. A node keeps one tictac tree per replica set it belongs to (replica_sets.h),
//   updated with every staged write by XORing the key's old state hash out and its new
//   one in (range_trees.h), and persisted with the data in the same commits. Two replicas
//   of a set hold equal trees exactly when they hold equal states for every key of the
//   set (up to 64-bit hash collisions).
// - Exchanges (exchange_initiator.cpp). Every sync_process.scan_interval (the first at a
//   random point of the first interval, so nodes do not all start together), and at once
//   when a peer comes back or a hint for it expires, the node compares each of its trees
//   with each other replica of the set; of each pair, the node with the smaller id starts
//   the scheduled exchange (a triggered one is started by whoever was triggered). The
//   initiator asks for the root, then for the children of every node that differs, a few
//   levels at a time, and stops descending where a subtree reached the leaves or holds at
//   most merkle_tree.bucket_size keys on both sides; those subtrees are listed key by key
//   with each key's state hash, and compared with the initiator's own listing. A key only
//   one side holds is a missing replica; a key both hold with different hashes an
//   inconsistent one.
// - Sync (sync_transfers.cpp). The keys found go to per-exchange queues; a transfer slot
//   (sync_process.concurrent_transfers per node) goes to the highest priority work
//   (sync_process.priority_levels: missing replicas, then inconsistent ones, then the
//   background pass's), in AeSync messages of at most batch_size keys that push our whole
//   sibling sets and pull the peer's. Both sides merge with merge_into_local, so a repair
//   is idempotent, never loses a version, and carries tombstones like values. Bytes sent
//   and received are paced by sync_process.bandwidth_limit.
// - Background repair (background_repair.cpp). Every background_repair.schedule.interval,
//   from offset after start, a pass walks segments_per_run segments of keys_per_segment
//   records in ring order, continuing where the last run stopped, cut at max_duration.
//   The store verifies each record's checksum as it reads it; with
//   incremental_repair.validation.probability a record is also decoded and each value's
//   own xxhash checked. A corrupt record is taken out of its tree (the leaf is rebuilt)
//   and fetched from the other replicas: it is never served meanwhile (reads report it
//   corrupt and the coordinator asks the other replicas). The pass yields to clients:
//   with io_priority low it steps only while fewer than background_idle_requests client
//   requests are in flight (medium: 4x that; high: always).
// - Tree check. Every merkle_tree.update_interval a slice of the leaves (1/64 of them, so
//   the whole tree every 64 intervals) is recomputed from the store and fixed if wrong
//   (counted: a mismatch means a bug or a disk that changed under us).
// Everything is keyed by values in ordered containers, so a run is a function of the seed.

#include "core/antientropy/anti_entropy.h"

#include <algorithm>
#include <utility>

#include "core/antientropy/anti_entropy_state.h"
#include "core/assert.h"

namespace vigil::core {

namespace {

// The first scheduled time of a periodic task: a random point of its first period.
Instant jittered(AntiEntropyState& state, Instant now, Duration period) {
  const auto ticks = static_cast<std::uint64_t>(period.count());
  return now + Duration(static_cast<Duration::rep>(state.context.random.uniform(ticks)));
}

void arm_schedules(AntiEntropyState& state, Instant now) {
  const AntiEntropyOptions& options = state.options;
  state.next_scan = jittered(state, now, options.scan_interval);
  state.next_tree_check = jittered(state, now, options.update_interval);
  state.next_background_run = now + options.background_offset;
}

void queue_exchange(AntiEntropyState& state, std::size_t set, const NodeId& peer) {
  const auto entry = std::make_pair(set, peer);
  if (std::find(state.queued.begin(), state.queued.end(), entry) != state.queued.end()) return;
  for (const auto& [id, exchange] : state.exchanges) {
    if (exchange.set == set && exchange.peer == peer) return;
  }
  state.queued.push_back(entry);
}

// The scheduled round: each pair of replicas compared once, by the smaller id.
void queue_scan(AntiEntropyState& state) {
  const std::vector<std::vector<NodeId>>& sets = state.trees.sets().sets();
  for (std::size_t set = 0; set < sets.size(); ++set) {
    for (const NodeId& peer : sets[set]) {
      if (peer > state.context.self()) queue_exchange(state, set, peer);
    }
  }
}

// Exchanges run one at a time: each holds listings and queues, and a node compares its
// trees one after the other, as Riak's AAE does.
void start_queued(AntiEntropyState& state, const Now& now) {
  while (state.exchanges.empty() && !state.queued.empty()) {
    const auto [set, peer] = state.queued.front();
    state.queued.pop_front();
    if (!state.context.peer_is_up(peer)) {
      state.context.counters.add("ae_exchanges_skipped_peer_down");
      continue;
    }
    start_exchange(state, now, set, peer);
  }
}

}  // namespace

void ByteBucket::refill(Instant now, std::uint64_t rate, double capacity) {
  if (now > refilled) {
    const double seconds = std::chrono::duration<double>(now - refilled).count();
    tokens = std::min(capacity, tokens + seconds * static_cast<double>(rate));
  }
  refilled = std::max(refilled, now);
}

AntiEntropyState::AntiEntropyState(NodeContext& context_in, Replica& replica_in)
    : context(context_in),
      replica(replica_in),
      options(context_in.options.anti_entropy),
      trees(context_in.options.anti_entropy, context_in.ring, context_in.options.replicas,
            context_in.self()) {}

AntiEntropy::AntiEntropy(NodeContext& context, Replica& replica)
    : state_(std::make_unique<AntiEntropyState>(context, replica)) {
  if (!state_->options.trees_enabled) {
    state_->trees_usable = false;
    return;
  }
  context.key_states.push_back(this);
  if (Status loaded = state_->trees.load(context.storage, context.counters); !loaded.ok()) {
    // Without trees there is nothing to compare; the data itself is untouched, and the
    // next start tries again.
    state_->trees_usable = false;
    context.counters.add("ae_tree_load_failures");
  }
}

AntiEntropy::~AntiEntropy() = default;

bool AntiEntropy::handle_message(const Now& now, const NodeId& from, const Message& message) {
  AntiEntropyState& state = *state_;
  if (const auto* tree_request = std::get_if<AeTreeRequest>(&message)) {
    serve_tree_request(state, from, *tree_request);
  } else if (const auto* keys_request = std::get_if<AeKeysRequest>(&message)) {
    serve_keys_request(state, from, *keys_request);
  } else if (const auto* sync = std::get_if<AeSync>(&message)) {
    serve_sync(state, from, *sync);
  } else if (const auto* tree_reply = std::get_if<AeTreeReply>(&message)) {
    auto it = state.exchanges.find(tree_reply->exchange_id);
    if (it == state.exchanges.end() || it->second.peer != from) {
      state.context.counters.add("ignored_ae_replies");
    } else {
      on_tree_reply(state, now, it->second, *tree_reply);
    }
  } else if (const auto* keys_reply = std::get_if<AeKeysReply>(&message)) {
    auto it = state.exchanges.find(keys_reply->exchange_id);
    if (it == state.exchanges.end() || it->second.peer != from) {
      state.context.counters.add("ignored_ae_replies");
    } else {
      on_keys_reply(state, now, it->second, *keys_reply);
    }
  } else if (const auto* sync_reply = std::get_if<AeSyncReply>(&message)) {
    on_sync_reply(state, now, from, *sync_reply);
  } else {
    return false;
  }
  start_queued(state, now);
  start_transfers(state, now);
  return true;
}

void AntiEntropy::handle_peer_transition(const Now& now, const PeerTransition& transition) {
  if (transition.to != PeerState::alive || !state_->trees_usable ||
      !state_->options.exchanges_enabled) {
    return;
  }
  handle_hint_expired(now, transition.peer);
}

void AntiEntropy::handle_hint_expired(const Now& now, const NodeId& target) {
  AntiEntropyState& state = *state_;
  if (!state.trees_usable || !state.options.exchanges_enabled) return;
  const std::vector<std::vector<NodeId>>& sets = state.trees.sets().sets();
  for (std::size_t set = 0; set < sets.size(); ++set) {
    if (std::find(sets[set].begin(), sets[set].end(), target) != sets[set].end() &&
        target != state.context.self()) {
      queue_exchange(state, set, target);
    }
  }
  state.context.counters.add("ae_exchanges_triggered");
  start_queued(state, now);
}

void AntiEntropy::request_exchanges(const Now& now) {
  AntiEntropyState& state = *state_;
  if (!state.trees_usable) return;
  const std::vector<std::vector<NodeId>>& sets = state.trees.sets().sets();
  for (std::size_t set = 0; set < sets.size(); ++set) {
    for (const NodeId& peer : sets[set]) {
      if (peer != state.context.self()) queue_exchange(state, set, peer);
    }
  }
  start_queued(state, now);
}

void AntiEntropy::set_client_load(std::size_t requests_in_flight) {
  state_->client_requests_in_flight = requests_in_flight;
}

void AntiEntropy::handle_timeout(const Now& now) {
  AntiEntropyState& state = *state_;
  if (!state.options.trees_enabled) return;
  if (!state.next_scan) arm_schedules(state, now.monotonic);
  for (auto it = state.exchanges.begin(); it != state.exchanges.end();) {
    const RequestId id = it->first;
    const bool expired = it->second.deadline && *it->second.deadline <= now.monotonic;
    ++it;
    if (expired) finish_exchange(state, now, id, "failed: the peer did not answer in time");
  }
  expire_transfers(state, now);
  if (*state.next_scan <= now.monotonic) {
    state.next_scan = now.monotonic + state.options.scan_interval;
    if (state.trees_usable && state.options.exchanges_enabled) queue_scan(state);
  }
  if (*state.next_tree_check <= now.monotonic) {
    state.next_tree_check = now.monotonic + state.options.update_interval;
    if (state.trees_usable) tree_check(state);
  }
  background_step(state, now);
  start_queued(state, now);
  start_transfers(state, now);
}

std::optional<Instant> AntiEntropy::poll_timeout() const {
  const AntiEntropyState& state = *state_;
  if (!state.options.trees_enabled) return std::nullopt;
  if (!state.next_scan) return Instant{};  // before the first input: start the schedules
  std::optional<Instant> next;
  const auto consider = [&next](std::optional<Instant> at) {
    if (at && (!next || *at < *next)) next = at;
  };
  consider(state.next_scan);
  consider(state.next_tree_check);
  consider(state.next_background_run);
  consider(state.background_run_ends);
  consider(state.next_background_step);
  for (const auto& [id, exchange] : state.exchanges) consider(exchange.deadline);
  for (const auto& [id, transfer] : state.transfers) consider(transfer.deadline);
  if (state.bandwidth.tokens < 0 && state.options.bandwidth_bytes_per_second > 0) {
    const double seconds =
        -state.bandwidth.tokens / static_cast<double>(state.options.bandwidth_bytes_per_second);
    consider(state.bandwidth.refilled +
             std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds)) +
             Duration(1));
  }
  return next;
}

void AntiEntropy::note_write(const KeyWrite& after, const SiblingSet* before,
                             bool before_unknown) {
  state_->trees.note_write(after, before, before_unknown);
}

void AntiEntropy::note_corrupt(const Key& key) {
  state_->trees.mark_suspect(key);
}

void AntiEntropy::end_input() {
  AntiEntropyState& state = *state_;
  if (!state.options.trees_enabled || state.context.storage_failure) return;
  if (Status rebuilt = state.trees.rebuild_suspects(state.context.storage, state.context.counters);
      !rebuilt.ok()) {
    state.context.counters.add("ae_tree_stage_errors");
  }
}

void AntiEntropy::stage() {
  AntiEntropyState& state = *state_;
  // After a storage failure nothing staged can become durable.
  if (!state.options.trees_enabled || state.context.storage_failure) return;
  if (Status staged = state.trees.stage(state.context.storage, state.context.counters);
      !staged.ok()) {
    state.context.counters.add("ae_tree_stage_errors");
  }
}

std::vector<TreeStatus> AntiEntropy::status() const {
  const AntiEntropyState& state = *state_;
  std::vector<TreeStatus> trees;
  const std::vector<std::vector<NodeId>>& sets = state.trees.sets().sets();
  for (std::size_t set = 0; set < sets.size(); ++set) {
    TreeStatus tree;
    tree.replicas = sets[set];
    tree.root_hash = state.trees.tree(set).root_hash();
    tree.keys = state.trees.tree(set).key_count();
    for (const NodeId& peer : sets[set]) {
      if (peer == state.context.self()) continue;
      TreeStatus::Peer entry;
      entry.peer = peer;
      if (auto it = state.outcomes.find({set, peer}); it != state.outcomes.end()) {
        entry.last_exchange = it->second.at;
        entry.outcome = it->second.outcome;
      }
      tree.peers.push_back(std::move(entry));
    }
    trees.push_back(std::move(tree));
  }
  return trees;
}

std::uint64_t AntiEntropy::exchanges_completed() const {
  return state_->exchanges_completed;
}

std::size_t AntiEntropy::exchanges_pending() const {
  return state_->exchanges.size() + state_->queued.size();
}

void AntiEntropy::check_invariants() const {
  const AntiEntropyState& state = *state_;
  VIGIL_ASSERT(state.exchanges.size() <= 1, "more than one exchange running");
  VIGIL_ASSERT(state.transfers.size() <= state.options.concurrent_transfers,
               "sync transfers over sync_process.concurrent_transfers");
  std::uint64_t in_flight = 0;
  for (const auto& [id, exchange] : state.exchanges) in_flight += exchange.transfers_in_flight;
  std::uint64_t owned = 0;
  for (const auto& [id, transfer] : state.transfers) {
    owned += state.exchanges.contains(transfer.exchange_id) ? 1 : 0;
  }
  VIGIL_ASSERT(in_flight == owned, "an exchange's transfer count does not match its transfers");
}

}  // namespace vigil::core
