#pragma once
// RESP2 reply encoding: the few shapes the client port answers with. Each appends to `out`
// so a reply built of many parts (an array) costs one buffer.

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::net::resp {

// "+OK\r\n". REQUIRES: no CR or LF in `text` (they are replaced by spaces).
void append_simple(std::string& out, std::string_view text);
// "-ERR message\r\n": `line` starts with the error code ("ERR", "UNAVAILABLE", ...).
// CR and LF in `line` are replaced by spaces (a reply is one line).
void append_error(std::string& out, std::string_view line);
void append_integer(std::string& out, std::int64_t value);
void append_bulk(std::string& out, std::string_view bytes);
void append_nil(std::string& out);  // "$-1\r\n"
void append_array_header(std::string& out, std::size_t count);

std::string simple(std::string_view text);
std::string error(std::string_view line);
std::string integer(std::int64_t value);
std::string bulk(std::string_view bytes);
std::string nil();

}  // namespace vigil::net::resp
