// TLS contexts from security.tls. Why these choices:
// - TLS 1.2 is the floor (1.0 and 1.1 are deprecated by RFC 8996); OpenSSL negotiates 1.3
//   when both sides have it, which Debian 12's OpenSSL 3.0 does.
// - The client and admin ports ask no client certificate: clients authenticate with AUTH
//   and the admin token (docs/security.md), as Redis' default tls-auth-clients does not
//   apply to them here. The peer port is mutual: the acceptor requires the dialer's
//   certificate and both verify the other's chain against ca_file; the dialer also checks
//   the acceptor's name (its configured address) so a node holding some other certificate
//   of the same CA cannot answer for an address it was not issued for.
// - The HMAC handshake (net/peer_handshake.h) still runs inside TLS: the certificate says
//   "a machine the CA vouched for", the secret says "a member of this cluster", and the
//   handshake binds the node id, which the certificate does not carry.

#include "net/tls_stream.h"

#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>

namespace vigil::net {

namespace {

core::Status file_error(std::string_view key, const std::string& path, std::string_view what,
                        const boost::system::error_code& error) {
  return core::error(core::Code::invalid_argument, "security.tls." + std::string(key) + ": " +
                                                       std::string(what) + " " + path + ": " +
                                                       error.message());
}

}  // namespace

core::Result<std::shared_ptr<ssl::context>> make_tls_context(
    const config::Config::Security::Tls& tls, TlsContextKind kind) {
  auto context = std::make_shared<ssl::context>(
      kind == TlsContextKind::peer_dial ? ssl::context::tls_client : ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  context->set_options(ssl::context::default_workarounds | ssl::context::single_dh_use);
  boost::system::error_code error;
  context->use_certificate_chain_file(tls.cert_file, error);
  if (error) return file_error("cert_file", tls.cert_file, "cannot use the certificate in", error);
  context->use_private_key_file(tls.key_file, ssl::context::pem, error);
  if (error) return file_error("key_file", tls.key_file, "cannot use the private key in", error);
  if (SSL_CTX_check_private_key(native) != 1) {
    return core::error(core::Code::invalid_argument,
                       "security.tls.key_file: the key in " + tls.key_file +
                           " does not match the certificate in " + tls.cert_file);
  }
  if (kind == TlsContextKind::serve) return context;
  context->load_verify_file(tls.ca_file, error);
  if (error) return file_error("ca_file", tls.ca_file, "cannot load the CA certificates in", error);
  context->set_verify_mode(kind == TlsContextKind::peer_accept
                               ? ssl::verify_peer | ssl::verify_fail_if_no_peer_cert
                               : ssl::verify_peer);
  return context;
}

bool expect_peer_name(Stream& stream, const std::string& host) {
  SSL* handle = stream.native_handle();
  if (handle == nullptr) return true;
  X509_VERIFY_PARAM* param = SSL_get0_param(handle);
  boost::system::error_code error;
  boost::asio::ip::make_address(host, error);
  if (!error) return X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1;
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) == 1;
}

}  // namespace vigil::net
