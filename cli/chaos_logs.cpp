// Peer judgements from node logs (cli/chaos_logs.h). The text log's time has millisecond
// resolution, far below the failure detector's scale (gossip rounds of 200 ms and up), and
// comes from the system clock, which the fault filter's clock offset does not touch, so it
// is on the runner's time line.

#include "cli/chaos_logs.h"

#include <cstdio>
#include <ctime>
#include <optional>

namespace vigil::cli {
namespace {

// "2026-12-03T12:38:11.110Z" as microseconds since the epoch.
std::optional<std::int64_t> parse_time_us(std::string_view text) {
  if (text.size() != 24 || text.back() != 'Z') return std::nullopt;
  const std::string copy(text);
  std::tm utc{};
  int millis = 0;
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &utc.tm_year, &utc.tm_mon,
                  &utc.tm_mday, &utc.tm_hour, &utc.tm_min, &utc.tm_sec, &millis) != 7) {
    return std::nullopt;
  }
  utc.tm_year -= 1900;
  utc.tm_mon -= 1;
  const std::time_t seconds = ::timegm(&utc);
  if (seconds == static_cast<std::time_t>(-1)) return std::nullopt;
  return static_cast<std::int64_t>(seconds) * 1000000 + static_cast<std::int64_t>(millis) * 1000;
}

std::optional<core::PeerState> parse_state(std::string_view name) {
  if (name == "alive") return core::PeerState::alive;
  if (name == "suspect") return core::PeerState::suspect;
  if (name == "failed") return core::PeerState::failed;
  return std::nullopt;
}

// The next space-separated word of `rest`, consumed.
std::string_view word(std::string_view& rest) {
  const std::size_t space = rest.find(' ');
  const std::string_view out = rest.substr(0, space);
  rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  return out;
}

std::optional<sim::PeerTransitionRecord> parse_line(std::string_view line, const core::NodeId& node,
                                                    std::int64_t run_start_wall_us) {
  std::string_view rest = line;
  const std::optional<std::int64_t> time_us = parse_time_us(word(rest));
  if (!time_us || word(rest) != node || word(rest) != "peer") return std::nullopt;
  const std::string_view peer = word(rest);
  if (word(rest) != "is") return std::nullopt;
  const std::optional<core::PeerState> to = parse_state(word(rest));
  if (word(rest) != "(was" || !rest.ends_with(")")) return std::nullopt;
  const std::optional<core::PeerState> from = parse_state(rest.substr(0, rest.size() - 1));
  if (!to || !from || peer.empty() || *time_us < run_start_wall_us) return std::nullopt;
  sim::PeerTransitionRecord record;
  record.at_us = *time_us - run_start_wall_us;
  record.observer = node;
  record.transition.peer = core::NodeId(peer);
  record.transition.from = *from;
  record.transition.to = *to;
  return record;
}

}  // namespace

std::vector<sim::PeerTransitionRecord> peer_transitions_from_log(std::string_view log,
                                                                 const core::NodeId& node,
                                                                 std::int64_t run_start_wall_us) {
  std::vector<sim::PeerTransitionRecord> records;
  while (!log.empty()) {
    const std::size_t end = log.find('\n');
    const std::string_view line = log.substr(0, end);
    log = end == std::string_view::npos ? std::string_view() : log.substr(end + 1);
    if (auto record = parse_line(line, node, run_start_wall_us)) records.push_back(*record);
  }
  return records;
}

}  // namespace vigil::cli
