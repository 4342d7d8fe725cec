// TypedStorage: theory of operation.
//
// The store checksums blobs (a damaged record is corruption, never data); this adapter
// adds the second check of a pair (STYLE rule 6): a state is encoded only after the
// node checked its invariants, and every state read back goes through
// decode_sibling_set, which validates it with SiblingSet::from_versions. A record that
// is intact as bytes but not a valid state (a codec bug, or a record written by a newer
// binary) is therefore reported as corruption instead of reaching the protocol. A record
// filed under another key is corruption too: the store's index and its contents disagree.

#include "store/typed_storage.h"

#include <functional>
#include <utility>

#include "core/wire/codec.h"
#include "core/types.h"

namespace vigil::store {

namespace {

Status stored_state_corrupt(const core::Key& key, const Status& cause) {
  return core::error(core::Code::corruption, "stored state of key '" + describe_key(key) +
                                                 "' does not decode: " + cause.message());
}

// A stored hint as the node sees it; corruption when its state does not decode.
// The records decoded, but none that `skip` names.
Result<std::vector<core::StoredHint>> typed_hints(
    Result<std::vector<HintRecord>> records,
    const std::function<bool(std::uint64_t)>& skip = {}) {
  if (!records.ok()) return records.status();
  std::vector<core::StoredHint> hints;
  hints.reserve(records->size());
  for (HintRecord& record : *records) {
    if (skip && skip(record.id)) continue;
    Result<core::SiblingSet> state = core::decode_sibling_set(record.state);
    if (!state.ok()) {
      return core::error(core::Code::corruption, "stored hint " + std::to_string(record.id) +
                                                     " does not decode: " +
                                                     state.status().message());
    }
    hints.push_back(core::StoredHint{record.id, std::move(record.target), std::move(record.key),
                                     std::move(state).value(), record.created_us,
                                     record.expires_us, record.attempts});
  }
  return hints;
}

}  // namespace

Result<std::optional<core::SiblingSet>> TypedStorage::read_key(const core::Key& key) {
  Result<std::optional<KeyRecord>> record = store_.get(key);
  if (!record.ok()) return record.status();
  if (!record->has_value()) return std::optional<core::SiblingSet>{};
  if ((*record)->key != key) {
    return core::error(core::Code::corruption,
                       "store returned another key's record for '" + describe_key(key) + "'");
  }
  Result<core::SiblingSet> state = core::decode_sibling_set((*record)->state);
  if (!state.ok()) return stored_state_corrupt(key, state.status());
  return std::optional<core::SiblingSet>{std::move(state).value()};
}

Status TypedStorage::write_key(const core::KeyWrite& write) {
  WriteBatch batch;
  if (write.state.empty()) {
    batch.key_erases.push_back(write.key);
  } else {
    batch.key_puts.push_back(KeyRecord{write.key, write.token, write.encoded});
  }
  return store_.apply(batch);
}

Result<std::vector<core::ScannedKey>> TypedStorage::scan_keys(
    core::KeyRange range, std::size_t limit,
    const std::optional<std::pair<core::Token, core::Key>>& after) {
  std::optional<KeyRecord> resume;
  if (after) resume = KeyRecord{after->second, after->first, {}};
  Result<std::vector<ScannedRecord>> records =
      store_.scan_checked(TokenRange{range.begin, range.end}, limit, resume);
  if (!records.ok()) return records.status();
  std::vector<core::ScannedKey> keys;
  keys.reserve(records->size());
  for (ScannedRecord& scanned : *records) {
    keys.push_back(core::ScannedKey{std::move(scanned.record.key), scanned.record.token,
                                    std::move(scanned.record.state), scanned.corrupt});
  }
  return keys;
}

Result<std::optional<std::string>> TypedStorage::read_meta(std::string_view name) {
  return store_.get_meta(name);
}

Status TypedStorage::write_meta(std::string_view name, std::string_view value) {
  WriteBatch batch;
  batch.meta_puts.emplace_back(std::string(name), std::string(value));
  return store_.apply(batch);
}

Status TypedStorage::write_hint(const core::StoredHint& hint) {
  WriteBatch batch;
  batch.hint_puts.push_back(HintRecord{hint.id, hint.target, hint.key, hint.created_us,
                                       hint.expires_us, hint.attempts,
                                       core::encode_sibling_set(hint.state)});
  return store_.apply(batch);
}

Status TypedStorage::erase_hint(std::uint64_t id) {
  WriteBatch batch;
  batch.hint_erases.push_back(id);
  return store_.apply(batch);
}

Result<std::vector<core::StoredHint>> TypedStorage::hints_for(
    const core::NodeId& target, std::size_t limit,
    const std::function<bool(std::uint64_t)>& skip) {
  return typed_hints(store_.hints_for(target, limit), skip);
}

Result<std::vector<core::StoredHint>> TypedStorage::hints_after(std::uint64_t after_id,
                                                               std::size_t limit) {
  return typed_hints(store_.hints_after(after_id, limit));
}

Result<std::uint64_t> TypedStorage::hint_count() {
  return store_.hint_count();
}

}  // namespace vigil::store
