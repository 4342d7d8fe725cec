// The runtime's log line. The wall clock is read here for the timestamp only; nothing of
// it reaches the node.

#include "net/log.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace vigil::net {

void log_line(std::string_view node, std::string_view message) {
  const auto now = std::chrono::system_clock::now();
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  const std::string line =
      fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z {} {}\n",
                  fmt::gmtime(std::chrono::system_clock::to_time_t(now)), millis, node, message);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace vigil::net
