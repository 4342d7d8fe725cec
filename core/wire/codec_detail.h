#pragma once
// Internal to the codec (core/wire/codec*.cpp); include it nowhere else. core/wire/codec.h
// is the contract. This header holds what the codec's sources share: the error-propagation
// macros, the bounds, and the field encoders of the shared primitives and of every message.
//
// The codec is split by idea:
//   codec.cpp                          the frame layer: header, length, checksum, version,
//                                      and the table from wire type to message decoder
//   codec_fields.cpp                   primitives shared by messages and stored records
//                                      (counts, node ids, values, clocks, versions, sibling
//                                      sets, statuses) and the stored-record entry points
//   codec_data_messages.cpp            the request path: replica and coordinator messages
//   codec_membership_hint_messages.cpp gossip, the failure detector's pings, hinted handoff
//   codec_antientropy_messages.cpp     anti-entropy: tree comparison, key listing, sync
//   codec_tombstone_messages.cpp       tombstone collection: query, reply, reap
//   codec_scan_messages.cpp            enumeration: key scans and key counts

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/wire/bytes.h"
#include "core/wire/codec.h"

// Propagate an error; the _IN form adds a field-path prefix.
#define CODEC_TRY(expression)                           \
  do {                                                  \
    if (Status status_ = (expression); !status_.ok()) { \
      return status_;                                   \
    }                                                   \
  } while (false)
#define CODEC_TRY_IN(prefix, expression)                \
  do {                                                  \
    if (Status status_ = (expression); !status_.ok()) { \
      return prefixed((prefix), status_);               \
    }                                                   \
  } while (false)

namespace vigil::core::codec_detail {

inline constexpr std::size_t node_id_size_bytes_max = 64;  // is_valid_node_id's limit
inline constexpr SizeBound node_id_bound{node_id_size_bytes_max, "the node id limit"};
inline constexpr SizeBound key_bound{key_size_bytes_max, "key_size_bytes_max"};
inline constexpr SizeBound value_bound{value_size_bytes_max, "value_size_bytes_max"};
inline constexpr SizeBound address_bound{address_bytes_max, "address_bytes_max"};
inline constexpr SizeBound members_bound{members_max, "members_max"};
inline constexpr SizeBound ae_indices_bound{ae_indices_max, "ae_indices_max"};
inline constexpr SizeBound ae_nodes_bound{ae_nodes_max, "ae_nodes_max"};
inline constexpr SizeBound ae_keys_bound{ae_keys_max, "ae_keys_max"};
inline constexpr SizeBound tombstone_entries_bound{tombstone_entries_max,
                                                   "tombstone_entries_max"};
inline constexpr SizeBound scan_keys_bound{scan_keys_max, "scan_keys_max"};
inline constexpr SizeBound status_message_bound{status_message_bytes_max,
                                                "status_message_bytes_max"};

// The smallest encodings, used to refuse a count the remaining bytes cannot hold before
// reserving for it.
inline constexpr std::size_t clock_entry_bytes_min = 4 + 1 + 8 + 8;     // node "x", counter, time
inline constexpr std::size_t member_bytes_min = 4 + 1 + 4 + 8 + 8 + 8;  // id "x", empty address
inline constexpr std::size_t version_bytes_min = 4 + 1 + 8 + 4 + 8 + 1 + 8;  // + empty context
inline constexpr std::size_t ae_index_bytes = 8;
inline constexpr std::size_t ae_tree_node_bytes = 8 + 8;     // hash, count
inline constexpr std::size_t ae_key_hash_bytes_min = 4 + 8;  // empty key, hash
inline constexpr std::size_t ae_key_state_bytes_min = 4 + 4;  // empty key, empty set
inline constexpr std::size_t ae_key_bytes_min = 4;            // empty key

// ---- helpers and primitives (codec_fields.cpp) ----

std::string number(std::size_t value);
std::string indexed(std::string_view name, std::size_t index);

// Reads a collection count and refuses it before anything is reserved: over its bound, or
// more elements than the remaining bytes could hold.
Status read_count(ByteReader& reader, std::uint32_t& count, std::string_view field, SizeBound bound,
                  std::size_t element_bytes_min);
void write_count(ByteWriter& writer, std::size_t count, std::string_view field, SizeBound bound);

void encode_node_id(ByteWriter& writer, const NodeId& node, std::string_view field);
Status decode_node_id(ByteReader& reader, NodeId& node, std::string_view field);
// A value with its expiry (0: none); the tag scheme is in codec_fields.cpp.
void encode_optional_value(ByteWriter& writer, const std::optional<Value>& value,
                           WallMicros expires_at_us, ValueKind kind = ValueKind::bytes);
// `kind` is nullptr where only plain bytes may come (a CoordinateRequest's value): a
// counter tag is then refused.
Status decode_optional_value(ByteReader& reader, std::optional<Value>& value,
                             WallMicros& expires_at_us, ValueKind* kind = nullptr);
void encode_clock_fields(ByteWriter& writer, const VectorClock& clock);
Status decode_clock_fields(ByteReader& reader, VectorClock& clock);
void encode_sibling_set_fields(ByteWriter& writer, const SiblingSet& set);
Status decode_sibling_set_fields(ByteReader& reader, SiblingSet& set);
void encode_status(ByteWriter& writer, const WireStatus& status);
Status decode_status(ByteReader& reader, WireStatus& status);

// ---- messages: one encode_fields/decode_fields pair per alternative of Message ----

// codec_data_messages.cpp
void encode_fields(ByteWriter& writer, const ReplicaWrite& message);
Status decode_fields(ByteReader& reader, ReplicaWrite& message);
void encode_fields(ByteWriter& writer, const ReplicaWriteReply& message);
Status decode_fields(ByteReader& reader, ReplicaWriteReply& message);
void encode_fields(ByteWriter& writer, const ReplicaRead& message);
Status decode_fields(ByteReader& reader, ReplicaRead& message);
void encode_fields(ByteWriter& writer, const ReplicaReadReply& message);
Status decode_fields(ByteReader& reader, ReplicaReadReply& message);
void encode_fields(ByteWriter& writer, const CoordinateRequest& message);
Status decode_fields(ByteReader& reader, CoordinateRequest& message);
void encode_fields(ByteWriter& writer, const CoordinateReply& message);
Status decode_fields(ByteReader& reader, CoordinateReply& message);

// codec_membership_hint_messages.cpp
void encode_fields(ByteWriter& writer, const Gossip& message);
Status decode_fields(ByteReader& reader, Gossip& message);
void encode_fields(ByteWriter& writer, const Ping& message);
Status decode_fields(ByteReader& reader, Ping& message);
void encode_fields(ByteWriter& writer, const PingAck& message);
Status decode_fields(ByteReader& reader, PingAck& message);
void encode_fields(ByteWriter& writer, const PingRequest& message);
Status decode_fields(ByteReader& reader, PingRequest& message);
void encode_fields(ByteWriter& writer, const HintWrite& message);
Status decode_fields(ByteReader& reader, HintWrite& message);
void encode_fields(ByteWriter& writer, const HintDelivery& message);
Status decode_fields(ByteReader& reader, HintDelivery& message);
void encode_fields(ByteWriter& writer, const HintDeliveryReply& message);
Status decode_fields(ByteReader& reader, HintDeliveryReply& message);

// codec_antientropy_messages.cpp
void encode_fields(ByteWriter& writer, const AeTreeRequest& message);
Status decode_fields(ByteReader& reader, AeTreeRequest& message);
void encode_fields(ByteWriter& writer, const AeTreeReply& message);
Status decode_fields(ByteReader& reader, AeTreeReply& message);
void encode_fields(ByteWriter& writer, const AeKeysRequest& message);
Status decode_fields(ByteReader& reader, AeKeysRequest& message);
void encode_fields(ByteWriter& writer, const AeKeysReply& message);
Status decode_fields(ByteReader& reader, AeKeysReply& message);
void encode_fields(ByteWriter& writer, const AeSync& message);
Status decode_fields(ByteReader& reader, AeSync& message);
void encode_fields(ByteWriter& writer, const AeSyncReply& message);
Status decode_fields(ByteReader& reader, AeSyncReply& message);

// codec_tombstone_messages.cpp
void encode_fields(ByteWriter& writer, const TombstoneQuery& message);
Status decode_fields(ByteReader& reader, TombstoneQuery& message);
void encode_fields(ByteWriter& writer, const TombstoneQueryReply& message);
Status decode_fields(ByteReader& reader, TombstoneQueryReply& message);
void encode_fields(ByteWriter& writer, const TombstoneReap& message);
Status decode_fields(ByteReader& reader, TombstoneReap& message);

// codec_scan_messages.cpp
void encode_fields(ByteWriter& writer, const KeyScan& message);
Status decode_fields(ByteReader& reader, KeyScan& message);
void encode_fields(ByteWriter& writer, const KeyScanReply& message);
Status decode_fields(ByteReader& reader, KeyScanReply& message);
void encode_fields(ByteWriter& writer, const KeyCount& message);
Status decode_fields(ByteReader& reader, KeyCount& message);
void encode_fields(ByteWriter& writer, const KeyCountReply& message);
Status decode_fields(ByteReader& reader, KeyCountReply& message);

}  // namespace vigil::core::codec_detail
