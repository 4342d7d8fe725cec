// Balanced token allocation: how a joining node chooses its tokens.
//
// Why not random tokens. Dynamo (section 6.2, strategy 1) and Cassandra before 3.0 give
// each node T random tokens; a node's share is then a sum of T random gaps and its spread
// shrinks only as 1/sqrt(T): with 128 tokens the most loaded of 64 nodes owns about 25%
// above the mean (tests/core/ring_test.cpp measures it), and a join takes its share
// unevenly from whichever nodes happen to precede its tokens. Cassandra 3.0's allocator
// (CASSANDRA-7032) instead places a new node's tokens where they best even out
// ownership; we follow that idea in a simpler, exact form, possible because a split can
// take any amount from a range.
//
// The rule. The ring holds k-1 nodes and node k joins. Let o_d be what node d owns. We
// find the level L with sum over d of max(0, o_d - L) = L (water filling): node k will own
// L, and every node d above L (a donor) gives exactly o_d - L. When the ring is balanced
// every o_d is 1/(k-1), so L = 1/k and every old node gives 1/(k(k-1)): the join moves
// the ideal 1/k of the ring and leaves all k nodes at the mean. A donor gives by having
// some of its ranges split: the new token p placed inside the donor's range (prev, t]
// takes (prev, p] and leaves (p, t] to t. Old tokens never move, so a join moves ranges
// only from old nodes to the new one, never between old nodes. A token takes from one
// node only, so when there are more old nodes than vnodes the level is computed over the
// vnodes richest nodes alone: those give a little more, the others wait for a later join.
//
// Which ranges. The vnodes new tokens are shared among donors: each donor first gets the
// fewest tokens that can carry its amount from its largest ranges, then the rest go by
// the D'Hondt rule in proportion to the amounts (so the new node's ranges come out of
// similar size). Inside a donor the amount is split as evenly as the ranges allow,
// largest ranges first. Every token keeps min_spacing from its neighbours
// (token_distribution.min_spacing). Tokens that cannot be placed in a donor (ranges too
// narrow) split the new node's own largest ranges at their midpoints, which moves
// nothing; only if none is wide enough does a token take min_spacing positions from the
// widest range of the ring. check_ring_options guarantees that such a range exists.
//
// The first node has no one to take from: its tokens are SHA-256("<node>#<i>"), like a
// Dynamo node's random tokens but reproducible from the id alone.
//
// Cost. A join touches only the donors' largest ranges: each node keeps its ranges in a
// max-heap by width, so building N nodes costs about N * vnodes * log(vnodes), not the
// N^2 * vnodes of rescanning the ring at every join (1024 nodes x 4096 vnodes in seconds).
//
// Everything is deterministic: ties are broken by width, token and node id, never by
// address or container order, so the same join order gives the same ring everywhere.

#include <algorithm>
#include <queue>
#include <set>
#include <string>
#include <utility>

#include "core/assert.h"
#include "core/hash.h"
#include "core/ring/ring.h"
#include "core/ring/ring_range.h"

namespace vigil::core {

namespace {

// The range (previous, end], owned by the node holding token `end`.
struct Range {
  Token previous = 0;
  Token end = 0;
  RingSpan size() const { return range_size(previous, end); }
};

// Heap order: the wider range first, then the smaller end token.
bool lower_priority(const Range& a, const Range& b) {
  const RingSpan size_a = a.size();
  const RingSpan size_b = b.size();
  return size_a != size_b ? size_a < size_b : a.end > b.end;
}

// L with sum over d of max(0, owned_d - L) == L, rounded down. `owned` sorted descending.
RingSpan water_level(const std::vector<RingSpan>& owned) {
  RingSpan sum = 0;
  for (std::size_t j = 0; j < owned.size(); ++j) {
    sum += owned[j];
    const RingSpan level = sum / (j + 2);
    if (j + 1 == owned.size() || owned[j + 1] <= level) return level;
  }
  VIGIL_ASSERT(false, "water_level needs at least one node");
  return 0;
}

// The donor's `tokens` chosen ranges (widest first) give `give` in total, as evenly as
// their widths allow: from the narrowest up, each gives its fair share of what remains
// (rounded up), or all it can. Returns the amount each range gives, in `ranges` order.
// REQUIRES: give >= tokens * spacing, and the ranges can carry give.
std::vector<RingSpan> even_takes(const std::vector<Range>& ranges, std::size_t tokens,
                                 RingSpan give, RingSpan spacing) {
  std::vector<RingSpan> takes(tokens, 0);
  RingSpan remaining = give;
  for (std::size_t i = tokens; i-- > 0;) {
    const RingSpan width = ranges[i].size();
    const RingSpan take = std::min((remaining + i) / (i + 1), width - spacing);
    VIGIL_ASSERT(take >= spacing && take + spacing <= width,
                 "a split must keep min_spacing on both sides");
    remaining -= take;
    takes[i] = take;
  }
  VIGIL_ASSERT(remaining == 0, "a donor's ranges must carry exactly its amount");
  return takes;
}

// The ring as each node's ranges, mutated join by join.
class TokenAllocator {
 public:
  explicit TokenAllocator(std::uint64_t token_spacing_min)
      : spacing_(std::max<std::uint64_t>(token_spacing_min, 1)) {}

  // Loads a ring: `owners[i]` indexes `names` and holds sorted token `tokens[i]`.
  void load(const std::vector<NodeId>& names, const std::vector<Token>& tokens,
            const std::vector<std::uint32_t>& owners);
  // REQUIRES: node new; room for vnodes more tokens (check_ring_options).
  void add_node(const NodeId& node, std::uint32_t vnodes);
  // Every token with its owner's index in sorted(names()), sorted by token.
  void export_ring(std::vector<NodeId>& sorted_names,
                   std::vector<std::pair<Token, std::uint32_t>>& tokens) const;

 private:
  struct Member {
    NodeId name;
    RingSpan owned = 0;
    std::vector<Range> heap;    // std::push_heap order by lower_priority
    std::vector<Range> widest;  // popped from heap during a join, widest first
  };
  struct Donor {
    std::size_t member = 0;
    RingSpan give = 0;
    std::size_t tokens = 0;
    std::size_t tokens_bound = 0;  // give / spacing: each token takes at least spacing
  };

  bool splittable(const Range& range) const { return range.size() >= 2 * spacing_; }
  bool pop_widest(Member& member, std::size_t bound);
  std::vector<Donor> donors_over(const std::vector<std::size_t>& candidates);
  std::vector<Donor> choose_donors(std::size_t budget);
  std::size_t assign_tokens(std::vector<Donor>& donors, std::size_t budget);
  void split(const Donor& donor, Member& joining);
  void add_first_node(const NodeId& node, std::uint32_t vnodes);
  void fill_by_splitting(Member& joining, std::size_t count);

  RingSpan spacing_;
  std::vector<Member> members_;  // in load or join order
};

void TokenAllocator::load(const std::vector<NodeId>& names, const std::vector<Token>& tokens,
                          const std::vector<std::uint32_t>& owners) {
  members_.clear();
  for (const NodeId& name : names) members_.push_back({name, 0, {}, {}});
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const Range range{tokens[i == 0 ? tokens.size() - 1 : i - 1], tokens[i]};
    Member& member = members_[owners[i]];
    member.owned += range.size();
    member.heap.push_back(range);
  }
  for (Member& member : members_) {
    std::make_heap(member.heap.begin(), member.heap.end(), lower_priority);
  }
}

// Moves the member's next widest range to `widest` if it is wide enough to split and
// fewer than `bound` are there.
bool TokenAllocator::pop_widest(Member& member, std::size_t bound) {
  std::vector<Range>& heap = member.heap;
  if (member.widest.size() >= bound || heap.empty() || !splittable(heap.front())) return false;
  std::pop_heap(heap.begin(), heap.end(), lower_priority);
  member.widest.push_back(heap.back());
  heap.pop_back();
  return true;
}

// Water filling over `candidates` (sorted by descending share): each donor's amount and
// the fewest of its widest ranges that carry it (`tokens`). A donor whose ranges cannot
// carry its amount gives what they can.
std::vector<TokenAllocator::Donor> TokenAllocator::donors_over(
    const std::vector<std::size_t>& candidates) {
  std::vector<RingSpan> owned;
  for (const std::size_t i : candidates) owned.push_back(members_[i].owned);
  const RingSpan level = water_level(owned);
  std::vector<Donor> donors;
  for (const std::size_t i : candidates) {
    Member& member = members_[i];
    if (member.owned <= level) break;
    Donor donor{i, member.owned - level, 0, 0};
    donor.tokens_bound = static_cast<std::size_t>(
        std::min<RingSpan>(donor.give / spacing_, member.heap.size() + member.widest.size()));
    RingSpan capacity = 0;
    while (capacity < donor.give) {
      if (donor.tokens == member.widest.size() && !pop_widest(member, donor.tokens_bound)) break;
      capacity += member.widest[donor.tokens++].size() - spacing_;
    }
    donor.give = std::min(donor.give, capacity);
    if (donor.give > 0) donors.push_back(donor);
  }
  return donors;
}

// The donors of a join: water filling over the richest nodes, as many as the budget of
// tokens can serve. Each donor needs at least one token, and a rich one several, so when
// the donors' needs exceed the budget the poorest candidates are dropped and the level
// recomputed; ties by id so the result does not depend on the order of members_.
std::vector<TokenAllocator::Donor> TokenAllocator::choose_donors(std::size_t budget) {
  std::vector<std::size_t> candidates(members_.size());
  for (std::size_t i = 0; i < candidates.size(); ++i) candidates[i] = i;
  std::sort(candidates.begin(), candidates.end(), [&](std::size_t a, std::size_t b) {
    const Member& x = members_[a];
    const Member& y = members_[b];
    return x.owned != y.owned ? x.owned > y.owned : x.name < y.name;
  });
  candidates.resize(std::min(candidates.size(), budget));
  for (;;) {
    std::vector<Donor> donors = donors_over(candidates);
    std::size_t needed = 0;
    for (const Donor& donor : donors) needed += donor.tokens;
    if (needed <= budget || candidates.size() == 1) return donors;
    candidates.resize(candidates.size() - std::min(candidates.size() - 1, needed - budget));
  }
}

// Gives each donor its minimum, then shares the rest of `budget` by D'Hondt (the next
// token to the largest give / (tokens + 1)). Returns the tokens left over.
std::size_t TokenAllocator::assign_tokens(std::vector<Donor>& donors, std::size_t budget) {
  for (Donor& donor : donors) {
    if (donor.tokens > budget) {  // only a lone donor with very many narrow ranges
      const std::vector<Range>& widest = members_[donor.member].widest;
      RingSpan capacity = 0;
      for (std::size_t i = 0; i < budget; ++i) capacity += widest[i].size() - spacing_;
      donor.tokens = budget;
      donor.give = capacity;
    }
    budget -= donor.tokens;
  }
  auto fewer_seats = [&](std::size_t a, std::size_t b) {
    const RingSpan left = donors[a].give * (donors[b].tokens + 1);
    const RingSpan right = donors[b].give * (donors[a].tokens + 1);
    return left != right ? left < right : a > b;
  };
  std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(fewer_seats)> queue(
      fewer_seats);
  for (std::size_t i = 0; i < donors.size(); ++i) {
    if (donors[i].tokens > 0) queue.push(i);
  }
  while (budget > 0 && !queue.empty()) {
    const std::size_t i = queue.top();
    queue.pop();
    Donor& donor = donors[i];
    Member& member = members_[donor.member];
    if (donor.tokens >= donor.tokens_bound) continue;
    if (donor.tokens == member.widest.size() && !pop_widest(member, donor.tokens_bound)) continue;
    ++donor.tokens;
    --budget;
    queue.push(i);
  }
  return budget;
}

// Splits the donor's `tokens` widest ranges.
void TokenAllocator::split(const Donor& donor, Member& joining) {
  if (donor.tokens == 0) return;
  Member& member = members_[donor.member];
  const std::vector<RingSpan> takes = even_takes(member.widest, donor.tokens, donor.give, spacing_);
  for (std::size_t i = 0; i < donor.tokens; ++i) {
    Range& range = member.widest[i];
    const Token token = range.previous + static_cast<Token>(takes[i]);  // wraps mod 2^64
    joining.heap.push_back({range.previous, token});
    range.previous = token;
  }
  member.owned -= donor.give;
  joining.owned += donor.give;
}

// Adds `count` tokens by halving the widest ranges of `joining`, then, when none is wide
// enough, by taking spacing positions from the widest range of the ring.
void TokenAllocator::fill_by_splitting(Member& joining, std::size_t count) {
  std::vector<Range>& own = joining.heap;
  std::make_heap(own.begin(), own.end(), lower_priority);
  for (; count > 0 && !own.empty() && splittable(own.front()); --count) {
    std::pop_heap(own.begin(), own.end(), lower_priority);
    const Range range = own.back();
    const Token middle = range.previous + static_cast<Token>(range.size() / 2);
    own.back() = {range.previous, middle};
    std::push_heap(own.begin(), own.end(), lower_priority);
    own.push_back({middle, range.end});
    std::push_heap(own.begin(), own.end(), lower_priority);
  }
  for (; count > 0; --count) {
    Member* widest = nullptr;
    for (Member& member : members_) {
      if (member.heap.empty()) continue;
      if (widest == nullptr || lower_priority(widest->heap.front(), member.heap.front())) {
        widest = &member;
      }
    }
    VIGIL_ASSERT(widest != nullptr && splittable(widest->heap.front()),
                 "check_ring_options promised room for every token");
    std::vector<Range>& heap = widest->heap;
    std::pop_heap(heap.begin(), heap.end(), lower_priority);
    const Token token = heap.back().previous + static_cast<Token>(spacing_);
    own.push_back({heap.back().previous, token});
    std::push_heap(own.begin(), own.end(), lower_priority);
    heap.back().previous = token;
    std::push_heap(heap.begin(), heap.end(), lower_priority);
    widest->owned -= spacing_;
    joining.owned += spacing_;
  }
}

void TokenAllocator::add_first_node(const NodeId& node, std::uint32_t vnodes) {
  std::set<Token> chosen;
  const std::uint64_t attempts_max = 2 * std::uint64_t{vnodes} + 64;
  for (std::uint64_t i = 0; i < attempts_max && chosen.size() < vnodes; ++i) {
    const Token token = sha256_token(node + "#" + std::to_string(i));
    if (!chosen.empty()) {
      const auto next = chosen.lower_bound(token);
      const Token after = next == chosen.end() ? *chosen.begin() : *next;
      const Token before = next == chosen.begin() ? *chosen.rbegin() : *std::prev(next);
      // Distances modulo 2^64; a hash equal to a chosen token is at distance 0.
      if (RingSpan{after - token} < spacing_ || RingSpan{token - before} < spacing_) continue;
    }
    chosen.insert(token);
  }
  Member first{node, ring_positions, {}, {}};
  const std::vector<Token> tokens(chosen.begin(), chosen.end());
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    first.heap.push_back({tokens[i == 0 ? tokens.size() - 1 : i - 1], tokens[i]});
  }
  // Rarely needed: hashes closer than min_spacing to an earlier one were skipped.
  fill_by_splitting(first, vnodes - tokens.size());
  members_.push_back(std::move(first));
}

void TokenAllocator::add_node(const NodeId& node, std::uint32_t vnodes) {
  if (members_.empty()) {
    add_first_node(node, vnodes);
    return;
  }
  std::vector<Donor> donors = choose_donors(vnodes);
  const std::size_t left_over = assign_tokens(donors, vnodes);
  Member joining{node, 0, {}, {}};
  for (const Donor& donor : donors) split(donor, joining);
  for (Member& member : members_) {  // every range popped, split or not, goes back
    for (const Range& range : member.widest) {
      member.heap.push_back(range);
      std::push_heap(member.heap.begin(), member.heap.end(), lower_priority);
    }
    member.widest.clear();
  }
  fill_by_splitting(joining, left_over);
  VIGIL_ASSERT(joining.heap.size() == vnodes, "a joining node gets exactly vnodes tokens");
  members_.push_back(std::move(joining));
}

void TokenAllocator::export_ring(std::vector<NodeId>& sorted_names,
                                 std::vector<std::pair<Token, std::uint32_t>>& tokens) const {
  std::vector<std::size_t> order(members_.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return members_[a].name < members_[b].name; });
  sorted_names.clear();
  tokens.clear();
  for (std::size_t position = 0; position < order.size(); ++position) {
    const Member& member = members_[order[position]];
    sorted_names.push_back(member.name);
    for (const Range& range : member.heap) {
      tokens.emplace_back(range.end, static_cast<std::uint32_t>(position));
    }
  }
  std::sort(tokens.begin(), tokens.end());
  RingSpan total = 0;
  for (const Member& member : members_) total += member.owned;
  VIGIL_ASSERT(total == ring_positions, "the nodes' shares must cover the ring exactly");
}

}  // namespace

Ring Ring::assemble(std::vector<NodeId> sorted_nodes,
                    const std::vector<std::pair<Token, std::uint32_t>>& tokens) {
  Ring ring;
  ring.nodes_ = std::move(sorted_nodes);
  ring.tokens_.reserve(tokens.size());
  for (const auto& [token, node_index] : tokens) {
    VIGIL_ASSERT(ring.tokens_.empty() || ring.tokens_.back().token < token,
                 "allocated tokens must be distinct");
    ring.tokens_.push_back({token, node_index});
  }
  return ring;
}

Ring Ring::build(const std::vector<NodeId>& nodes_in_join_order, const RingOptions& options) {
  VIGIL_ASSERT(check_ring_options(options, nodes_in_join_order.size()).ok(),
               check_ring_options(options, nodes_in_join_order.size()).to_string());
  TokenAllocator allocator(options.token_spacing_min);
  std::set<NodeId> seen;
  for (const NodeId& node : nodes_in_join_order) {
    VIGIL_ASSERT(is_valid_node_id(node) && seen.insert(node).second,
                 "Ring::build: invalid or repeated node id");
    allocator.add_node(node, options.vnodes);
  }
  std::vector<NodeId> sorted_nodes;
  std::vector<std::pair<Token, std::uint32_t>> tokens;
  allocator.export_ring(sorted_nodes, tokens);
  return assemble(std::move(sorted_nodes), tokens);
}

Ring Ring::with_node_added(const NodeId& node, const RingOptions& options) const {
  VIGIL_ASSERT(is_valid_node_id(node), "with_node_added: invalid node id");
  VIGIL_ASSERT(!contains(node), "with_node_added: node already in the ring");
  VIGIL_ASSERT(check_ring_options(options, node_count() + 1).ok(),
               check_ring_options(options, node_count() + 1).to_string());
  TokenAllocator allocator(options.token_spacing_min);
  std::vector<Token> tokens;
  std::vector<std::uint32_t> owners;
  tokens.reserve(tokens_.size());
  owners.reserve(tokens_.size());
  for (const Entry& entry : tokens_) {
    tokens.push_back(entry.token);
    owners.push_back(entry.node_index);
  }
  allocator.load(nodes_, tokens, owners);
  allocator.add_node(node, options.vnodes);
  std::vector<NodeId> sorted_nodes;
  std::vector<std::pair<Token, std::uint32_t>> allocated;
  allocator.export_ring(sorted_nodes, allocated);
  return assemble(std::move(sorted_nodes), allocated);
}

}  // namespace vigil::core
