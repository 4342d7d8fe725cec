// The chaos workload's client port (cli/chaos_client.h). Theory: the simulator's clients
// are fibers that block in virtual time; here they are threads that block in real time,
// serialised by one lock so that the workload code, written for a single-threaded
// scheduler, never runs in two threads at once. The lock is released exactly where a fiber
// would yield: around network calls and sleeps.

#include "cli/chaos_client.h"

#include <cstring>
#include <limits>
#include <utility>

#include "core/assert.h"
#include "net/causal_context.h"
#include "sim/seeds.h"

namespace vigil::cli {
namespace {

using Clock = std::chrono::steady_clock;

// The workload client whose code this thread runs; none for the final reads (never cut off).
thread_local std::optional<std::uint32_t> current_client;

// Contexts come from our own nodes, whose clocks the run may have moved far ahead: the
// client takes them back unchecked (the node checks what it is given).
constexpr core::WallMicros context_check_disabled =
    std::numeric_limits<core::WallMicros>::max() / 2;

timeval to_timeval(std::chrono::milliseconds duration) {
  const auto count = duration.count();
  return timeval{static_cast<time_t>(count / 1000),
                 static_cast<suseconds_t>((count % 1000) * 1000)};
}

// The CONSISTENCY argument; nullptr for the connection's default (quorum_settings).
const char* level_name(core::Consistency consistency) {
  switch (consistency) {
    case core::Consistency::one: return "one";
    case core::Consistency::quorum: return "quorum";
    case core::Consistency::all: return "all";
    case core::Consistency::default_level: return nullptr;
  }
  return nullptr;
}

struct ReplyFree {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

Reply command(redisContext* context, const std::vector<std::string>& arguments) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const std::string& argument : arguments) {
    argv.push_back(argument.data());
    lengths.push_back(argument.size());
  }
  return Reply(static_cast<redisReply*>(
      redisCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data())));
}

core::ClientReply failure(core::Code code, std::string message) {
  core::ClientReply reply;
  reply.status = core::error(code, std::move(message));
  return reply;
}

// A RESP error line as the node's error vocabulary (net/client_commands.cpp's fail_with).
core::Code code_of_error(std::string_view line) {
  const auto starts = [line](std::string_view prefix) {
    return line.substr(0, prefix.size()) == prefix;
  };
  if (starts("UNAVAILABLE")) return core::Code::unavailable;
  if (starts("TIMEOUT")) return core::Code::timeout;
  if (starts("ERR resource exhausted")) return core::Code::resource_exhausted;
  if (starts("ERR node refuses")) return core::Code::failed_precondition;
  if (starts("ERR max number of clients")) return core::Code::unavailable;
  if (starts("ERR io_error") || starts("ERR corruption")) return core::Code::io_error;
  return core::Code::invalid_argument;
}

std::vector<std::string> arguments_of(const core::ClientRequest& request) {
  switch (request.op) {
    case core::ClientOp::get: return {"VGET", request.key};
    case core::ClientOp::put:
      if (!request.context) return {"SET", request.key, request.value};
      return {"VSET", request.key, request.value, net::encode_context(*request.context)};
    case core::ClientOp::del:
      if (!request.context) return {"DEL", request.key};
      return {"VDEL", request.key, net::encode_context(*request.context)};
    case core::ClientOp::scan: return {"SCAN", std::to_string(request.scan_cursor)};
    case core::ClientOp::key_count: return {"DBSIZE"};
    case core::ClientOp::incr: return {"INCRBY", request.key, std::to_string(request.delta)};
  }
  return {};
}

// The node's answer as the ClientReply the workload expects.
core::ClientReply reply_of(const core::ClientRequest& request, const redisReply& raw) {
  if (raw.type == REDIS_REPLY_ERROR) {
    const std::string line(raw.str, raw.len);
    return failure(code_of_error(line), line);
  }
  core::ClientReply reply;
  const auto context_from = [&reply](const redisReply& text) {
    auto clock = net::decode_context(std::string_view(text.str, text.len), context_check_disabled);
    if (!clock) return false;
    reply.context = std::move(clock).value();
    return true;
  };
  if (request.op == core::ClientOp::get) {
    if (raw.type != REDIS_REPLY_ARRAY || raw.elements != 2 ||
        raw.element[0]->type != REDIS_REPLY_STRING || raw.element[1]->type != REDIS_REPLY_ARRAY ||
        !context_from(*raw.element[0])) {
      return failure(core::Code::invalid_argument,
                     "VGET answered something else than [context, values]");
    }
    const redisReply& values = *raw.element[1];
    for (std::size_t i = 0; i < values.elements; ++i) {
      const redisReply& value = *values.element[i];
      if (value.type == REDIS_REPLY_STRING) {
        reply.values.emplace_back(value.str, value.len);
      } else {
        reply.deleted_siblings += 1;  // a nil: a delete sibling
      }
    }
    if (reply.values.empty()) reply.status = core::error(core::Code::not_found, "no value");
    return reply;
  }
  if (request.context) {  // VSET / VDEL: the new context
    if (raw.type != REDIS_REPLY_STRING || !context_from(raw)) {
      return failure(core::Code::invalid_argument,
                     "VSET/VDEL answered something else than a context");
    }
    return reply;
  }
  if (request.op == core::ClientOp::incr) {  // INCRBY: the counter's value
    if (raw.type != REDIS_REPLY_INTEGER) {
      return failure(core::Code::invalid_argument, "INCRBY answered something else than an integer");
    }
    reply.values.push_back(std::to_string(raw.integer));
    return reply;
  }
  if (raw.type == REDIS_REPLY_INTEGER) reply.existed = raw.integer > 0;  // DEL
  return reply;
}

}  // namespace

ChaosClientPort::ChaosClientPort(ChaosClientOptions options, const ChaosNetwork& network)
    : options_(std::move(options)), network_(network), generation_(options_.ids.size(), 0) {
  VIGIL_ASSERT(options_.ids.size() == options_.addresses.size(), "a node without an address");
}

ChaosClientPort::~ChaosClientPort() {
  finish(std::chrono::milliseconds(0));
  for (auto& [key, connections] : pool_) {
    for (Connection& connection : connections) redisFree(connection.context);
  }
}

std::int64_t ChaosClientPort::now_us() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start_).count();
}

void ChaosClientPort::sleep_until(std::int64_t time_us) {
  lock_.unlock();
  std::this_thread::sleep_until(start_ + std::chrono::microseconds(time_us));
  lock_.lock();
}

void ChaosClientPort::start_clients(const sim::Workload& workload, std::uint64_t seed) {
  std::lock_guard<std::mutex> guard(lock_);
  in_flight_.assign(workload.clients, 0);
  for (std::uint32_t client = 0; client < workload.clients; ++client) {
    sim::ClientOptions options;
    options.client = client;
    options.clients = workload.clients;
    options.seed = sim::derive_seed(seed, sim::Stream::client, client);
    client_threads_.emplace_back([this, &workload, options] {
      current_client = options.client;
      std::lock_guard<std::mutex> held(lock_);
      sim::run_client(*this, workload, options);
    });
  }
}

bool ChaosClientPort::start_operation(std::uint32_t client, std::function<void()> operation) {
  VIGIL_ASSERT(client < in_flight_.size(), "an operation of an unknown client");
  reap_finished();
  if (in_flight_[client] >= options_.operations_in_flight_max) {
    count("operations_skipped_in_flight_max");
    return false;
  }
  in_flight_[client] += 1;
  operations_live_ += 1;
  count("operations_started");
  const std::uint64_t id = next_operation_++;
  operation_threads_.emplace(id, std::thread([this, client, id, operation = std::move(operation)] {
                               current_client = client;
                               std::lock_guard<std::mutex> held(lock_);
                               operation();
                               in_flight_[client] -= 1;
                               operations_live_ -= 1;
                               finished_.push_back(id);
                               if (operations_live_ == 0) idle_.notify_all();
                             }));
  return true;
}

// Joins the operation threads that are done (each let go of the lock as it finished, so
// the join only waits for the thread to exit).
void ChaosClientPort::reap_finished() {
  for (const std::uint64_t id : finished_) {
    const auto it = operation_threads_.find(id);
    if (it == operation_threads_.end()) continue;
    it->second.join();
    operation_threads_.erase(it);
  }
  finished_.clear();
}

std::size_t ChaosClientPort::finish(std::chrono::milliseconds timeout) {
  stopping_ = true;
  for (std::thread& thread : client_threads_) thread.join();
  client_threads_.clear();
  std::unique_lock<std::mutex> held(lock_);
  idle_.wait_for(held, timeout, [this] { return operations_live_ == 0; });
  const std::size_t left = operations_live_;
  if (left == 0) {
    reap_finished();
  } else {
    // Each call is bounded by the client timeout, so they end; they hold `this` until then.
    idle_.wait(held, [this] { return operations_live_ == 0; });
    reap_finished();
  }
  return left;
}

void ChaosClientPort::node_restarted(std::size_t node) {
  generation_.at(node) += 1;
}

std::optional<core::ClientReply> ChaosClientPort::call(std::uint32_t node,
                                                       core::ClientRequest request) {
  VIGIL_ASSERT(node < options_.ids.size(), "a client called a node that does not exist");
  count("client_requests");
  if (current_client && network_.client_cut_off(*current_client, node, now_us())) {
    count("client_requests_cut_off");  // dropped on the way: the client times out
    sleep_until(
        now_us() +
        std::chrono::duration_cast<std::chrono::microseconds>(options_.client_timeout).count());
    count("client_timeouts");
    return std::nullopt;
  }
  // A clogged node is slow for its clients too (the simulator adds the clog to the client
  // link's latency each way): the delay before the request and again after the reply.
  const auto clogged = [this, node] {
    const std::int64_t delay_us = network_.clog_us(node, now_us());
    if (delay_us > 0) sleep_until(now_us() + delay_us);
  };
  clogged();
  std::optional<core::ClientReply> reply = exchange(node, request);
  if (reply) clogged();
  return reply;
}

std::optional<core::ClientReply> ChaosClientPort::exchange(std::uint32_t node,
                                                           const core::ClientRequest& request) {
  const PoolKey key{node, request.consistency};
  Connection connection;
  std::vector<Connection>& pooled = pool_[key];
  while (!pooled.empty() && !connection.context) {
    connection = pooled.back();
    pooled.pop_back();
    if (connection.generation != generation_[node]) {
      redisFree(connection.context);  // to a process that is gone
      connection = {};
    }
  }
  const std::uint64_t generation = generation_[node];
  const config::Address& address = options_.addresses[node];
  const std::vector<std::string> arguments = arguments_of(request);

  lock_.unlock();
  std::optional<core::ClientReply> reply;
  std::string counter;
  bool keep = false;
  if (!connection.context) {
    connection.generation = generation;
    connection.context = redisConnectWithTimeout(address.host.c_str(), address.port,
                                                 to_timeval(options_.connect_timeout));
    if (connection.context && !connection.context->err) {
      redisSetTimeout(connection.context, to_timeval(options_.client_timeout));
      const char* level = level_name(request.consistency);
      Reply set = level ? command(connection.context, {"CONSISTENCY", level})
                        : command(connection.context, {"PING"});
      if (!set || set->type == REDIS_REPLY_ERROR) {
        reply = failure(core::Code::unavailable, "connection refused: CONSISTENCY failed");
        counter = "client_connections_refused";
      }
    } else {
      reply = failure(core::Code::unavailable,
                      std::string("connection refused: ") +
                          (connection.context ? connection.context->errstr : "out of memory"));
      counter = "client_connections_refused";
    }
  }
  if (!reply) {
    const auto started = Clock::now();
    Reply raw = command(connection.context, arguments);
    if (raw) {
      reply = reply_of(request, *raw);
      keep = true;
    } else if (Clock::now() - started >= options_.client_timeout - std::chrono::milliseconds(50)) {
      counter = "client_timeouts";  // no reply in time: the outcome is unknown
    } else {
      reply = failure(core::Code::unavailable,
                      std::string("connection reset: ") + connection.context->errstr);
      counter = "client_connections_reset";
    }
  }
  lock_.lock();

  if (!counter.empty()) count(counter);
  if (keep) {
    pool_[key].push_back(connection);
  } else if (connection.context) {
    redisFree(connection.context);
  }
  return reply;
}

}  // namespace vigil::cli
