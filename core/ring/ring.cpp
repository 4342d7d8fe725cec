// The ring's lookups, validation and bookkeeping. Token allocation (build, joins) lives
// in token_allocation.cpp, the figures `vigil ring` prints in ring_statistics.cpp.
//
// Representation: one vector of (token, node index) sorted by token, as in Cassandra's
// TokenMetadata, so that a lookup is a binary search for the first token >= the key's
// token (wrapping to the first token), and a preference list is a walk from there that
// skips tokens of nodes already chosen (Dynamo section 4.3: distinct physical nodes).

#include "core/ring/ring.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "core/assert.h"
#include "core/ring/ring_range.h"

namespace vigil::core {

namespace {

// An untrusted id made safe to print: printable ASCII kept, the rest escaped, and long
// ids cut, so an error message stays readable and bounded.
std::string printable(std::string_view id) {
  constexpr std::size_t shown_max = 80;
  std::string text;
  for (const char c : id.substr(0, shown_max)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && c != '\'') {
      text += c;
    } else {
      constexpr char hex[] = "0123456789abcdef";
      text += "\\x";
      text += hex[byte >> 4];
      text += hex[byte & 0xf];
    }
  }
  if (id.size() > shown_max) text += "...";
  return text;
}

Status invalid(std::string message) {
  return error(Code::invalid_argument, "ring: " + std::move(message));
}

}  // namespace

Status check_ring_options(const RingOptions& options, std::size_t nodes) {
  if (options.vnodes < 1 || options.vnodes > ring_vnodes_max) {
    return invalid("vnodes must be in [1, " + std::to_string(ring_vnodes_max) + "], got " +
                   std::to_string(options.vnodes));
  }
  const RingSpan spacing = std::max<std::uint64_t>(options.token_spacing_min, 1);
  // nodes is bounded first so the product below cannot overflow 128 bits.
  const RingSpan needed =
      RingSpan{std::min<std::size_t>(nodes, 1u << 20)} * options.vnodes * 2 * spacing;
  if (nodes > (1u << 20) || needed > ring_positions) {
    return invalid("min_spacing " + std::to_string(options.token_spacing_min) +
                   " leaves no room for " + std::to_string(nodes) + " nodes x " +
                   std::to_string(options.vnodes) +
                   " tokens (need nodes * vnodes * 2 * min_spacing <= 2^64)");
  }
  return Status::ok_status();
}

Result<Ring> Ring::from_tokens(const std::map<NodeId, std::vector<Token>>& tokens) {
  if (tokens.size() > ring_nodes_max) {
    return invalid(std::to_string(tokens.size()) + " nodes, at most " +
                   std::to_string(ring_nodes_max));
  }
  Ring ring;
  for (const auto& [node, node_tokens] : tokens) {
    if (!is_valid_node_id(node)) return invalid("invalid node id '" + printable(node) + "'");
    if (node_tokens.empty()) return invalid("node '" + node + "' has no tokens");
    if (node_tokens.size() > ring_vnodes_max) {
      return invalid("node '" + node + "' has " + std::to_string(node_tokens.size()) +
                     " tokens, at most " + std::to_string(ring_vnodes_max));
    }
    const auto index = static_cast<std::uint32_t>(ring.nodes_.size());
    ring.nodes_.push_back(node);  // std::map iterates in id order, so nodes_ stays sorted
    for (const Token token : node_tokens) ring.tokens_.push_back({token, index});
  }
  std::sort(ring.tokens_.begin(), ring.tokens_.end(), [](const Entry& a, const Entry& b) {
    return a.token != b.token ? a.token < b.token : a.node_index < b.node_index;
  });
  for (std::size_t i = 1; i < ring.tokens_.size(); ++i) {
    const Entry& a = ring.tokens_[i - 1];
    const Entry& b = ring.tokens_[i];
    if (a.token != b.token) continue;
    const NodeId& first = ring.nodes_[a.node_index];
    const NodeId& second = ring.nodes_[b.node_index];
    if (first == second) {
      return invalid("token " + std::to_string(a.token) + " appears twice in node '" + first + "'");
    }
    return invalid("token " + std::to_string(a.token) + " is held by both '" + first + "' and '" +
                   second + "'");
  }
  return ring;
}

Ring Ring::with_node_removed(const NodeId& node) const {
  const std::uint32_t removed = index_of(node);
  if (removed == nodes_.size()) return *this;
  Ring ring;
  ring.nodes_ = nodes_;
  ring.nodes_.erase(ring.nodes_.begin() + removed);
  ring.tokens_.reserve(tokens_.size());
  for (const Entry& entry : tokens_) {
    if (entry.node_index == removed) continue;
    const std::uint32_t index = entry.node_index - (entry.node_index > removed ? 1 : 0);
    ring.tokens_.push_back({entry.token, index});
  }
  return ring;
}

std::size_t Ring::owning_entry(Token token) const {
  VIGIL_ASSERT(!tokens_.empty(), "lookup on an empty ring");
  const auto it = std::lower_bound(tokens_.begin(), tokens_.end(), token,
                                   [](const Entry& entry, Token t) { return entry.token < t; });
  return it == tokens_.end() ? 0 : static_cast<std::size_t>(it - tokens_.begin());
}

std::vector<NodeId> Ring::preference_list(Token token, std::size_t n) const {
  const std::size_t wanted = std::min(n, nodes_.size());
  std::vector<NodeId> list;
  list.reserve(wanted);
  if (wanted == 0) return list;
  std::vector<bool> chosen(nodes_.size(), false);
  std::size_t position = owning_entry(token);
  // Every node holds a token, so one lap always finds `wanted` distinct nodes.
  for (std::size_t step = 0; step < tokens_.size() && list.size() < wanted; ++step) {
    const std::uint32_t index = tokens_[position].node_index;
    if (!chosen[index]) {
      chosen[index] = true;
      list.push_back(nodes_[index]);
    }
    position = position + 1 == tokens_.size() ? 0 : position + 1;
  }
  VIGIL_ASSERT(list.size() == wanted, "a lap of the ring must meet every node");
  return list;
}

const NodeId& Ring::owner(Token token) const {
  return nodes_[tokens_[owning_entry(token)].node_index];
}

std::uint32_t Ring::index_of(const NodeId& node) const {
  const auto it = std::lower_bound(nodes_.begin(), nodes_.end(), node);
  if (it == nodes_.end() || *it != node) return static_cast<std::uint32_t>(nodes_.size());
  return static_cast<std::uint32_t>(it - nodes_.begin());
}

bool Ring::contains(const NodeId& node) const {
  return index_of(node) != nodes_.size();
}

std::vector<Token> Ring::tokens_of(const NodeId& node) const {
  const std::uint32_t index = index_of(node);
  std::vector<Token> result;
  for (const Entry& entry : tokens_) {
    if (entry.node_index == index) result.push_back(entry.token);
  }
  return result;
}

std::map<NodeId, std::vector<Token>> Ring::all_tokens() const {
  std::map<NodeId, std::vector<Token>> result;
  for (const Entry& entry : tokens_) result[nodes_[entry.node_index]].push_back(entry.token);
  return result;
}

std::vector<Token> Ring::tokens() const {
  std::vector<Token> result;
  result.reserve(tokens_.size());
  for (const Entry& entry : tokens_) result.push_back(entry.token);
  return result;
}

std::map<NodeId, double> Ring::ownership() const {
  return replica_ownership(1);
}

std::map<NodeId, double> Ring::replica_ownership(std::size_t replicas) const {
  std::map<NodeId, double> result;
  if (tokens_.empty()) return result;
  const std::size_t wanted = std::min(replicas, nodes_.size());
  std::vector<RingSpan> owned(nodes_.size(), 0);
  std::vector<std::uint32_t> chosen;  // small: a linear scan beats a set here
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    const Token previous = tokens_[i == 0 ? tokens_.size() - 1 : i - 1].token;
    const RingSpan size = range_size(previous, tokens_[i].token);
    chosen.clear();
    for (std::size_t step = 0; step < tokens_.size() && chosen.size() < wanted; ++step) {
      const std::uint32_t index = tokens_[(i + step) % tokens_.size()].node_index;
      if (std::find(chosen.begin(), chosen.end(), index) != chosen.end()) continue;
      chosen.push_back(index);
      owned[index] += size;
    }
  }
  for (std::size_t i = 0; i < nodes_.size(); ++i) result[nodes_[i]] = ring_fraction(owned[i]);
  return result;
}

}  // namespace vigil::core
