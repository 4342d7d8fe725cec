#pragma once
// The admin port's GET /status document (JSON), built from the NodeService.

#include <nlohmann/json.hpp>

#include "net/node_service.h"

namespace vigil::net {

// {"node": {"id", "listen", "client", "admin"}, "wall_time_us",
//  "ring": {"replicas", "ownership": {node: fraction}},
//  "members": [{"id", "address", "state", "phi", "incarnation", "heartbeat",
//               "silence_seconds", "probe_failures", "ring_mismatch", "self"}],
//  "peer_connections": [{"peer", "address", "state", "queued_bytes"}],
//  "store": {"commits", "commit_failures"},
//  "counters": {name: value},  (every counter of net/counter_snapshot.h, zeros included)
//  "anti_entropy": anti_entropy_json(service.anti_entropy())}
// Addresses are the configured ones. A phi that is not finite appears as null.
nlohmann::json status_json(const NodeService& service);

// {"exchanges_completed", "exchanges_pending",
//  "trees": [{"replicas": [id...], "root_hash": 16 hex digits, "keys",
//             "peers": [{"peer", "last_exchange_seconds_ago" (null before the first),
//                        "outcome" ("" before the first)}]}]}
nlohmann::json anti_entropy_json(const AntiEntropyView& view);

}  // namespace vigil::net
