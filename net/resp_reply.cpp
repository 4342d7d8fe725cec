// RESP2 replies (https://redis.io/docs/reference/protocol-spec/): simple strings and errors
// are one line, so any CR or LF inside them would split the reply and desynchronise the
// client; they are replaced rather than trusted.

#include "net/resp_reply.h"

namespace vigil::net::resp {

namespace {

void append_line(std::string& out, char type, std::string_view text) {
  out.push_back(type);
  for (char c : text) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
  out.append("\r\n");
}

}  // namespace

void append_simple(std::string& out, std::string_view text) { append_line(out, '+', text); }

void append_error(std::string& out, std::string_view line) { append_line(out, '-', line); }

void append_integer(std::string& out, std::int64_t value) {
  out.push_back(':');
  out.append(std::to_string(value));
  out.append("\r\n");
}

void append_bulk(std::string& out, std::string_view bytes) {
  out.push_back('$');
  out.append(std::to_string(bytes.size()));
  out.append("\r\n");
  out.append(bytes);
  out.append("\r\n");
}

void append_nil(std::string& out) { out.append("$-1\r\n"); }

void append_array_header(std::string& out, std::size_t count) {
  out.push_back('*');
  out.append(std::to_string(count));
  out.append("\r\n");
}

std::string simple(std::string_view text) {
  std::string out;
  append_simple(out, text);
  return out;
}

std::string error(std::string_view line) {
  std::string out;
  append_error(out, line);
  return out;
}

std::string integer(std::int64_t value) {
  std::string out;
  append_integer(out, value);
  return out;
}

std::string bulk(std::string_view bytes) {
  std::string out;
  append_bulk(out, bytes);
  return out;
}

std::string nil() { return "$-1\r\n"; }

}  // namespace vigil::net::resp
