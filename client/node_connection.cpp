// A bounded, self-healing connection to one node (see node_connection.h).

#include "client/node_connection.h"

#include <cerrno>
#include <sys/time.h>

#include "client/ring_reply.h"

namespace vigil::client {

namespace {

timeval to_timeval(std::chrono::milliseconds duration) {
  const auto count = duration.count();
  return timeval{static_cast<time_t>(count / 1000),
                 static_cast<suseconds_t>((count % 1000) * 1000)};
}

bool starts(std::string_view line, std::string_view prefix) {
  return line.substr(0, prefix.size()) == prefix;
}

}  // namespace

ClientError error_of_line(std::string_view line) {
  const std::string text(line);
  if (starts(line, "UNAVAILABLE") || starts(line, "ERR max number of clients") ||
      starts(line, "LOADING")) {
    return ClientError(ErrorCode::unavailable, text);
  }
  if (starts(line, "TIMEOUT")) return ClientError(ErrorCode::timeout, text);
  if (starts(line, "NOAUTH") || starts(line, "WRONGPASS") || starts(line, "NOPERM")) {
    return ClientError(ErrorCode::no_auth, text);
  }
  return ClientError(ErrorCode::invalid_argument, text);
}

NodeConnection::NodeConnection(std::string address, const ConnectionSettings& settings)
    : address_(std::move(address)), settings_(settings) {}

NodeConnection::~NodeConnection() { close(); }

void NodeConnection::close() {
  if (context_ != nullptr) redisFree(context_);
  context_ = nullptr;
  tls_.reset();
}

void NodeConnection::connect() {
  auto host_port = parse_host_port(address_);
  if (!host_port.ok()) throw ClientError(ErrorCode::invalid_argument, host_port.status().message());
  if (settings_.tls) {
    tls_ = std::make_unique<TlsLink>(host_port->host, host_port->port, *settings_.tls,
                                     settings_.connect_timeout);
  } else {
    redisContext* context = redisConnectWithTimeout(host_port->host.c_str(), host_port->port,
                                                    to_timeval(settings_.connect_timeout));
    if (context == nullptr || context->err != 0) {
      const std::string why = context != nullptr ? context->errstr : "out of memory";
      if (context != nullptr) redisFree(context);
      throw ClientError(ErrorCode::connection, "cannot connect to " + address_ + ": " + why);
    }
    context_ = context;
  }
  std::vector<std::vector<std::string>> setup;
  if (!settings_.password.empty()) {
    setup.push_back(settings_.user.empty()
                        ? std::vector<std::string>{"AUTH", settings_.password}
                        : std::vector<std::string>{"AUTH", settings_.user, settings_.password});
  }
  if (!settings_.consistency.empty()) setup.push_back({"CONSISTENCY", settings_.consistency});
  for (const auto& command : setup) {
    Reply reply = send(command, settings_.request_timeout);
    if (reply->type == REDIS_REPLY_ERROR) {
      const ClientError error = error_of_line(std::string_view(reply->str, reply->len));
      close();
      throw error;
    }
  }
}

Reply NodeConnection::send(const std::vector<std::string>& arguments,
                           std::chrono::milliseconds timeout) {
  if (tls_) {
    try {
      return Reply(tls_->call(arguments, timeout));
    } catch (const ClientError&) {
      close();  // a late reply would otherwise answer the next request
      throw;
    }
  }
  redisSetTimeout(context_, to_timeval(timeout));
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const std::string& argument : arguments) {
    argv.push_back(argument.data());
    lengths.push_back(argument.size());
  }
  errno = 0;
  auto* raw = static_cast<redisReply*>(
      redisCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lengths.data()));
  if (raw == nullptr) {
    const int error_number = errno;
    const std::string why = context_->errstr;
    const bool timed_out = context_->err == REDIS_ERR_IO &&
                           (error_number == EAGAIN || error_number == EWOULDBLOCK ||
                            error_number == ETIMEDOUT);
    const bool unreadable = context_->err == REDIS_ERR_PROTOCOL;
    close();
    if (timed_out) {
      throw ClientError(ErrorCode::timeout, "no reply from " + address_ + " in time: " + why);
    }
    throw ClientError(unreadable ? ErrorCode::protocol : ErrorCode::connection,
                      "connection to " + address_ + " failed: " + why);
  }
  return Reply(raw);
}

Reply NodeConnection::call(const std::vector<std::string>& arguments,
                           std::chrono::milliseconds timeout) {
  if (!connected()) connect();
  return send(arguments, timeout);
}

}  // namespace vigil::client
