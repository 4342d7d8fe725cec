#pragma once
// The runtime's log: one line per event on stderr, "<UTC time> <node> <message>", written
// whole with one fwrite so lines from several nodes in one process (tests) never interleave
// within a line. Only net/ and cli/ log; core/ reports through counters and statuses.

#include <string_view>

namespace vigil::net {

// Writes "<YYYY-mm-ddTHH:MM:SS.mmmZ> <node> <message>\n" to stderr.
void log_line(std::string_view node, std::string_view message);

}  // namespace vigil::net
