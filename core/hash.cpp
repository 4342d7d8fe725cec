#include "core/hash.h"

#include <openssl/sha.h>
#include <xxhash.h>

namespace vigil::core {

Sha256Digest sha256(std::string_view bytes) {
  Sha256Digest digest{};
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest.data());
  return digest;
}

std::uint64_t sha256_token(std::string_view bytes) {
  const Sha256Digest digest = sha256(bytes);
  std::uint64_t token = 0;
  for (int i = 0; i < 8; ++i) token = (token << 8) | digest[static_cast<std::size_t>(i)];
  return token;
}

std::uint64_t xxhash64(std::string_view bytes, std::uint64_t seed) {
  return XXH64(bytes.data(), bytes.size(), seed);
}

}  // namespace vigil::core
