#pragma once
// TLS on the node's ports (security.tls; docs/security.md, "TLS"): the contexts built once
// from the config's PEM files, and Stream, one connection that is either plain TCP or TLS
// over TCP behind the same async_read_some/async_write_some, so the client port, the peer
// transport and the admin port (Beast reads and writes any such stream) keep one code path
// and choose per port at run time rather than being templated on the stream type.
//
// Contract:
// - make_tls_context() reads the files once; an error names the config key and the file
//   (never a key's bytes) and the node does not start.
// - A TLS Stream does nothing before handshake_within() succeeds; a plain Stream's
//   handshake completes at once (posted), so callers need not branch.
// - handshake_within() bounds the handshake by a timeout: at the timeout the TCP socket is
//   closed and the handshake completes with asio::error::timed_out.
// - Boost.Asio's ssl::stream allows one read and one write in flight at once, as a plain
//   socket does; callers keep to that.
// - close() closes the TCP socket without a TLS close_notify: every caller closes on an
//   error, a QUIT or a shutdown, where waiting for the peer's close_notify would only hold
//   the connection longer (the client sees the TCP close, as with Redis).

#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "config/config.h"
#include "core/status.h"
#include "core/time.h"

namespace vigil::net {

namespace ssl = boost::asio::ssl;

enum class TlsContextKind {
  serve,        // client and admin ports: present our certificate, ask none
  peer_accept,  // peer port, accepting: present ours, require and verify the dialer's
  peer_dial,    // peer port, dialing: present ours, verify the acceptor's
};

// A context for `kind` from security.tls (cert_file, key_file, and ca_file for the peer
// kinds). TLS 1.2 or later. invalid_argument / io_error naming the key and the file.
core::Result<std::shared_ptr<ssl::context>> make_tls_context(
    const config::Config::Security::Tls& tls, TlsContextKind kind);

class Stream {
 public:
  using tcp = boost::asio::ip::tcp;
  using executor_type = tcp::socket::executor_type;

  // Plain TCP.
  explicit Stream(tcp::socket socket) : plain_(std::move(socket)) {}
  // TLS over `socket` with `context` (which must outlive the stream); no handshake yet.
  Stream(tcp::socket socket, ssl::context& context)
      : tls_(std::make_unique<ssl::stream<tcp::socket>>(std::move(socket), context)) {}
  Stream(Stream&&) = default;
  Stream& operator=(Stream&&) = default;

  bool is_tls() const { return tls_ != nullptr; }
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : *plain_; }
  executor_type get_executor() { return socket().get_executor(); }
  // The OpenSSL connection (nullptr for plain TCP): for the peer name to verify.
  SSL* native_handle() { return tls_ ? tls_->native_handle() : nullptr; }

  template <typename MutableBuffers, typename Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_read_some(buffers, std::forward<Handler>(handler));
    } else {
      plain_->async_read_some(buffers, std::forward<Handler>(handler));
    }
  }

  template <typename ConstBuffers, typename Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_write_some(buffers, std::forward<Handler>(handler));
    } else {
      plain_->async_write_some(buffers, std::forward<Handler>(handler));
    }
  }

  // The TLS handshake as `type` (server on an accepted socket, client on a dialed one),
  // bounded by `timeout`; `done(error_code)` runs once. A plain stream: done(success),
  // posted. REQUIRES: the stream outlives the handshake (`done` keeps its owner alive).
  template <typename Handler>
  void handshake_within(ssl::stream_base::handshake_type type, core::Duration timeout,
                        Handler done);

  // Closes the TCP socket (see the contract above). Idempotent.
  void close() {
    boost::system::error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }

 private:
  std::optional<tcp::socket> plain_;
  std::unique_ptr<ssl::stream<tcp::socket>> tls_;
};

// Makes the dialer verify that the acceptor's certificate names `host` (an IP address
// against an IP SAN, a name against a DNS SAN or the CN). False when OpenSSL refuses it.
bool expect_peer_name(Stream& stream, const std::string& host);

template <typename Handler>
void Stream::handshake_within(ssl::stream_base::handshake_type type, core::Duration timeout,
                              Handler done) {
  if (!tls_) {
    boost::asio::post(get_executor(),
                      [done = std::move(done)]() mutable { done(boost::system::error_code()); });
    return;
  }
  struct State {
    explicit State(const executor_type& executor) : timer(executor) {}
    boost::asio::steady_timer timer;
    bool finished = false;
    bool timed_out = false;
  };
  auto state = std::make_shared<State>(get_executor());
  state->timer.expires_after(timeout);
  // The timer handler touches the stream only while the handshake is pending, and the
  // pending handshake's handler (`done`) keeps the stream's owner alive until then.
  state->timer.async_wait([this, state](const boost::system::error_code& error) {
    if (error || state->finished) return;
    state->timed_out = true;
    close();
  });
  tls_->async_handshake(
      type, [state, done = std::move(done)](const boost::system::error_code& error) mutable {
        state->finished = true;
        state->timer.cancel();
        done(state->timed_out ? boost::system::error_code(boost::asio::error::timed_out) : error);
      });
}

}  // namespace vigil::net
