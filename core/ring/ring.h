#pragma once
// The consistent-hash ring (Dynamo section 4.2; Cassandra's vnodes). Each physical node
// holds `vnodes` tokens on a 64-bit ring; a key's token is the first 8 bytes of SHA-256 of
// the key (token_of_key); its preference list is the first N distinct physical nodes met
// walking clockwise from the key's token. A token t owns the keys in (previous token, t].
//
// Token allocation is balanced rather than random (docs/ring.md): a joining node takes
// from each existing node exactly what that node owns above the new mean, by splitting
// that node's largest ranges, so primary ownership stays at the mean and a join moves data
// only from old nodes to the new one, about 1/k of the ring for the k-th node.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/types.h"

namespace vigil::core {

// Bounds on ring sizes (rule 7): from_tokens refuses more nodes or tokens per node,
// check_ring_options more vnodes, ring_statistics more nodes.
inline constexpr std::size_t ring_nodes_max = 1024;
inline constexpr std::uint32_t ring_vnodes_max = 4096;

struct RingOptions {
  std::uint32_t vnodes = 128;                          // ring_configuration.virtual_nodes
  std::uint64_t token_spacing_min = 1000000000000ULL;  // token_distribution.min_spacing
};

// ok when a ring of up to `nodes` nodes can be allocated with `options`: 1 <= vnodes <=
// ring_vnodes_max and nodes * vnodes * 2 * max(token_spacing_min, 1) <= 2^64, which
// guarantees that every joining node finds room for all its tokens at the minimum
// spacing. invalid_argument names the offending value.
Status check_ring_options(const RingOptions& options, std::size_t nodes);

// Exact comparison of two rings over the whole 2^64 ring (ring_movement, below).
struct RingMovement {
  double moved_fraction = 0;           // fraction whose primary owner differs
  double moved_between_old_nodes = 0;  // ... and whose new owner was in `before` too
};

class Ring {
 public:
  Ring() = default;

  // Nodes joined one after another in this order (with_node_added), each with balanced
  // tokens. The same list and options always give the same ring.
  // REQUIRES: distinct valid ids; check_ring_options(options, nodes.size()).ok().
  static Ring build(const std::vector<NodeId>& nodes_in_join_order, const RingOptions& options);
  // A ring from explicit tokens (persisted or gossiped, so untrusted). invalid_argument,
  // naming the node or token, on: an invalid node id, a node without tokens, a token held
  // twice (by one node or by two), more than ring_nodes_max nodes or more than
  // ring_vnodes_max tokens in one node. An empty map gives the empty ring.
  static Result<Ring> from_tokens(const std::map<NodeId, std::vector<Token>>& tokens);

  // The ring after `node` joins with vnodes balanced tokens; every old token stays, so
  // the only ranges that change owner move from old nodes to `node`. The first node's
  // tokens are SHA-256("<node>#<i>"). Deterministic. REQUIRES: is_valid_node_id(node),
  // !contains(node), check_ring_options(options, node_count() + 1).ok().
  Ring with_node_added(const NodeId& node, const RingOptions& options) const;
  // The ring after `node` leaves: its ranges fall to the next tokens clockwise (no
  // rebalancing; see docs/ring.md). A node not in the ring gives the same ring.
  Ring with_node_removed(const NodeId& node) const;

  // The first min(n, node_count()) distinct nodes clockwise from `token`, primary first.
  // O(log tokens) to find the start, then a walk. REQUIRES: !empty().
  std::vector<NodeId> preference_list(Token token, std::size_t n) const;
  // The node owning `token` (first of the preference list). REQUIRES: !empty().
  const NodeId& owner(Token token) const;

  bool empty() const { return tokens_.empty(); }
  std::size_t node_count() const { return nodes_.size(); }
  std::size_t token_count() const { return tokens_.size(); }
  const std::vector<NodeId>& nodes() const { return nodes_; }  // sorted by id
  bool contains(const NodeId& node) const;
  // Tokens of one node, sorted. Empty when absent.
  std::vector<Token> tokens_of(const NodeId& node) const;
  std::map<NodeId, std::vector<Token>> all_tokens() const;
  std::vector<Token> tokens() const;  // every token, sorted
  // Fraction of the 2^64 ring each node owns as primary (sums to 1). Exact over ranges.
  std::map<NodeId, double> ownership() const;
  // Fraction of the ring for which each node is among the first `replicas` distinct
  // nodes of the preference list (sums to min(replicas, node_count())).
  std::map<NodeId, double> replica_ownership(std::size_t replicas) const;

  friend bool operator==(const Ring& a, const Ring& b) = default;
  friend RingMovement ring_movement(const Ring& before, const Ring& after);

 private:
  struct Entry {
    Token token;
    std::uint32_t node_index;  // into nodes_
    friend bool operator==(const Entry& a, const Entry& b) = default;
  };
  // A ring from sorted node ids and (token, index into them) sorted by distinct token.
  static Ring assemble(std::vector<NodeId> sorted_nodes,
                       const std::vector<std::pair<Token, std::uint32_t>>& tokens);
  // The index into tokens_ of the token owning `token` (first token >= it, wrapping).
  std::size_t owning_entry(Token token) const;
  std::uint32_t index_of(const NodeId& node) const;  // nodes_.size() when absent

  std::vector<Entry> tokens_;  // sorted by token, all distinct
  std::vector<NodeId> nodes_;  // sorted, each holding at least one token
};

// REQUIRES: !before.empty(), !after.empty().
RingMovement ring_movement(const Ring& before, const Ring& after);

// What `vigil ring` prints: nodes n1..nN joined in order, then n(N+1) joining.
struct NodeOwnership {
  NodeId node;
  double primary = 0;   // fraction of the ring owned as primary
  double replicas = 0;  // fraction for which the node is one of the first 3 replicas
};
struct RingStatistics {
  std::size_t nodes = 0;
  std::uint32_t vnodes = 0;
  std::uint64_t token_spacing_min = 0;
  double max_over_mean = 0;  // max primary ownership / mean
  double min_over_mean = 0;
  std::size_t replicas = 3;          // preference-list length used for replica balance
  double replica_max_over_mean = 0;  // of the replica ownership (mean = min(3, N) / N)
  double replica_min_over_mean = 0;
  double join_moved_fraction = 0;  // fraction of the ring changing owner when one more node joins
  double join_ideal_fraction = 0;  // 1 / (nodes + 1)
  double join_moved_between_old_nodes = 0;  // must be 0
  // Primary max / mean after n1 leaves (its ranges fall to successors); 0 when nodes == 1.
  double leave_max_over_mean = 0;
  std::vector<NodeOwnership> per_node;  // in join order n1..nN
};
// invalid_argument when nodes is 0 or above ring_nodes_max, or when
// check_ring_options(options, nodes + 1) fails.
Result<RingStatistics> ring_statistics(std::size_t nodes, const RingOptions& options);

}  // namespace vigil::core
