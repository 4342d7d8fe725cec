#pragma once
// The options of SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ts-ms|KEEPTTL], parsed
// with Redis' rules (case-insensitive, in any order, NX with XX or two expiries a syntax
// error; a non-positive or non-integer time an error that says so).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/node/client.h"
#include "core/node/conditional_write.h"
#include "core/status.h"

namespace vigil::net {

// An expiry as a command states it (docs/expiry.md).
struct ExpiryOption {
  enum class Kind : std::uint8_t {
    none,      // the value never expires (a plain SET clears an earlier expiry)
    relative,  // EX/PX/SETEX/EXPIRE: `amount_ms` from the receiving node's clock
    absolute,  // EXAT/PXAT/EXPIREAT: `amount_ms` since the Unix epoch
    keep,      // KEEPTTL: the expiry the key has now (read first)
  };
  Kind kind = Kind::none;
  std::int64_t amount_ms = 0;

  // Puts this expiry on a request; `kept_us` is the current expiry for `keep`.
  void apply(core::ClientRequest& request, core::WallMicros kept_us) const;
};

struct SetOptions {
  core::WriteCondition condition = core::WriteCondition::always;
  bool get = false;  // answer the old value (or nil) instead of OK
  ExpiryOption expiry;
  // Whether the SET reads before it writes: NX, XX, GET and KEEPTTL do.
  bool reads_first() const {
    return get || condition != core::WriteCondition::always ||
           expiry.kind == ExpiryOption::Kind::keep;
  }
};

// `options`: the arguments after the value. The error (invalid_argument) carries the reply
// line after "-": "ERR syntax error", "ERR invalid expire time in 'set' command",
// "ERR value is not an integer or out of range".
core::Result<SetOptions> parse_set_options(const std::vector<std::string>& options);

// A time argument of an expiry command in milliseconds: `text` must be an integer (Redis'
// "value is not an integer or out of range" otherwise); `unit_ms` is 1000 for seconds, 1
// for milliseconds; the product must not overflow.
core::Result<std::int64_t> parse_expiry_time(std::string_view text, std::int64_t unit_ms);

}  // namespace vigil::net
