#pragma once
// The causal context as clients see it: base64 (RFC 4648, with padding) of
// core::encode_clock's bytes. Opaque to clients; VGET hands it out, VSET/VDEL take it back.

#include <string>
#include <string_view>

#include "core/status.h"
#include "core/time.h"
#include "core/versions/version.h"

namespace vigil::net {

// A context whose entries carry a timestamp further ahead of the node's wall clock than
// this is refused: clock entries keep the latest timestamp they have seen and a write's
// timestamp is raised past its context's (core/versions/version.h), so one forged far-future
// timestamp would make every later write of the key look older than it, for as long as
// the forgery is ahead. 60 s is far above the clock skew of a healthy cluster (NTP keeps
// it to milliseconds) and far below what would pin a key for long.
inline constexpr core::Duration context_future_tolerance = std::chrono::seconds(60);

// "" for the empty clock (so that "" means "no context" both ways).
std::string encode_context(const core::VectorClock& clock);

// The clock in `text`; "" is the empty clock (a blind write). invalid_argument, naming
// what is wrong: not base64, bytes that core::decode_clock refuses (or that do not
// re-encode to themselves), or an entry whose timestamp is more than
// context_future_tolerance after `now`.
core::Result<core::VectorClock> decode_context(std::string_view text, core::WallMicros now);

}  // namespace vigil::net
