// RESP over OpenSSL on a non-blocking socket, replies parsed by hiredis (client/tls_link.h).

#include "client/tls_link.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vigil::client {

namespace {

// The reason in OpenSSL's error queue (emptied), or `fallback`.
std::string openssl_reason(const std::string& fallback) {
  std::string reason = fallback;
  if (const unsigned long queued = ERR_get_error(); queued != 0) {
    if (const char* text = ERR_reason_error_string(queued); text != nullptr) reason = text;
  }
  ERR_clear_error();
  return reason;
}

// OpenSSL writes with write(), which raises SIGPIPE on a connection the node has reset,
// and a library must not kill its application for that (it is a connection error). So a
// SIGPIPE raised by this thread while the guard lives is held blocked, then discarded,
// and the thread's signal mask restored (the usual recipe where MSG_NOSIGNAL cannot be
// passed; a SIGPIPE already pending when the guard starts is left alone).
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &previous_);
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        const timespec none{0, 0};
        while (sigtimedwait(&pipe_, nullptr, &none) == -1 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_;
  sigset_t previous_;
  bool was_pending_ = false;
};

bool is_ip_address(const std::string& host) {
  unsigned char ip[16];
  return ::inet_pton(AF_INET, host.c_str(), ip) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), ip) == 1;
}

}  // namespace

TlsContext::TlsContext(const ClientTlsOptions& options) : options_(options) {
  const auto invalid = [this](const std::string& what) {
    const std::string why = openssl_reason("");
    if (context_ != nullptr) SSL_CTX_free(context_);
    context_ = nullptr;
    throw ClientError(ErrorCode::invalid_argument,
                      "ClientOptions: tls." + what + (why.empty() ? "" : ": " + why));
  };
  if (options_.cert_file.empty() != options_.key_file.empty()) {
    invalid("cert_file and tls.key_file go together");
  }
  context_ = SSL_CTX_new(TLS_client_method());
  if (context_ == nullptr) invalid("cannot make an OpenSSL context");
  SSL_CTX_set_min_proto_version(context_, TLS1_2_VERSION);
  SSL_CTX_set_verify(context_, SSL_VERIFY_PEER, nullptr);
  const int loaded = options_.ca_file.empty() ? SSL_CTX_set_default_verify_paths(context_)
                                              : SSL_CTX_load_verify_locations(
                                                    context_, options_.ca_file.c_str(), nullptr);
  if (loaded != 1)
    invalid("ca_file: cannot load CA certificates from \"" + options_.ca_file + "\"");
  if (!options_.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(context_, options_.cert_file.c_str()) != 1) {
      invalid("cert_file: cannot load \"" + options_.cert_file + "\"");
    }
    if (SSL_CTX_use_PrivateKey_file(context_, options_.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      invalid("key_file: cannot load \"" + options_.key_file + "\"");
    }
    if (SSL_CTX_check_private_key(context_) != 1) {
      invalid("key_file: the key in \"" + options_.key_file +
              "\" does not match the certificate in \"" + options_.cert_file + "\"");
    }
  }
}

TlsContext::~TlsContext() {
  if (context_ != nullptr) SSL_CTX_free(context_);
}

TlsLink::TlsLink(const std::string& host, int port, const TlsContext& context,
                 std::chrono::milliseconds connect_timeout)
    : address_(host + ":" + std::to_string(port)) {
  const Clock::time_point deadline = Clock::now() + connect_timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (::getaddrinfo(host.c_str(), service.c_str(), &hints, &found) != 0 || found == nullptr) {
    fail(ErrorCode::connection, "cannot resolve the host");
  }
  fd_ = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  const int connected = fd_ < 0 ? -1 : ::connect(fd_, found->ai_addr, found->ai_addrlen);
  const int connect_errno = errno;
  ::freeaddrinfo(found);
  if (fd_ < 0 || (connected != 0 && connect_errno != EINPROGRESS)) {
    // The destructor does not run for a throwing constructor: release here.
    const std::string why = std::strerror(connect_errno);
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    fail(ErrorCode::connection, why);
  }
  try {
    if (!wait(POLLOUT, deadline)) fail(ErrorCode::connection, "connect timed out");
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) fail(ErrorCode::connection, std::strerror(error));
    handshake(host, context, deadline);
    reader_ = redisReaderCreate();
    if (reader_ == nullptr) fail(ErrorCode::connection, "out of memory");
  } catch (...) {
    if (ssl_ != nullptr) SSL_free(ssl_);
    ssl_ = nullptr;
    ::close(fd_);
    fd_ = -1;
    throw;
  }
}

TlsLink::~TlsLink() {
  if (reader_ != nullptr) redisReaderFree(reader_);
  // No close_notify: the node does not wait for one either (docs/security.md, "TLS").
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (fd_ >= 0) ::close(fd_);
}

void TlsLink::fail(ErrorCode code, const std::string& why) const {
  throw ClientError(code, (code == ErrorCode::timeout ? "no reply from " : "TLS connection to ") +
                              address_ + (code == ErrorCode::timeout ? " in time: " : ": ") + why);
}

bool TlsLink::wait(short events, Clock::time_point deadline) const {
  pollfd entry{fd_, events, 0};
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    const int ready = ::poll(&entry, 1, left <= 0 ? 0 : static_cast<int>(left));
    if (ready > 0) return true;
    if (ready == 0 || errno != EINTR) return false;
  }
}

void TlsLink::handshake(const std::string& host, const TlsContext& context,
                        Clock::time_point deadline) {
  ssl_ = SSL_new(context.get());
  if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) {
    fail(ErrorCode::connection, openssl_reason("cannot start TLS"));
  }
  const ClientTlsOptions& options = context.options();
  const std::string& name = options.server_name.empty() ? host : options.server_name;
  const bool ip = is_ip_address(name);
  // SNI carries names only (RFC 6066 forbids IP literals).
  // (SSL_set_tlsext_host_name is a macro with a C cast; this is what it expands to.)
  if (!ip) {
    SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(name.c_str()));
  }
  if (options.verify_server_name) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    if ((ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
            : X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0)) != 1) {
      fail(ErrorCode::connection, "cannot check the name \"" + name + "\"");
    }
  }
  const SigpipeGuard no_sigpipe;
  for (;;) {
    const int rc = SSL_connect(ssl_);
    if (rc == 1) return;
    const int why = SSL_get_error(ssl_, rc);
    if (why == SSL_ERROR_WANT_READ || why == SSL_ERROR_WANT_WRITE) {
      if (!wait(why == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
        fail(ErrorCode::connection, "TLS handshake timed out");
      }
      continue;
    }
    const long verified = SSL_get_verify_result(ssl_);
    fail(ErrorCode::connection,
         "TLS handshake failed: " + (verified != X509_V_OK
                                         ? std::string(X509_verify_cert_error_string(verified))
                                         : openssl_reason("the connection closed")));
  }
}

redisReply* TlsLink::call(const std::vector<std::string>& arguments,
                          std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const std::string& argument : arguments) {
    argv.push_back(argument.data());
    lengths.push_back(argument.size());
  }
  char* formatted = nullptr;
  const int length = redisFormatCommandArgv(&formatted, static_cast<int>(argv.size()), argv.data(),
                                            lengths.data());
  if (length < 0) fail(ErrorCode::invalid_argument, "cannot format the command");
  const std::string request(formatted, static_cast<std::size_t>(length));
  redisFreeCommand(formatted);

  const SigpipeGuard no_sigpipe;  // SSL_read may write too (TLS 1.3 key updates)
  std::size_t sent = 0;
  while (sent < request.size()) {
    const int put = SSL_write(ssl_, request.data() + sent, static_cast<int>(request.size() - sent));
    if (put > 0) {
      sent += static_cast<std::size_t>(put);
      continue;
    }
    const int why = SSL_get_error(ssl_, put);
    if (why != SSL_ERROR_WANT_READ && why != SSL_ERROR_WANT_WRITE) {
      fail(ErrorCode::connection, "send failed: " + openssl_reason("the connection broke"));
    }
    if (!wait(why == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
      fail(ErrorCode::timeout, "send timed out");
    }
  }

  char buffer[16 * 1024];
  for (;;) {
    void* reply = nullptr;
    if (redisReaderGetReply(reader_, &reply) != REDIS_OK) {
      fail(ErrorCode::protocol, std::string("unreadable reply: ") + reader_->errstr);
    }
    if (reply != nullptr) return static_cast<redisReply*>(reply);
    const int got = SSL_read(ssl_, buffer, sizeof buffer);
    if (got > 0) {
      if (redisReaderFeed(reader_, buffer, static_cast<std::size_t>(got)) != REDIS_OK) {
        fail(ErrorCode::protocol, "out of memory reading a reply");
      }
      continue;
    }
    const int why = SSL_get_error(ssl_, got);
    if (why == SSL_ERROR_ZERO_RETURN) fail(ErrorCode::connection, "the node closed the connection");
    if (why != SSL_ERROR_WANT_READ && why != SSL_ERROR_WANT_WRITE) {
      fail(ErrorCode::connection, openssl_reason("the connection broke"));
    }
    if (!wait(why == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
      fail(ErrorCode::timeout, "no reply within the request timeout");
    }
  }
}

}  // namespace vigil::client
