#pragma once
// What a node reads and writes of its durable state, typed. The environment provides it
// (store/typed_storage.h adapts any store::Store). Writes are staged: visible to reads at
// once, made durable by the environment's commit before any effect produced after them
// leaves the node (group commit; rule 3: durable before acknowledged). The node never calls
// commit: only core::NodeDriver does, through CommittableStorage below.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/time.h"
#include "core/status.h"
#include "core/types.h"
#include "core/versions/version.h"

namespace vigil::core {

// A hinted-handoff hint as the node sees it (store::HintRecord holds it encoded).
struct StoredHint {
  std::uint64_t id = 0;  // >= 1, unique in this node's storage; assigned by the node
  NodeId target;
  Key key;
  SiblingSet state;
  WallMicros created_us = 0;
  WallMicros expires_us = 0;
  std::uint32_t attempts = 0;  // deliveries tried and not acknowledged
  friend bool operator==(const StoredHint&, const StoredHint&) = default;
};

// One record of a key scan (anti-entropy's tree rebuilds and background repair). `encoded`
// is the stored state exactly as core/wire/codec.h's encode_sibling_set wrote it (empty
// when corrupt): the trees hash these bytes, so they need not be decoded. A record whose
// store checksum does not match is returned with corrupt = true and no bytes, instead of
// failing the whole page, so one bad record does not hide the others from a repair.
struct ScannedKey {
  Key key;
  Token token = 0;  // token_of_key(key)
  std::string encoded;
  bool corrupt = false;
  friend bool operator==(const ScannedKey&, const ScannedKey&) = default;
};

// A half-open piece of the ring for scans: keys with begin < token <= end; when begin >=
// end the range wraps past 2^64-1 to 0 (begin == end: the whole ring). Same meaning as
// store::TokenRange.
struct KeyRange {
  Token begin = 0;
  Token end = 0;
};

// A key's new state as NodeContext::stage_key hands it to the storage and to the key-state
// listeners (the anti-entropy trees, the tombstone collector), with what each of them
// would otherwise compute again per write: the key's ring token (a SHA-256) and the
// state's canonical encoding (core/wire/codec.h; empty when the state is empty, i.e. the
// key is erased). make_key_write() computes both once. A view: it lives only as long as
// the key and state it refers to.
struct KeyWrite {
  const Key& key;
  const SiblingSet& state;
  Token token = 0;
  std::string encoded;
};
KeyWrite make_key_write(const Key& key, const SiblingSet& state);

class NodeStorage {
 public:
  virtual ~NodeStorage() = default;
  NodeStorage() = default;
  NodeStorage(const NodeStorage&) = delete;
  NodeStorage& operator=(const NodeStorage&) = delete;

  // nullopt when absent; corruption when the stored record or a value fails its checksum.
  virtual Result<std::optional<SiblingSet>> read_key(const Key& key) = 0;
  // Staged; an error (io_error, failed_precondition after a sticky failure) means the
  // change will never be durable: the node must not acknowledge it.
  virtual Status write_key(const KeyWrite& write) = 0;
  // The same, encoding here (callers outside the node's write path: tests, benchmarks).
  Status write_key(const Key& key, const SiblingSet& state) {
    return write_key(make_key_write(key, state));
  }

  // Up to `limit` keys of `range` in ring order ((token, key), keys as unsigned bytes),
  // resuming strictly after (after->first, after->second) when given: pass the last
  // record's (token, key) of one page to get the next. Sees staged changes. Corrupt
  // records are reported in place (ScannedKey::corrupt); io_error when the medium refuses.
  virtual Result<std::vector<ScannedKey>> scan_keys(
      KeyRange range, std::size_t limit, const std::optional<std::pair<Token, Key>>& after) = 0;

  // Key records stored, staged ones and tombstones included (DBSIZE's estimate; O(keys)
  // in SqliteStore, which counts).
  virtual Result<std::uint64_t> key_count() = 0;

  virtual Result<std::optional<std::string>> read_meta(std::string_view name) = 0;
  virtual Status write_meta(std::string_view name, std::string_view value) = 0;

  // Hints this node holds for other nodes (hinted handoff). Writes are staged like keys.
  // Reads see staged changes; a hint whose record fails its checksum or does not decode
  // is corruption naming the hint id.
  virtual Status write_hint(const StoredHint& hint) = 0;  // insert or replace by id
  virtual Status erase_hint(std::uint64_t id) = 0;        // absent: not an error
  // In id order: of the first `limit` hints for `target`, those whose id `skip` does not
  // name (an empty `skip` names none; a skipped hint is not decoded -- a delivery round
  // passes over the hints already in flight, which were decoded when they were sent);
  // all hints after `after_id`.
  virtual Result<std::vector<StoredHint>> hints_for(
      const NodeId& target, std::size_t limit,
      const std::function<bool(std::uint64_t id)>& skip) = 0;
  virtual Result<std::vector<StoredHint>> hints_after(std::uint64_t after_id,
                                                      std::size_t limit) = 0;
  virtual Result<std::uint64_t> hint_count() = 0;
};

// NodeStorage plus the calls only the driver makes (core/node/node_driver.h explains why
// this is a separate interface; store/typed_storage.h implements it).
class CommittableStorage : public NodeStorage {
 public:
  // True when writes were staged since the last commit began.
  virtual bool has_uncommitted() const = 0;
  // Pipelined group commit, in two halves. begin_commit() seals everything staged into one
  // commit (writes after it stage the next one; reads see both); finish_commit() makes the
  // sealed commit durable, and may be called by the environment on another thread (the
  // store says whether it can). At most one commit is in flight. An error from either half
  // leaves durable state unknown; a store with a sticky error fails every later commit,
  // even an empty one (so the driver commits only when something is staged: a node that
  // staged nothing has nothing to withdraw).
  virtual Status begin_commit() = 0;
  virtual Status finish_commit() = 0;
  // Both halves at once.
  Status commit() {
    if (Status status = begin_commit(); !status.ok()) return status;
    return finish_commit();
  }
};

}  // namespace vigil::core
