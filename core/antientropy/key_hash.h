#pragma once
// The hash a key's state contributes to its tictac tree: the first 8 bytes of SHA-256
// (merkle_tree.hash_function) over the key's length, the key, and the state's canonical
// encoding (core/wire/codec.h: whatever decodes re-encodes to the same bytes, so two
// replicas holding equal states hash them equally). Including the key makes two keys
// with equal states cancel nothing under XOR.

#include <cstdint>
#include <string_view>

#include "core/types.h"
#include "core/versions/version.h"

namespace vigil::core {

std::uint64_t key_state_hash(std::string_view key, std::string_view encoded_state);
// The same for a state in memory (encodes it). REQUIRES: !state.empty().
std::uint64_t key_state_hash(std::string_view key, const SiblingSet& state);

}  // namespace vigil::core
