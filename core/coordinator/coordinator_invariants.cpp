// The coordinator's invariants, asserted after every input by the simulator (TigerBeetle's
// invariants()). Each one is a promise some other file makes; a failure here is our bug.

#include <cstdint>
#include <cstring>
#include <string>

#include "core/assert.h"
#include "core/coordinator/coordinator_state.h"
#include "core/hash.h"
#include "core/random.h"

namespace vigil::core {

namespace {

// The indexes (timers, client_requests, peer_requests) must describe exactly the requests
// in flight. The check runs after every input, and a node under a partition holds dozens of
// requests, so looking every request up in every index was a third of the simulator's time
// (docs/performance.md, the simulator profile). Instead both sides are summarised as a
// multiset fingerprint -- the count and the wrapping sum of a strong hash of each element --
// in one linear walk each: equal multisets always agree, different ones agree with
// probability about 2^-64 per check. Only when they disagree do the lookups below run, to
// name the request at fault.

std::uint64_t mix(std::uint64_t x) { return splitmix64(x); }  // core/random.h

// One mix of the three words, each first multiplied by its own odd constant so that
// swapped or shifted fields do not cancel.
std::uint64_t element(std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  return mix((a * 0x9e3779b97f4a7c15ULL) ^ (b * 0xc2b2ae3d27d4eb4fULL) ^ c);
}

// Peer names are short ("n1", a host name): their bytes and length, and xxHash only for
// names longer than a word.
std::uint64_t name_word(const NodeId& name) {
  if (name.size() > sizeof(std::uint64_t)) return xxhash64(name);
  std::uint64_t word = 0;
  std::memcpy(&word, name.data(), name.size());
  return word ^ (name.size() << 56);
}

std::uint64_t at_micros(Instant at) { return static_cast<std::uint64_t>(to_micros(at)); }

struct Fingerprint {
  std::size_t count = 0;
  std::uint64_t sum = 0;
  void add(std::uint64_t hash) {
    count += 1;
    sum += hash;
  }
  friend bool operator==(const Fingerprint&, const Fingerprint&) = default;
};

std::uint64_t timer_element(Instant at, RequestId id, TimerKind kind) {
  return element(at_micros(at), id, static_cast<std::uint64_t>(kind));
}

std::uint64_t client_element(RequestId client_id, RequestId id) {
  return element(client_id, id, 2);
}

std::uint64_t peer_element(const NodeId& peer, RequestId peer_request_id, RequestId id) {
  return element(name_word(peer) ^ mix(peer_request_id), id, 3);
}

// The diagnoses: each index entry must match a field of the request it names, which makes
// the map from entries to (request, index) slots injective, and equal counts make it onto.
[[noreturn]] void diagnose_timers(const CoordinatorState& state, std::size_t expected) {
  for (const TimerEntry& timer : state.timers) {
    auto it = state.requests.find(timer.id);
    VIGIL_ASSERT(it != state.requests.end(), "a timer outlived its request");
    const Request& request = it->second;
    if (timer.kind == TimerKind::deadline) {
      VIGIL_ASSERT(request.deadline == timer.at,
                   "request " + std::to_string(request.id) + " has no deadline timer");
    } else {
      VIGIL_ASSERT(request.retry_at && *request.retry_at == timer.at,
                   "request " + std::to_string(request.id) + " lost its retry timer");
    }
  }
  VIGIL_ASSERT(expected == state.timers.size(),
               "a request lost a timer, or a timer outlived its request");
  VIGIL_ASSERT(false, "the timers disagree with the requests' deadlines and retries");
}

[[noreturn]] void diagnose_client_index(const CoordinatorState& state,
                                        std::size_t unanswered_clients) {
  for (const auto& [client_id, id] : state.client_requests) {
    auto it = state.requests.find(id);
    VIGIL_ASSERT(it != state.requests.end() && !it->second.reply_code,
                 "client request " + std::to_string(client_id) + " indexed but not in flight");
    VIGIL_ASSERT(it->second.requester.is_client && it->second.requester.client_id == client_id,
                 "client request " + std::to_string(client_id) + " indexed to another request");
  }
  VIGIL_ASSERT(unanswered_clients == state.client_requests.size(),
               "an unanswered client request is not indexed");
  VIGIL_ASSERT(false, "the client index disagrees with the requests");
}

[[noreturn]] void diagnose_peer_index(const CoordinatorState& state, std::size_t peer_requests) {
  for (const auto& [key, id] : state.peer_requests) {
    auto it = state.requests.find(id);
    VIGIL_ASSERT(it != state.requests.end(), "peer request indexed but not in flight");
    const Requester& requester = it->second.requester;
    VIGIL_ASSERT(!requester.is_client && requester.peer == key.first &&
                     requester.peer_request_id == key.second,
                 "peer request indexed to another request");
  }
  VIGIL_ASSERT(peer_requests == state.peer_requests.size(), "a peer request is not indexed");
  VIGIL_ASSERT(false, "the peer index disagrees with the requests");
}

void check_coordinated(const CoordinatorState& state, const Request& request) {
  VIGIL_ASSERT(request.replicas.size() <= state.context.options.replicas,
               "request " + std::to_string(request.id) + " has more replicas than N");
  const std::uint32_t answered = request.answered_count();
  VIGIL_ASSERT(answered <= request.replicas.size(),
               "request " + std::to_string(request.id) + " has more answers than replicas");
  VIGIL_ASSERT(request.needed >= 1 && request.needed <= state.context.options.replicas,
               "request " + std::to_string(request.id) + " needs a quorum outside 1..N");
  bool self_listed = false;
  for (const ReplicaProgress& replica : request.replicas) {
    self_listed = self_listed || replica.node == state.context.self();
  }
  VIGIL_ASSERT(self_listed,
               "request " + std::to_string(request.id) + " is coordinated off its preference list");
  if (request.reply_code == Code::ok || request.reply_code == Code::not_found) {
    // Answers only grow, so a quorum met at the answer is met still.
    VIGIL_ASSERT(answered >= request.needed,
                 "request " + std::to_string(request.id) + " was answered ok without its quorum");
  }
  if (request.kind == RequestKind::write) {
    VIGIL_ASSERT(!state.context.storage_failure, "a write is in flight after a storage failure");
    VIGIL_ASSERT(!request.state.empty(),
                 "write " + std::to_string(request.id) + " has no written state");
  }
}

}  // namespace

void check_coordinator_invariants(const CoordinatorState& state) {
  VIGIL_ASSERT(state.repairing <= state.requests.size(), "more repairing reads than requests");
  VIGIL_ASSERT(requests_holding_slots(state) <= state.context.options.requests_in_flight_max,
               "requests in flight over requests_in_flight_max");
  VIGIL_ASSERT(state.repairing <= repairing_max(state.context.options),
               "reads repairing over their bound (read_repair.max_tasks)");
  VIGIL_ASSERT(state.repair_budget.in_flight.size() <=
                   state.context.options.read_repair.max_in_flight,
               "read repairs in flight over max_concurrent_repairs");
  VIGIL_ASSERT(state.repair_budget.tokens <=
                   state.context.options.read_repair.bandwidth_bytes_per_second,
               "repair bucket over one second's worth");
  std::size_t repairing = 0;
  Fingerprint timers;
  Fingerprint clients;
  Fingerprint peers;
  for (const auto& [id, request] : state.requests) {
    repairing += request.repairing ? 1 : 0;
    VIGIL_ASSERT(!request.repairing || (request.kind == RequestKind::read && request.reply_code),
                 "request " + std::to_string(id) + " is repairing but not an answered read");
    VIGIL_ASSERT(id == request.id, "request stored under another id");
    VIGIL_ASSERT(id >> sequence_bits == state.context.incarnation,
                 "request id of another incarnation");
    timers.add(timer_element(request.deadline, id, TimerKind::deadline));
    if (request.retry_at) timers.add(timer_element(*request.retry_at, id, TimerKind::retry));
    const Requester& requester = request.requester;
    if (requester.is_client) {
      if (!request.reply_code) clients.add(client_element(requester.client_id, id));
    } else {
      peers.add(peer_element(requester.peer, requester.peer_request_id, id));
      VIGIL_ASSERT(request.kind != RequestKind::forward, "a peer's request is never forwarded");
    }
    if (request.kind == RequestKind::forward) {
      VIGIL_ASSERT(!request.reply_code, "an answered forward is still in flight");
      VIGIL_ASSERT(request.resends <= state.context.options.routing.retry.max_retries,
                   "forward retried too often");
      VIGIL_ASSERT(request.attempts.size() <= std::size_t{request.resends} + 1,
                   "more forward attempts than retries allow");
    } else {
      check_coordinated(state, request);
      VIGIL_ASSERT(request.resends <= state.context.options.max_retries,
                   "replicas retried too often");
    }
  }
  VIGIL_ASSERT(repairing == state.repairing, "repairing count does not match the requests");
  Fingerprint timer_index;
  for (const TimerEntry& timer : state.timers) {
    timer_index.add(timer_element(timer.at, timer.id, timer.kind));
  }
  if (timer_index != timers) diagnose_timers(state, timers.count);
  Fingerprint client_index;
  for (const auto& [client_id, id] : state.client_requests) {
    client_index.add(client_element(client_id, id));
  }
  if (client_index != clients) diagnose_client_index(state, clients.count);
  Fingerprint peer_index;
  for (const auto& [key, id] : state.peer_requests) {
    peer_index.add(peer_element(key.first, key.second, id));
  }
  if (peer_index != peers) diagnose_peer_index(state, peers.count);
  VIGIL_ASSERT(state.remembered.size() <= state.context.options.requests_in_flight_max,
               "remembered replies over their bound");
}

}  // namespace vigil::core
