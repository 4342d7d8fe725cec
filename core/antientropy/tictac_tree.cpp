#include "core/antientropy/tictac_tree.h"

#include <utility>

#include "core/assert.h"
#include "core/wire/bytes.h"

namespace vigil::core {

namespace {

constexpr std::uint8_t tree_format_version = 1;

Status corrupt(std::string_view what) {
  return error(Code::corruption, "anti-entropy tree: " + std::string(what));
}

}  // namespace

TokenSpan token_span(std::uint32_t level, std::uint64_t index) {
  VIGIL_ASSERT(level <= 64, "token_span: level over 64");
  if (level == 0) return TokenSpan{0, ~Token{0}};
  VIGIL_ASSERT(level == 64 || index < (std::uint64_t{1} << level), "token_span: index out of level");
  const unsigned shift = 64 - level;
  const Token first = shift == 64 ? 0 : index << shift;
  const Token last = first + (shift == 64 ? ~Token{0} : (Token{1} << shift) - 1);
  return TokenSpan{first, last};
}

TictacTree::TictacTree(std::uint32_t depth)
    : depth_(depth), dense_depth_(depth < dense_depth_max ? depth : dense_depth_max) {
  VIGIL_ASSERT(depth >= 1 && depth <= depth_max, "tictac tree depth out of 1..24");
  const std::uint64_t nodes = (std::uint64_t{1} << (dense_depth_ + 1)) - 1;
  hashes_.assign(nodes, 0);
  counts_.assign(nodes, 0);
}

void TictacTree::change(std::uint64_t segment, std::uint64_t hash_delta,
                        std::int64_t count_delta) {
  Leaf& leaf = leaves_[segment];
  const std::int64_t leaf_count = static_cast<std::int64_t>(leaf.count) + count_delta;
  VIGIL_ASSERT(leaf_count >= 0, "tictac tree: a leaf count went below zero");
  leaf.hash ^= hash_delta;
  leaf.count = static_cast<std::uint64_t>(leaf_count);
  if (leaf.count == 0 && leaf.hash == 0) leaves_.erase(segment);
  std::uint64_t index = segment >> (depth_ - dense_depth_);
  for (std::uint32_t level = dense_depth_ + 1; level-- > 0;) {
    const std::uint64_t at = offset(level) + index;
    hashes_[at] ^= hash_delta;
    counts_[at] = static_cast<std::uint64_t>(static_cast<std::int64_t>(counts_[at]) + count_delta);
    index >>= 1;
  }
}

void TictacTree::add(Token token, std::uint64_t state_hash) {
  change(segment_of(token), state_hash, 1);
}

void TictacTree::remove(Token token, std::uint64_t state_hash) {
  change(segment_of(token), state_hash, -1);
}

void TictacTree::set_leaf(std::uint64_t segment, std::uint64_t hash, std::uint64_t count) {
  VIGIL_ASSERT(segment < leaf_count(), "set_leaf: segment out of the tree");
  const auto it = leaves_.find(segment);
  const Leaf old = it == leaves_.end() ? Leaf{} : it->second;
  change(segment, old.hash ^ hash,
         static_cast<std::int64_t>(count) - static_cast<std::int64_t>(old.count));
}

TictacTree::Leaf TictacTree::fold(std::uint32_t level, std::uint64_t index) const {
  const unsigned shift = depth_ - level;
  Leaf folded;
  const auto end = leaves_.lower_bound((index + 1) << shift);
  for (auto it = leaves_.lower_bound(index << shift); it != end; ++it) {
    folded.hash ^= it->second.hash;
    folded.count += it->second.count;
  }
  return folded;
}

std::uint64_t TictacTree::hash(std::uint32_t level, std::uint64_t index) const {
  VIGIL_ASSERT(level <= depth_ && index < (std::uint64_t{1} << level), "tree node out of range");
  if (level <= dense_depth_) return hashes_[offset(level) + index];
  return fold(level, index).hash;
}

std::uint64_t TictacTree::count(std::uint32_t level, std::uint64_t index) const {
  VIGIL_ASSERT(level <= depth_ && index < (std::uint64_t{1} << level), "tree node out of range");
  if (level <= dense_depth_) return counts_[offset(level) + index];
  return fold(level, index).count;
}

// Format 1: version u8, depth u32, non-empty leaves u64, then per such leaf (in segment
// order) segment u64, hash u64, count u64. Little endian (core/wire/bytes.h).
std::string TictacTree::encode() const {
  ByteWriter writer;
  writer.write_u8(tree_format_version);
  writer.write_u32(depth_);
  const std::size_t count_at = writer.size();
  writer.write_u64(0);
  for (const auto& [segment, leaf] : leaves_) {
    writer.write_u64(segment);
    writer.write_u64(leaf.hash);
    writer.write_u64(leaf.count);
  }
  writer.patch_u64(count_at, leaves_.size());
  return writer.take();
}

Result<TictacTree> TictacTree::decode(std::string_view bytes) {
  ByteReader reader(bytes);
  std::uint8_t version = 0;
  std::uint32_t depth = 0;
  std::uint64_t leaves = 0;
  if (!reader.read_u8(version, "version").ok() || version != tree_format_version) {
    return corrupt("unknown format version");
  }
  if (!reader.read_u32(depth, "depth").ok() || depth < 1 || depth > TictacTree::depth_max) {
    return corrupt("depth out of 1..24");
  }
  if (!reader.read_u64(leaves, "leaves").ok() || leaves > (std::uint64_t{1} << depth) ||
      leaves * 24 != reader.remaining()) {
    return corrupt("leaf count does not match the bytes");
  }
  TictacTree tree(depth);
  std::uint64_t previous = 0;
  for (std::uint64_t i = 0; i < leaves; ++i) {
    std::uint64_t segment = 0;
    std::uint64_t hash = 0;
    std::uint64_t count = 0;
    (void)reader.read_u64(segment, "segment");
    (void)reader.read_u64(hash, "hash");
    (void)reader.read_u64(count, "count");
    if (count > (std::uint64_t{1} << 40)) return corrupt("a leaf count over 2^40");
    if (segment >= tree.leaf_count() || (i > 0 && segment <= previous)) {
      return corrupt("leaf segments out of order or out of the tree");
    }
    previous = segment;
    tree.set_leaf(segment, hash, count);
  }
  return tree;
}

}  // namespace vigil::core
