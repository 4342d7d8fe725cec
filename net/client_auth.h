#pragma once
// Client authentication on the client port (docs/security.md): AUTH, HELLO ... AUTH and the
// permission check before each command. Users come from config security.users; with none,
// every connection is the `default` user with every permission, as before.
//
// Cost. A password is checked with PBKDF2 (config/password_hash.h), which is slow on
// purpose and runs on the node's one loop thread. A successful check is remembered per user
// as HMAC-SHA256(a random per-process key, password), so a client that reconnects and
// AUTHs again with the right password costs one HMAC, not one KDF; a wrong password always
// pays the whole KDF (the tag cannot match it), which keeps guessing slow. One tag per
// configured user: bounded by the config.

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "config/config.h"

namespace vigil::net {

class VerifiedPasswords {
 public:
  // The user `name` with password `password`, or nullptr (no such user, or wrong password).
  const config::Config::Security::User* authenticate(const config::Config& config,
                                                     std::string_view name,
                                                     std::string_view password);
  // KDF runs so far (for tests: a cached success does not run one).
  std::uint64_t kdf_runs() const { return kdf_runs_; }

 private:
  using Tag = std::array<std::uint8_t, 32>;
  Tag tag(std::string_view password);

  Tag key_{};
  bool keyed_ = false;
  std::map<std::string, Tag> tags_;  // user -> tag of the password last verified for it
  std::uint64_t kdf_runs_ = 0;
};

}  // namespace vigil::net
