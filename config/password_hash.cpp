#include "config/password_hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>

namespace vigil::config {

using core::Code;
using core::error;

std::string base64_encode(const std::vector<std::uint8_t>& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                      static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

core::Result<std::vector<std::uint8_t>> base64_decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) {
    return error(Code::invalid_argument, "not base64 (its length is not a multiple of 4)");
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '+' || c == '/';
    const bool padding = c == '=' && i + 2 >= text.size() &&
                         (i + 1 == text.size() || text[i + 1] == '=');
    if (!letter && !padding) return error(Code::invalid_argument, "not base64");
  }
  std::vector<std::uint8_t> out(text.size() / 4 * 3);
  const int written = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                      static_cast<int>(text.size()));
  if (written < 0) return error(Code::invalid_argument, "not base64");
  // EVP_DecodeBlock counts the padding as zero bytes; drop them.
  std::size_t size = static_cast<std::size_t>(written);
  if (text.ends_with("==")) {
    size -= 2;
  } else if (text.ends_with("=")) {
    size -= 1;
  }
  out.resize(size);
  return out;
}

core::Result<PasswordHash> parse_password_hash(std::string_view text) {
  const std::string expected =
      "expected " + std::string(password_hash_scheme) +
      "$ITERATIONS$SALT$KEY as printed by `vigil config hash-password`";
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (parts.size() < 5) {
    const std::size_t end = text.find('$', start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  if (parts.size() != 4) return error(Code::invalid_argument, "not a password hash: " + expected);
  if (parts[0] != password_hash_scheme) {
    return error(Code::invalid_argument, "unknown password hash scheme (only " +
                                             std::string(password_hash_scheme) +
                                             " is supported): " + expected);
  }
  PasswordHash hash;
  const auto [end, ec] =
      std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), hash.iterations);
  if (parts[1].empty() || ec != std::errc() || end != parts[1].data() + parts[1].size() ||
      hash.iterations < password_iterations_min || hash.iterations > password_iterations_max) {
    return error(Code::invalid_argument,
                 "iteration count must be a whole number from " +
                     std::to_string(password_iterations_min) + " to " +
                     std::to_string(password_iterations_max));
  }
  auto salt = base64_decode(parts[2]);
  if (!salt.ok()) return error(Code::invalid_argument, "salt: " + salt.status().message());
  if (salt->size() < password_salt_bytes_min || salt->size() > password_salt_bytes_max) {
    return error(Code::invalid_argument, "salt must be " +
                                             std::to_string(password_salt_bytes_min) + " to " +
                                             std::to_string(password_salt_bytes_max) +
                                             " bytes (got " + std::to_string(salt->size()) + ")");
  }
  auto key = base64_decode(parts[3]);
  if (!key.ok()) return error(Code::invalid_argument, "key: " + key.status().message());
  if (key->size() != password_key_bytes) {
    return error(Code::invalid_argument, "key must be " + std::to_string(password_key_bytes) +
                                             " bytes (got " + std::to_string(key->size()) + ")");
  }
  hash.salt = std::move(salt).value();
  hash.key = std::move(key).value();
  return hash;
}

std::string format_password_hash(const PasswordHash& hash) {
  return std::string(password_hash_scheme) + "$" + std::to_string(hash.iterations) + "$" +
         base64_encode(hash.salt) + "$" + base64_encode(hash.key);
}

PasswordHash derive_password_hash(std::string_view password, std::vector<std::uint8_t> salt,
                                  std::uint32_t iterations) {
  PasswordHash hash;
  hash.iterations = iterations;
  hash.salt = std::move(salt);
  hash.key.resize(password_key_bytes);
  const int ok = PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                                   hash.salt.data(), static_cast<int>(hash.salt.size()),
                                   static_cast<int>(iterations), EVP_sha256(),
                                   static_cast<int>(hash.key.size()), hash.key.data());
  if (ok != 1) hash.key.assign(password_key_bytes, 0);  // never equal to a real key's check
  return hash;
}

core::Result<PasswordHash> make_password_hash(std::string_view password,
                                              std::uint32_t iterations) {
  std::vector<std::uint8_t> salt(password_salt_bytes);
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    return error(Code::failed_precondition, "no randomness for a salt (RAND_bytes failed)");
  }
  return derive_password_hash(password, std::move(salt), iterations);
}

bool verify_password(const PasswordHash& hash, std::string_view password) {
  if (hash.key.size() != password_key_bytes) return false;
  const PasswordHash derived = derive_password_hash(password, hash.salt, hash.iterations);
  return CRYPTO_memcmp(derived.key.data(), hash.key.data(), password_key_bytes) == 0;
}

}  // namespace vigil::config
