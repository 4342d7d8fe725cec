#include "core/types.h"

#include "core/hash.h"

namespace vigil::core {

bool is_valid_node_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Token token_of_key(std::string_view key) { return sha256_token(key); }

}  // namespace vigil::core
