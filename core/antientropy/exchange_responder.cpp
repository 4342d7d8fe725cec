// The answering side of an exchange: a peer's tree nodes, key listings and syncs
// (anti_entropy.cpp has the theory of operation). Requests are untrusted: a tree this node
// does not hold (another ring, another depth), a sender that is not a replica of the set,
// or a key outside the sets both nodes share is refused and counted, never served.

#include <algorithm>
#include <utility>

#include "core/antientropy/anti_entropy_state.h"
#include "core/antientropy/key_hash.h"

namespace vigil::core {

namespace {

constexpr std::size_t keys_page_max = 4096;
constexpr std::size_t tree_reply_nodes_max = 65536;
// Past this many bytes of states a sync reply stops adding: the initiator asks again for
// what it did not get (a frame must stay under frame_size_bytes_max).
constexpr std::size_t sync_reply_bytes_max = 16 * 1024 * 1024;

// The tree a request names, when this node holds it and the sender is one of its replicas.
std::optional<std::size_t> tree_for(AntiEntropyState& state, const NodeId& from,
                                    const std::vector<NodeId>& replicas, std::uint32_t depth,
                                    WireStatus& status) {
  const std::optional<std::size_t> set = state.trees.sets().find(replicas);
  if (!state.trees_usable) {
    status = WireStatus{Code::unavailable, "anti-entropy trees are not loaded on " +
                                               state.context.self()};
  } else if (!set || depth != state.trees.depth() ||
             std::find(replicas.begin(), replicas.end(), from) == replicas.end()) {
    status = WireStatus{Code::failed_precondition,
                        "node " + state.context.self() +
                            " holds no such tree (another ring or merkle_tree.depth)"};
  } else {
    return set;
  }
  state.context.counters.add("ae_requests_refused");
  return std::nullopt;
}

// The key is in a set both this node and `from` replicate.
bool shared_key(AntiEntropyState& state, const NodeId& from, const Key& key) {
  const std::optional<std::size_t> set = state.trees.sets().set_of(token_of_key(key));
  if (!set) return false;
  const std::vector<NodeId>& nodes = state.trees.sets().sets()[*set];
  return std::find(nodes.begin(), nodes.end(), from) != nodes.end();
}

KeyRange range_of(std::uint32_t level, std::uint64_t index) {
  const TokenSpan span = token_span(level, index);
  if (level == 0) return KeyRange{0, 0};
  return KeyRange{span.first - 1, span.last};
}

}  // namespace

Result<std::vector<AeKeyHash>> list_keys(AntiEntropyState& state, std::size_t set,
                                         std::uint32_t level, std::uint64_t index,
                                         const Key& after, std::size_t limit, bool& more) {
  std::vector<AeKeyHash> keys;
  std::optional<std::pair<Token, Key>> position;
  if (!after.empty()) position = std::make_pair(token_of_key(after), after);
  more = false;
  for (;;) {
    auto page = state.context.storage.scan_keys(range_of(level, index),
                                                RangeTrees::scan_page_keys, position);
    if (!page.ok()) return page.status();
    for (const ScannedKey& record : *page) {
      if (state.trees.sets().set_of(record.token) != set) continue;
      if (record.corrupt) {
        state.context.counters.add("ae_corrupt_records_found");
        state.trees.mark_suspect(record.key);
        continue;  // a corrupt record is held by nobody: the peer's copy will be pulled
      }
      if (keys.size() == limit) {
        more = true;
        return keys;
      }
      keys.push_back(AeKeyHash{record.key, key_state_hash(record.key, record.encoded)});
    }
    if (page->size() < RangeTrees::scan_page_keys) return keys;
    position = std::make_pair(page->back().token, page->back().key);
  }
}

void serve_tree_request(AntiEntropyState& state, const NodeId& from, const AeTreeRequest& request) {
  AeTreeReply reply;
  reply.exchange_id = request.exchange_id;
  const std::optional<std::size_t> set =
      tree_for(state, from, request.replicas, request.depth, reply.status);
  const std::uint64_t width = std::uint64_t{1} << std::min<std::uint32_t>(request.levels_down, 20);
  if (set && (request.level + request.levels_down > request.depth ||
              request.indices.size() * width > tree_reply_nodes_max)) {
    reply.status = WireStatus{Code::invalid_argument, "tree request over its bounds"};
    state.context.counters.add("ae_requests_refused");
  } else if (set) {
    const TictacTree& tree = state.trees.tree(*set);
    const std::uint32_t child_level = request.level + request.levels_down;
    for (const std::uint64_t index : request.indices) {
      if (index >= (std::uint64_t{1} << request.level)) {
        reply.status = WireStatus{Code::invalid_argument, "tree index out of its level"};
        reply.nodes.clear();
        break;
      }
      for (std::uint64_t child = 0; child < width; ++child) {
        const std::uint64_t at = (index << request.levels_down) + child;
        reply.nodes.push_back(AeTreeNode{tree.hash(child_level, at), tree.count(child_level, at)});
      }
    }
    state.context.counters.add("ae_requests_served");
  }
  state.context.send(from, std::move(reply));
}

void serve_keys_request(AntiEntropyState& state, const NodeId& from, const AeKeysRequest& request) {
  AeKeysReply reply;
  reply.exchange_id = request.exchange_id;
  const std::optional<std::size_t> set =
      tree_for(state, from, request.replicas, request.depth, reply.status);
  if (set && (request.level > request.depth ||
              (request.level > 0 && request.index >= (std::uint64_t{1} << request.level)))) {
    reply.status = WireStatus{Code::invalid_argument, "keys request names no tree node"};
    state.context.counters.add("ae_requests_refused");
  } else if (set) {
    auto keys = list_keys(state, *set, request.level, request.index, request.after,
                          keys_page_max, reply.more);
    if (keys.ok()) {
      reply.keys = std::move(*keys);
      state.context.counters.add("ae_requests_served");
    } else {
      reply.status = to_wire(keys.status());
      state.context.counters.add("storage_read_errors");
    }
  }
  state.context.send(from, std::move(reply));
}

void serve_sync(AntiEntropyState& state, const NodeId& from, const AeSync& sync) {
  AeSyncReply reply;
  reply.exchange_id = sync.exchange_id;
  for (const AeKeyState& entry : sync.push) {
    Status status = check_key(state.context.options, entry.key);
    if (status.ok() && !shared_key(state, from, entry.key)) {
      state.context.counters.add("ae_sync_keys_refused");
      continue;
    }
    if (status.ok() && !entry.state.empty()) {
      status = state.replica.merge_into_local(entry.key, entry.state);
    }
    if (!status.ok()) {
      reply.status = to_wire(status);  // the first error; nothing is acknowledged
      state.context.send(from, std::move(reply));
      return;
    }
    state.context.counters.add("ae_keys_received");
  }
  std::size_t bytes = 0;
  for (const Key& key : sync.pull) {
    if (bytes >= sync_reply_bytes_max) break;  // the initiator asks again for the rest
    if (!check_key(state.context.options, key).ok() || !shared_key(state, from, key)) {
      state.context.counters.add("ae_sync_keys_refused");
      reply.states.push_back(AeKeyState{key, SiblingSet{}});
      continue;
    }
    auto read = state.context.storage.read_key(key);
    AeKeyState answer{key, SiblingSet{}};
    if (read.ok() && read->has_value()) {
      answer.state = std::move(**read);
    } else if (!read.ok() && read.status().code() == Code::corruption) {
      state.context.counters.add("storage_corruption");
      state.trees.mark_suspect(key);
    }
    for (const Version& version : answer.state.versions()) {
      bytes += key.size() + (version.value ? version.value->size() : 0) + 64;
    }
    reply.states.push_back(std::move(answer));
  }
  state.context.counters.add("ae_requests_served");
  state.context.send(from, std::move(reply));
}

}  // namespace vigil::core
