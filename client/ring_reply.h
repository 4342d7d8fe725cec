#pragma once
// Decoding VRING's reply (docs/client-protocol.md, "VRING") into a core::Ring. The reply
// comes from the network, so it is untrusted: any deviation from the documented shape is
// an invalid_argument naming the field, and the tokens go through core::Ring::from_tokens,
// which refuses duplicate tokens and oversized rings.

#include <hiredis/hiredis.h>

#include <cstdint>
#include <map>
#include <string>

#include "core/ring/ring.h"
#include "core/status.h"
#include "core/types.h"

namespace vigil::client {

struct RingReply {
  std::uint64_t version = 0;
  std::string digest;  // 16 hex digits
  core::NodeId self;
  std::uint32_t replicas = 0;
  std::map<core::NodeId, std::string> addresses;  // the members whose address was given
  core::Ring ring;
};

core::Result<RingReply> decode_ring_reply(const redisReply& reply);

// "host:port" split at its last colon; invalid_argument unless the port is 1..65535.
struct HostPort {
  std::string host;
  int port = 0;
};
core::Result<HostPort> parse_host_port(std::string_view address);

}  // namespace vigil::client
