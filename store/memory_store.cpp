// MemoryStore: theory of operation.
//
// Three journaled maps (key records by (token, key), hints by id, meta by name) hold the
// live view that reads see. apply() writes into the live view and keeps, apart, each changed
// entry's pre-image; commit() forgets the pre-images (the staged changes become the durable
// state) and crash() restores them (the staged changes vanish). Both cost the size of the
// batch, never the size of the store, which matters when the simulator runs millions of
// operations.
//
// The disk faults are the ones FoundationDB's simulated disk and TigerBeetle's storage
// fault injector find bugs with: a write the disk acknowledged and dropped (lose_next_commit:
// the pre-images move to a second journal that crash() also restores), a failed fsync
// (fail_next_commit: io_error, sticky, as LevelDB's bg_error; PostgreSQL's fsyncgate showed
// that retrying a failed fsync is not safe), and bit rot (corrupt_key / corrupt_hint flip a
// byte of the durable copy and leave the checksum, so the read path must catch it).
//
// Every record carries xxhash64 of its blob, computed when written and checked on every
// read, so a corrupted record is reported, never returned as data.

#include "store/memory_store.h"

#include <algorithm>

#include "core/hash.h"
#include "core/types.h"

namespace vigil::store {
namespace {

using detail::StoredBlob;
using detail::StoredHint;
using detail::TokenKey;
using detail::TokenKeyView;

Status corruption(std::string what) {
  return core::error(core::Code::corruption, "checksum mismatch in " + std::move(what));
}

StoredBlob stored_blob(std::string blob) {
  const std::uint64_t checksum = core::xxhash64(blob);
  return {std::move(blob), checksum};
}

void flip_a_byte(std::string& blob, std::uint64_t& checksum) {
  if (blob.empty()) {
    checksum ^= 1;
  } else {
    blob[blob.size() / 2] = static_cast<char>(blob[blob.size() / 2] ^ 0x5a);
  }
}

}  // namespace

Result<KeyRecord> MemoryStore::verified(const TokenKey& position, const StoredBlob& stored) const {
  if (core::xxhash64(stored.blob) != stored.checksum) {
    return corruption("key '" + describe_key(position.key) + "'");
  }
  return KeyRecord{position.key, position.token, stored.blob};
}

Result<HintRecord> MemoryStore::verified(const StoredHint& stored) const {
  if (core::xxhash64(stored.record.state) != stored.checksum) {
    return corruption("hint " + std::to_string(stored.record.id));
  }
  return stored.record;
}

Result<std::optional<KeyRecord>> MemoryStore::get(std::string_view key) {
  const TokenKeyView position{core::token_of_key(key), key};
  const auto it = keys_.live().find(position);
  if (it == keys_.live().end()) return std::optional<KeyRecord>{};
  Result<KeyRecord> record = verified(it->first, it->second);
  if (!record) return record.status();
  return std::optional<KeyRecord>{std::move(record).value()};
}

Result<std::vector<ScannedRecord>> MemoryStore::scan_checked(
    TokenRange range, std::size_t limit, const std::optional<KeyRecord>& after) {
  Result<std::vector<ScanSpan>> spans = scan_spans(range, after);
  if (!spans) return spans.status();
  std::vector<ScannedRecord> records;
  for (const ScanSpan& span : *spans) {
    auto it = keys_.live().lower_bound(TokenKeyView{span.first_token, span.first_key});
    for (; it != keys_.live().end() && it->first.token <= span.last_token; ++it) {
      if (records.size() >= limit) return records;
      Result<KeyRecord> record = verified(it->first, it->second);
      if (record) {
        records.push_back({std::move(record).value(), false});
      } else {
        records.push_back({KeyRecord{it->first.key, it->first.token, {}}, true});
      }
    }
  }
  return records;
}

Result<std::uint64_t> MemoryStore::key_count() {
  return static_cast<std::uint64_t>(keys_.live().size());
}

Result<std::vector<HintRecord>> MemoryStore::hints_for(const NodeId& target, std::size_t limit) {
  std::vector<HintRecord> hints;
  auto it = hints_by_target_.lower_bound({target, 0});
  for (; it != hints_by_target_.end() && it->first == target && hints.size() < limit; ++it) {
    const StoredHint* stored = hints_.find(it->second);
    VIGIL_ASSERT(stored != nullptr, "the hint index names only live hints");
    Result<HintRecord> hint = verified(*stored);
    if (!hint) return hint.status();
    hints.push_back(std::move(hint).value());
  }
  return hints;
}

Result<std::vector<HintRecord>> MemoryStore::hints_after(std::uint64_t after_id,
                                                         std::size_t limit) {
  std::vector<HintRecord> hints;
  auto it = hints_.live().upper_bound(after_id);
  for (; it != hints_.live().end() && hints.size() < limit; ++it) {
    Result<HintRecord> hint = verified(it->second);
    if (!hint) return hint.status();
    hints.push_back(std::move(hint).value());
  }
  return hints;
}

Result<std::uint64_t> MemoryStore::hint_count() {
  return static_cast<std::uint64_t>(hints_.live().size());
}

Result<std::optional<std::string>> MemoryStore::get_meta(std::string_view name) {
  const StoredBlob* stored = meta_.find(name);
  if (stored == nullptr) return std::optional<std::string>{};
  if (core::xxhash64(stored->blob) != stored->checksum) {
    return corruption("meta '" + describe_key(name) + "'");
  }
  return std::optional<std::string>{stored->blob};
}

Status MemoryStore::apply(const WriteBatch& batch) {
  if (!sticky_error_.ok()) return sticky_error_;
  if (Status status = validate_batch(batch); !status.ok()) return status;
  if (batch.empty()) return Status::ok_status();
  stage(batch);
  staged_ = true;
  return Status::ok_status();
}

void MemoryStore::stage(const WriteBatch& batch) {
  for (const KeyRecord& record : batch.key_puts) {
    keys_.put(TokenKey{core::token_of_key(record.key), record.key}, stored_blob(record.state));
  }
  for (const Key& key : batch.key_erases) {
    keys_.erase(TokenKeyView{core::token_of_key(key), key});
  }
  for (const HintRecord& hint : batch.hint_puts) put_hint(hint);
  for (const std::uint64_t id : batch.hint_erases) erase_hint(id);
  for (const auto& [name, value] : batch.meta_puts) meta_.put(name, stored_blob(value));
}

void MemoryStore::put_hint(const HintRecord& hint) {
  if (const StoredHint* previous = hints_.find(hint.id)) {
    hints_by_target_.erase({previous->record.target, hint.id});
    hints_by_key_.erase({previous->record.key, hint.id});
  }
  hints_.put(hint.id, StoredHint{hint, core::xxhash64(hint.state)});
  hints_by_target_.insert({hint.target, hint.id});
  hints_by_key_.insert({hint.key, hint.id});
}

void MemoryStore::erase_hint(std::uint64_t id) {
  if (const StoredHint* previous = hints_.find(id)) {
    hints_by_target_.erase({previous->record.target, id});
    hints_by_key_.erase({previous->record.key, id});
    hints_.erase(id);
  }
}

void MemoryStore::rebuild_hint_index() {
  hints_by_target_.clear();
  hints_by_key_.clear();
  for (const auto& [id, stored] : hints_.live()) {
    hints_by_target_.insert({stored.record.target, id});
    hints_by_key_.insert({stored.record.key, id});
  }
}

Status MemoryStore::begin_commit() {
  if (!sticky_error_.ok()) return sticky_error_;
  if (!staged_) return Status::ok_status();
  staged_ = false;
  sealed_ += 1;
  keys_.seal();
  hints_.seal();
  meta_.seal();
  return Status::ok_status();
}

Status MemoryStore::finish_commit() {
  if (!sticky_error_.ok()) return sticky_error_;
  if (sealed_ == 0) return Status::ok_status();
  sealed_ -= 1;
  if (fail_next_commit_ || lose_next_commit_) {
    keys_.sealed_lost();
    hints_.sealed_lost();
    meta_.sealed_lost();
    if (fail_next_commit_) {
      fail_next_commit_ = false;
      sticky_error_ = core::error(core::Code::io_error, "injected fault: commit failed");
      return sticky_error_;
    }
    lose_next_commit_ = false;
    return Status::ok_status();
  }
  keys_.sealed_durable();
  hints_.sealed_durable();
  meta_.sealed_durable();
  return Status::ok_status();
}

void MemoryStore::crash(std::size_t in_flight_kept) {
  // Every map sealed at every begin_commit, so each holds one journal per commit in flight.
  const std::size_t kept = std::min(in_flight_kept, sealed_);
  keys_.crash(kept);
  hints_.crash(kept);
  meta_.crash(kept);
  rebuild_hint_index();
  staged_ = false;
  sealed_ = 0;
  sticky_error_ = Status::ok_status();
}

std::optional<std::string> MemoryStore::committed_state(std::string_view key) const {
  const StoredBlob* stored = keys_.committed(TokenKeyView{core::token_of_key(key), key});
  if (stored == nullptr) return std::nullopt;
  return stored->blob;
}

std::vector<std::string> MemoryStore::committed_hint_states(std::string_view key) const {
  // Live hints only: a hint erased since its last commit was delivered, and its target's
  // copy is counted instead.
  std::vector<std::string> states;
  auto it = hints_by_key_.lower_bound({Key(key), 0});
  for (; it != hints_by_key_.end() && it->first == key; ++it) {
    if (const StoredHint* stored = hints_.committed(it->second)) {
      states.push_back(stored->record.state);
    }
  }
  return states;
}

Status MemoryStore::corrupt_key(std::string_view key) {
  StoredBlob* stored = keys_.durable(TokenKeyView{core::token_of_key(key), key});
  if (stored == nullptr) {
    return core::error(core::Code::not_found, "no durable key '" + describe_key(key) + "'");
  }
  flip_a_byte(stored->blob, stored->checksum);
  return Status::ok_status();
}

Status MemoryStore::corrupt_hint(std::uint64_t id) {
  StoredHint* stored = hints_.durable(id);
  if (stored == nullptr) {
    return core::error(core::Code::not_found, "no durable hint " + std::to_string(id));
  }
  flip_a_byte(stored->record.state, stored->checksum);
  return Status::ok_status();
}

}  // namespace vigil::store
