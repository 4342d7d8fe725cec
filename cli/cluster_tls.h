#pragma once
// Throwaway certificates for a local cluster (`vigil cluster up --tls`; docs/security.md,
// "TLS"): one CA and, per node, a certificate the CA signed for the node's loopback address,
// made with libcrypto's EVP/X509 calls (no openssl binary). Files, in the cluster's dir:
//
//   DIR/tls/ca.pem       the CA's certificate (what clients pass to redis-cli --cacert)
//   DIR/tls/ca.key       the CA's key (0600): kept so that a later rerun could sign more
//   DIR/tls/nK.pem       node K's certificate (CN and IP SAN: its host, 127.0.0.1)
//   DIR/tls/nK.key       node K's key (0600)
//
// Keys are ECDSA P-256 and signatures SHA-256: small and fast to make, and every TLS 1.2 or
// 1.3 client (redis-cli, hiredis, Python's ssl) takes them. These are for a cluster on
// one machine; a real deployment brings certificates from its own CA.

#include <chrono>
#include <string>
#include <vector>

#include "cli/cluster_layout.h"
#include "core/status.h"

namespace vigil::cli {

struct PemCertificate {
  std::string certificate;  // PEM
  std::string private_key;  // PEM, PKCS#8, unencrypted
};

// A self-signed CA certificate (basicConstraints CA:TRUE, keyCertSign) valid for `valid_for`
// from an hour ago (clock skew between processes). failed_precondition when libcrypto fails.
core::Result<PemCertificate> make_ca_certificate(const std::string& common_name,
                                                 std::chrono::hours valid_for);
// A certificate for `host` signed by `ca`: CN `host`, subjectAltName IP:host when it is an
// IP address (DNS:host otherwise), usable by TLS servers and clients alike (a peer both
// accepts and dials). invalid_argument when `ca` does not parse.
core::Result<PemCertificate> make_node_certificate(const PemCertificate& ca,
                                                   const std::string& host,
                                                   std::chrono::hours valid_for);

// The paths above.
std::string cluster_tls_dir(const ClusterLayout& layout);
std::string cluster_ca_path(const ClusterLayout& layout);
std::string node_certificate_path(const ClusterLayout& layout, std::size_t index);
std::string node_key_path(const ClusterLayout& layout, std::size_t index);

// Writes the CA and every node's certificate and key unless DIR/tls/ca.pem exists (a rerun
// keeps them, as it keeps the cluster secret). io_error naming the file.
core::Status ensure_cluster_tls(const ClusterLayout& layout);

}  // namespace vigil::cli
