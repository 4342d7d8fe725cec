// Certificates for `vigil cluster up --tls` (cli/cluster_tls.h), built with libcrypto.
//
// Each OpenSSL object is held by a unique_ptr with its free function, so every early
// return frees what was made. Serial numbers are 16 random bytes (RFC 5280 asks for
// uniqueness per CA; randomness gives it without state). Extensions are added through
// X509V3_EXT_conf_nid with an issuer/subject context so the key identifiers are computed
// by OpenSSL rather than by hand.

#include "cli/cluster_tls.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <memory>

#include "cli/cluster_files.h"

namespace vigil::cli {
namespace {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* pointer) const {
    Free(pointer);
  }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using Certificate = std::unique_ptr<X509, Deleter<X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using Extension = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using BigNumber = std::unique_ptr<BIGNUM, Deleter<BN_free>>;

core::Status failed(const std::string& what) {
  return core::error(core::Code::failed_precondition,
                     "making a TLS certificate: " + what + " failed (libcrypto)");
}

Key new_key() {
  EVP_PKEY* key = nullptr;
  EVP_PKEY_CTX* context = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr);
  if (context != nullptr && EVP_PKEY_keygen_init(context) == 1 &&
      EVP_PKEY_CTX_set_ec_paramgen_curve_nid(context, NID_X9_62_prime256v1) == 1) {
    EVP_PKEY_keygen(context, &key);
  }
  EVP_PKEY_CTX_free(context);
  return Key(key);
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  return length > 0 ? std::string(data, static_cast<std::size_t>(length)) : std::string();
}

bool add_extension(X509* certificate, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  Extension extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value));
  return extension && X509_add_ext(certificate, extension.get(), -1) == 1;
}

// A certificate for `subject_key` named `common_name`, valid from an hour ago for
// `valid_for`, without extensions or signature yet.
Certificate new_certificate(EVP_PKEY* subject_key, const std::string& common_name,
                            std::chrono::hours valid_for) {
  Certificate certificate(X509_new());
  if (!certificate) return nullptr;
  unsigned char serial_bytes[16];
  if (RAND_bytes(serial_bytes, sizeof serial_bytes) != 1) return nullptr;
  serial_bytes[0] &= 0x7f;  // a positive serial
  BigNumber serial(BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr));
  X509_NAME* name = X509_get_subject_name(certificate.get());
  const auto* cn = reinterpret_cast<const unsigned char*>(common_name.c_str());
  const bool ok =
      serial && X509_set_version(certificate.get(), 2) == 1 &&
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate.get())) != nullptr &&
      X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -3600) != nullptr &&
      X509_gmtime_adj(X509_getm_notAfter(certificate.get()),
                      static_cast<long>(valid_for.count()) * 3600) != nullptr &&
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, cn, -1, -1, 0) == 1 &&
      X509_set_pubkey(certificate.get(), subject_key) == 1;
  return ok ? std::move(certificate) : nullptr;
}

core::Result<PemCertificate> to_pem(X509* certificate, EVP_PKEY* key) {
  Bio certificate_bio(BIO_new(BIO_s_mem()));
  Bio key_bio(BIO_new(BIO_s_mem()));
  if (!certificate_bio || !key_bio || PEM_write_bio_X509(certificate_bio.get(), certificate) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return failed("PEM encoding");
  }
  return PemCertificate{bio_text(certificate_bio.get()), bio_text(key_bio.get())};
}

bool is_ip_address(const std::string& host) {
  unsigned char buffer[16];
  return ::inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

}  // namespace

core::Result<PemCertificate> make_ca_certificate(const std::string& common_name,
                                                 std::chrono::hours valid_for) {
  Key key = new_key();
  if (!key) return failed("EC key generation");
  Certificate certificate = new_certificate(key.get(), common_name, valid_for);
  if (!certificate) return failed("the CA certificate");
  X509* self = certificate.get();
  if (X509_set_issuer_name(self, X509_get_subject_name(self)) != 1 ||
      !add_extension(self, self, NID_basic_constraints, "critical,CA:TRUE") ||
      !add_extension(self, self, NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !add_extension(self, self, NID_subject_key_identifier, "hash") ||
      X509_sign(self, key.get(), EVP_sha256()) == 0) {
    return failed("signing the CA certificate");
  }
  return to_pem(self, key.get());
}

core::Result<PemCertificate> make_node_certificate(const PemCertificate& ca,
                                                   const std::string& host,
                                                   std::chrono::hours valid_for) {
  Bio ca_certificate_bio(
      BIO_new_mem_buf(ca.certificate.data(), static_cast<int>(ca.certificate.size())));
  Bio ca_key_bio(BIO_new_mem_buf(ca.private_key.data(), static_cast<int>(ca.private_key.size())));
  Certificate ca_certificate(
      ca_certificate_bio ? PEM_read_bio_X509(ca_certificate_bio.get(), nullptr, nullptr, nullptr)
                         : nullptr);
  Key ca_key(ca_key_bio ? PEM_read_bio_PrivateKey(ca_key_bio.get(), nullptr, nullptr, nullptr)
                        : nullptr);
  if (!ca_certificate || !ca_key) {
    return core::error(core::Code::invalid_argument, "the CA certificate or key does not parse");
  }
  Key key = new_key();
  if (!key) return failed("EC key generation");
  Certificate certificate = new_certificate(key.get(), host, valid_for);
  if (!certificate) return failed("the node certificate");
  X509* node = certificate.get();
  const std::string san = (is_ip_address(host) ? "IP:" : "DNS:") + host;
  if (X509_set_issuer_name(node, X509_get_subject_name(ca_certificate.get())) != 1 ||
      !add_extension(node, ca_certificate.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(node, ca_certificate.get(), NID_key_usage,
                     "critical,digitalSignature,keyEncipherment") ||
      !add_extension(node, ca_certificate.get(), NID_ext_key_usage, "serverAuth,clientAuth") ||
      !add_extension(node, ca_certificate.get(), NID_subject_alt_name, san.c_str()) ||
      !add_extension(node, ca_certificate.get(), NID_authority_key_identifier, "keyid:always") ||
      X509_sign(node, ca_key.get(), EVP_sha256()) == 0) {
    return failed("signing the node certificate");
  }
  return to_pem(node, key.get());
}

std::string cluster_tls_dir(const ClusterLayout& layout) {
  return layout.dir + "/tls";
}
std::string cluster_ca_path(const ClusterLayout& layout) {
  return cluster_tls_dir(layout) + "/ca.pem";
}
std::string node_certificate_path(const ClusterLayout& layout, std::size_t index) {
  return cluster_tls_dir(layout) + "/" + layout.nodes.at(index).id + ".pem";
}
std::string node_key_path(const ClusterLayout& layout, std::size_t index) {
  return cluster_tls_dir(layout) + "/" + layout.nodes.at(index).id + ".key";
}

core::Status ensure_cluster_tls(const ClusterLayout& layout) {
  std::error_code error;
  if (std::filesystem::exists(cluster_ca_path(layout), error)) return core::Status::ok_status();
  core::Status made = make_directories(cluster_tls_dir(layout));
  if (!made.ok()) return made;
  // A local cluster's certificates: long enough to outlive any test or demo.
  constexpr std::chrono::hours valid_for{24 * 365};
  core::Result<PemCertificate> ca = make_ca_certificate("vigil local cluster CA", valid_for);
  if (!ca) return ca.status();
  for (std::size_t i = 0; i < layout.nodes.size(); ++i) {
    core::Result<PemCertificate> node =
        make_node_certificate(*ca, layout.nodes[i].client.host, valid_for);
    if (!node) return node.status();
    core::Status written = write_file_atomically(node_key_path(layout, i), node->private_key, 0600);
    if (written.ok())
      written = write_file_atomically(node_certificate_path(layout, i), node->certificate);
    if (!written.ok()) return written;
  }
  // The CA last: its presence says the directory is complete (a rerun checks it).
  core::Status written =
      write_file_atomically(cluster_tls_dir(layout) + "/ca.key", ca->private_key, 0600);
  if (written.ok()) written = write_file_atomically(cluster_ca_path(layout), ca->certificate);
  return written;
}

}  // namespace vigil::cli
