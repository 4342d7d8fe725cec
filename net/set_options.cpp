// Redis' SET grammar (t_string.c parseExtendedStringArgumentsOrReply): every option is a
// word, in any order; NX and XX exclude each other, and so do the expiry options; an expiry
// option takes the next argument as its time, which must be a positive integer.

#include "net/set_options.h"

#include <cctype>
#include <chrono>
#include <charconv>
#include <limits>

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

}  // namespace

core::Result<std::int64_t> parse_expiry_time(std::string_view text, std::int64_t unit_ms) {
  std::int64_t amount = 0;
  const auto [end, code] = std::from_chars(text.data(), text.data() + text.size(), amount);
  if (code != std::errc() || end != text.data() + text.size() || text.empty()) {
    return refused("ERR value is not an integer or out of range");
  }
  const std::int64_t limit = std::numeric_limits<std::int64_t>::max() / 1000 / unit_ms;
  if (amount > limit || amount < -limit) {
    return refused("ERR invalid expire time, it is too large or too small");
  }
  return amount * unit_ms;
}

void ExpiryOption::apply(core::ClientRequest& request, core::WallMicros kept_us) const {
  switch (kind) {
    case Kind::none: break;
    case Kind::relative: request.expires_in = std::chrono::milliseconds(amount_ms); break;
    case Kind::absolute: request.expires_at_us = amount_ms * 1000; break;
    case Kind::keep: request.expires_at_us = kept_us; break;
  }
}

core::Result<SetOptions> parse_set_options(const std::vector<std::string>& options) {
  SetOptions parsed;
  bool nx = false;
  bool xx = false;
  bool expiry_seen = false;
  for (std::size_t i = 0; i < options.size(); ++i) {
    const std::string word = upper(options[i]);
    if (word == "NX") {
      nx = true;
    } else if (word == "XX") {
      xx = true;
    } else if (word == "GET") {
      parsed.get = true;
    } else if (word == "KEEPTTL" || word == "EX" || word == "PX" || word == "EXAT" ||
               word == "PXAT") {
      if (expiry_seen) return refused("ERR syntax error");
      expiry_seen = true;
      if (word == "KEEPTTL") {
        parsed.expiry.kind = ExpiryOption::Kind::keep;
        continue;
      }
      if (i + 1 == options.size()) return refused("ERR syntax error");
      const bool seconds = word == "EX" || word == "EXAT";
      core::Result<std::int64_t> amount = parse_expiry_time(options[++i], seconds ? 1000 : 1);
      if (!amount.ok()) return amount.status();
      if (*amount <= 0) return refused("ERR invalid expire time in 'set' command");
      parsed.expiry.kind = (word == "EX" || word == "PX") ? ExpiryOption::Kind::relative
                                                          : ExpiryOption::Kind::absolute;
      parsed.expiry.amount_ms = *amount;
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
