#include "core/node/node_storage.h"

#include "core/wire/codec.h"

namespace vigil::core {

KeyWrite make_key_write(const Key& key, const SiblingSet& state) {
  return KeyWrite{key, state, token_of_key(key),
                  state.empty() ? std::string() : encode_sibling_set(state)};
}

}  // namespace vigil::core
