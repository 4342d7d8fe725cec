#pragma once
// Client requests and replies as core/ sees them. The environment turns its transport
// (RESP in net/, fibers in sim/) into these and back; a request id is the environment's,
// unique among that node's in-flight client requests.

#include <cstdint>
#include <optional>
#include <string>

#include "core/counters.h"
#include "core/wire/messages.h"
#include "core/status.h"
#include "core/types.h"
#include "core/versions/version.h"

namespace vigil::core {

// scan and key_count are enumeration (core/scan/scanner.h): SCAN/KEYS pages and DBSIZE.
// incr is a counter increment (INCRBY; docs/counters.md): a write coordinated on the key's
// first healthy replica, which adds the delta to its own entry of the key's PN-counter.
enum class ClientOp : std::uint8_t { get, put, del, scan, key_count, incr };

// The requests_<op> counter of a client request.
constexpr Counter request_counter(ClientOp op) {
  switch (op) {
    case ClientOp::get: return Counter::requests_get;
    case ClientOp::put: return Counter::requests_put;
    case ClientOp::del: return Counter::requests_del;
    case ClientOp::scan: return Counter::requests_scan;
    case ClientOp::key_count: return Counter::requests_key_count;
    case ClientOp::incr: return Counter::requests_incr;
  }
  return Counter::requests_get;
}

struct ClientRequest {
  RequestId id = 0;
  ClientOp op = ClientOp::get;
  Consistency consistency = Consistency::quorum;
  Key key;
  Value value;                         // put only
  // put/del: the causal context from an earlier read. nullopt (a plain SET/DEL) with
  // NodeOptions::set_context == coordinator: the coordinating replica's own state is the
  // context (the write supersedes everything it holds); with `read`: an empty context.
  std::optional<VectorClock> context;
  // scan: the cursor to resume at (core/scan/scan_cursor.h; 0 starts a walk) and the live
  // keys wanted in this page (COUNT, 1 to scan_page_keys_max). `key` is unused.
  std::uint64_t scan_cursor = 0;
  std::uint32_t scan_count = 0;
  // put only: the value's expiry (docs/expiry.md). `expires_in`: from the wall clock of the
  // node that receives the request (SET EX/PX, EXPIRE), which turns it into an absolute
  // time before anything else; `expires_at_us`: an absolute wall time (EXAT/PXAT). Neither:
  // the value never expires (a plain SET clears an earlier expiry, as in Redis).
  std::optional<Duration> expires_in;
  WallMicros expires_at_us = 0;
  // incr only: the delta (INCR 1, DECR -1, INCRBY n, DECRBY -n). `value`, `context` and the
  // expiry are unused: the counter keeps the expiry of the value it increments, as Redis's
  // INCR keeps a key's TTL.
  std::int64_t delta = 0;
};

struct ClientReply {
  RequestId id = 0;
  // ok; not_found (get of an absent or deleted key); unavailable (quorum not reached:
  // the message says how many replicas answered of how many needed); timeout;
  // invalid_argument (bad key/value size); resource_exhausted (sibling bound).
  Status status;
  // get: the live (non-tombstone) values, one per sibling, ordered by (timestamp, dot)
  // ascending (one value in timestamp mode): back() is the one a plain GET answers, the
  // same on every node for the same state; put/del: empty. Counter siblings are merged
  // into one value, the counter's decimal total, in the place of the latest of them
  // (docs/counters.md). incr: one value, the counter's total after the increment on the
  // coordinating replica.
  std::vector<Value> values;
  // get: how many siblings are deletes (tombstones), besides `values`. A delete concurrent
  // with a put is a sibling like any other (VGET shows it as a nil); a plain GET answers
  // values.back() when there is one, so a live sibling wins over a concurrent delete, and
  // reads not_found only when every sibling is a delete (docs/deletes.md).
  std::uint32_t deleted_siblings = 0;
  // get: the expiry of values.back() (0: none), for TTL/PTTL; expired siblings are left
  // out of `values` and counted in deleted_siblings (they read as deletes).
  WallMicros expires_at_us = 0;
  // get: the causal context to pass to a later put/del; put: the context of the new state.
  VectorClock context;
  std::uint32_t replicas_answered = 0;
  std::uint32_t replicas_needed = 0;
  // del coordinated with the coordinator's context (set_context: coordinator): whether the
  // coordinator's state of the key held a live value before the delete (DEL's count).
  // False otherwise.
  bool existed = false;
  // scan: this page's keys in ring order, and the cursor of the next page (0: the walk is
  // done). key_count: the estimate of the keys stored in the cluster (core/scan/scanner.h).
  std::vector<Key> keys;
  std::uint64_t scan_cursor = 0;
  std::uint64_t key_count = 0;
};

}  // namespace vigil::core
