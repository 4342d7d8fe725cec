#pragma once
// The history of a simulated run: every client operation's invocation and completion
// (Jepsen's history), exportable as JSON lines so checkers, and people, can read what
// happened.

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "core/node/client.h"
#include "core/status.h"
#include "core/time.h"
#include "core/types.h"

namespace vigil::sim {

enum class Outcome : std::uint8_t {
  ok,             // acknowledged
  failed,         // definitely refused (e.g. invalid_argument; nothing was written)
  indeterminate,  // unavailable / timeout: it may or may not have taken effect
};

struct Operation {
  std::uint64_t index = 0;        // order of invocation
  std::uint32_t client = 0;
  core::ClientOp op = core::ClientOp::get;
  core::Key key;
  core::NodeId node;              // the node the request was sent to
  core::Consistency consistency = core::Consistency::quorum;
  std::string element;            // read_modify_write put: the element added; blind: the value
  std::int64_t invoked_us = 0;    // virtual time
  std::int64_t completed_us = -1; // -1 while pending
  Outcome outcome = Outcome::indeterminate;
  core::Code code = core::Code::ok;
  std::string message;
  std::vector<core::Value> values;  // get: the values read (siblings)
  bool final_read = false;        // a read of the final phase, at `all`, after healing
  std::int64_t expires_in_us = 0;  // put: its expiry, from the coordinator's clock (0: none)
  std::int64_t delta = 0;          // incr: the amount added (negative: a decrement)
};

class History {
 public:
  // Returns the index of the new operation.
  std::uint64_t invoke(Operation operation);
  void complete(std::uint64_t index, std::int64_t completed_us, Outcome outcome,
                core::Code code, std::string message, std::vector<core::Value> values);
  const std::vector<Operation>& operations() const { return operations_; }
  // One JSON object per line.
  void write_jsonl(std::ostream& out) const;

 private:
  std::vector<Operation> operations_;
};

}  // namespace vigil::sim
