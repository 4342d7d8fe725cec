// `vigil cluster up --tls`'s certificates (cli/cluster_tls.h): a node certificate chains to
// its CA and names 127.0.0.1, one from another CA does not verify, the files are written
// with 0600 keys and kept on a rerun, and net/'s TLS contexts accept them.

#include "cli/cluster_tls.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <string>

#include "cli/cluster_files.h"
#include "net/tls_stream.h"
#include "tests/support/temp_directory.h"

namespace vigil::cli {
namespace {

using testing_support::TempDirectory;
constexpr std::chrono::hours one_day{24};

struct X509Free {
  void operator()(X509* certificate) const { X509_free(certificate); }
};
using Certificate = std::unique_ptr<X509, X509Free>;

Certificate parse(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  Certificate certificate(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return certificate;
}

// X509_V_OK when `leaf` chains to `ca` (and is usable now).
int verify(const std::string& ca, const std::string& leaf) {
  Certificate root = parse(ca);
  Certificate certificate = parse(leaf);
  if (!root || !certificate) return -1;
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, root.get());
  X509_STORE_CTX* context = X509_STORE_CTX_new();
  X509_STORE_CTX_init(context, store, certificate.get(), nullptr);
  X509_STORE_CTX_set_purpose(context, X509_PURPOSE_SSL_SERVER);
  const int verified = X509_verify_cert(context);
  const int error = verified == 1 ? X509_V_OK : X509_STORE_CTX_get_error(context);
  X509_STORE_CTX_free(context);
  X509_STORE_free(store);
  return error;
}

TEST(ClusterTls, NodeCertificateChainsToItsCaAndNamesItsAddress) {
  const core::Result<PemCertificate> ca = make_ca_certificate("test CA", one_day);
  ASSERT_TRUE(ca.ok()) << ca.status().to_string();
  const core::Result<PemCertificate> node = make_node_certificate(*ca, "127.0.0.1", one_day);
  ASSERT_TRUE(node.ok()) << node.status().to_string();
  EXPECT_NE(node->private_key.find("BEGIN PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(verify(ca->certificate, node->certificate), X509_V_OK);
  Certificate certificate = parse(node->certificate);
  ASSERT_TRUE(certificate);
  EXPECT_EQ(X509_check_ip_asc(certificate.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(certificate.get(), "127.0.0.2", 0), 0);
  EXPECT_EQ(X509_check_ca(certificate.get()), 0);  // a leaf cannot sign others
  // As a client certificate too: a peer both accepts and dials.
  EXPECT_EQ(X509_check_purpose(certificate.get(), X509_PURPOSE_SSL_CLIENT, 0), 1);
}

TEST(ClusterTls, CertificateOfAnotherCaDoesNotVerify) {
  const core::Result<PemCertificate> ca = make_ca_certificate("test CA", one_day);
  const core::Result<PemCertificate> other = make_ca_certificate("test CA", one_day);
  ASSERT_TRUE(ca.ok() && other.ok());
  const core::Result<PemCertificate> rogue = make_node_certificate(*other, "127.0.0.1", one_day);
  ASSERT_TRUE(rogue.ok());
  EXPECT_NE(verify(ca->certificate, rogue->certificate), X509_V_OK);
  EXPECT_FALSE(
      make_node_certificate({"not a certificate", "nor a key"}, "127.0.0.1", one_day).ok());
}

TEST(ClusterTls, FilesAreWrittenOnceWithPrivateKeysAndLoadIntoContexts) {
  TempDirectory temp("vigil-cluster-tls");
  core::Result<ClusterLayout> layout = layout_from_base_port(temp.path(), 2, 6401);
  ASSERT_TRUE(layout.ok());
  ASSERT_TRUE(ensure_cluster_tls(*layout).ok());
  struct stat info {};
  ASSERT_EQ(::stat(node_key_path(*layout, 1).c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((cluster_tls_dir(*layout) + "/ca.key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  const core::Result<std::string> ca = read_small_file(cluster_ca_path(*layout));
  const core::Result<std::string> n2 = read_small_file(node_certificate_path(*layout, 1));
  ASSERT_TRUE(ca.ok() && n2.ok());
  EXPECT_EQ(verify(*ca, *n2), X509_V_OK);
  // A rerun keeps them (the nodes' configs name these files).
  ASSERT_TRUE(ensure_cluster_tls(*layout).ok());
  EXPECT_EQ(*read_small_file(cluster_ca_path(*layout)), *ca);

  config::Config::Security::Tls tls;
  tls.cert_file = node_certificate_path(*layout, 0);
  tls.key_file = node_key_path(*layout, 0);
  tls.ca_file = cluster_ca_path(*layout);
  for (const net::TlsContextKind kind :
       {net::TlsContextKind::serve, net::TlsContextKind::peer_accept,
        net::TlsContextKind::peer_dial}) {
    const auto context = net::make_tls_context(tls, kind);
    EXPECT_TRUE(context.ok()) << context.status().to_string();
  }
  tls.key_file = node_key_path(*layout, 1);  // n2's key with n1's certificate
  const auto mismatched = net::make_tls_context(tls, net::TlsContextKind::serve);
  ASSERT_FALSE(mismatched.ok());
  EXPECT_NE(mismatched.status().message().find("security.tls.key_file"), std::string::npos);
  tls.cert_file = temp.file("missing.pem");
  const auto missing = net::make_tls_context(tls, net::TlsContextKind::serve);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("security.tls.cert_file"), std::string::npos);
}

}  // namespace
}  // namespace vigil::cli
