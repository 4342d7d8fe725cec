#pragma once
// The options of SET key value [NX|XX] [GET] [EX|PX|EXAT|PXAT|KEEPTTL ...], parsed with
// Redis' rules (case-insensitive, in any order, NX with XX a syntax error). Expiry is not
// supported yet: its options get an error that says so, not a generic syntax error.

#include <string>
#include <vector>

#include "core/node/conditional_write.h"
#include "core/status.h"

namespace vigil::net {

struct SetOptions {
  core::WriteCondition condition = core::WriteCondition::always;
  bool get = false;  // answer the old value (or nil) instead of OK
  // Whether the SET reads before it writes: any option does.
  bool reads_first() const { return get || condition != core::WriteCondition::always; }
};

// `options`: the arguments after the value. The error (invalid_argument) carries the reply
// line after "-": "ERR syntax error", "ERR expiry (EX/PX/EXAT/PXAT/KEEPTTL) is not supported yet".
core::Result<SetOptions> parse_set_options(const std::vector<std::string>& options);

}  // namespace vigil::net
