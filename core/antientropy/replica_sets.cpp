#include "core/antientropy/replica_sets.h"

#include <algorithm>
#include <map>

#include "core/assert.h"

namespace vigil::core {

ReplicaSets::ReplicaSets(const Ring& ring, std::size_t replicas, const NodeId& self) {
  VIGIL_ASSERT(ring.contains(self) && replicas >= 1, "replica sets of a node not in the ring");
  std::map<std::vector<NodeId>, int> index;  // ordered: set numbering is deterministic
  std::vector<std::pair<Token, std::vector<NodeId>>> ranges;
  for (const Token token : ring.tokens()) {
    std::vector<NodeId> list = ring.preference_list(token, replicas);
    std::sort(list.begin(), list.end());
    if (std::find(list.begin(), list.end(), self) != list.end()) index.emplace(list, 0);
    ranges.emplace_back(token, std::move(list));
  }
  for (auto& [set, number] : index) {
    number = static_cast<int>(sets_.size());
    sets_.push_back(set);
  }
  range_ends_.reserve(ranges.size());
  for (const auto& [token, list] : ranges) {
    const auto it = index.find(list);
    range_ends_.emplace_back(token, it == index.end() ? -1 : it->second);
  }
}

std::optional<std::size_t> ReplicaSets::set_of(Token token) const {
  if (range_ends_.empty()) return std::nullopt;
  auto it = std::lower_bound(range_ends_.begin(), range_ends_.end(), token,
                             [](const auto& entry, Token t) { return entry.first < t; });
  if (it == range_ends_.end()) it = range_ends_.begin();  // past the last token: wraps
  if (it->second < 0) return std::nullopt;
  return static_cast<std::size_t>(it->second);
}

std::optional<std::size_t> ReplicaSets::find(const std::vector<NodeId>& replicas) const {
  const auto it = std::lower_bound(sets_.begin(), sets_.end(), replicas);
  if (it == sets_.end() || *it != replicas) return std::nullopt;
  return static_cast<std::size_t>(it - sets_.begin());
}

}  // namespace vigil::core
