#include "core/antientropy/range_trees.h"

#include <snappy.h>

#include <algorithm>
#include <string>

#include "core/antientropy/key_hash.h"
#include "core/assert.h"
#include "core/wire/bytes.h"

namespace vigil::core {

namespace {

constexpr std::uint8_t snapshot_format = 1;
constexpr const char* snapshot_meta = "ae.trees";
constexpr std::size_t journal_entry_bytes = 4 + 8 + 8 + 8;
// The smallest journal worth a snapshot: below it, replaying is cheaper than rewriting.
constexpr std::uint64_t snapshot_journal_bytes_min = 1024 * 1024;
// A snapshot is taken when the journal since the last one holds this many times the
// snapshot's bytes: the snapshot's amortized cost is then a quarter of the journal's.
constexpr std::uint64_t snapshot_journal_ratio = 4;

std::string tree_meta(std::size_t set) {
  return "ae.tree." + std::to_string(set);
}

std::string journal_meta(std::uint64_t seq) {
  return "ae.journal." + std::to_string(seq % RangeTrees::journal_slots);
}

// The keys of `span` as a scan range (exclusive begin).
KeyRange key_range(TokenSpan span) {
  if (span.first == 0 && span.last == ~Token{0}) return KeyRange{0, 0};
  return KeyRange{span.first - 1, span.last};
}

}  // namespace

RangeTrees::RangeTrees(const AntiEntropyOptions& options, const Ring& ring,
                       std::size_t replicas, const NodeId& self)
    : options_(options), depth_(options.depth), sets_(ring, replicas, self) {
  trees_.assign(sets_.sets().size(), TictacTree(depth_));
}

void RangeTrees::apply(std::size_t set, std::uint64_t segment, std::uint64_t hash,
                       std::int64_t count) {
  trees_[set].apply_delta(segment, hash, count);
  if (!options_.persist_trees) return;
  Delta& delta = pending_[LeafKey{set, segment}];
  delta.hash ^= hash;
  delta.count += count;
}

void RangeTrees::note_write(const KeyWrite& after, const SiblingSet* before,
                            bool before_unknown) {
  const Key& key = after.key;
  const Token token = after.token;
  const std::optional<std::size_t> set = sets_.set_of(token);
  if (!set) return;  // not a key this node replicates: in no tree
  const std::uint64_t segment = trees_[*set].segment_of(token);
  std::uint64_t hash = 0;
  std::int64_t count = 0;
  if (before_unknown) {
    suspect_.emplace(token, *set);
  } else if (before != nullptr && !before->empty()) {
    hash ^= key_state_hash(key, *before);
    count -= 1;
  }
  if (!after.state.empty()) {
    hash ^= key_state_hash(key, after.encoded);
    count += 1;
  }
  if (before_unknown) {
    // The leaf is rebuilt from the store before the next stage(); until then the change
    // is applied as if the old record had been absent.
    count = std::max<std::int64_t>(count, 0);
  }
  if (hash != 0 || count != 0) apply(*set, segment, hash, count);
}

void RangeTrees::mark_suspect(const Key& key) {
  const Token token = token_of_key(key);
  if (const auto set = sets_.set_of(token)) suspect_.emplace(token, *set);
}

Result<bool> RangeTrees::rebuild_leaf(NodeStorage& storage, NodeCounters& counters,
                                      std::size_t set, std::uint64_t segment) {
  const TokenSpan span = token_span(depth_, segment);
  std::uint64_t hash = 0;
  std::uint64_t count = 0;
  std::optional<std::pair<Token, Key>> after;
  for (;;) {
    auto page = storage.scan_keys(key_range(span), scan_page_keys, after);
    if (!page.ok()) return page.status();
    for (const ScannedKey& record : *page) {
      if (record.corrupt) {
        counters.add("ae_corrupt_records_found");
        continue;
      }
      if (sets_.set_of(record.token) != set) continue;
      hash ^= key_state_hash(record.key, record.encoded);
      count += 1;
    }
    if (page->size() < scan_page_keys) break;
    after = std::make_pair(page->back().token, page->back().key);
  }
  const TictacTree& tree = trees_[set];
  const std::uint64_t old_hash = tree.hash(depth_, segment);
  const std::uint64_t old_count = tree.count(depth_, segment);
  if (old_hash == hash && old_count == count) return false;
  apply(set, segment, old_hash ^ hash,
        static_cast<std::int64_t>(count) - static_cast<std::int64_t>(old_count));
  return true;
}

Status RangeTrees::rebuild_suspects(NodeStorage& storage, NodeCounters& counters) {
  while (!suspect_.empty()) {
    const auto [token, set] = *suspect_.begin();
    suspect_.erase(suspect_.begin());
    auto rebuilt = rebuild_leaf(storage, counters, set, trees_[set].segment_of(token));
    if (!rebuilt.ok()) return rebuilt.status();
    counters.add("ae_leaves_rebuilt");
  }
  return Status::ok_status();
}

Status RangeTrees::stage(NodeStorage& storage, NodeCounters& counters) {
  if (Status rebuilt = rebuild_suspects(storage, counters); !rebuilt.ok()) return rebuilt;
  if (!options_.persist_trees || pending_.empty()) return Status::ok_status();
  if (Status status = stage_journal(storage); !status.ok()) return status;
  const bool ring_full = journal_seq_ - snapshot_seq_ >= journal_slots / 2;
  const bool journal_large = journal_bytes_ >= std::max(snapshot_journal_ratio * snapshot_bytes_,
                                                        snapshot_journal_bytes_min);
  if (!ring_full && !journal_large) return Status::ok_status();
  counters.add("ae_tree_snapshots");
  return stage_snapshot(storage);
}

// Row: seq u64, entries u32, then per entry set u32, segment u64, hash u64, count i64.
Status RangeTrees::stage_journal(NodeStorage& storage) {
  ByteWriter writer;
  writer.write_u64(journal_seq_ + 1);
  writer.write_u32(static_cast<std::uint32_t>(pending_.size()));
  for (const auto& [leaf, delta] : pending_) {
    writer.write_u32(static_cast<std::uint32_t>(leaf.first));
    writer.write_u64(leaf.second);
    writer.write_u64(delta.hash);
    writer.write_i64(delta.count);
  }
  if (Status status = storage.write_meta(journal_meta(journal_seq_ + 1), writer.bytes());
      !status.ok()) {
    return status;
  }
  journal_seq_ += 1;
  journal_bytes_ += writer.size();
  pending_.clear();
  return Status::ok_status();
}

// Header: format u8, seq u64, depth u32, compressed u8, sets u32, then per set its node
// count u32 and ids (u32 length + bytes).
Status RangeTrees::stage_snapshot(NodeStorage& storage) {
  std::uint64_t bytes = 0;
  for (std::size_t set = 0; set < trees_.size(); ++set) {
    std::string encoded = trees_[set].encode();
    if (options_.compress_trees) {
      std::string compressed;
      snappy::Compress(encoded.data(), encoded.size(), &compressed);
      encoded = std::move(compressed);
    }
    bytes += encoded.size();
    if (Status status = storage.write_meta(tree_meta(set), encoded); !status.ok()) return status;
  }
  ByteWriter header;
  header.write_u8(snapshot_format);
  header.write_u64(journal_seq_);
  header.write_u32(depth_);
  header.write_u8(options_.compress_trees ? 1 : 0);
  header.write_u32(static_cast<std::uint32_t>(sets_.sets().size()));
  for (const std::vector<NodeId>& set : sets_.sets()) {
    header.write_u32(static_cast<std::uint32_t>(set.size()));
    for (const NodeId& node : set) header.write_string(node, SizeBound{64, "node id"}, "node");
  }
  if (Status status = storage.write_meta(snapshot_meta, header.bytes()); !status.ok()) {
    return status;
  }
  snapshot_seq_ = journal_seq_;
  journal_bytes_ = 0;
  snapshot_bytes_ = bytes + header.size();
  return Status::ok_status();
}

Result<bool> RangeTrees::load_snapshot(NodeStorage& storage) {
  auto header_bytes = storage.read_meta(snapshot_meta);
  if (!header_bytes.ok()) return header_bytes.status();
  if (!header_bytes->has_value()) return false;
  ByteReader header(**header_bytes);
  std::uint8_t format = 0;
  std::uint64_t seq = 0;
  std::uint32_t depth = 0;
  std::uint8_t compressed = 0;
  std::uint32_t set_count = 0;
  if (!header.read_u8(format, "format").ok() || format != snapshot_format ||
      !header.read_u64(seq, "seq").ok() || !header.read_u32(depth, "depth").ok() ||
      depth != depth_ || !header.read_u8(compressed, "compressed").ok() ||
      !header.read_u32(set_count, "sets").ok() || set_count != sets_.sets().size()) {
    return false;
  }
  for (const std::vector<NodeId>& set : sets_.sets()) {
    std::uint32_t nodes = 0;
    if (!header.read_u32(nodes, "nodes").ok() || nodes != set.size()) return false;
    for (const NodeId& node : set) {
      std::string stored;
      if (!header.read_string(stored, SizeBound{64, "node id"}, "node").ok() || stored != node) {
        return false;
      }
    }
  }
  std::vector<TictacTree> trees;
  std::uint64_t bytes = (*header_bytes)->size();
  for (std::size_t set = 0; set < sets_.sets().size(); ++set) {
    auto row = storage.read_meta(tree_meta(set));
    if (!row.ok()) return row.status();
    if (!row->has_value()) return false;
    std::string encoded = std::move(**row);
    bytes += encoded.size();
    if (compressed != 0) {
      std::string plain;
      std::size_t length = 0;
      if (!snappy::GetUncompressedLength(encoded.data(), encoded.size(), &length) ||
          length > (std::size_t{64} << 20) ||
          !snappy::Uncompress(encoded.data(), encoded.size(), &plain)) {
        return false;
      }
      encoded = std::move(plain);
    }
    auto tree = TictacTree::decode(encoded);
    if (!tree.ok() || tree->depth() != depth_) return false;
    trees.push_back(std::move(*tree));
  }
  trees_ = std::move(trees);
  journal_seq_ = snapshot_seq_ = seq;
  snapshot_bytes_ = bytes;
  return true;
}

// Rows are read in order after the snapshot's. A missing row is a commit the disk lost (a
// lying disk drops a commit and keeps later ones): its data is gone too, and since XOR
// deltas commute, the later rows still apply. The replay stops after replay_gap_max
// missing rows in a row.
Status RangeTrees::replay_journal(NodeStorage& storage) {
  constexpr std::uint64_t replay_gap_max = 1024;
  std::uint64_t next = journal_seq_ + 1;
  for (std::uint64_t missing = 0; missing < replay_gap_max; ++next) {
    auto row = storage.read_meta(journal_meta(next));
    if (!row.ok()) return row.status();
    const std::string bytes = row->value_or(std::string{});
    ByteReader reader(bytes);
    std::uint64_t seq = 0;
    std::uint32_t entries = 0;
    if (!row->has_value() || !reader.read_u64(seq, "seq").ok() || seq != next) {
      ++missing;
      continue;
    }
    missing = 0;
    if (!reader.read_u32(entries, "entries").ok() ||
        reader.remaining() != std::size_t{entries} * journal_entry_bytes) {
      return error(Code::corruption, "anti-entropy journal row " + std::to_string(seq) +
                                         " does not decode");
    }
    for (std::uint32_t i = 0; i < entries; ++i) {
      std::uint32_t set = 0;
      std::uint64_t segment = 0;
      std::uint64_t hash = 0;
      std::int64_t count = 0;
      (void)reader.read_u32(set, "set");
      (void)reader.read_u64(segment, "segment");
      (void)reader.read_u64(hash, "hash");
      (void)reader.read_i64(count, "count");
      if (set >= trees_.size() || segment >= trees_[set].leaf_count() ||
          static_cast<std::int64_t>(trees_[set].count(depth_, segment)) + count < 0) {
        return error(Code::corruption, "anti-entropy journal row " + std::to_string(seq) +
                                           " names a leaf outside the trees");
      }
      trees_[set].apply_delta(segment, hash, count);
    }
    journal_seq_ = seq;
    journal_bytes_ += bytes.size();
  }
  return Status::ok_status();
}

Result<std::uint64_t> RangeTrees::rebuild_all(NodeStorage& storage, NodeCounters& counters) {
  std::vector<TictacTree> trees(sets_.sets().size(), TictacTree(depth_));
  std::optional<std::pair<Token, Key>> after;
  for (;;) {
    auto page = storage.scan_keys(KeyRange{0, 0}, scan_page_keys, after);
    if (!page.ok()) return page.status();
    for (const ScannedKey& record : *page) {
      if (record.corrupt) {
        counters.add("ae_corrupt_records_found");
        continue;
      }
      if (const auto set = sets_.set_of(record.token)) {
        trees[*set].add(record.token, key_state_hash(record.key, record.encoded));
      }
    }
    if (page->size() < scan_page_keys) break;
    after = std::make_pair(page->back().token, page->back().key);
  }
  // Every leaf that differs is set through apply(), so the journal carries the fix.
  std::uint64_t differing = 0;
  for (std::size_t set = 0; set < trees.size(); ++set) {
    std::set<std::uint64_t> segments;
    for (const auto& [segment, leaf] : trees[set].leaves()) segments.insert(segment);
    for (const auto& [segment, leaf] : trees_[set].leaves()) segments.insert(segment);
    for (const std::uint64_t segment : segments) {
      const std::uint64_t hash = trees[set].hash(depth_, segment);
      const std::uint64_t count = trees[set].count(depth_, segment);
      const std::uint64_t old_hash = trees_[set].hash(depth_, segment);
      const std::uint64_t old_count = trees_[set].count(depth_, segment);
      if (hash == old_hash && count == old_count) continue;
      ++differing;
      apply(set, segment, hash ^ old_hash,
            static_cast<std::int64_t>(count) - static_cast<std::int64_t>(old_count));
    }
  }
  counters.add("ae_tree_rebuilds");
  return differing;
}

Status RangeTrees::load(NodeStorage& storage, NodeCounters& counters) {
  if (options_.persist_trees) {
    auto loaded = load_snapshot(storage);
    if (!loaded.ok()) return loaded.status();
    if (*loaded) {
      Status replayed = replay_journal(storage);
      if (replayed.ok()) return Status::ok_status();
      if (replayed.code() != Code::corruption) return replayed;
      counters.add("ae_tree_snapshots_unusable");
    }
  }
  if (auto rebuilt = rebuild_all(storage, counters); !rebuilt.ok()) return rebuilt.status();
  pending_.clear();
  if (!options_.persist_trees) return Status::ok_status();
  // The rebuilt trees become the snapshot; the journal starts again after it.
  return stage_snapshot(storage);
}

}  // namespace vigil::core
