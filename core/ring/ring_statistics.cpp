// The figures `vigil ring` prints, measured exactly over token ranges rather than by
// hashing sample keys, so they carry no sampling error and are the same on every run.

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/assert.h"
#include "core/ring/ring.h"
#include "core/ring/ring_range.h"

namespace vigil::core {

namespace {

NodeId node_name(std::size_t number) {
  return "n" + std::to_string(number);
}

// max and min of `share` over the ring's nodes, each divided by `mean`.
std::pair<double, double> spread(const std::map<NodeId, double>& share, double mean) {
  double high = 0;
  double low = 0;
  bool first = true;
  for (const auto& [node, fraction] : share) {
    high = first ? fraction : std::max(high, fraction);
    low = first ? fraction : std::min(low, fraction);
    first = false;
  }
  return {high / mean, low / mean};
}

}  // namespace

RingMovement ring_movement(const Ring& before, const Ring& after) {
  VIGIL_ASSERT(!before.empty() && !after.empty(), "ring_movement needs two non-empty rings");
  // Each node of `after` as its index in `before` (or none), so owners compare as numbers.
  constexpr std::uint32_t absent = UINT32_MAX;
  std::vector<std::uint32_t> index_before(after.nodes_.size(), absent);
  for (std::size_t i = 0; i < after.nodes_.size(); ++i) {
    const std::uint32_t index = before.index_of(after.nodes_[i]);
    if (index != before.nodes_.size()) index_before[i] = index;
  }
  // Between consecutive tokens of the union, each ring has a single owner: the owner of
  // its first token at or after the interval's end. One merged walk compares them exactly.
  const auto& old_tokens = before.tokens_;
  const auto& new_tokens = after.tokens_;
  std::size_t next_old = 0;
  std::size_t next_new = 0;
  Token previous = std::max(old_tokens.back().token, new_tokens.back().token);
  RingSpan moved = 0;
  RingSpan moved_between_old = 0;
  while (next_old < old_tokens.size() || next_new < new_tokens.size()) {
    const Token end =
        std::min(next_old < old_tokens.size() ? old_tokens[next_old].token : ~Token{0},
                 next_new < new_tokens.size() ? new_tokens[next_new].token : ~Token{0});
    // Past the last token the owner is the first token's (the wrap).
    const std::uint32_t old_owner = old_tokens[next_old % old_tokens.size()].node_index;
    const std::uint32_t new_owner =
        index_before[new_tokens[next_new % new_tokens.size()].node_index];
    if (old_owner != new_owner) {
      const RingSpan size = range_size(previous, end);
      moved += size;
      if (new_owner != absent) moved_between_old += size;
    }
    previous = end;
    if (next_old < old_tokens.size() && old_tokens[next_old].token == end) ++next_old;
    if (next_new < new_tokens.size() && new_tokens[next_new].token == end) ++next_new;
  }
  return {ring_fraction(moved), ring_fraction(moved_between_old)};
}

Result<RingStatistics> ring_statistics(std::size_t nodes, const RingOptions& options) {
  if (nodes < 1 || nodes > ring_nodes_max) {
    return error(Code::invalid_argument, "ring: nodes must be in [1, " +
                                             std::to_string(ring_nodes_max) + "], got " +
                                             std::to_string(nodes));
  }
  if (Status status = check_ring_options(options, nodes + 1); !status.ok()) return status;

  std::vector<NodeId> join_order;
  for (std::size_t i = 1; i <= nodes; ++i) join_order.push_back(node_name(i));
  const Ring ring = Ring::build(join_order, options);

  RingStatistics statistics;
  statistics.nodes = nodes;
  statistics.vnodes = options.vnodes;
  statistics.token_spacing_min = options.token_spacing_min;
  const std::map<NodeId, double> primary = ring.ownership();
  const double mean = 1.0 / static_cast<double>(nodes);
  std::tie(statistics.max_over_mean, statistics.min_over_mean) = spread(primary, mean);

  const std::map<NodeId, double> replicas = ring.replica_ownership(statistics.replicas);
  const double replica_mean =
      static_cast<double>(std::min(statistics.replicas, nodes)) / static_cast<double>(nodes);
  std::tie(statistics.replica_max_over_mean, statistics.replica_min_over_mean) =
      spread(replicas, replica_mean);
  for (const NodeId& node : join_order) {
    statistics.per_node.push_back({node, primary.at(node), replicas.at(node)});
  }

  const Ring joined = ring.with_node_added(node_name(nodes + 1), options);
  const RingMovement movement = ring_movement(ring, joined);
  statistics.join_moved_fraction = movement.moved_fraction;
  statistics.join_moved_between_old_nodes = movement.moved_between_old_nodes;
  statistics.join_ideal_fraction = 1.0 / static_cast<double>(nodes + 1);

  if (nodes > 1) {
    const Ring left = ring.with_node_removed(join_order.front());
    statistics.leave_max_over_mean =
        spread(left.ownership(), 1.0 / static_cast<double>(nodes - 1)).first;
  }
  return statistics;
}

}  // namespace vigil::core
