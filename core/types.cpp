#include "core/types.h"

#include <array>

#include "core/hash.h"

namespace vigil::core {

namespace {

// The bytes a node id may hold, as a table: every decoded vector clock checks every actor
// name it holds, so this check runs for each clock entry of each replica message.
constexpr std::array<bool, 256> node_id_bytes = [] {
  std::array<bool, 256> table{};
  for (int c = 'a'; c <= 'z'; ++c) table[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[static_cast<std::size_t>(c)] = true;
  for (int c = '0'; c <= '9'; ++c) table[static_cast<std::size_t>(c)] = true;
  for (const char c : {'_', '.', '-'}) table[static_cast<unsigned char>(c)] = true;
  return table;
}();

}  // namespace

bool is_valid_node_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (const char c : id) {
    if (!node_id_bytes[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

Token token_of_key(std::string_view key) { return sha256_token(key); }

}  // namespace vigil::core
