#pragma once
// What a node keeps, behind one interface (LevelDB's DB, with FoundationDB's IKeyValueStore
// commit shape). The store is a layer of bytes with integrity: key states and hints are
// opaque blobs encoded by core/wire/codec.h; the store checksums every record it writes
// (xxhash64 of the blob, kept beside it) and verifies it on every read: a mismatch is
// Code::corruption with a message naming the key or hint id, and the bytes are never
// returned as data.
//
// Durability: apply() stages a batch (visible to reads at once); commit() makes everything
// staged durable in one step (one transaction, one fsync): group commit. A node never
// acknowledges a change before the commit() that covers it has returned ok. After a crash
// only committed batches remain. A commit that fails with io_error leaves durable state
// unknown: the store then refuses every later apply/commit (sticky error, LevelDB's bg_error).
//
// Implementations: MemoryStore (store/memory_store.h, the simulator's, with fault hooks)
// and SqliteStore (store/sqlite_store.h, production). tests/store/store_conformance_test.cpp
// runs the same suite over both.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/wire/codec.h"
#include "core/status.h"
#include "core/time.h"
#include "core/types.h"

namespace vigil::store {

using core::Key;
using core::NodeId;
using core::Result;
using core::Status;
using core::Token;

// Bounds on what a batch may carry (rule 7); a batch over them is refused whole with
// invalid_argument. A state must fit in one frame to be replicated at all.
inline constexpr std::size_t state_size_bytes_max = core::frame_size_bytes_max;
inline constexpr std::size_t meta_name_bytes_max = 256;

struct KeyRecord {
  Key key;
  Token token = 0;    // core::token_of_key(key)
  std::string state;  // encoded SiblingSet (tombstones included: a tombstone is key state)
  friend bool operator==(const KeyRecord&, const KeyRecord&) = default;
};

// One record of Store::scan_checked: the record as stored, or, when its checksum does not
// match, only its position (key, token) with corrupt = true and an empty state. A repair
// needs to know which key is damaged and to keep scanning past it; the bytes of a damaged
// record are never returned.
struct ScannedRecord {
  KeyRecord record;
  bool corrupt = false;
  friend bool operator==(const ScannedRecord&, const ScannedRecord&) = default;
};

// A hinted-handoff hint (seed 2.1: target_node, key, value, timestamp, ttl).
struct HintRecord {
  std::uint64_t id = 0;  // unique per store, >= 1; assigned by the node
  NodeId target;
  Key key;
  core::WallMicros created_us = 0;
  core::WallMicros expires_us = 0;
  std::uint32_t attempts = 0;
  std::string state;  // encoded SiblingSet to hand over
  friend bool operator==(const HintRecord&, const HintRecord&) = default;
};

// One group of changes, applied atomically: either all of it is staged or none of it.
// Within a batch the fields apply in declaration order (key_puts, key_erases, hint_puts,
// hint_erases, meta_puts), each vector front to back: a key both put and erased in one
// batch ends absent; the last put of a key or hint id wins. Erasing an absent key or hint
// is not an error.
struct WriteBatch {
  std::vector<KeyRecord> key_puts;  // token is recomputed by the store from key
  std::vector<Key> key_erases;
  std::vector<HintRecord> hint_puts;  // insert or replace by id
  std::vector<std::uint64_t> hint_erases;
  std::vector<std::pair<std::string, std::string>> meta_puts;  // node metadata

  bool empty() const {
    return key_puts.empty() && key_erases.empty() && hint_puts.empty() && hint_erases.empty() &&
           meta_puts.empty();
  }
};

// invalid_argument naming the first offending entry when a batch breaks a bound: a key over
// core::key_size_bytes_max, a state over state_size_bytes_max, a hint with id 0 or a target
// that is not a valid node id, a meta name empty or over meta_name_bytes_max, a meta value over
// state_size_bytes_max. Both stores call it before staging anything.
Status validate_batch(const WriteBatch& batch);

// A half-open walk of the ring by token: keys with begin < token <= end, in (token, key)
// order. When begin >= end the range wraps past 2^64-1 to 0 (begin == end: whole ring),
// and the walk starts after begin: tokens in (begin, 2^64-1] first, then [0, end].
struct TokenRange {
  Token begin = 0;
  Token end = 0;
};

bool token_in_range(TokenRange range, Token token);

// One contiguous, non-wrapping piece of a scan: records with (token, key) >= (first_token,
// first_key) and token <= last_token, in (token, key) order. Keys compare as unsigned bytes
// (memcmp, shorter prefix first), as SQLite compares BLOBs.
struct ScanSpan {
  Token first_token = 0;
  Key first_key;
  Token last_token = 0;
};

// The spans (at most two, in ring order) a scan of `range` walks, resuming strictly after
// `after` when given. invalid_argument when `after`'s token lies outside `range`.
Result<std::vector<ScanSpan>> scan_spans(TokenRange range, const std::optional<KeyRecord>& after);

// A key as it may appear in an error message: printable ASCII kept, other bytes as \xNN,
// cut to 64 bytes of input. Messages name keys; they never carry stored data.
std::string describe_key(std::string_view key);

class Store {
 public:
  virtual ~Store() = default;
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // nullopt when absent. Sees staged changes. corruption when the stored record fails its
  // checksum; io_error when the medium refuses the read.
  virtual Result<std::optional<KeyRecord>> get(std::string_view key) = 0;
  // Up to `limit` records of `range` in ring order, starting after (after->token,
  // after->key) when given, for paging (anti-entropy scans by token range): pass the last
  // record of one page as `after` of the next. Sees staged changes. corruption names the
  // first record in the page that fails its checksum; invalid_argument when `after` is
  // outside `range`. Implemented once, over scan_checked.
  Result<std::vector<KeyRecord>> scan(TokenRange range, std::size_t limit,
                                      const std::optional<KeyRecord>& after);
  // The same walk, but a record that fails its checksum is reported in place
  // (ScannedRecord::corrupt) and the page goes on past it: anti-entropy and background
  // repair must see every key of a range, damaged ones included, to repair them.
  // invalid_argument when `after` is outside `range`; io_error when the medium refuses.
  virtual Result<std::vector<ScannedRecord>> scan_checked(
      TokenRange range, std::size_t limit, const std::optional<KeyRecord>& after) = 0;
  // Live keys, staged changes included (SqliteStore counts: O(keys)).
  virtual Result<std::uint64_t> key_count() = 0;

  // Hints for one target in id order, at most `limit`; and all hints in id order after
  // `after_id`, at most `limit`. Both see staged changes.
  virtual Result<std::vector<HintRecord>> hints_for(const NodeId& target, std::size_t limit) = 0;
  virtual Result<std::vector<HintRecord>> hints_after(std::uint64_t after_id,
                                                      std::size_t limit) = 0;
  virtual Result<std::uint64_t> hint_count() = 0;

  virtual Result<std::optional<std::string>> get_meta(std::string_view name) = 0;

  // Stages `batch` atomically. invalid_argument (nothing staged) for a batch that breaks a
  // bound (validate_batch); the sticky error once a commit has failed.
  virtual Status apply(const WriteBatch& batch) = 0;
  // Makes every staged batch durable in one step; ok with nothing staged. io_error: durable
  // state unknown, the error becomes sticky and the node must stop accepting writes.
  // The same as begin_commit() then finish_commit().
  Status commit() {
    if (Status status = begin_commit(); !status.ok()) return status;
    return finish_commit();
  }

  // Pipelined group commit, in two halves (core::NodeDriver's pipelined mode).
  // begin_commit() seals everything staged into one commit and does the part of it that
  // needs the store's own thread; from then on apply() stages the next batch, and reads see
  // both. finish_commit() makes the sealed commit durable (the fsync); nothing the sealed
  // batch acknowledges may leave before it returns ok. At most one commit is in flight:
  // REQUIRES for begin_commit() that the previous one was finished. An error from either
  // half is the commit's error (sticky, as above). Thread safety is the implementation's:
  // SqliteStore lets finish_commit() run on another thread than apply/get/begin_commit.
  virtual Status begin_commit() = 0;
  virtual Status finish_commit() = 0;
  // True when apply() has staged changes that commit() has not yet made durable.
  virtual bool has_uncommitted() const = 0;
};

}  // namespace vigil::store
