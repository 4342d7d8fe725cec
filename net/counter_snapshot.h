#pragma once
// Every counter a running node reports, read at one instant: name -> value, in a fixed
// order. The node's come first (every counter of core/counters.h, declaration order, zeros
// included, so the metric series are stable), then the runtime's own: the peer
// transport's (peer_*, net/peer_transport.h) and the store's (commits, commit_failures).
// Metrics (net/metrics.cpp), INFO (net/client_info.cpp) and /status iterate it.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/counters.h"

namespace vigil::net {

struct CounterSnapshot {
  struct Sample {
    std::string name;          // a valid metric name
    std::string_view meaning;  // one line, static text; exported as the metric's HELP
    std::uint64_t value = 0;
  };
  std::vector<Sample> samples;

  // A snapshot holding every counter of `node`.
  static CounterSnapshot of(const core::NodeCounters& node);
  // REQUIRES: no sample called `name` yet.
  void add(std::string name, std::string_view meaning, std::uint64_t value);
  // The value of `name`; 0 when there is no such counter.
  std::uint64_t get(std::string_view name) const;
};

}  // namespace vigil::net
