// The history is append-only in invocation order; completion fills in an operation in
// place, so an operation's index is its position and the JSON lines come out in the order
// clients invoked them (Jepsen writes invocations and completions as separate events; one
// line per operation with both times carries the same information and is easier to read).

#include "sim/history.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "core/assert.h"

namespace vigil::sim {
namespace {

std::string_view op_name(core::ClientOp op) {
  switch (op) {
    case core::ClientOp::get: return "get";
    case core::ClientOp::put: return "put";
    case core::ClientOp::del: return "del";
    case core::ClientOp::scan: return "scan";
    case core::ClientOp::key_count: return "key_count";
    case core::ClientOp::incr: return "incr";
  }
  return "unknown";
}

std::string_view consistency_name(core::Consistency consistency) {
  switch (consistency) {
    case core::Consistency::one: return "one";
    case core::Consistency::quorum: return "quorum";
    case core::Consistency::all: return "all";
    case core::Consistency::default_level: return "default";
  }
  return "unknown";
}

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::ok: return "ok";
    case Outcome::failed: return "failed";
    case Outcome::indeterminate: return "indeterminate";
  }
  return "unknown";
}

nlohmann::json to_json(const Operation& operation) {
  nlohmann::json line = {
      {"index", operation.index},
      {"client", operation.client},
      {"op", op_name(operation.op)},
      {"key", operation.key},
      {"node", operation.node},
      {"consistency", consistency_name(operation.consistency)},
      {"invoked_us", operation.invoked_us},
      {"completed_us", operation.completed_us},
      {"outcome", operation.completed_us < 0 ? "pending" : outcome_name(operation.outcome)},
      {"code", core::code_name(operation.code)},
  };
  if (!operation.element.empty()) line["element"] = operation.element;
  if (operation.op == core::ClientOp::incr) line["delta"] = operation.delta;
  if (!operation.message.empty()) line["message"] = operation.message;
  if (operation.op == core::ClientOp::get) line["values"] = operation.values;
  if (operation.final_read) line["final_read"] = true;
  if (operation.expires_in_us != 0) line["expires_in_us"] = operation.expires_in_us;
  return line;
}

}  // namespace

std::uint64_t History::invoke(Operation operation) {
  operation.index = operations_.size();
  operation.completed_us = -1;
  operations_.push_back(std::move(operation));
  return operations_.back().index;
}

void History::complete(std::uint64_t index, std::int64_t completed_us, Outcome outcome,
                       core::Code code, std::string message, std::vector<core::Value> values) {
  VIGIL_ASSERT(index < operations_.size(), "completion of an operation never invoked");
  Operation& operation = operations_[index];
  VIGIL_ASSERT(operation.completed_us < 0, "an operation completed twice");
  VIGIL_ASSERT(completed_us >= operation.invoked_us, "an operation completed before invoked");
  operation.completed_us = completed_us;
  operation.outcome = outcome;
  operation.code = code;
  operation.message = std::move(message);
  operation.values = std::move(values);
}

void History::write_jsonl(std::ostream& out) const {
  for (const Operation& operation : operations_) {
    // Keys and values are bytes: invalid UTF-8 is replaced rather than refused.
    out << to_json(operation).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
        << '\n';
  }
}

}  // namespace vigil::sim
