#pragma once
// Client passwords stored as salted PBKDF2-HMAC-SHA256 hashes (docs/security.md says why
// this KDF and what each AUTH costs). One string holds everything verification needs:
//     pbkdf2-sha256$<iterations>$<salt, base64>$<derived key, base64>
// so a `security.users` entry is one line an operator pastes from
// `vigil config hash-password`. Nothing here logs; the password never leaves the caller.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace vigil::config {

inline constexpr std::string_view password_hash_scheme = "pbkdf2-sha256";
// Bounds a loaded hash must keep: fewer iterations are too cheap to guess against, more
// would stall the node's one loop thread for seconds on every failed AUTH.
inline constexpr std::uint32_t password_iterations_min = 1000;
inline constexpr std::uint32_t password_iterations_max = 10'000'000;
// What `vigil config hash-password` uses unless told otherwise (docs/security.md: cost).
inline constexpr std::uint32_t password_iterations_default = 100'000;
inline constexpr std::size_t password_salt_bytes = 16;
inline constexpr std::size_t password_salt_bytes_min = 8;
inline constexpr std::size_t password_salt_bytes_max = 64;
inline constexpr std::size_t password_key_bytes = 32;  // SHA-256's output

struct PasswordHash {
  std::uint32_t iterations = 0;
  std::vector<std::uint8_t> salt;
  std::vector<std::uint8_t> key;  // PBKDF2(password, salt, iterations), 32 bytes
  friend bool operator==(const PasswordHash&, const PasswordHash&) = default;
};

// invalid_argument naming what is wrong (never echoing the text, which is a secret's hash).
core::Result<PasswordHash> parse_password_hash(std::string_view text);
std::string format_password_hash(const PasswordHash& hash);

// PBKDF2-HMAC-SHA256 of `password` with `salt`.
PasswordHash derive_password_hash(std::string_view password, std::vector<std::uint8_t> salt,
                                  std::uint32_t iterations);
// With a fresh random salt (OpenSSL's RAND_bytes); internal error if it has no entropy.
core::Result<PasswordHash> make_password_hash(std::string_view password,
                                              std::uint32_t iterations);
// Derives again and compares in constant time (CRYPTO_memcmp).
bool verify_password(const PasswordHash& hash, std::string_view password);

// Base64 (RFC 4648, with padding), exposed for tests.
std::string base64_encode(const std::vector<std::uint8_t>& bytes);
core::Result<std::vector<std::uint8_t>> base64_decode(std::string_view text);

}  // namespace vigil::config
