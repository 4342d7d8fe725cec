// Redis' SET grammar (t_string.c parseExtendedStringArgumentsOrReply): every option is a
// word, in any order, each at most once in effect; NX and XX exclude each other. An expiry
// option is looked for first, before any other word or its own argument, so "SET k v EX"
// (no seconds) or "SET k v FOO EX 1" say that expiry is unsupported: the truth first.

#include "net/set_options.h"

#include <cctype>

namespace vigil::net {

namespace {

std::string upper(const std::string& text) {
  std::string out = text;
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

core::Status refused(std::string line) {
  return core::error(core::Code::invalid_argument, std::move(line));
}

bool is_expiry(const std::string& word) {
  return word == "EX" || word == "PX" || word == "EXAT" || word == "PXAT" || word == "KEEPTTL";
}

}  // namespace

core::Result<SetOptions> parse_set_options(const std::vector<std::string>& options) {
  for (const std::string& option : options) {
    if (is_expiry(upper(option))) {
      return refused("ERR expiry (EX/PX/EXAT/PXAT/KEEPTTL) is not supported yet");
    }
  }
  SetOptions parsed;
  bool nx = false;
  bool xx = false;
  for (const std::string& option : options) {
    const std::string word = upper(option);
    if (word == "NX") {
      nx = true;
    } else if (word == "XX") {
      xx = true;
    } else if (word == "GET") {
      parsed.get = true;
    } else {
      return refused("ERR syntax error");
    }
  }
  if (nx && xx) return refused("ERR syntax error");
  if (nx) parsed.condition = core::WriteCondition::if_absent;
  if (xx) parsed.condition = core::WriteCondition::if_present;
  return parsed;
}

}  // namespace vigil::net
