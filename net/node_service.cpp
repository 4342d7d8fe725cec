// Names of the seam's enums, for logs, metrics labels and /status.

#include "net/node_service.h"

namespace vigil::net {

std::string_view peer_connection_state_name(PeerConnectionState state) {
  switch (state) {
    case PeerConnectionState::disconnected: return "disconnected";
    case PeerConnectionState::connecting: return "connecting";
    case PeerConnectionState::connected: return "connected";
    case PeerConnectionState::backoff: return "backoff";
  }
  return "unknown";
}

}  // namespace vigil::net
