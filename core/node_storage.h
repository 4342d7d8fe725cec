#pragma once
// What a node reads and writes of its durable state, typed. The environment provides it
// (store/typed_storage.h adapts any store::Store). Writes are staged: visible to reads at
// once, made durable by the environment's commit before any effect produced after them
// leaves the node (group commit; rule 3: durable before acknowledged). core/ never calls
// commit.

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/types.h"
#include "core/version.h"

namespace vigil::core {

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
  virtual Status write_key(const Key& key, const SiblingSet& state) = 0;

  virtual Result<std::optional<std::string>> read_meta(std::string_view name) = 0;
  virtual Status write_meta(std::string_view name, std::string_view value) = 0;
};

}  // namespace vigil::core
