#pragma once
// A replica's side of enumeration: what it answers to a KeyScan (a page of the live keys it
// stores in one token span) and to a KeyCount. The same function serves the coordinator's
// own spans, without a message, and the spans peers ask for (core/scan/scanner.h).
//
// Which keys are listed: those whose state holds a live value. A key whose every sibling
// is a delete (a tombstone waiting for collection) is not; nor is a record that fails its
// checksum (anti-entropy repairs it; it is counted in `keys_scan_corrupt_skipped`).

#include <cstddef>
#include <cstdint>

#include "core/counters.h"
#include "core/node/node_storage.h"
#include "core/versions/version.h"
#include "core/wire/codec.h"
#include "core/wire/messages.h"

namespace vigil::core {

// Live keys one KeyScan may ask for (COUNT is clamped to it by the client port).
inline constexpr std::uint32_t scan_page_keys_max = 4096;
// Records (tombstones included) one KeyScan examines before it ends its page at the bucket
// it reached: a span of tombstones cannot make one request walk without bound.
inline constexpr std::size_t key_scan_records_max = 4096;
// Records past that point a page may take to finish its last bucket; a bucket holding more
// (2^16 consecutive tokens: only forged keys crowd one) fails the scan rather than split it.
inline constexpr std::size_t bucket_records_max = 1024;
static_assert(scan_page_keys_max + bucket_records_max <= scan_keys_max,
              "a page must fit in one KeyScanReply");

// Whether a key with this state is listed by SCAN and KEYS: exactly when a plain GET of
// this state at wall time `now` would answer a value (some sibling is neither a delete nor
// expired on this node's clock; docs/expiry.md).
bool is_listed(const SiblingSet& state, WallMicros now);

// The page for `request` from `storage`: invalid_argument when first_token > last_token or
// keys_max is 0 or above scan_page_keys_max; a storage error as it came; resource_exhausted
// when a bucket holds more than bucket_records_max records past the page's bounds.
// `now`: this node's wall clock, which decides what has expired.
KeyScanReply scan_span(NodeStorage& storage, const KeyScan& request, NodeCounters& counters,
                       WallMicros now);

KeyCountReply count_keys(NodeStorage& storage, const KeyCount& request);

}  // namespace vigil::core
