// The runtime's log line. The wall clock is read here for the timestamp only; nothing of
// it reaches the node. JSON lines are rendered by nlohmann::json (its dump escapes every
// string, control characters and invalid UTF-8 included), never by hand.

#include "net/log.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>

namespace vigil::net {

namespace {

// Set once by `vigil start` before anything logs; atomic because nodes of one test process
// log from their own threads.
std::atomic<LogFormat> log_format{LogFormat::text};

std::string utc_now_text() {
  const auto now = std::chrono::system_clock::now();
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z",
                     fmt::gmtime(std::chrono::system_clock::to_time_t(now)), millis);
}

}  // namespace

std::string_view log_format_name(LogFormat format) {
  return format == LogFormat::json ? "json" : "text";
}

std::optional<LogFormat> parse_log_format(std::string_view name) {
  if (name == "text") return LogFormat::text;
  if (name == "json") return LogFormat::json;
  return std::nullopt;
}

std::string_view log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::info: return "info";
    case LogLevel::warning: return "warning";
    case LogLevel::error: return "error";
  }
  return "info";
}

void set_log_format(LogFormat format) { log_format.store(format); }

void log_event(std::string_view node, LogLevel level, std::string_view event,
               const nlohmann::ordered_json& fields, std::string_view message) {
  std::string line;
  if (log_format.load() == LogFormat::json) {
    // ordered_json: the keys in this order, and the fields in the order the event gives.
    const nlohmann::ordered_json object = {
        {"time", utc_now_text()},
        {"level", log_level_name(level)},
        {"node", node},
        {"event", event},
        {"fields", fields.is_null() ? nlohmann::ordered_json::object() : fields},
        {"message", message}};
    // Replace, not throw, on invalid UTF-8 (a peer's bytes in a message): a log line must
    // never stop the node.
    line = object.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    line += '\n';
  } else {
    line = fmt::format("{} {} {}\n", utc_now_text(), node, message);
  }
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace vigil::net
