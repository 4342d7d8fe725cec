#pragma once
// The runtime's log: one line per event on stderr, written whole with one fwrite so lines
// from several nodes in one process (tests) never interleave within a line. Only net/ and
// cli/ log; core/ reports through counters and statuses.
//
// Every line is an event: a level, a stable snake_case name (`peer_connected`), its
// fields, and a sentence for people. Two formats (`vigil start --log-format`):
//   text: "<YYYY-mm-ddTHH:MM:SS.mmmZ> <node> <message>"  (the sentence; fields are in it)
//   json: {"time":"...Z","level":"info","node":"n1","event":"peer_connected",
//          "fields":{"peer":"n2",...},"message":"connected to peer n2 at ..."}
// one object per line, for a log shipper. Event names and field names are part of the
// operator interface (docs/operations.md lists them); renaming one is a breaking change.

#include <cstdint>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace vigil::net {

enum class LogFormat : std::uint8_t { text, json };
enum class LogLevel : std::uint8_t { info, warning, error };

std::string_view log_format_name(LogFormat format);
// "text" or "json"; nullopt for anything else.
std::optional<LogFormat> parse_log_format(std::string_view name);
std::string_view log_level_name(LogLevel level);

// The format of every line this process writes from now on (text until set). One
// setting per process: `vigil start` sets it once, before the node opens.
void set_log_format(LogFormat format);

// Writes one event. `fields`: a JSON object of the event's figures (null: none), in the
// order given.
void log_event(std::string_view node, LogLevel level, std::string_view event,
               const nlohmann::ordered_json& fields, std::string_view message);

}  // namespace vigil::net
