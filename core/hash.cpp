#include "core/hash.h"

#include <openssl/sha.h>
#include <xxhash.h>

namespace vigil::core {

// The low-level SHA256_* calls, not OpenSSL 3's one-shot SHA256(): that one fetches the
// algorithm through the provider layer on every call, taking a read lock each time (a tenth
// of the anti-entropy write path in a profile), while the low-level calls go straight to the
// same assembly. They are deprecated in OpenSSL 3 but kept for exactly this use.
Sha256Digest sha256(std::string_view bytes) {
  return sha256({bytes});
}

Sha256Digest sha256(std::initializer_list<std::string_view> parts) {
  Sha256Digest digest{};
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  SHA256_CTX context;
  SHA256_Init(&context);
  for (const std::string_view part : parts) SHA256_Update(&context, part.data(), part.size());
  SHA256_Final(digest.data(), &context);
#pragma GCC diagnostic pop
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
