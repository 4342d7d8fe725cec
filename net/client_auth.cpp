#include "net/client_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "config/password_hash.h"

namespace vigil::net {

VerifiedPasswords::Tag VerifiedPasswords::tag(std::string_view password) {
  if (!keyed_) {
    // Without randomness the cache stays off: a fixed key would make tags guessable.
    keyed_ = RAND_bytes(key_.data(), static_cast<int>(key_.size())) == 1;
  }
  Tag out{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(password.data()), password.size(), out.data(),
       &length);
  return out;
}

const config::Config::Security::User* VerifiedPasswords::authenticate(
    const config::Config& config, std::string_view name, std::string_view password) {
  const config::Config::Security::User* user = nullptr;
  for (const auto& candidate : config.security.users) {
    if (candidate.name == name) user = &candidate;
  }
  if (user == nullptr) return nullptr;
  const Tag presented = tag(password);
  const auto cached = tags_.find(user->name);
  if (keyed_ && cached != tags_.end() &&
      CRYPTO_memcmp(cached->second.data(), presented.data(), presented.size()) == 0) {
    return user;
  }
  // validate() refused a hash that does not parse, so this only fails for a Config built
  // in code without validating it: then nobody logs in as this user.
  const auto hash = config::parse_password_hash(user->password_hash);
  if (!hash.ok()) return nullptr;
  ++kdf_runs_;
  if (!config::verify_password(*hash, password)) return nullptr;
  if (keyed_) tags_[user->name] = presented;
  return user;
}

}  // namespace vigil::net
