#pragma once
// Conditional writes (SET k v NX|XX [GET]): the rule that decides, from a quorum read of
// the key, whether the write goes ahead and with which causal context. Riak's
// if_none_match / if_match: the condition is checked against a read, and the write then
// carries that read's context, so it supersedes exactly what the read saw. The client
// port (net/) and the simulator's workload (sim/) both use this one rule.
//
// What it does not promise: the read and the write are two quorum operations, not one
// atomic step. Two writers whose reads both saw the key absent both write; with siblings
// both values are kept (neither write is lost) and the next read shows both.

#include <cstdint>
#include <optional>

#include "core/node/client.h"

namespace vigil::core {

enum class WriteCondition : std::uint8_t {
  always,      // plain SET ... GET: read only for the old value
  if_absent,   // NX: the key holds no live value (absent, or only tombstones)
  if_present,  // XX: the key holds a live value
};

struct ConditionalWrite {
  bool write = false;             // the condition holds: write with `context`
  VectorClock context;            // the read's context
  std::optional<Value> previous;  // the value a plain GET would have answered, if any
};

// REQUIRES: read.status is ok or not_found (a failed read decides nothing).
ConditionalWrite decide_conditional_write(const ClientReply& read, WriteCondition condition);

}  // namespace vigil::core
