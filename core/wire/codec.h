#pragma once
// The binary wire codec (node-to-node frames) and the encoding of stored records.
// docs/wire-protocol.md describes every byte; keep the two in step.
//
// Frame layout (all integers little-endian):
//   magic   u16  0x5647 ("VG")
//   version u8   wire_version; a frame of another version is refused (invalid_argument)
//   type    u8   index of the message in core::Message
//   length  u32  payload length in bytes; <= frame_size_bytes_max
//   checksum u64 xxhash64 of the payload, seeded with the first 8 header bytes (magic,
//                version, type, length read as one little-endian u64), so a corrupted type
//                byte is caught even when the payload happens to parse as another message
//   payload      from, to, then the message's fields
// Decoding never trusts the input: every length is checked against what remains and
// against a bound before anything is allocated; truncated, oversized, corrupted or random
// bytes give a Status (corruption for a checksum mismatch, invalid_argument otherwise),
// never a crash, an out-of-bounds read or an unbounded allocation. Error messages name the
// field: "ReplicaWrite.state.versions[1].value: truncated (length 9, 3 bytes remain)".
// Encodings are canonical: whatever decodes re-encodes to the same bytes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/wire/messages.h"
#include "core/status.h"
#include "core/versions/version.h"

namespace vigil::core {

inline constexpr std::uint16_t frame_magic = 0x5647;
// 2: CoordinateRequest.context_from_coordinator, CoordinateReply.existed
// 3: anti-entropy messages (AeTreeRequest ... AeSyncReply)
// 4: tombstone collection (TombstoneQuery, TombstoneQueryReply, TombstoneReap)
// 5: enumeration (KeyScan, KeyScanReply, KeyCount, KeyCountReply)
// 6: counters (CoordinateRequest.increment; value tags 3 and 4, docs/counters.md)
inline constexpr std::uint8_t wire_version = 6;
inline constexpr std::size_t frame_header_bytes = 16;
inline constexpr std::size_t frame_size_bytes_max = 64 * 1024 * 1024;
// Bounds on decoded collections (a clock or sibling set larger than these is refused).
inline constexpr std::size_t clock_entries_max = 1024;
inline constexpr std::size_t siblings_decoded_max = 1024;
// Members in one Gossip message (core::ring_nodes_max, the largest cluster), and the
// length of a member's address.
inline constexpr std::size_t members_max = 1024;
inline constexpr std::size_t address_bytes_max = 300;
// Anti-entropy (messages.h): a tictac tree's depth (config merkle_tree.depth's upper
// bound), how many levels one AeTreeRequest may descend and how many nodes it may name,
// the nodes in one AeTreeReply (a requester asks for few enough: indices << levels_down
// must stay within it), and the keys in one listing or sync.
inline constexpr std::uint32_t merkle_depth_max = 20;
inline constexpr std::uint32_t ae_levels_down_max = 12;
inline constexpr std::size_t ae_indices_max = 4096;
inline constexpr std::size_t ae_nodes_max = 65536;
inline constexpr std::size_t ae_keys_max = 65536;
// Keys in one tombstone query, reply or reap.
inline constexpr std::size_t tombstone_entries_max = 4096;
// Keys in one KeyScanReply (a replica never lists more; core/scan/key_scan.h).
inline constexpr std::size_t scan_keys_max = 65536;
// WireStatus messages are diagnostics: the encoder truncates longer ones to this.
inline constexpr std::size_t status_message_bytes_max = 4096;
// How many message types this codec knows; codec.cpp static_asserts that it equals the
// size of core::Message, so adding a message without teaching the codec fails to compile.
inline constexpr std::size_t message_type_count = 26;

static_assert(frame_size_bytes_max <= UINT32_MAX, "the length field is a u32");
static_assert(key_size_bytes_max < frame_size_bytes_max);
static_assert(value_size_bytes_max < frame_size_bytes_max);

// "ReplicaWrite" for type 0, ...; "unknown" past the last type. For logs and metrics.
std::string_view message_type_name(std::size_t type);

// The frame for `envelope`. Validates what the decoder would refuse, so that whatever
// encodes also decodes: invalid_argument when a field is out of bounds (an invalid node
// id, a key over key_size_bytes_max, a value over value_size_bytes_max, a clock over
// clock_entries_max, a set over siblings_decoded_max, an anti-entropy depth, level, index
// or list over the bounds above); resource_exhausted when the payload
// would exceed frame_size_bytes_max (a large sibling set can: the caller drops the message
// and counts it). Encoding stops growing its buffer at the bound.
Result<std::string> encode_frame(const Envelope& envelope);

// How much of a byte stream the next frame needs: the total frame size once the header is
// readable, so a stream reader knows how many bytes to wait for. Reads only the first
// frame_header_bytes of `header`.
// REQUIRES: header.size() >= frame_header_bytes (fewer gives invalid_argument).
// invalid_argument for a bad magic/version/type or a length over the bound.
Result<std::size_t> frame_size(std::string_view header);
// Decodes exactly one whole frame (bytes.size() must equal the frame's size).
// corruption: the payload checksum does not match, or a decoded version's value checksum
// does not match its value. invalid_argument: anything else malformed.
Result<Envelope> decode_frame(std::string_view bytes);

// Stored and client-visible encodings (no frame header; the store checksums its records).
// The same primitives and bounds as inside frames. Decoded sets go through
// SiblingSet::from_versions, so they satisfy its invariants or are refused.
// REQUIRES (asserted): the set or clock is within the bounds listed at encode_frame.
std::string encode_sibling_set(const SiblingSet& set);
Result<SiblingSet> decode_sibling_set(std::string_view bytes);
// A causal context as handed to clients: opaque bytes (clients see base64 of these).
std::string encode_clock(const VectorClock& clock);
Result<VectorClock> decode_clock(std::string_view bytes);

}  // namespace vigil::core
