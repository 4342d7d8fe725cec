// vigil::Client's public methods: each is one command through ClientImpl::run, its reply
// checked against the shape docs/client-protocol.md gives it. The *_async forms run the
// same method on the worker thread through a std::packaged_task.

#include "client/client.h"

#include "client/client_impl.h"

namespace vigil {

namespace {

std::string_view as_text(const redisReply& reply) { return {reply.str, reply.len}; }

[[noreturn]] void unexpected(std::string_view command, const redisReply& reply) {
  throw ClientError(ErrorCode::protocol, std::string(command) + ": unexpected reply of type " +
                                             std::to_string(reply.type));
}

std::string bulk_of(std::string_view command, const redisReply& reply) {
  if (reply.type != REDIS_REPLY_STRING) unexpected(command, reply);
  return std::string(as_text(reply));
}

template <class Result, class Call>
std::future<Result> queue(ClientImpl& impl, Call call) {
  auto task = std::make_shared<std::packaged_task<Result()>>(std::move(call));
  std::future<Result> future = task->get_future();
  impl.post([task] { (*task)(); });
  return future;
}

}  // namespace

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::unavailable: return "unavailable";
    case ErrorCode::timeout: return "timeout";
    case ErrorCode::connection: return "connection";
    case ErrorCode::no_auth: return "no_auth";
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::protocol: return "protocol";
  }
  return "unknown";
}

ClientError::ClientError(ErrorCode code, const std::string& message)
    : std::runtime_error(std::string(error_code_name(code)) + ": " + message), code_(code) {}

bool ClientError::retryable() const {
  return code_ == ErrorCode::unavailable || code_ == ErrorCode::timeout ||
         code_ == ErrorCode::connection;
}

Client::Client(ClientOptions options) : impl_(std::make_unique<ClientImpl>(std::move(options))) {}
Client::~Client() = default;

std::optional<std::string> Client::get(std::string_view key) {
  client::Reply reply = impl_->run(key, {"GET", std::string(key)});
  if (reply->type == REDIS_REPLY_NIL) return std::nullopt;
  return bulk_of("GET", *reply);
}

void Client::set(std::string_view key, std::string_view value) {
  client::Reply reply = impl_->run(key, {"SET", std::string(key), std::string(value)});
  if (reply->type != REDIS_REPLY_STATUS) unexpected("SET", *reply);
}

bool Client::del(std::string_view key) {
  client::Reply reply = impl_->run(key, {"DEL", std::string(key)});
  if (reply->type != REDIS_REPLY_INTEGER) unexpected("DEL", *reply);
  return reply->integer > 0;
}

Versioned Client::vget(std::string_view key) {
  client::Reply reply = impl_->run(key, {"VGET", std::string(key)});
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
      reply->element[1]->type != REDIS_REPLY_ARRAY) {
    unexpected("VGET", *reply);
  }
  Versioned out;
  out.context = bulk_of("VGET", *reply->element[0]);
  const redisReply& values = *reply->element[1];
  for (std::size_t i = 0; i < values.elements; ++i) {
    if (values.element[i]->type == REDIS_REPLY_NIL) {
      out.values.emplace_back(std::nullopt);
    } else {
      out.values.emplace_back(bulk_of("VGET", *values.element[i]));
    }
  }
  return out;
}

std::string Client::vset(std::string_view key, std::string_view value, std::string_view context) {
  client::Reply reply = impl_->run(
      key, {"VSET", std::string(key), std::string(value), std::string(context)});
  return bulk_of("VSET", *reply);
}

std::string Client::vdel(std::string_view key, std::string_view context) {
  client::Reply reply = impl_->run(key, {"VDEL", std::string(key), std::string(context)});
  return bulk_of("VDEL", *reply);
}

std::future<std::optional<std::string>> Client::get_async(std::string key) {
  return queue<std::optional<std::string>>(*impl_, [this, key] { return get(key); });
}
std::future<void> Client::set_async(std::string key, std::string value) {
  return queue<void>(*impl_, [this, key, value] { set(key, value); });
}
std::future<bool> Client::del_async(std::string key) {
  return queue<bool>(*impl_, [this, key] { return del(key); });
}
std::future<Versioned> Client::vget_async(std::string key) {
  return queue<Versioned>(*impl_, [this, key] { return vget(key); });
}
std::future<std::string> Client::vset_async(std::string key, std::string value,
                                            std::string context) {
  return queue<std::string>(*impl_,
                            [this, key, value, context] { return vset(key, value, context); });
}
std::future<std::string> Client::vdel_async(std::string key, std::string context) {
  return queue<std::string>(*impl_, [this, key, context] { return vdel(key, context); });
}

void Client::refresh_ring() { impl_->refresh_ring(); }
std::uint64_t Client::ring_version() const { return impl_->ring_version(); }
std::vector<std::string> Client::preference_list(std::string_view key) const {
  return impl_->preference_list(key);
}
std::vector<NodeView> Client::nodes() const { return impl_->nodes(); }
ClientStats Client::stats() const { return impl_->stats(); }

}  // namespace vigil
