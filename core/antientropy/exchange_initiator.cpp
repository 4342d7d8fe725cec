// The initiating side of an exchange: descend the two trees where they differ, list the
// keys of the small differing subtrees, and queue the keys that differ for sync
// (anti_entropy.cpp has the theory of operation).

#include <algorithm>
#include <map>
#include <utility>

#include "core/antientropy/anti_entropy_state.h"

namespace vigil::core {

namespace {

// Levels asked at once below a differing node: 16 children per node, so a reply of at
// most tree_request_nodes_max nodes covers up to 256 differing nodes.
constexpr std::uint32_t descend_levels = 4;
constexpr std::size_t descend_batch_max = 256;
constexpr std::size_t listing_keys_max = 1 << 20;  // bound on one subtree's listing

void send_tree_request(AntiEntropyState& state, const Now& now, Exchange& exchange) {
  const std::uint32_t level = exchange.to_descend.front().first;
  const std::uint32_t down = std::min(descend_levels, state.trees.depth() - level);
  AeTreeRequest request;
  request.exchange_id = exchange.id;
  request.replicas = state.trees.sets().sets()[exchange.set];
  request.depth = state.trees.depth();
  request.level = level;
  request.levels_down = down;
  exchange.asked.clear();
  while (!exchange.to_descend.empty() && exchange.to_descend.front().first == level &&
         exchange.asked.size() < descend_batch_max) {
    exchange.asked.push_back(exchange.to_descend.front());
    request.indices.push_back(exchange.to_descend.front().second);
    exchange.to_descend.pop_front();
  }
  exchange.asked_levels_down = down;
  exchange.deadline = now.monotonic + state.context.options.request_timeout;
  state.context.send(exchange.peer, std::move(request));
}

void send_keys_request(AntiEntropyState& state, const Now& now, Exchange& exchange) {
  AeKeysRequest request;
  request.exchange_id = exchange.id;
  request.replicas = state.trees.sets().sets()[exchange.set];
  request.depth = state.trees.depth();
  request.level = exchange.to_list.front().first;
  request.index = exchange.to_list.front().second;
  if (!exchange.peer_keys.empty()) request.after = exchange.peer_keys.back().key;
  exchange.listing = true;
  exchange.deadline = now.monotonic + state.context.options.request_timeout;
  state.context.send(exchange.peer, std::move(request));
}

// Both listings of one subtree, compared: what only the peer holds is pulled, what only
// we hold is pushed, what both hold differently goes both ways.
Status compare_listings(AntiEntropyState& state, Exchange& exchange) {
  const auto [level, index] = exchange.to_list.front();
  std::map<Key, std::uint64_t> mine;
  Key after;
  for (bool more = true; more;) {
    auto page = list_keys(state, exchange.set, level, index, after, listing_keys_max, more);
    if (!page.ok()) return page.status();
    if (!page->empty()) after = page->back().key;  // pages follow ring order, not key order
    for (AeKeyHash& entry : *page) mine.emplace(std::move(entry.key), entry.hash);
    if (mine.size() > listing_keys_max) return error(Code::resource_exhausted, "listing too large");
  }
  std::map<Key, std::uint64_t> theirs;
  for (AeKeyHash& entry : exchange.peer_keys) theirs.emplace(std::move(entry.key), entry.hash);
  exchange.peer_keys.clear();
  std::uint64_t compared = 0;
  std::uint64_t different = 0;
  auto a = mine.begin();
  auto b = theirs.begin();
  while (a != mine.end() || b != theirs.end()) {
    ++compared;
    if (b == theirs.end() || (a != mine.end() && a->first < b->first)) {
      exchange.work.push.push_back(a->first);
      state.context.counters.add("ae_keys_missing_there");
      ++a;
      ++different;
    } else if (a == mine.end() || b->first < a->first) {
      exchange.work.pull.push_back(b->first);
      state.context.counters.add("ae_keys_missing_here");
      ++b;
      ++different;
    } else {
      if (a->second != b->second) {
        exchange.work.both.push_back(a->first);
        ++different;
      }
      ++a;
      ++b;
    }
  }
  state.context.counters.add("ae_keys_compared", compared);
  state.context.counters.add("ae_keys_different", different);
  exchange.keys_different += different;
  return Status::ok_status();
}

}  // namespace

void start_exchange(AntiEntropyState& state, const Now& now, std::size_t set,
                    const NodeId& peer) {
  Exchange exchange;
  exchange.id = state.new_id(state.next_exchange_sequence);
  exchange.set = set;
  exchange.peer = peer;
  exchange.to_descend.emplace_back(0, 0);
  state.context.counters.add("ae_exchanges_started");
  // The root first, alone (levels_down 0): most exchanges end there, in sync.
  AeTreeRequest request;
  request.exchange_id = exchange.id;
  request.replicas = state.trees.sets().sets()[set];
  request.depth = state.trees.depth();
  request.indices.push_back(0);
  exchange.asked.push_back(exchange.to_descend.front());
  exchange.to_descend.clear();
  exchange.deadline = now.monotonic + state.context.options.request_timeout;
  state.context.send(peer, std::move(request));
  state.exchanges.emplace(exchange.id, std::move(exchange));
}

void on_tree_reply(AntiEntropyState& state, const Now& now, Exchange& exchange,
                   const AeTreeReply& reply) {
  if (exchange.asked.empty()) {
    state.context.counters.add("ignored_ae_replies");
    return;
  }
  if (reply.status.code != Code::ok) {
    return finish_exchange(state, now, exchange.id, "failed: " + reply.status.message);
  }
  const std::uint32_t down = exchange.asked_levels_down;
  const std::uint64_t width = std::uint64_t{1} << down;
  if (reply.nodes.size() != exchange.asked.size() * width) {
    state.context.counters.add("ae_replies_malformed");
    return finish_exchange(state, now, exchange.id, "failed: a malformed tree reply");
  }
  const TictacTree& tree = state.trees.tree(exchange.set);
  const std::uint64_t bucket = state.options.bucket_size;
  std::size_t at = 0;
  for (const auto& [level, index] : exchange.asked) {
    for (std::uint64_t child = 0; child < width; ++child, ++at) {
      const std::uint32_t child_level = level + down;
      const std::uint64_t child_index = (index << down) + child;
      const AeTreeNode& theirs = reply.nodes[at];
      const std::uint64_t count = tree.count(child_level, child_index);
      state.context.counters.add("ae_tree_nodes_compared");
      if (theirs.hash == tree.hash(child_level, child_index) && theirs.count == count) continue;
      const bool small = std::max(count, theirs.count) <= bucket;
      if (child_level == tree.depth() || small) {
        exchange.to_list.emplace_back(child_level, child_index);
      } else {
        exchange.to_descend.emplace_back(child_level, child_index);
      }
    }
  }
  exchange.asked.clear();
  exchange.deadline.reset();
  advance_exchange(state, now, exchange);
}

void on_keys_reply(AntiEntropyState& state, const Now& now, Exchange& exchange,
                   const AeKeysReply& reply) {
  if (!exchange.listing) {
    state.context.counters.add("ignored_ae_replies");
    return;
  }
  if (reply.status.code != Code::ok) {
    return finish_exchange(state, now, exchange.id, "failed: " + reply.status.message);
  }
  if ((reply.more && reply.keys.empty()) ||
      exchange.peer_keys.size() + reply.keys.size() > listing_keys_max) {
    state.context.counters.add("ae_replies_malformed");
    return finish_exchange(state, now, exchange.id, "failed: a malformed or oversized listing");
  }
  exchange.peer_keys.insert(exchange.peer_keys.end(), reply.keys.begin(), reply.keys.end());
  exchange.listing = false;
  exchange.deadline.reset();
  if (reply.more) return send_keys_request(state, now, exchange);
  if (Status compared = compare_listings(state, exchange); !compared.ok()) {
    return finish_exchange(state, now, exchange.id, "failed: " + compared.message());
  }
  exchange.to_list.pop_front();
  advance_exchange(state, now, exchange);
}

void advance_exchange(AntiEntropyState& state, const Now& now, Exchange& exchange) {
  if (!exchange.asked.empty() || exchange.listing) return;  // an answer is awaited
  if (!exchange.to_descend.empty()) return send_tree_request(state, now, exchange);
  if (!exchange.to_list.empty()) return send_keys_request(state, now, exchange);
  if (!exchange.work.empty() || exchange.transfers_in_flight > 0) return;  // syncing
  finish_exchange(state, now, exchange.id, "");
}

void finish_exchange(AntiEntropyState& state, const Now& now, RequestId id,
                     const std::string& failure) {
  auto it = state.exchanges.find(id);
  if (it == state.exchanges.end()) return;
  Exchange& exchange = it->second;
  std::string outcome = failure;
  if (outcome.empty()) {
    outcome = exchange.keys_different == 0
                  ? "in_sync"
                  : "repaired " + std::to_string(exchange.keys_different) + " keys";
  }
  state.context.counters.add(!failure.empty()              ? Counter::ae_exchanges_failed
                             : exchange.keys_different == 0 ? Counter::ae_exchanges_in_sync
                                                            : Counter::ae_exchanges_repaired);
  // Transfers still in flight finish on their own; they no longer belong to the exchange.
  for (auto& [transfer_id, transfer] : state.transfers) {
    if (transfer.exchange_id == id) transfer.exchange_id = 0;
  }
  state.outcomes[{exchange.set, exchange.peer}] = ExchangeOutcome{now.monotonic, outcome};
  state.exchanges_completed += 1;
  state.exchanges.erase(it);
}

}  // namespace vigil::core
