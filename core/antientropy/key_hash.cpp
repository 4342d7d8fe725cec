#include "core/antientropy/key_hash.h"

#include <string>

#include "core/hash.h"
#include "core/wire/bytes.h"
#include "core/wire/codec.h"

namespace vigil::core {

std::uint64_t key_state_hash(std::string_view key, std::string_view encoded_state) {
  ByteWriter length;
  length.write_u32(static_cast<std::uint32_t>(key.size()));
  const Sha256Digest digest = sha256({length.bytes(), key, encoded_state});
  std::uint64_t hash = 0;
  for (int i = 0; i < 8; ++i) hash = (hash << 8) | digest[static_cast<std::size_t>(i)];
  return hash;
}

std::uint64_t key_state_hash(std::string_view key, const SiblingSet& state) {
  return key_state_hash(key, encode_sibling_set(state));
}

}  // namespace vigil::core
