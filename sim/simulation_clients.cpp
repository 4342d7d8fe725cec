// Client traffic of a simulation: a call from a client fiber becomes a client_request
// event at the node one client-link latency later and a timeout wake for the fiber; the
// node's reply becomes a client_reply event one latency after it leaves the node. The
// fiber resumes on whichever comes first (sim/fiber.h's wait tokens): a reply after the
// timeout is counted as late and dropped, as a client that closed its connection would.
//
// Connections (TCP, as net/'s RESP port): a request reaching a crashed node is refused,
// and a node's crash resets the connections of the requests it held; both answer
// `unavailable` at once, so clients learn of a dead node in one round trip instead of a
// timeout. Neither says whether a write took effect: the history records them as
// indeterminate. Request ids are the simulation's call ids, unique across the whole run.
//
// Client-to-node partitions (the `client_partition` fault): a client cut off from a node
// is on the far side of a firewall that drops packets. Its request to that node never
// arrives (one already on its way is dropped on arrival), and a reply the node sends while
// the cut lasts never arrives either: the client waits out its timeout and records the
// operation as indeterminate. The workload does not retry a failed operation; its next one
// goes to a node drawn afresh (a load balancer), so a client cut off from some nodes keeps
// working through the others, while a pipelining client (one connection, one node) cut
// off from its node times out until the cut ends.
//
// Pipelining (workload.pipeline > 0): a client is one connection with up to `pipeline`
// operations in flight, and its calls pass through a core::SessionOrder, the same rule a
// RESP connection applies (net/resp_connection.cpp): a call on a key waits until the
// client's earlier calls on that key have their answers. The simulated connection applies
// it at the client's end: a waiting call is sent once the earlier one is answered, which
// gives the same guarantee as the server-side wait (the later command runs after the
// earlier one completed) one link latency later. check_read_your_writes
// (sim/check_sessions.h) verifies what it promises.

#include <algorithm>
#include <utility>

#include "core/assert.h"
#include "sim/seeds.h"
#include "sim/simulation.h"

namespace vigil::sim {

std::optional<core::ClientReply> Simulation::call(std::uint32_t node, core::ClientRequest request) {
  VIGIL_ASSERT(node < hosts_.size(), "a client called a node that does not exist");
  const std::uint64_t id = next_call_id_++;
  Session* session = current_session();
  if (session != nullptr) {
    const auto admission = session->order.submit(id, {request.key}, false);
    VIGIL_ASSERT(admission != core::SessionOrder::Admission::refused,
                 "a client has more calls than its pipeline");
    if (admission == core::SessionOrder::Admission::wait) {
      count("client_ordered_waits");
      const std::uint64_t token = fibers_.begin_wait();
      session->waiting.emplace(id, Session::Waiter{fibers_.current(), token});
      fibers_.wait(token);
    }
  }
  request.id = id;
  PendingCall pending;
  pending.fiber = fibers_.current();
  pending.token = fibers_.begin_wait();
  pending.node = node;
  pending.key = request.key;
  pending.op = request.op;
  pending.request = std::move(request);
  const auto client = operation_client_.find(fibers_.current());
  if (client != operation_client_.end()) pending.client = client->second;
  const bool cut_off = client_cut_off(pending.client, node);
  const std::uint64_t token = pending.token;
  calls_.emplace(id, std::move(pending));
  count("client_requests");
  if (cut_off) {
    count("client_requests_cut_off");  // dropped on the way: the client times out
  } else {
    queue_.push(Event::make(now_us_ + network_.client_latency_us(now_us_, node),
                            EventKind::client_request, node, id));
  }
  queue_.push(
      Event::make(now_us_ + client_timeout_us_, EventKind::fiber_wake, fibers_.current(), token));
  fibers_.wait(token);

  const auto it = calls_.find(id);
  VIGIL_ASSERT(it != calls_.end(), "a client call vanished while its client waited");
  std::optional<core::ClientReply> reply;
  if (it->second.reply_arrived) {
    reply = std::move(it->second.reply);
  } else {
    count("client_timeouts");
  }
  calls_.erase(it);
  if (session != nullptr) release(*session, id);
  return reply;
}

Simulation::Session* Simulation::current_session() {
  if (sessions_.empty()) return nullptr;
  const auto it = operation_client_.find(fibers_.current());
  return it == operation_client_.end() ? nullptr : &sessions_[it->second];
}

void Simulation::release(Session& session, std::uint64_t id) {
  for (const std::uint64_t next : session.order.complete(id)) {
    const auto waiter = session.waiting.find(next);
    VIGIL_ASSERT(waiter != session.waiting.end(), "a released call was not waiting");
    // Woken through the event queue, at this instant: fibers resume only from the loop.
    queue_.push(Event::make(now_us_, EventKind::fiber_wake, waiter->second.fiber,
                            waiter->second.token));
    session.waiting.erase(waiter);
  }
}

void Simulation::on_client_request(Event event) {
  const auto it = calls_.find(event.tag);
  if (it == calls_.end()) {
    count("client_requests_after_timeout");  // the client gave up before it arrived
    return;
  }
  PendingCall& call = it->second;
  if (client_cut_off(call.client, event.node)) {
    count("client_requests_cut_off");  // cut while on its way
    return;
  }
  NodeHost& host = *hosts_[event.node];
  call.at_node = true;  // the connection is open (a crash now resets it)
  if (host.state() == ProcessState::paused) {
    host.hold(std::move(event));
    return;
  }
  if (host.state() == ProcessState::crashed) {
    count("client_connections_refused");
    core::ClientReply refused;
    refused.id = call.request.id;
    refused.status = core::error(core::Code::unavailable, "connection refused: node down");
    send_reply(event.node, std::move(refused));
    return;
  }
  apply_effects(event.node, host.client_request(now_us_, std::move(call.request)));
}

void Simulation::send_reply(std::uint32_t node, core::ClientReply reply) {
  const auto it = calls_.find(reply.id);
  if (it == calls_.end()) {
    count("client_replies_late");  // its client timed out
    return;
  }
  PendingCall& call = it->second;
  VIGIL_ASSERT(call.node == node && call.at_node, "a reply from a node that had no request");
  VIGIL_ASSERT(!call.reply_sent, "a client request was answered twice");
  call.reply_sent = true;
  if (call.op != core::ClientOp::get && reply.status.ok()) check_copies_at_ack(call.key, reply);
  call.reply = std::move(reply);
  count("client_replies");
  if (client_cut_off(call.client, node)) {
    count("client_replies_cut_off");  // the client waits out its timeout
    return;
  }
  queue_.push(Event::make(now_us_ + network_.client_latency_us(now_us_, node),
                          EventKind::client_reply, node, it->first));
}

void Simulation::on_client_reply(const Event& event) {
  const auto it = calls_.find(event.tag);
  if (it == calls_.end()) {
    count("client_replies_late");
    return;
  }
  if (client_cut_off(it->second.client, event.node)) {
    count("client_replies_cut_off");  // cut while on its way
    return;
  }
  it->second.reply_arrived = true;
  fibers_.wake(it->second.fiber, it->second.token);
}

void Simulation::reset_connections(std::uint32_t node) {
  std::vector<std::uint64_t> reset;
  for (const auto& [id, call] : calls_) {
    if (call.node == node && call.at_node && !call.reply_sent) reset.push_back(id);
  }
  for (const std::uint64_t id : reset) {
    count("client_connections_reset");
    core::ClientReply reply;
    reply.id = id;
    reply.status = core::error(core::Code::unavailable, "connection reset: node crashed");
    send_reply(node, std::move(reply));
  }
}

bool Simulation::start_operation(std::uint32_t client, std::function<void()> operation) {
  VIGIL_ASSERT(client < operations_in_flight_.size(), "an operation of an unknown client");
  const std::uint32_t pipeline = scenario_.workload.pipeline;
  const std::uint32_t in_flight_max =
      pipeline > 0 ? std::min(pipeline, limits_.operations_in_flight_max)
                   : limits_.operations_in_flight_max;
  if (operations_in_flight_[client] >= in_flight_max ||
      fibers_.live() >= fibers_.fibers_max()) {
    count("operations_skipped_in_flight_max");
    return false;
  }
  operations_in_flight_[client] += 1;
  workload_fibers_ += 1;
  fibers_.spawn(
      "operation",
      [this, client, operation = std::move(operation)] {
        operation_client_[fibers_.current()] = client;
        operation();
        operation_client_.erase(fibers_.current());
        operations_in_flight_[client] -= 1;
        workload_fibers_ -= 1;
      },
      now_us_);
  count("operations_started");
  return true;
}

void Simulation::spawn_clients() {
  const Workload& workload = scenario_.workload;
  operations_in_flight_.assign(workload.clients, 0);
  if (workload.pipeline > 0) {
    for (std::uint32_t client = 0; client < workload.clients; ++client) {
      sessions_.emplace_back(std::min(workload.pipeline, limits_.operations_in_flight_max));
    }
  }
  for (std::uint32_t client = 0; client < workload.clients; ++client) {
    ClientOptions options;
    options.client = client;
    options.clients = workload.clients;
    options.seed = derive_seed(seed_, Stream::client, client);
    workload_fibers_ += 1;
    fibers_.spawn(
        "client",
        [this, options] {
          run_client(*this, scenario_.workload, options);
          workload_fibers_ -= 1;
        },
        0);
  }
}

void Simulation::cut_clients(const std::vector<std::uint32_t>& clients,
                             const std::vector<std::uint32_t>& nodes, std::int64_t until_us) {
  for (const std::uint32_t client : clients) {
    for (const std::uint32_t node : nodes) client_cut_until_us_[{client, node}] = until_us;
  }
}

bool Simulation::client_cut_off(std::optional<std::uint32_t> client, std::uint32_t node) const {
  if (!client || client_cut_until_us_.empty()) return false;
  const auto it = client_cut_until_us_.find({*client, node});
  return it != client_cut_until_us_.end() && now_us_ < it->second;
}

}  // namespace vigil::sim
