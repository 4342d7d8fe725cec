#pragma once
// The node's tictac trees, one per replica set it belongs to (replica_sets.h), kept in step
// with every staged write, and persisted with the data they describe.
//
// Upkeep. Every change of a key's state goes through note_write() (NodeContext::stage_key
// calls it): the old state's hash is XORed out of its leaf and the new one's in, O(depth).
// When the old state is unknown (its record was corrupt) the leaf is marked suspect and
// rebuilt from storage, by scanning only that leaf's token span, before the next stage().
//
// Persistence (incremental_repair.storage.persist_merkle_trees), in the same commits as the
// data, so that after a restart the trees agree with what is durable:
// - a journal: each stage() that follows changes writes one meta row "ae.journal.<slot>"
//   holding its sequence number and the per-leaf deltas (XOR of hashes, change of count).
//   XOR deltas commute, so replay order within rows does not matter; rows are a ring of
//   journal_slots slots, overwritten in place (no deletes, no growth);
// - snapshots: "ae.trees" (the format, the sequence number it covers, the depth and the
//   replica sets) and one "ae.tree.<i>" per tree (TictacTree::encode, snappy-compressed
//   when incremental_repair.storage.compression is snappy). A snapshot is written when
//   the journal since the last one holds about as many bytes as a snapshot would, so the
//   amortized cost stays within twice the journal's (log compaction's usual rule), and
//   always before the ring of slots could wrap.
// load() reads the snapshot and replays the rows after it; with no usable snapshot (none,
// another depth or other replica sets, a row that does not decode) it rebuilds every tree
// by one scan of the store and writes a fresh snapshot. With persistence off it always
// rebuilds at start-up and writes nothing.

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "core/antientropy/antientropy_options.h"
#include "core/antientropy/replica_sets.h"
#include "core/antientropy/tictac_tree.h"
#include "core/counters.h"
#include "core/node/node_storage.h"
#include "core/ring/ring.h"
#include "core/status.h"

namespace vigil::core {

class RangeTrees {
 public:
  static constexpr std::uint64_t journal_slots = std::uint64_t{1} << 20;
  static constexpr std::size_t scan_page_keys = 1024;

  RangeTrees(const AntiEntropyOptions& options, const Ring& ring, std::size_t replicas,
             const NodeId& self);

  const ReplicaSets& sets() const { return sets_; }
  std::size_t size() const { return trees_.size(); }
  const TictacTree& tree(std::size_t set) const { return trees_.at(set); }
  std::uint32_t depth() const { return depth_; }

  // A key's staged state changed from `before` (nullptr: absent; ignored when
  // before_unknown: the old record was corrupt) to `after` (empty state: absent; its token
  // and encoding come with it).
  void note_write(const KeyWrite& after, const SiblingSet* before, bool before_unknown);
  // A read found the key's record corrupt: its leaf no longer describes the store.
  void mark_suspect(const Key& key);

  // Rebuilds the leaves mark_suspect() or a write over a corrupt record left suspect.
  Status rebuild_suspects(NodeStorage& storage, NodeCounters& counters);
  // Rebuilds suspect leaves, then (persisting) stages the journal row of the changes since
  // the last call and, when due, a snapshot. Errors are the storage's.
  Status stage(NodeStorage& storage, NodeCounters& counters);
  // Recomputes one leaf of one tree from the store; true when it differed (then fixed).
  Result<bool> rebuild_leaf(NodeStorage& storage, NodeCounters& counters, std::size_t set,
                            std::uint64_t segment);
  // At start-up: the persisted trees, or a rebuild (see above).
  Status load(NodeStorage& storage, NodeCounters& counters);
  // Every tree recomputed from one scan of the store; each leaf that differed is fixed
  // (through the journal) and counted in the result.
  Result<std::uint64_t> rebuild_all(NodeStorage& storage, NodeCounters& counters);

 private:
  using LeafKey = std::pair<std::size_t, std::uint64_t>;  // (set, segment)
  struct Delta {
    std::uint64_t hash = 0;
    std::int64_t count = 0;
  };
  void apply(std::size_t set, std::uint64_t segment, std::uint64_t hash, std::int64_t count);
  Status stage_journal(NodeStorage& storage);
  Status stage_snapshot(NodeStorage& storage);
  Result<bool> load_snapshot(NodeStorage& storage);
  Status replay_journal(NodeStorage& storage);

  AntiEntropyOptions options_;
  std::uint32_t depth_;
  ReplicaSets sets_;
  std::vector<TictacTree> trees_;
  std::map<LeafKey, Delta> pending_;  // changes not yet journaled (ordered: deterministic rows)
  std::set<std::pair<Token, std::size_t>> suspect_;  // (token of a corrupt key, set)
  std::uint64_t journal_seq_ = 0;        // the last row staged (or loaded)
  std::uint64_t snapshot_seq_ = 0;       // the row the last snapshot covers
  std::uint64_t journal_bytes_ = 0;      // staged since that snapshot
  std::uint64_t snapshot_bytes_ = 0;     // the last snapshot's size
};

}  // namespace vigil::core
