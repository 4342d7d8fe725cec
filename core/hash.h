#pragma once
// Hash functions core/ uses: SHA-256 (OpenSSL libcrypto) for ring tokens and Merkle trees,
// as the seed asks; xxHash64 (libxxhash) for value and frame checksums. Pure functions.

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string_view>

namespace vigil::core {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(std::string_view bytes);
// SHA-256 of the concatenation of `parts`, without building it.
Sha256Digest sha256(std::initializer_list<std::string_view> parts);
// The first 8 bytes of SHA-256, big-endian: a position on the 64-bit ring.
std::uint64_t sha256_token(std::string_view bytes);
std::uint64_t xxhash64(std::string_view bytes, std::uint64_t seed = 0);

}  // namespace vigil::core
