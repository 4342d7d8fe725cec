// Theory of operation. The workload is Jepsen's set test as Kingsbury ran it against Riak:
// clients add unique elements to sets stored under a few keys, each by a read-modify-write
// that carries the read's causal context into the write. A store that keeps concurrent
// writes as siblings (Dynamo's shopping cart, Riak allow_mult) lets the next writer merge
// them, so every acknowledged element survives; last-write-wins silently drops the losers.
// The checkers compare the acknowledged elements with what the final reads see.
//
// Pacing: clients together start rate_per_s operations per second. Each client starts its
// next operation one gap after the previous start; a gap is uniform in [mean/2, 3*mean/2]
// (mean = clients / rate), drawn from the client's own stream. Uniform rather than
// exponential because an exponential needs log(), whose last bit libm does not promise
// across platforms. The load is open: each operation runs in a fiber of its own, so a slow
// or timed-out operation does not delay the next arrival (a closed loop would quietly send
// less load exactly while the cluster struggles: coordinated omission). A client's
// operations in flight are bounded by the port; arrivals over the bound are skipped.
//
// Everything random about an operation (key, node, kind, element) is drawn at arrival in
// the client's fiber. A client talks to a node drawn uniformly per operation (a load
// balancer in front of the cluster); both halves of a read-modify-write go to the same
// node. When the read of a read-modify-write fails, the write is not attempted (it would
// have no context), and neither is it once the workload is stopping. In set mode
// (scenario.h) the put writes its own unique value and reads first only under
// set_context: read; under coordinator a put or delete is one request without a context
// (workload.condition nx|xx: a put always reads first and writes, with the read's context,
// only when core::decide_conditional_write says so, as net's SET k v NX|XX does). With
// workload.pipeline a client keeps one node instead (its connection; sim/scenario.h).

#include "sim/workload.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <utility>

#include "core/assert.h"

namespace vigil::sim {
namespace {

struct Call {
  Call(std::uint32_t node_in, core::ClientOp op_in, core::Key key_in)
      : node(node_in), op(op_in), key(std::move(key_in)) {}

  std::uint32_t node = 0;
  core::ClientOp op = core::ClientOp::get;
  core::Key key;
  std::optional<core::Value> value;
  std::optional<core::VectorClock> context;
  std::string element;  // recorded in the history
  bool final_read = false;
  std::optional<Duration> expires_in;  // puts: workload.expire
  std::int64_t delta = 0;              // incr
};

// Invokes one operation, records it, and returns the reply (nullopt: client timeout).
std::optional<core::ClientReply> perform(ClientPort& port, const Workload& workload,
                                         std::uint32_t client, Call call) {
  Operation operation;
  operation.client = client;
  operation.op = call.op;
  operation.key = call.key;
  operation.node = port.node_id(call.node);
  operation.consistency = call.final_read ? core::Consistency::all : workload.consistency;
  if (call.expires_in) {
    operation.expires_in_us =
        std::chrono::duration_cast<std::chrono::microseconds>(*call.expires_in).count();
  }
  operation.element = std::move(call.element);
  operation.delta = call.delta;
  operation.invoked_us = port.now_us();
  operation.final_read = call.final_read;
  // workload.routing: the client's router picks the node of every call but the final reads
  // (sim/client_routing.h); with no usable node the call fails at once, unsent.
  ClientRouting* routing = call.final_read ? nullptr : port.routing();
  std::optional<ClientRouting::Route> route;
  if (routing != nullptr) {
    route = routing->pick(client, call.key, port.now_us());
    if (route) operation.node = port.node_id(route->node);
  }
  const std::uint64_t index = port.history().invoke(std::move(operation));
  if (routing != nullptr && !route) {
    port.history().complete(index, port.now_us(), outcome_of(core::Code::unavailable),
                            core::Code::unavailable, "no usable node (client routing)", {});
    core::ClientReply unrouted;
    unrouted.status = core::error(core::Code::unavailable, "no usable node (client routing)");
    return unrouted;
  }
  if (route) call.node = route->node;
  const std::int64_t invoked_us = port.now_us();

  core::ClientRequest request;
  request.op = call.op;
  request.consistency = call.final_read ? core::Consistency::all : workload.consistency;
  request.key = std::move(call.key);
  if (call.value) request.value = std::move(*call.value);
  request.context = std::move(call.context);
  request.expires_in = call.expires_in;
  request.delta = call.delta;
  std::optional<core::ClientReply> reply = port.call(call.node, std::move(request));
  if (route) routing->outcome(client, *route, reply, invoked_us, port.now_us());

  if (!reply) {
    port.history().complete(index, port.now_us(), Outcome::indeterminate, core::Code::timeout,
                            "client timeout", {});
    return reply;
  }
  const core::Code code = reply->status.code();
  port.history().complete(index, port.now_us(), outcome_of(code), code, reply->status.message(),
                          reply->values);
  return reply;
}

bool read_succeeded(const std::optional<core::ClientReply>& reply) {
  return reply && (reply->status.ok() || reply->status.code() == core::Code::not_found);
}

// One operation, decided when it arrives and then carried out in its own fiber; it
// holds everything by value because its client may return before it finishes.
struct Plan {
  core::ClientOp op = core::ClientOp::get;
  std::uint32_t node = 0;
  core::Key key;
  std::string element;  // puts
  std::optional<Duration> expires_in;  // puts drawn to expire (workload.expire)
  std::int64_t delta = 0;              // counter mode's increments
};

// set mode under set_context: coordinator: a plain put/del without read or context, as
// net's SET and DEL send them.
bool plain_without_read(const Workload& workload) {
  return workload.mode == WorkloadMode::set &&
         workload.set_context == core::SetContext::coordinator;
}

void put(ClientPort& port, const Workload& workload, std::uint32_t client, const Plan& plan) {
  Call write(plan.node, core::ClientOp::put, plan.key);
  write.element = plan.element;
  write.expires_in = plan.expires_in;
  if (workload.mode == WorkloadMode::set &&
      workload.put_condition != core::WriteCondition::always) {  // SET k v NX|XX
    const auto read =
        perform(port, workload, client, Call(plan.node, core::ClientOp::get, plan.key));
    if (!read_succeeded(read) || port.stopping()) return;
    core::ConditionalWrite decision =
        core::decide_conditional_write(*read, workload.put_condition);
    if (!decision.write) return;
    write.value = plan.element;
    write.context = std::move(decision.context);
    perform(port, workload, client, std::move(write));
    return;
  }
  if (workload.mode == WorkloadMode::blind || plain_without_read(workload)) {
    write.value = plan.element;
    // Blind means no context at all: an explicit empty one, whatever set_context says.
    if (workload.mode == WorkloadMode::blind) write.context = core::VectorClock{};
    perform(port, workload, client, std::move(write));
    return;
  }
  if (workload.mode == WorkloadMode::set) {  // set_context: read, as net's SET does
    const auto read =
        perform(port, workload, client, Call(plan.node, core::ClientOp::get, plan.key));
    if (!read_succeeded(read) || port.stopping()) return;
    write.value = plan.element;
    write.context = read->context;
    perform(port, workload, client, std::move(write));
    return;
  }
  const auto read = perform(port, workload, client, Call(plan.node, core::ClientOp::get, plan.key));
  if (!read_succeeded(read) || port.stopping()) return;
  write.value = merge_sets(read->values, plan.element);
  write.context = read->context;
  perform(port, workload, client, std::move(write));
}

void del(ClientPort& port, const Workload& workload, std::uint32_t client, const Plan& plan) {
  if (plain_without_read(workload)) {
    perform(port, workload, client, Call(plan.node, core::ClientOp::del, plan.key));
    return;
  }
  const auto read = perform(port, workload, client, Call(plan.node, core::ClientOp::get, plan.key));
  if (!read_succeeded(read) || port.stopping()) return;
  Call erase(plan.node, core::ClientOp::del, plan.key);
  erase.context = read->context;
  perform(port, workload, client, std::move(erase));
}

void carry_out(ClientPort& port, const Workload& workload, std::uint32_t client, const Plan& plan) {
  switch (plan.op) {
    case core::ClientOp::get:
      perform(port, workload, client, Call(plan.node, core::ClientOp::get, plan.key));
      return;
    case core::ClientOp::put: put(port, workload, client, plan); return;
    case core::ClientOp::del: del(port, workload, client, plan); return;
    case core::ClientOp::incr: {  // INCRBY: one write, no read (docs/counters.md)
      Call increment(plan.node, core::ClientOp::incr, plan.key);
      increment.delta = plan.delta;
      perform(port, workload, client, std::move(increment));
      return;
    }
    case core::ClientOp::scan:
    case core::ClientOp::key_count:
      VIGIL_ASSERT(false, "the workload plans no enumeration");
      return;
  }
}

class Client {
 public:
  Client(ClientPort& port, const Workload& workload, const ClientOptions& options)
      : port_(port), workload_(workload), options_(options), random_(options.seed) {}

  void run() {
    if (workload_.rate_per_s <= 0 || workload_.keys == 0) return;
    const double mean = static_cast<double>(options_.clients) * 1e6 / workload_.rate_per_s;
    const auto mean_us = std::max<std::int64_t>(2, static_cast<std::int64_t>(mean));
    std::int64_t next_us = port_.now_us() + random_.uniform_range(0, mean_us - 1);
    while (true) {
      port_.sleep_until(next_us);
      if (port_.stopping()) return;
      Plan plan = next_plan();
      ClientPort& port = port_;
      const Workload& workload = workload_;
      const std::uint32_t client = options_.client;
      port_.start_operation(client, [&port, &workload, client, plan = std::move(plan)] {
        carry_out(port, workload, client, plan);
      });
      next_us += random_.uniform_range(mean_us / 2, mean_us * 3 / 2);
    }
  }

 private:
  // Every draw happens here, in the client's fiber, in arrival order: the stream's use does
  // not depend on how operations interleave.
  Plan next_plan() {
    Plan plan;
    plan.key = key_name(static_cast<std::uint32_t>(random_.uniform(workload_.keys)));
    plan.node = static_cast<std::uint32_t>(random_.uniform(port_.node_count()));
    // Pipelining: one connection per client (the draw stays, so the stream is the same).
    if (workload_.pipeline > 0) plan.node = options_.client % port_.node_count();
    const double pick = random_.uniform_double();
    if (pick < workload_.get) {
      plan.op = core::ClientOp::get;
    } else if (pick < workload_.get + workload_.put && workload_.mode == WorkloadMode::counter) {
      // 1..10, and one in four a decrement: the check bounds both directions.
      plan.op = core::ClientOp::incr;
      const auto amount = static_cast<std::int64_t>(random_.uniform(10)) + 1;
      plan.delta = random_.uniform(4) == 0 ? -amount : amount;
    } else if (pick < workload_.get + workload_.put) {
      plan.op = core::ClientOp::put;
      plan.element = "c" + std::to_string(options_.client) + "-" + std::to_string(sequence_++);
      // Drawn only when some puts expire, so other scenarios' streams are unchanged.
      if (workload_.expire_fraction > 0 && random_.uniform_double() < workload_.expire_fraction) {
        plan.expires_in = workload_.expire_after;
      }
    } else {
      plan.op = core::ClientOp::del;
    }
    return plan;
  }

  ClientPort& port_;
  const Workload& workload_;
  ClientOptions options_;
  core::Random random_;
  std::uint64_t sequence_ = 0;
};

}  // namespace

Outcome outcome_of(core::Code code) {
  switch (code) {
    case core::Code::ok:
    case core::Code::not_found: return Outcome::ok;
    case core::Code::invalid_argument:
    case core::Code::resource_exhausted:
    case core::Code::failed_precondition: return Outcome::failed;
    case core::Code::unavailable:
    case core::Code::timeout:
    case core::Code::io_error:
    case core::Code::corruption: return Outcome::indeterminate;
  }
  return Outcome::indeterminate;
}

std::string key_name(std::uint32_t index) {
  return "k" + std::to_string(index);
}

std::vector<std::string_view> split_set(std::string_view value) {
  std::vector<std::string_view> elements;
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    const std::string_view element = value.substr(0, comma);
    if (!element.empty()) elements.push_back(element);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return elements;
}

std::string merge_sets(const std::vector<core::Value>& siblings, std::string_view element) {
  std::string merged;
  if (siblings.size() == 1) {
    merged = siblings.front();  // one set: nothing to merge (the common case, and O(1) work)
  } else {
    std::set<std::string_view> seen;
    for (const core::Value& sibling : siblings) {
      for (const std::string_view item : split_set(sibling)) {
        if (!seen.insert(item).second) continue;
        if (!merged.empty()) merged += ',';
        merged += item;
      }
    }
  }
  if (!element.empty()) {
    if (!merged.empty()) merged += ',';
    merged += element;
  }
  return merged;
}

void run_client(ClientPort& port, const Workload& workload, const ClientOptions& options) {
  VIGIL_ASSERT(options.client < options.clients, "client index out of range");
  Client(port, workload, options).run();
}

std::uint32_t run_final_reads(ClientPort& port, const Workload& workload,
                              const FinalReadOptions& options) {
  std::uint32_t unread = 0;
  for (std::uint32_t k = 0; k < workload.keys; ++k) {
    bool done = false;
    for (std::uint32_t attempt = 0; attempt < options.attempts_max && !done; ++attempt) {
      if (attempt > 0) port.sleep_until(port.now_us() + options.retry_interval_us);
      const auto node = (k + attempt) % port.node_count();
      Call read(node, core::ClientOp::get, key_name(k));
      read.final_read = true;
      done = read_succeeded(perform(port, workload, workload.clients, std::move(read)));
    }
    if (!done) unread += 1;
  }
  return unread;
}

}  // namespace vigil::sim
