#pragma once
// The simulated clients (see workload.cpp): each is a fiber running plain sequential code
// against a ClientPort, which the simulator implements (a call blocks in virtual time until
// the reply or the client timeout). Every operation goes into the History.
//
// Set encoding (read_modify_write mode): a value is a set of elements written as the
// elements joined by ',' ("c0-1,c3-7"); the empty value is the empty set. Elements are
// "c<client>-<n>", unique in a run, and never contain ','. Siblings are merged as the union
// of their sets, so a sibling-keeping store loses nothing a client added.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/node/client.h"
#include "core/random.h"
#include "sim/client_routing.h"
#include "sim/history.h"
#include "sim/scenario.h"

namespace vigil::sim {

// What a client fiber can do. Every blocking call suspends only the calling fiber.
class ClientPort {
 public:
  virtual ~ClientPort() = default;
  virtual std::int64_t now_us() const = 0;
  virtual void sleep_until(std::int64_t time_us) = 0;
  // Sends `request` (its id is assigned by the port) to node `node` and blocks until the
  // reply, or until the client timeout (nullopt). REQUIRES: node < node_count().
  virtual std::optional<core::ClientReply> call(std::uint32_t node,
                                                core::ClientRequest request) = 0;
  // Inside a fiber: runs `operation` in a fiber of its own, starting now, so that a slow
  // operation does not hold back the client's next one. False (and counted) when `client`
  // already has operations_in_flight_max running: that operation is skipped.
  virtual bool start_operation(std::uint32_t client, std::function<void()> operation) = 0;
  // True once the workload must wind down (clients stop starting operations).
  virtual bool stopping() const = 0;
  virtual std::uint32_t node_count() const = 0;
  virtual const core::NodeId& node_id(std::uint32_t node) const = 0;
  virtual History& history() = 0;
  // The clients' routers when workload.routing is set (sim/client_routing.h); nullptr keeps
  // the uniform draw.
  virtual ClientRouting* routing() { return nullptr; }
};

// How a reply code counts for the history (a client timeout is indeterminate).
Outcome outcome_of(core::Code code);

// The key names of a workload: "k0" .. "k<keys-1>".
std::string key_name(std::uint32_t index);

// The elements of a set value, in the order written; "" gives none.
std::vector<std::string_view> split_set(std::string_view value);
// The union of the sibling values' sets as one value, elements in first-seen order (a
// single sibling is returned as is), plus `element` when not empty.
std::string merge_sets(const std::vector<core::Value>& siblings, std::string_view element);

struct ClientOptions {
  std::uint32_t client = 0;
  std::uint32_t clients = 1;  // how many share workload.rate_per_s
  std::uint64_t seed = 0;     // this client's own stream
};

// One workload client: starts operations at its share of the rate until port.stopping(),
// then returns (its operations in flight finish in their own fibers).
void run_client(ClientPort& port, const Workload& workload, const ClientOptions& options);

struct FinalReadOptions {
  std::uint32_t attempts_max = 30;  // per key
  std::int64_t retry_interval_us = 1000000;
};

// The final phase: reads every key at Consistency::all, one key after another, retrying
// each (on the next node) until a read succeeds or attempts run out; every attempt is in
// the history with final_read = true and client = workload.clients. Returns how many keys
// were never read.
std::uint32_t run_final_reads(ClientPort& port, const Workload& workload,
                              const FinalReadOptions& options = {});

}  // namespace vigil::sim
