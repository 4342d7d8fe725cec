#pragma once
// A tictac tree (Riak's kv_index_tictactree, after Martin Sumner's "TicTac AAE"): a Merkle
// tree whose node hashes are the XOR of the hashes below them instead of a hash of their
// concatenation. XOR is its own inverse and commutative, so a key's change is applied in
// O(depth) by XORing its old state hash out and its new one in, in any order, and two
// replicas holding the same keys in the same states hold identical trees, whatever order
// the writes reached them in. Nothing is ever rescanned to keep the tree current.
//
// Shape: a complete binary tree of depth `depth` (merkle_tree.depth). Level 0 is the root,
// level `depth` the 2^depth leaf segments. A key falls in the segment given by the top
// `depth` bits of its ring token, so a node at any level covers one contiguous token range
// (token_range below), which a store can scan. Beside each hash the tree keeps the number
// of keys under the node, which lets an exchange stop descending where a subtree is small
// enough to list (merkle_tree.bucket_size) and gives the operator a size per range.
//
// Memory. The levels down to `dense_depth` (10, or depth when smaller) are arrays, 12 bytes
// a node (24 KiB); the leaves are a sorted map holding only non-empty segments, and the
// levels between are XORed from it when an exchange asks for them. So a tree costs about
// 24 KiB plus 60 bytes per non-empty segment, not 2^depth: a node belongs to as many trees
// as it has replica sets (C(nodes-1, N-1)), most of them sparse in a large cluster.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/types.h"

namespace vigil::core {

// The token range (exclusive begin, inclusive end, as NodeStorage::KeyRange) a node at
// `level`, `index` covers. REQUIRES: level <= 64, index < 2^level.
struct TokenSpan {
  Token first = 0;
  Token last = 0;
};
TokenSpan token_span(std::uint32_t level, std::uint64_t index);

class TictacTree {
 public:
  static constexpr std::uint32_t depth_max = 24;
  static constexpr std::uint32_t dense_depth_max = 10;
  // REQUIRES: 1 <= depth <= depth_max.
  explicit TictacTree(std::uint32_t depth);

  std::uint32_t depth() const { return depth_; }
  std::uint64_t leaf_count() const { return std::uint64_t{1} << depth_; }
  // The leaf of a token: its top `depth` bits.
  std::uint64_t segment_of(Token token) const { return token >> (64 - depth_); }

  // A key's state entered or left the tree. remove() REQUIRES the key was added with that
  // hash (asserted through the count: a leaf's count never goes below zero).
  void add(Token token, std::uint64_t state_hash);
  void remove(Token token, std::uint64_t state_hash);
  // XORs `hash_delta` into one leaf and adds `count_delta` to its count (a journal row,
  // a batch of changes). REQUIRES: the count stays >= 0.
  void apply_delta(std::uint64_t segment, std::uint64_t hash_delta, std::int64_t count_delta) {
    change(segment, hash_delta, count_delta);
  }
  // Replaces one leaf outright (a rebuild found it wrong), updating the levels above.
  void set_leaf(std::uint64_t segment, std::uint64_t hash, std::uint64_t count);

  // REQUIRES: level <= depth, index < 2^level.
  std::uint64_t hash(std::uint32_t level, std::uint64_t index) const;
  std::uint64_t count(std::uint32_t level, std::uint64_t index) const;
  std::uint64_t root_hash() const { return hash(0, 0); }
  std::uint64_t key_count() const { return count(0, 0); }

  // A compact, versioned encoding of the leaves (empty leaves skipped), and back. The
  // decoder checks what it reads (the bytes come from storage): corruption naming what
  // is wrong. The levels above are recomputed.
  std::string encode() const;
  static Result<TictacTree> decode(std::string_view bytes);

  struct Leaf {
    std::uint64_t hash = 0;
    std::uint64_t count = 0;
    friend bool operator==(const Leaf&, const Leaf&) = default;
  };
  // The non-empty leaves by segment.
  const std::map<std::uint64_t, Leaf>& leaves() const { return leaves_; }

  friend bool operator==(const TictacTree&, const TictacTree&) = default;

 private:
  static std::uint64_t offset(std::uint32_t level) { return (std::uint64_t{1} << level) - 1; }
  // Applies a change of one leaf to the leaf map and the dense levels.
  void change(std::uint64_t segment, std::uint64_t hash_delta, std::int64_t count_delta);
  // XOR and sum of the leaves under a node below the dense levels.
  Leaf fold(std::uint32_t level, std::uint64_t index) const;

  std::uint32_t depth_;
  std::uint32_t dense_depth_;
  // Dense levels 0..dense_depth_, level by level from the root: level l at
  // [2^l - 1, 2^(l+1) - 1).
  std::vector<std::uint64_t> hashes_;
  std::vector<std::uint64_t> counts_;
  std::map<std::uint64_t, Leaf> leaves_;  // non-empty segments only
};

}  // namespace vigil::core
