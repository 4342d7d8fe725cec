#pragma once
// A client port on 127.0.0.1:0 over a FakeNodeService, with its loop on a background
// thread, and a hiredis client's helpers: the harness of the client port tests.

#include <hiredis/hiredis.h>
#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "net/metrics.h"
#include "net/resp_server.h"
#include "tests/net/fake_node_service.h"

namespace vigil::net::testing {

using Reply = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;

// A server on 127.0.0.1:0 with its loop on a background thread.
class Harness {
 public:
  // Runs `fn` on the loop thread and waits for it.
  template <typename F>
  auto on_loop(F fn) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return result.get();
  }

  explicit Harness(config::Config config = default_config())
      : service_(io_, config), server_(io_, service_, metrics_, config) {
    auto bound = server_.start();
    if (!bound.ok()) throw std::runtime_error(bound.status().to_string());
    port_ = bound->port();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Harness() {
    on_loop([this] { server_.stop(); });
    work_.reset();
    thread_.join();
  }

  static config::Config default_config() {
    config::Config config;
    config.node.client = {"127.0.0.1", 0};
    config.limits.value_bytes_max = 1000;
    config.limits.key_bytes_max = 100;
    return config;
  }

  redisContext* connect() {
    redisContext* context = redisConnect("127.0.0.1", port_);
    EXPECT_TRUE(context != nullptr && context->err == 0);
    timeval timeout{10, 0};  // a hang fails the test instead of blocking it
    redisSetTimeout(context, timeout);
    contexts_.emplace_back(context, &redisFree);
    return context;
  }

  FakeNodeService& service() { return service_; }
  Metrics& metrics() { return metrics_; }
  RespServer& server() { return server_; }
  int port() const { return port_; }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
  FakeNodeService service_;
  Metrics metrics_;
  RespServer server_;
  int port_ = 0;
  std::thread thread_;
  std::vector<std::unique_ptr<redisContext, decltype(&redisFree)>> contexts_;
};

inline Reply command(redisContext* context, std::vector<std::string> arguments) {
  std::vector<const char*> pointers;
  std::vector<std::size_t> lengths;
  for (const std::string& argument : arguments) {
    pointers.push_back(argument.data());
    lengths.push_back(argument.size());
  }
  auto* reply = static_cast<redisReply*>(redisCommandArgv(
      context, static_cast<int>(arguments.size()), pointers.data(), lengths.data()));
  return Reply(reply, &freeReplyObject);
}

inline std::string text(const Reply& reply) {
  if (!reply) return "<no reply>";
  switch (reply->type) {
    case REDIS_REPLY_STATUS: return "+" + std::string(reply->str, reply->len);
    case REDIS_REPLY_ERROR: return "-" + std::string(reply->str, reply->len);
    case REDIS_REPLY_STRING: return std::string(reply->str, reply->len);
    case REDIS_REPLY_INTEGER: return ":" + std::to_string(reply->integer);
    case REDIS_REPLY_NIL: return "(nil)";
    default: return "<array>";
  }
}

inline std::string run(redisContext* context, std::vector<std::string> arguments) {
  return text(command(context, std::move(arguments)));
}

}  // namespace vigil::net::testing
