#pragma once
// The replica sets a node belongs to: for every range of the ring, the set of nodes of
// its preference list (the first N distinct nodes clockwise). Keys whose preference list
// is the same set are held by exactly the same nodes, so they share one tictac tree on
// each of them and are compared in one exchange (Riak's IndexN: a tree per partition and
// n_val). With virtual nodes many ranges share a set: at most C(nodes, N) sets exist, and
// a node is in at most C(nodes-1, N-1) of them (1 with 3 nodes and N = 3, 6 with 5).

#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "core/ring/ring.h"
#include "core/types.h"

namespace vigil::core {

class ReplicaSets {
 public:
  ReplicaSets() = default;
  // REQUIRES: ring contains self; replicas >= 1.
  ReplicaSets(const Ring& ring, std::size_t replicas, const NodeId& self);

  // Each set sorted by node id; the sets in lexicographic order. Every one contains self.
  const std::vector<std::vector<NodeId>>& sets() const { return sets_; }
  // The set a key with this token belongs to; nullopt when this node does not replicate it.
  // O(log tokens).
  std::optional<std::size_t> set_of(Token token) const;
  // The index of a set named on the wire (sorted ids); nullopt when it is not one of ours.
  std::optional<std::size_t> find(const std::vector<NodeId>& replicas) const;

 private:
  std::vector<std::vector<NodeId>> sets_;
  // (ring token, set index or -1 when self is not a replica of the range ending there),
  // sorted by token: the range (previous token, token] belongs to the entry.
  std::vector<std::pair<Token, int>> range_ends_;
};

}  // namespace vigil::core
