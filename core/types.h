#pragma once
// The basic vocabulary types shared by every layer.

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::core {

// A physical node's identity, e.g. "n1". Stable across restarts; it names the node in
// vector clocks, the ring and hints. Valid ids: 1-64 characters of [A-Za-z0-9_.-].
using NodeId = std::string;
bool is_valid_node_id(std::string_view id);

// Keys and values are arbitrary bytes.
using Key = std::string;
using Value = std::string;

// A position on the consistent-hash ring (first 8 bytes of SHA-256, see hash.h).
using Token = std::uint64_t;
Token token_of_key(std::string_view key);

// Limits on untrusted sizes (rule 4); the config can lower them, never raise them.
inline constexpr std::size_t key_size_bytes_max = 64 * 1024;
inline constexpr std::size_t value_size_bytes_max = 16 * 1024 * 1024;

}  // namespace vigil::core
