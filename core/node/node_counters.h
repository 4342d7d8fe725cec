#pragma once
// The node's counters, shared by core::Node (core/node/node.h) and its parts.

#include <cstdint>
#include <map>
#include <string>

namespace vigil::core {

// Monotonic counters (exported as metrics by net/, reported by sim/). Names:
//   requests_{get,put,del}, requests_from_peers  requests received
//   replies_ok, replies_failed, replies_code_<code>  client replies (not_found is ok)
//   quorum_failures                              unavailable: R or W not reached
//   forwards_sent, forward_retries, forward_timeouts
//   replica_writes_sent, replica_write_resends, replica_reads_sent, replica_read_resends
//   replica_writes_applied, replica_write_errors, replica_reads_served
//   read_repairs_sent (to peers), read_repairs_local
//   refused_in_flight_max, refused_storage_failed, refused_invalid_argument,
//   sibling_refusals, storage_corruption, storage_write_errors, storage_failures,
//   withdrawn_replies, withdrawn_messages
//   ignored_unknown_sender, ignored_misaddressed, ignored_unknown_request,
//   ignored_unexpected_sender, ignored_duplicate, ignored_wrong_kind
//   coordinate_replies_resent (a duplicate CoordinateRequest answered from memory)
//   siblings_dropped, dot_conflicts, clock_entries_pruned (from core/versions/version.h)
struct NodeCounters {
  std::map<std::string, std::uint64_t> values;  // ordered: deterministic reports
  void add(const std::string& name, std::uint64_t amount = 1) { values[name] += amount; }
  std::uint64_t get(const std::string& name) const {
    auto it = values.find(name);
    return it == values.end() ? 0 : it->second;
  }
};

}  // namespace vigil::core
