// Client users in the config (docs/security.md): the encoded PBKDF2 hash round-trips and is
// refused with a precise error when it does not parse, and security.users entries are
// checked at load with errors that name the key.

#include <gtest/gtest.h>

#include <string>

#include "config/config_yaml.h"
#include "config/password_hash.h"

namespace vigil::config {
namespace {

std::string hash_of(std::string_view password) {
  return format_password_hash(
      derive_password_hash(password, std::vector<std::uint8_t>(16, 1), password_iterations_min));
}

std::string load_error(const std::string& yaml) {
  const Result<Config> config = config_from_yaml(yaml, "node.yaml");
  return config.ok() ? "<ok>" : config.status().message();
}

TEST(PasswordHash, RoundTripsAndVerifies) {
  const Result<PasswordHash> made = make_password_hash("pw", password_iterations_min);
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(made->salt.size(), password_salt_bytes);
  const std::string text = format_password_hash(*made);
  EXPECT_EQ(text.rfind("pbkdf2-sha256$1000$", 0), 0u) << text;
  const Result<PasswordHash> parsed = parse_password_hash(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().to_string();
  EXPECT_EQ(*parsed, *made);
  EXPECT_TRUE(verify_password(*parsed, "pw"));
  EXPECT_FALSE(verify_password(*parsed, "pW"));
  EXPECT_FALSE(verify_password(*parsed, ""));
  // Two hashes of one password differ: the salt is fresh each time.
  EXPECT_NE(format_password_hash(*make_password_hash("pw", password_iterations_min)), text);
}

// RFC 6070-style check against an independent figure: PBKDF2-HMAC-SHA256("password",
// "salt", 1 iteration), the first test vector of RFC 7914 section 11's neighbour (widely
// published): 120fb6cffcf8b32c43e7225256c4f837a86548c9...
TEST(PasswordHash, MatchesTheKnownPbkdf2Vector) {
  const PasswordHash hash =
      derive_password_hash("password", {'s', 'a', 'l', 't'}, 1);
  static constexpr std::uint8_t expected[] = {0x12, 0x0f, 0xb6, 0xcf, 0xfc, 0xf8, 0xb3, 0x2c,
                                              0x43, 0xe7, 0x22, 0x52, 0x56, 0xc4, 0xf8, 0x37};
  ASSERT_EQ(hash.key.size(), 32u);
  EXPECT_TRUE(std::equal(std::begin(expected), std::end(expected), hash.key.begin()));
}

TEST(PasswordHash, MalformedHashesAreRefusedPrecisely) {
  const std::string good = hash_of("x");
  const std::string salt_and_key = good.substr(good.find('$', 14));  // "$SALT$KEY"
  auto message = [](std::string_view text) {
    const Result<PasswordHash> parsed = parse_password_hash(text);
    return parsed.ok() ? "<ok>" : parsed.status().message();
  };
  EXPECT_EQ(message("secret").rfind("not a password hash", 0), 0u);
  EXPECT_EQ(message("bcrypt$1000$a$b").rfind("unknown password hash scheme", 0), 0u);
  EXPECT_EQ(message("pbkdf2-sha256$999" + salt_and_key),
            "iteration count must be a whole number from 1000 to 10000000");
  EXPECT_EQ(message("pbkdf2-sha256$1e4" + salt_and_key),
            "iteration count must be a whole number from 1000 to 10000000");
  EXPECT_EQ(message("pbkdf2-sha256$1000$!!!!$" + good.substr(good.rfind('$') + 1)),
            "salt: not base64");
  EXPECT_EQ(message("pbkdf2-sha256$1000$AAAA$" + good.substr(good.rfind('$') + 1)),
            "salt must be 8 to 64 bytes (got 3)");
  EXPECT_EQ(message(good.substr(0, good.rfind('$')) + "$AAAA"), "key must be 32 bytes (got 3)");
  EXPECT_EQ(message(good + "$more").rfind("not a password hash", 0), 0u);
  EXPECT_EQ(message(good), "<ok>");
}

TEST(SecurityUsers, ValidUsersLoadAndRoundTrip) {
  const std::string yaml = "security:\n  users:\n    - name: alice\n      password_hash: \"" +
                           hash_of("a") +
                           "\"\n      permissions: read-only\n    - name: bob\n"
                           "      password_hash: \"" + hash_of("b") + "\"\n";
  const Result<Config> config = config_from_yaml(yaml, "node.yaml");
  ASSERT_TRUE(config.ok()) << config.status().to_string();
  ASSERT_EQ(config->security.users.size(), 2u);
  EXPECT_EQ(config->security.users[0].name, "alice");
  EXPECT_EQ(config->security.users[0].permissions, Config::Security::Permission::read_only);
  EXPECT_EQ(config->security.users[1].permissions, Config::Security::Permission::read_write)
      << "read-write is the default";
  const Result<Config> back = config_from_yaml(config_to_yaml(*config), "back.yaml");
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, *config);
}

TEST(SecurityUsers, DefaultsShowNoUsersAndNoHash) {
  const std::string defaults = config_defaults_yaml();
  EXPECT_NE(defaults.find("users: []"), std::string::npos);
  EXPECT_EQ(defaults.find("pbkdf2-sha256$"), std::string::npos);
}

TEST(SecurityUsers, BadEntriesAreRefusedNamingTheKey) {
  const std::string hash = hash_of("a");
  EXPECT_EQ(load_error("security:\n  users:\n    - name: alice\n      password_hash: "
                       "\"pbkdf2-sha256$1000$AAAA$AAAA\"\n"),
            "node.yaml:4:22: security.users[0].password_hash: salt must be 8 to 64 bytes (got 3)");
  EXPECT_EQ(load_error("security:\n  users:\n    - name: alice\n"),
            "node.yaml:3:7: security.users[0].password_hash: is required (from `vigil config "
            "hash-password`)");
  EXPECT_EQ(load_error("security:\n  users:\n    - password_hash: \"" + hash + "\"\n"),
            "node.yaml:3:7: security.users[0].name: is required");
  EXPECT_EQ(load_error("security:\n  users:\n    - name: a\n      password_hash: \"" + hash +
                       "\"\n      permissions: admin\n"),
            "node.yaml:5:20: security.users[0].permissions: \"admin\": expected one of "
            "\"read-only\", \"read-write\"");
  EXPECT_EQ(load_error("security:\n  users:\n    - name: a\n      password_hash: \"" + hash +
                       "\"\n      pasword: x\n")
                .rfind("node.yaml:5:7: security.users[0].pasword: unknown key", 0),
            0u);
  EXPECT_EQ(load_error("security:\n  users: alice\n"),
            "node.yaml:2:10: security.users: expected a list of {name, password_hash, "
            "permissions}, got a single value");
  const std::string twice = "security:\n  users:\n    - {name: a, password_hash: \"" + hash +
                            "\"}\n    - {name: a, password_hash: \"" + hash + "\"}\n";
  EXPECT_EQ(load_error(twice),
            "node.yaml:4:14: security.users[1].name: user \"a\" is listed twice (also at "
            "users[0])");
  EXPECT_EQ(load_error("security:\n  users:\n    - {name: \"a b\", password_hash: \"" + hash +
                       "\"}\n"),
            "node.yaml:3:14: security.users[0].name: must be 1-64 printable characters without "
            "spaces (got 3 bytes)");
}

}  // namespace
}  // namespace vigil::config
