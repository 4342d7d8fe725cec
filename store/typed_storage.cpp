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

#include <utility>

#include "core/codec.h"
#include "core/types.h"

namespace vigil::store {

namespace {

Status stored_state_corrupt(const core::Key& key, const Status& cause) {
  return core::error(core::Code::corruption, "stored state of key '" + describe_key(key) +
                                                 "' does not decode: " + cause.message());
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

Status TypedStorage::write_key(const core::Key& key, const core::SiblingSet& state) {
  WriteBatch batch;
  if (state.empty()) {
    batch.key_erases.push_back(key);
  } else {
    batch.key_puts.push_back(
        KeyRecord{key, core::token_of_key(key), core::encode_sibling_set(state)});
  }
  return store_.apply(batch);
}

Result<std::optional<std::string>> TypedStorage::read_meta(std::string_view name) {
  return store_.get_meta(name);
}

Status TypedStorage::write_meta(std::string_view name, std::string_view value) {
  WriteBatch batch;
  batch.meta_puts.emplace_back(std::string(name), std::string(value));
  return store_.apply(batch);
}

}  // namespace vigil::store
