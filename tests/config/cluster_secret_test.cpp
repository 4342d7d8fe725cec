// The cluster secret's file (config/cluster_secret.h) and the security keys' relations:
// every refusal names the file or the key, and never the secret.

#include "config/cluster_secret.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "config/config.h"
#include "tests/support/temp_directory.h"

namespace vigil::config {
namespace {

std::string write(const std::string& path, const std::string& text, mode_t mode = 0600) {
  std::ofstream(path, std::ios::binary) << text;
  ::chmod(path.c_str(), mode);
  return path;
}

TEST(ClusterSecretFile, ReadsTheTextWithoutItsTrailingNewline) {
  testing_support::TempDirectory dir("cluster-secret");
  const std::string secret = "0123456789abcdef0123456789abcdef";
  core::Result<ClusterSecretFile> read =
      read_cluster_secret(write(dir.path() + "/s", secret + "\n"));
  ASSERT_TRUE(read.ok()) << read.status().to_string();
  EXPECT_EQ(read->secret, secret);
  EXPECT_FALSE(read->readable_by_others);
  read = read_cluster_secret(write(dir.path() + "/open", secret + "\r\n", 0644));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->secret, secret);
  EXPECT_TRUE(read->readable_by_others);
}

TEST(ClusterSecretFile, RefusalsNameTheFileAndNeverTheSecret) {
  testing_support::TempDirectory dir("cluster-secret");
  const std::string missing = dir.path() + "/missing";
  EXPECT_EQ(read_cluster_secret(missing).status().code(), core::Code::not_found);
  EXPECT_NE(read_cluster_secret(missing).status().message().find(missing), std::string::npos);
  const std::string short_path = write(dir.path() + "/short", "tiny-secret\n");
  const core::Status too_short = read_cluster_secret(short_path).status();
  EXPECT_EQ(too_short.code(), core::Code::invalid_argument);
  EXPECT_EQ(too_short.message(), "cluster secret file " + short_path +
                                     ": the secret is 11 bytes; it must be 16..1024 (make one "
                                     "with `openssl rand -hex 32`)");
  EXPECT_EQ(too_short.message().find("tiny-secret"), std::string::npos);
  const core::Status too_long =
      read_cluster_secret(write(dir.path() + "/long", std::string(5000, 'x'))).status();
  EXPECT_NE(too_long.message().find("longer than 1024 bytes"), std::string::npos)
      << too_long.message();
  const core::Status nul =
      read_cluster_secret(write(dir.path() + "/nul", std::string("0123456789\0abcdefgh", 19)))
          .status();
  EXPECT_NE(nul.message().find("NUL"), std::string::npos);
  EXPECT_NE(read_secret_file(missing, "admin token file").status().message().find(
                "admin token file " + missing),
            std::string::npos);
}

TEST(ClusterSecretFile, NewSecretsAre64HexDigitsAndDiffer) {
  const std::string a = new_cluster_secret_text().value();
  const std::string b = new_cluster_secret_text().value();
  EXPECT_EQ(a.size(), 65U);
  EXPECT_EQ(a.back(), '\n');
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef\n"), std::string::npos);
  EXPECT_NE(a, b);
}

TEST(SecurityKeys, RelationsAreCheckedWithPreciseErrors) {
  Config config;
  EXPECT_TRUE(validate(config).ok());
  config.security.cluster_secret_previous_file = "/etc/vigil/old.secret";
  EXPECT_EQ(validate(config).message(),
            "security.cluster_secret_previous_file: a previous secret needs a current one: set "
            "cluster_secret_file too");
  config.security.cluster_secret_file = "/etc/vigil/old.secret";
  EXPECT_EQ(validate(config).message(),
            "security.cluster_secret_previous_file: names the same file as cluster_secret_file; "
            "the previous secret is another one");
  config.security.cluster_secret_file = "/etc/vigil/new.secret";
  EXPECT_TRUE(validate(config).ok());
  config.security.admin_token_for_views = true;
  EXPECT_EQ(validate(config).message(),
            "security.admin_token_for_views: needs a token: set admin_token_file too");
  config.security.admin_token_file = "/etc/vigil/admin.token";
  EXPECT_TRUE(validate(config).ok());
  config.security.peer_handshake_timeout = core::Duration{0};
  EXPECT_EQ(validate(config).message(),
            "security.peer_handshake_timeout: must be positive (got 0s)");
}

TEST(TlsConfig, APortWithTlsNeedsItsFiles) {
  Config config;
  config.security.tls.client = true;
  EXPECT_EQ(validate(config).message(),
            "security.tls.cert_file: a port uses TLS (client, peer or admin is true): set "
            "cert_file too");
  config.security.tls.cert_file = "/etc/vigil/node.pem";
  EXPECT_EQ(validate(config).message(),
            "security.tls.key_file: a port uses TLS (client, peer or admin is true): set "
            "key_file too");
  config.security.tls.key_file = "/etc/vigil/node.key";
  EXPECT_TRUE(validate(config).ok());  // the client port asks no client certificate
  config.security.tls.peer = true;
  EXPECT_EQ(validate(config).message(),
            "security.tls.ca_file: peers verify each other's certificates: set ca_file too");
  config.security.tls.ca_file = "/etc/vigil/ca.pem";
  EXPECT_TRUE(validate(config).ok());
  config.security.tls.handshake_timeout = core::Duration{0};
  EXPECT_EQ(validate(config).message(),
            "security.tls.handshake_timeout: must be positive (got 0s)");
}

}  // namespace
}  // namespace vigil::config
