// The tictac tree (core/antientropy/tictac_tree.h): order-independent, incremental, and a
// faithful encoding.

#include "core/antientropy/tictac_tree.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace vigil::core {
namespace {

using Entry = std::pair<Token, std::uint64_t>;

TictacTree tree_of(std::uint32_t depth, const std::vector<Entry>& entries) {
  TictacTree tree(depth);
  for (const auto& [token, hash] : entries) tree.add(token, hash);
  return tree;
}

RC_GTEST_PROP(TictacTree, EqualKeySetsGiveEqualTreesInAnyOrder, (std::vector<Entry> entries)) {
  const auto depth = *rc::gen::inRange<std::uint32_t>(1, 14);
  std::vector<Entry> shuffled = entries;
  std::reverse(shuffled.begin(), shuffled.end());
  RC_ASSERT(tree_of(depth, entries) == tree_of(depth, shuffled));
}

RC_GTEST_PROP(TictacTree, RemoveUndoesAdd, (std::vector<Entry> kept, std::vector<Entry> gone)) {
  const auto depth = *rc::gen::inRange<std::uint32_t>(1, 14);
  TictacTree tree = tree_of(depth, kept);
  for (const auto& [token, hash] : gone) tree.add(token, hash);
  for (const auto& [token, hash] : gone) tree.remove(token, hash);
  RC_ASSERT(tree == tree_of(depth, kept));
}

RC_GTEST_PROP(TictacTree, EveryLevelIsTheFoldOfTheLeaves, (std::vector<Entry> entries)) {
  const auto depth = *rc::gen::inRange<std::uint32_t>(1, 16);  // dense and sparse levels
  const TictacTree tree = tree_of(depth, entries);
  const auto level = *rc::gen::inRange<std::uint32_t>(0, depth + 1);
  const auto index = *rc::gen::inRange<std::uint64_t>(0, std::uint64_t{1} << level);
  std::uint64_t hash = 0;
  std::uint64_t count = 0;
  for (const auto& [token, h] : entries) {
    if (level > 0 && (token >> (64 - level)) != index) continue;
    hash ^= h;
    ++count;
  }
  RC_ASSERT(tree.hash(level, index) == hash);
  RC_ASSERT(tree.count(level, index) == count);
}

RC_GTEST_PROP(TictacTree, EncodingRoundTrips, (std::vector<Entry> entries)) {
  const auto depth = *rc::gen::inRange<std::uint32_t>(1, 20);
  const TictacTree tree = tree_of(depth, entries);
  auto decoded = TictacTree::decode(tree.encode());
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == tree);
}

TEST(TictacTree, OneChangedKeyChangesOneLeafAndItsAncestorsOnly) {
  TictacTree a(8);
  TictacTree b(8);
  for (Token t = 0; t < 1000; ++t) {
    a.add(t * 0x9e3779b97f4a7c15ULL, t + 1);
    b.add(t * 0x9e3779b97f4a7c15ULL, t + 1);
  }
  const Token changed = 17 * 0x9e3779b97f4a7c15ULL;
  b.remove(changed, 18);
  b.add(changed, 99);
  EXPECT_NE(a.root_hash(), b.root_hash());
  EXPECT_EQ(a.key_count(), b.key_count());
  std::size_t differing_leaves = 0;
  for (std::uint64_t segment = 0; segment < a.leaf_count(); ++segment) {
    differing_leaves += a.hash(8, segment) != b.hash(8, segment) ? 1 : 0;
  }
  EXPECT_EQ(differing_leaves, 1u);
  EXPECT_NE(a.hash(8, b.segment_of(changed)), b.hash(8, b.segment_of(changed)));
}

TEST(TictacTree, DecodeRefusesDamagedBytes) {
  TictacTree tree(6);
  tree.add(1, 2);
  tree.add(~Token{0}, 3);
  std::string bytes = tree.encode();
  EXPECT_EQ(TictacTree::decode(bytes.substr(0, bytes.size() - 1)).status().code(),
            Code::corruption);
  std::string wrong_version = bytes;
  wrong_version[0] = 9;
  EXPECT_EQ(TictacTree::decode(wrong_version).status().code(), Code::corruption);
  EXPECT_EQ(TictacTree::decode("").status().code(), Code::corruption);
}

TEST(TictacTree, TokenSpansTileTheRing) {
  EXPECT_EQ(token_span(0, 0).first, 0u);
  EXPECT_EQ(token_span(0, 0).last, ~Token{0});
  EXPECT_EQ(token_span(1, 1).first, Token{1} << 63);
  EXPECT_EQ(token_span(1, 0).last, (Token{1} << 63) - 1);
  EXPECT_EQ(token_span(16, 0xffff).last, ~Token{0});
}

}  // namespace
}  // namespace vigil::core
