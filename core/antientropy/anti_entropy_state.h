#pragma once
// Internal to core/antientropy/: the state the anti-entropy part's sources share
// (anti_entropy.cpp has the theory of operation). Not a contract: anti_entropy.h is.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/antientropy/range_trees.h"
#include "core/node/node_context.h"
#include "core/replica/replica.h"

namespace vigil::core {

// Keys an exchange found different, by the work they are (sync_process.priority_levels).
struct SyncQueues {
  std::deque<Key> push;  // the peer lacks them: send ours (missing_replicas)
  std::deque<Key> pull;  // we lack them: ask for the peer's (missing_replicas)
  std::deque<Key> both;  // both hold different states: send ours, ask for theirs
  bool empty() const { return push.empty() && pull.empty() && both.empty(); }
  std::size_t size() const { return push.size() + pull.size() + both.size(); }
};

// One comparison of one tree with one peer, run by the node that started it.
struct Exchange {
  RequestId id = 0;
  std::size_t set = 0;
  NodeId peer;
  // Tree nodes known to differ, still to be expanded (level, index), and those small
  // enough (or at the leaves) to be listed key by key.
  std::deque<std::pair<std::uint32_t, std::uint64_t>> to_descend;
  std::deque<std::pair<std::uint32_t, std::uint64_t>> to_list;
  // The request in flight (one at a time): what it asked and when it expires.
  std::vector<std::pair<std::uint32_t, std::uint64_t>> asked;  // nodes of a tree request
  std::uint32_t asked_levels_down = 0;
  bool listing = false;  // a keys request is in flight for to_list.front()
  std::vector<AeKeyHash> peer_keys;  // of to_list.front(), pages so far
  std::optional<Instant> deadline;
  SyncQueues work;
  std::uint64_t keys_different = 0;
  std::uint32_t transfers_in_flight = 0;
};

// One AeSync in flight.
struct Transfer {
  RequestId exchange_id = 0;
  NodeId peer;
  SyncWork work = SyncWork::inconsistent_replicas;
  std::vector<Key> pulled;
  std::size_t pushed = 0;
  Instant deadline;
};

// A byte budget refilled at `rate` per second (sync_process.bandwidth_limit). Spending may
// take it below zero; nothing is sent again until it is back at zero, so the average rate
// stays under the limit whatever the message sizes.
struct ByteBucket {
  double tokens = 0;
  Instant refilled;
  void refill(Instant now, std::uint64_t rate, double capacity);
};

// The state of the outcome of the last exchange per (set, peer), for /status.
struct ExchangeOutcome {
  Instant at;
  std::string outcome;  // "in_sync", "repaired N keys", "failed: ..."
};

struct AntiEntropyState {
  AntiEntropyState(NodeContext& context_in, Replica& replica_in);

  NodeContext& context;
  Replica& replica;
  const AntiEntropyOptions& options;
  RangeTrees trees;
  bool trees_usable = true;  // false when loading them failed: nothing is exchanged

  std::uint64_t next_exchange_sequence = 1;
  std::map<RequestId, Exchange> exchanges;  // running, by id
  std::deque<std::pair<std::size_t, NodeId>> queued;  // (set, peer) waiting to start
  std::map<RequestId, Transfer> transfers;  // AeSyncs in flight, by their own id
  std::uint64_t next_transfer_sequence = 1;
  ByteBucket bandwidth;
  std::map<std::pair<std::size_t, NodeId>, ExchangeOutcome> outcomes;
  std::uint64_t exchanges_completed = 0;

  std::optional<Instant> next_scan;
  std::optional<Instant> next_tree_check;
  std::uint64_t tree_check_cursor = 0;  // over (set, segment), flattened

  // Background repair (background_repair): the run in progress and where it stands.
  std::optional<Instant> next_background_run;
  std::optional<Instant> background_run_ends;
  std::optional<Instant> next_background_step;
  std::uint32_t background_segments_left = 0;
  std::optional<std::pair<Token, Key>> background_cursor;
  std::deque<std::pair<Key, NodeId>> background_pulls;  // corrupt keys to fetch, and from whom
  std::set<Key> corrupt_awaiting;  // keys found corrupt, until a repair replaced them

  std::size_t client_requests_in_flight = 0;  // as the dispatcher last told us

  RequestId new_id(std::uint64_t& sequence) const {
    return (context.incarnation << sequence_bits) | (sequence++ & sequence_max);
  }
};

// exchange_initiator.cpp
void start_exchange(AntiEntropyState& state, const Now& now, std::size_t set, const NodeId& peer);
void on_tree_reply(AntiEntropyState& state, const Now& now, Exchange& exchange,
                   const AeTreeReply& reply);
void on_keys_reply(AntiEntropyState& state, const Now& now, Exchange& exchange,
                   const AeKeysReply& reply);
// Sends the exchange's next tree or keys request, or finishes it when nothing is left.
void advance_exchange(AntiEntropyState& state, const Now& now, Exchange& exchange);
void finish_exchange(AntiEntropyState& state, const Now& now, RequestId id,
                     const std::string& failure);

// exchange_responder.cpp
void serve_tree_request(AntiEntropyState& state, const NodeId& from, const AeTreeRequest& request);
void serve_keys_request(AntiEntropyState& state, const NodeId& from, const AeKeysRequest& request);
void serve_sync(AntiEntropyState& state, const NodeId& from, const AeSync& sync);
// The keys of `set` under a tree node, with their state hashes, in ring order after
// `after`, at most `limit` (more: the page was cut). Corrupt records are left out and
// their leaves marked suspect.
Result<std::vector<AeKeyHash>> list_keys(AntiEntropyState& state, std::size_t set,
                                         std::uint32_t level, std::uint64_t index,
                                         const Key& after, std::size_t limit, bool& more);

// sync_transfers.cpp
void start_transfers(AntiEntropyState& state, const Now& now);
void on_sync_reply(AntiEntropyState& state, const Now& now, const NodeId& from,
                   const AeSyncReply& reply);
void expire_transfers(AntiEntropyState& state, const Now& now);

// background_repair.cpp
void background_step(AntiEntropyState& state, const Now& now);
void tree_check(AntiEntropyState& state);

}  // namespace vigil::core
