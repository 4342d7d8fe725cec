// The counter table's run-time half. Theory: counters are an array indexed by the enum, so
// counting by enum or by a literal (resolved at compile time) costs one addition. A name
// chosen at run time between literals is found by binary search over the names sorted once
// at compile time: a handful of string comparisons, and an unknown name is our own bug.

#include "core/counters.h"

#include <algorithm>
#include <string>

#include "core/assert.h"

namespace vigil::core {

namespace {

// Counter indices ordered by name, for the run-time lookup.
constexpr std::array<std::uint16_t, counter_count> by_name = [] {
  std::array<std::uint16_t, counter_count> order{};
  for (std::size_t i = 0; i < counter_count; ++i) order[i] = static_cast<std::uint16_t>(i);
  std::sort(order.begin(), order.end(), [](std::uint16_t a, std::uint16_t b) {
    return counter_declarations[a].name < counter_declarations[b].name;
  });
  return order;
}();

}  // namespace

Counter reply_code_counter(Code code) {
  switch (code) {
    case Code::ok: return Counter::replies_code_ok;
    case Code::not_found: return Counter::replies_code_not_found;
    case Code::unavailable: return Counter::replies_code_unavailable;
    case Code::timeout: return Counter::replies_code_timeout;
    case Code::corruption: return Counter::replies_code_corruption;
    case Code::invalid_argument: return Counter::replies_code_invalid_argument;
    case Code::io_error: return Counter::replies_code_io_error;
    case Code::resource_exhausted: return Counter::replies_code_resource_exhausted;
    case Code::failed_precondition: return Counter::replies_code_failed_precondition;
  }
  VIGIL_ASSERT(false, "no counter for code " + std::to_string(static_cast<int>(code)));
  return Counter::replies_code_ok;
}

Counter counter_at_run_time(std::string_view name) {
  const auto it = std::lower_bound(by_name.begin(), by_name.end(), name,
                                   [](std::uint16_t index, std::string_view wanted) {
                                     return counter_declarations[index].name < wanted;
                                   });
  VIGIL_ASSERT(it != by_name.end() && counter_declarations[*it].name == name,
               "counter " + std::string(name) + " is not declared in core/counters.h");
  return static_cast<Counter>(*it);
}

}  // namespace vigil::core
