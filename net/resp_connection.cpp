// Theory of operation. A connection is a loop of reads into the incremental parser; each
// whole request gets the next sequence number and a slot in a queue, and is handed to
// execute_command(). Replies complete in any order (a GET may wait for replicas while a
// PING after it answers at once); complete() fills the slot and flush() moves the ready
// prefix of the queue into the output, so the client sees replies in request order, as
// RESP pipelining requires (Redis answers in order because it runs one command at a time;
// we run many and reorder).
//
// Order of effects. Running many at once must not let a connection's commands overtake
// each other on a key: a GET pipelined after a SET of the same key must see the SET, as
// with Redis. Each request is submitted to a core::SessionOrder (the rule is written
// there once and the simulator's pipelining clients use it too): it runs at once unless
// an earlier request of this connection on one of its keys (or an earlier barrier such as
// CONSISTENCY, see command_order()) has not completed; it then waits in its slot, and the
// completion that frees it starts it. Requests on other keys still run concurrently.
// "Completed" is the reply existing, which for a write means the node acknowledged it,
// after its commit. Released requests start from one loop (run_released()), not from
// inside each other's completions, so a chain of releases does not nest on the stack.
//
// Writes. Replies that complete within one loop turn (a burst of node replies, or the
// answers to one read's worth of pipelined PINGs) go out in one write: flush() moves the
// ready prefix into the output and posts start_write() to the end of the turn instead of
// writing at once.
//
// Reading stops while too many requests await their replies or too many reply bytes are
// unsent, and resumes when that drains: a client cannot make the node hold more than
// those bounds for it. After QUIT, a protocol error or the client's EOF nothing more is
// read: the replies owed so far are written (the protocol error's own "-ERR Protocol
// error: ..." last), then the connection closes. Only this connection: a malformed
// request never affects another client.

#include "net/resp_connection.h"

#include <algorithm>

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "core/assert.h"
#include "net/resp_reply.h"

namespace vigil::net {

ConnectionLimits connection_limits(const config::Config& config) {
  ConnectionLimits limits;
  limits.parser = resp_limits(config);
  const std::size_t value_max = static_cast<std::size_t>(config.limits.value_bytes_max);
  limits.reply_bytes_max = std::max<std::size_t>(limits.reply_bytes_max, 2 * value_max + (1 << 20));
  limits.output_bytes_max = std::max(limits.output_bytes_max, 2 * limits.reply_bytes_max);
  limits.tls_handshake_timeout = config.security.tls.handshake_timeout;
  return limits;
}

RespConnection::RespConnection(Stream stream,
                               std::shared_ptr<CommandEnvironment> environment,
                               ConnectionLimits limits, std::uint64_t id,
                               std::function<void()> on_closed)
    : stream_(std::move(stream)),
      environment_(std::move(environment)),
      limits_(limits),
      parser_(limits.parser),
      on_closed_(std::move(on_closed)),
      order_(limits.pending_requests_max) {
  session_.id = id;
}

void RespConnection::start() {
  stream_.handshake_within(ssl::stream_base::server, limits_.tls_handshake_timeout,
                           [self = shared_from_this()](const boost::system::error_code& error) {
                             if (self->closed_) return;
                             if (error) {
                               // Not TLS, another CA, too slow: nothing was read from it.
                               self->environment_->metrics.tls_handshake_failed("client");
                               return self->close();
                             }
                             self->read_more();
                           });
}

void RespConnection::close() {
  if (closed_) return;
  closed_ = true;
  stream_.close();
  slots_.clear();
  queued_.clear();
  order_.clear();
  released_.clear();
  if (on_closed_) {
    auto on_closed = std::move(on_closed_);
    on_closed_ = nullptr;
    on_closed();
  }
}

bool RespConnection::may_read() const {
  return !closed_ && !input_done_ && slots_.size() < limits_.pending_requests_max &&
         output_bytes() < limits_.output_pause_bytes;
}

void RespConnection::read_more() {
  if (reading_ || !may_read()) return;
  reading_ = true;
  stream_.async_read_some(asio::buffer(read_buffer_),
                          [self = shared_from_this()](const boost::system::error_code& error,
                                                      std::size_t bytes) {
                            self->on_read(error, bytes);
                          });
}

void RespConnection::on_read(const boost::system::error_code& error, std::size_t bytes) {
  reading_ = false;
  if (closed_) return;
  if (error) {
    // EOF or reset: answer what was asked if the socket still takes it, then close.
    input_done_ = true;
    if (slots_.empty() && output_bytes() == 0) return close();
    close_after_write_ = true;
    return flush();
  }
  parser_.feed(std::string_view(read_buffer_.data(), bytes));
  process_input();
}

void RespConnection::process_input() {
  if (processing_ || closed_) return;
  processing_ = true;
  while (!closed_ && !input_done_ && slots_.size() < limits_.pending_requests_max &&
         output_bytes() < limits_.output_pause_bytes) {
    ParseResult result = parser_.next();
    if (result.outcome == ParseOutcome::need_more) break;
    if (result.outcome == ParseOutcome::error) {
      environment_->metrics.protocol_error();
      input_done_ = true;
      slots_.push_back(Slot{true, true, resp::error("ERR " + result.error), {}});
      break;
    }
    dispatch(std::move(result.arguments));
  }
  processing_ = false;
  flush();
  read_more();
}

void RespConnection::dispatch(std::vector<std::string> arguments) {
  const std::uint64_t sequence = first_sequence_ + slots_.size();
  CommandOrder order = command_order(arguments);
  slots_.push_back(Slot{});
  switch (order_.submit(sequence, std::move(order.keys), order.barrier)) {
    case core::SessionOrder::Admission::run:
      slots_.back().arguments = std::move(arguments);
      released_.push_back(sequence);
      break;
    case core::SessionOrder::Admission::wait:
      environment_->metrics.command_ordered_wait();
      slots_.back().arguments = std::move(arguments);
      break;
    case core::SessionOrder::Admission::refused: {
      // Not reached while the order's capacity equals the slot bound that gates reading;
      // kept as an answer rather than an assertion because it costs nothing.
      environment_->metrics.record_error("refused");
      Slot& slot = slots_.back();
      slot.ready = true;
      slot.bytes = resp::error("ERR too many requests waiting on this connection");
      break;
    }
  }
  run_released();
}

void RespConnection::run_released() {
  if (running_) return;  // the outer call's loop starts them
  running_ = true;
  while (!closed_ && !released_.empty()) {
    const std::uint64_t sequence = released_.front();
    released_.pop_front();
    if (sequence < first_sequence_ || sequence - first_sequence_ >= slots_.size()) continue;
    std::vector<std::string> arguments = std::move(slots_[sequence - first_sequence_].arguments);
    auto self = shared_from_this();
    execute_command(environment_, session_, std::move(arguments),
                    [self, sequence](std::string reply) {
                      self->complete(sequence, std::move(reply));
                    });
  }
  running_ = false;
}

void RespConnection::complete(std::uint64_t sequence, std::string reply) {
  if (closed_ || sequence < first_sequence_ || sequence - first_sequence_ >= slots_.size()) {
    return;  // closed, or dropped after QUIT or a protocol error
  }
  Slot& slot = slots_[sequence - first_sequence_];
  VIGIL_ASSERT(!slot.ready, "a reply completed twice");
  slot.ready = true;
  if (session_.quit && !quit_seen_) {
    // QUIT answers at once, from inside execute_command: this is its reply, the last one;
    // nothing after it is read or run.
    quit_seen_ = true;
    input_done_ = true;
    slot.last = true;
  }
  if (reply.size() > limits_.reply_bytes_max) {
    environment_->metrics.record_error("too_large");
    reply = resp::error("ERR reply of " + std::to_string(reply.size()) +
                        " bytes is over the limit of " + std::to_string(limits_.reply_bytes_max) +
                        " bytes (ask for fewer keys at once)");
  }
  slot.bytes = std::move(reply);
  if (!slot.last) {
    for (const std::uint64_t released : order_.complete(sequence)) released_.push_back(released);
  }
  flush();
  run_released();
}

void RespConnection::flush() {
  if (closed_) return;
  while (!slots_.empty() && slots_.front().ready) {
    Slot& slot = slots_.front();
    queued_ += slot.bytes;
    ++queued_replies_;
    const bool last = slot.last;
    slots_.pop_front();
    ++first_sequence_;
    if (last) {
      // Replies owed after QUIT or a protocol error are dropped; their late completions
      // find no slot (sequence >= first_sequence_ + size) and are ignored.
      first_sequence_ += slots_.size();
      slots_.clear();
      order_.clear();
      released_.clear();
      close_after_write_ = true;
    }
  }
  if (output_bytes() > limits_.output_bytes_max) {
    environment_->metrics.output_limit_closed();
    return close();
  }
  if (write_active_ || write_posted_) return;
  if (queued_.empty()) {
    if (close_after_write_ && slots_.empty()) close();
    return;
  }
  write_posted_ = true;
  asio::post(stream_.get_executor(), [self = shared_from_this()] { self->start_write(); });
}

void RespConnection::start_write() {
  write_posted_ = false;
  if (closed_ || write_active_) return;
  if (queued_.empty()) {
    if (close_after_write_ && slots_.empty()) close();
    return;
  }
  environment_->metrics.reply_write(queued_replies_);
  queued_replies_ = 0;
  write_active_ = true;
  writing_ = std::move(queued_);
  queued_.clear();
  asio::async_write(stream_, asio::buffer(writing_),
                    [self = shared_from_this()](const boost::system::error_code& error,
                                                std::size_t) { self->on_write(error); });
}

void RespConnection::on_write(const boost::system::error_code& error) {
  write_active_ = false;
  writing_.clear();
  if (closed_) return;
  if (error) return close();
  flush();
  if (!closed_) process_input();  // reading may have paused on the output bound
}

}  // namespace vigil::net
