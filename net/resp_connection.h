#pragma once
// One client connection of the client port (net/resp_server.h): reads requests, runs them
// (net/client_commands.h) in per-key order (core/node/session_order.h), writes the
// replies in request order, the replies completed in one loop turn in one write.
//
// Bounds: the parser's (net/resp_parser.h); at most pending_requests_max requests awaiting
// their replies and at most output_pause_bytes of unsent replies before reading pauses
// (back-pressure on a client that pipelines faster than the node answers or than it reads
// its replies); one reply over reply_bytes_max is replaced by an error; past
// output_bytes_max unsent bytes the connection is closed (counted).

#include <cstddef>
#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "core/node/session_order.h"
#include "core/time.h"
#include "net/client_commands.h"
#include "net/resp_parser.h"
#include "net/tls_stream.h"

namespace vigil::net {

namespace asio = boost::asio;

struct ConnectionLimits {
  RespLimits parser;
  std::size_t pending_requests_max = 1024;
  std::size_t output_pause_bytes = 1 << 20;
  std::size_t reply_bytes_max = 64 << 20;
  std::size_t output_bytes_max = 256 << 20;
  // A TLS connection whose handshake has not finished by then is closed (counted).
  core::Duration tls_handshake_timeout = std::chrono::seconds(5);
};
// The parser's bounds from the config (resp_limits), and a reply bound of at least twice
// limits.value_bytes_max (an MGET of two largest values).
ConnectionLimits connection_limits(const config::Config& config);

class RespConnection : public std::enable_shared_from_this<RespConnection> {
 public:
  // `on_closed` runs once, when the connection closes (on the loop thread). `stream` is
  // plain TCP or TLS not yet handshaken (net/tls_stream.h).
  RespConnection(Stream stream, std::shared_ptr<CommandEnvironment> environment,
                 ConnectionLimits limits, std::uint64_t id, std::function<void()> on_closed);

  // Runs the TLS handshake when the stream is TLS (a failure closes the connection and is
  // counted in Metrics), then reads requests.
  void start();
  // Closes the socket now; replies still owed are dropped. Idempotent.
  void close();

 private:
  struct Slot {
    bool ready = false;
    bool last = false;  // QUIT or a protocol error: close once this reply is written
    std::string bytes;
    std::vector<std::string> arguments;  // the request, until it runs
  };

  void read_more();
  void on_read(const boost::system::error_code& error, std::size_t bytes);
  void process_input();
  void dispatch(std::vector<std::string> arguments);
  void run_released();
  void complete(std::uint64_t sequence, std::string reply);
  void flush();
  void start_write();
  void on_write(const boost::system::error_code& error);
  bool may_read() const;
  std::size_t output_bytes() const { return queued_.size() + writing_.size(); }

  Stream stream_;
  std::shared_ptr<CommandEnvironment> environment_;
  ConnectionLimits limits_;
  RespParser parser_;
  ClientSession session_;
  std::function<void()> on_closed_;
  std::array<char, 16384> read_buffer_{};
  std::deque<Slot> slots_;
  core::SessionOrder order_;            // which requests may run (per-key order)
  std::deque<std::uint64_t> released_;  // sequences the order let run, not yet started
  std::uint64_t queued_replies_ = 0;    // replies in queued_
  std::uint64_t first_sequence_ = 0;  // the sequence number of slots_.front()
  std::string queued_;                // replies in order, not yet handed to a write
  std::string writing_;               // the bytes of the write in progress
  bool reading_ = false;
  bool write_active_ = false;
  bool processing_ = false;
  bool running_ = false;        // inside run_released(): started commands may complete
  bool write_posted_ = false;   // start_write() runs at the end of this loop turn
  bool input_done_ = false;   // QUIT, a protocol error or the client's EOF: read no more
  bool close_after_write_ = false;
  bool quit_seen_ = false;
  bool closed_ = false;
};

}  // namespace vigil::net
