#pragma once
// TypedStorage: core::NodeStorage over any store::Store (MemoryStore under the simulator,
// SqliteStore in production). It turns typed key states into the store's opaque blobs with
// core/wire/codec.h and back, and stages every write with Store::apply(). It is also the
// driver's commit seam (core::CommittableStorage, core/node/node_storage.h): has_uncommitted()
// and commit() forward to the store; the node itself only ever sees core::NodeStorage.
//
// Errors: read_key is corruption when the store reports a checksum mismatch or when the
// stored bytes do not decode into a valid SiblingSet (both mean "do not use this record;
// repair it from a replica"); the store's other errors pass through. write_key and
// write_meta pass the store's apply() error through (failed_precondition after a sticky
// commit failure).

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/node/node_storage.h"
#include "store/store.h"

namespace vigil::store {

class TypedStorage final : public core::CommittableStorage {
 public:
  // REQUIRES: `store` outlives this object.
  explicit TypedStorage(Store& store) : store_(store) {}

  Result<std::optional<core::SiblingSet>> read_key(const core::Key& key) override;
  // Writing an empty state erases the key (a replica never needs to keep "nothing").
  Status write_key(const core::KeyWrite& write) override;
  using core::NodeStorage::write_key;

  // Store::scan_checked, typed. `encoded` is the stored bytes as they are, not decoded:
  // a record whose bytes pass the store checksum but are not a valid state is returned as
  // data, and left for the reader to find (read_key reports it as corruption). `corrupt`
  // means exactly a store checksum mismatch.
  Result<std::vector<core::ScannedKey>> scan_keys(
      core::KeyRange range, std::size_t limit,
      const std::optional<std::pair<core::Token, core::Key>>& after) override;

  Result<std::optional<std::string>> read_meta(std::string_view name) override;
  Status write_meta(std::string_view name, std::string_view value) override;

  Status write_hint(const core::StoredHint& hint) override;
  Status erase_hint(std::uint64_t id) override;
  Result<std::vector<core::StoredHint>> hints_for(
      const core::NodeId& target, std::size_t limit,
      const std::function<bool(std::uint64_t id)>& skip) override;
  Result<std::vector<core::StoredHint>> hints_after(std::uint64_t after_id,
                                                    std::size_t limit) override;
  Result<std::uint64_t> hint_count() override;
  Result<std::uint64_t> key_count() override { return store_.key_count(); }

  bool has_uncommitted() const override { return store_.has_uncommitted(); }
  Status begin_commit() override { return store_.begin_commit(); }
  Status finish_commit() override { return store_.finish_commit(); }

 private:
  Store& store_;
};

}  // namespace vigil::store
