// Theory of operation
//
// Every message is written as a flat sequence of fixed-width little-endian fields in
// declaration order (core/wire/bytes.h); there are no tags and no optional fields beyond a
// presence byte, so the format is exactly the structs and a decoded value re-encodes to
// the very bytes it came from. Evolution is by wire_version (a peer of another version is
// refused) and by appending message types; docs/wire-protocol.md lists every field.
//
// Peer bytes are hostile until proven otherwise (quinn-proto and h11 treat a misbehaving
// peer as a typed error, never a crash). The frame header is checked first (magic, version,
// type, a length bound), then the checksum over the payload (corruption), and only then is
// the payload parsed. The checksum does not make parsing safe, it only makes garbage rare:
// the parser is written to survive payloads with a valid checksum and arbitrary content,
// because a buggy or malicious peer computes checksums too. Each length and count is checked
// against its bound and against the bytes that remain before anything is allocated; enums
// and booleans are range checked; node ids are validated; a decoded SiblingSet goes through
// SiblingSet::from_versions, which rechecks the value checksums (xxhash, as the seed's
// incremental repair asks) and the sibling invariants.
//
// Error messages carry a field path built only on the error path (bytes.h `prefixed`), so
// a peer sending a bad frame shows up in logs as "ReplicaRead.key: length ... exceeds
// key_size_bytes_max" rather than "decode failed".

#include "core/wire/codec.h"

#include <array>
#include <utility>
#include <variant>

#include "core/wire/bytes.h"
#include "core/hash.h"

// Propagate an error; the _IN form adds a field-path prefix. Undefined at the end of the
// anonymous namespace below.
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

namespace vigil::core {

namespace {

constexpr std::array<std::string_view, message_type_count> message_type_names = {
    "ReplicaWrite",     "ReplicaWriteReply", "ReplicaRead",
    "ReplicaReadReply", "CoordinateRequest", "CoordinateReply",
    "Gossip",           "Ping",              "PingAck",
    "PingRequest",      "HintWrite",         "HintDelivery",
    "HintDeliveryReply",
};
static_assert(std::variant_size_v<Message> == message_type_count,
              "a message was added to core::Message: teach codec.h/.cpp, the test generators "
              "and docs/wire-protocol.md about it");

constexpr std::size_t node_id_size_bytes_max = 64;  // is_valid_node_id's limit
constexpr SizeBound node_id_bound{node_id_size_bytes_max, "the node id limit"};
constexpr SizeBound key_bound{key_size_bytes_max, "key_size_bytes_max"};
constexpr SizeBound value_bound{value_size_bytes_max, "value_size_bytes_max"};
constexpr SizeBound address_bound{address_bytes_max, "address_bytes_max"};
constexpr SizeBound members_bound{members_max, "members_max"};
constexpr SizeBound status_message_bound{status_message_bytes_max, "status_message_bytes_max"};

// The smallest encodings, used to refuse a count the remaining bytes cannot hold before
// reserving for it.
constexpr std::size_t clock_entry_bytes_min = 4 + 1 + 8 + 8;          // node "x", counter, time
constexpr std::size_t member_bytes_min = 4 + 1 + 4 + 8 + 8 + 8;    // id "x", empty address
constexpr std::size_t version_bytes_min = 4 + 1 + 8 + 4 + 8 + 1 + 8;  // + empty context

std::string number(std::size_t value) {
  return std::to_string(value);
}

std::string indexed(std::string_view name, std::size_t index) {
  return std::string(name) + "[" + number(index) + "]";
}

Status count_error(std::string_view field, std::size_t count, std::string_view bound_name,
                   std::size_t bound) {
  return field_error(field, "count " + number(count) + " exceeds " + std::string(bound_name) +
                                " (" + number(bound) + ")");
}

// Reads a collection count and refuses it before anything is reserved: over its bound, or
// more elements than the remaining bytes could hold.
Status read_count(ByteReader& reader, std::uint32_t& count, std::string_view field, SizeBound bound,
                  std::size_t element_bytes_min) {
  CODEC_TRY(reader.read_u32(count, field));
  if (count > bound.value) return count_error(field, count, bound.name, bound.value);
  if (count > reader.remaining() / element_bytes_min) {
    return field_error(field, "truncated (count " + number(count) + " needs at least " +
                                  number(count * element_bytes_min) + " bytes, " +
                                  number(reader.remaining()) + " remain)");
  }
  return Status::ok_status();
}

void write_count(ByteWriter& writer, std::size_t count, std::string_view field, SizeBound bound) {
  if (count > bound.value) writer.fail(count_error(field, count, bound.name, bound.value));
  writer.write_u32(static_cast<std::uint32_t>(count));
}

// ---- primitives shared by messages and stored records ----

void encode_node_id(ByteWriter& writer, const NodeId& node, std::string_view field) {
  if (!is_valid_node_id(node)) writer.fail(field_error(field, "invalid node id"));
  writer.write_string(node, node_id_bound, field);
}

Status decode_node_id(ByteReader& reader, NodeId& node, std::string_view field) {
  CODEC_TRY(reader.read_string(node, node_id_bound, field));
  if (!is_valid_node_id(node)) {
    return field_error(field, "invalid node id (1-64 characters of [A-Za-z0-9_.-])");
  }
  return Status::ok_status();
}

void encode_optional_value(ByteWriter& writer, const std::optional<Value>& value) {
  writer.write_bool(value.has_value());
  if (value.has_value()) writer.write_string(*value, value_bound, "value");
}

// A presence byte keeps a tombstone (absent) apart from an empty value.
Status decode_optional_value(ByteReader& reader, std::optional<Value>& value) {
  bool present = false;
  CODEC_TRY(reader.read_bool(present, "value.present"));
  if (!present) {
    value.reset();
    return Status::ok_status();
  }
  value.emplace();
  return reader.read_string(*value, value_bound, "value");
}

void encode_clock_fields(ByteWriter& writer, const VectorClock& clock) {
  write_count(writer, clock.size(), "entries", SizeBound{clock_entries_max, "clock_entries_max"});
  for (const auto& [node, entry] : clock.entries()) {  // std::map: ascending node ids
    encode_node_id(writer, node, "entries.node");
    if (entry.counter == 0) writer.fail(field_error("entries.counter", "must be > 0"));
    writer.write_u64(entry.counter);
    writer.write_i64(entry.timestamp_us);
  }
}

Status decode_clock_entry(ByteReader& reader, const NodeId* previous, NodeId& node,
                          ClockEntry& entry) {
  CODEC_TRY(decode_node_id(reader, node, "node"));
  // Strictly ascending ids: no duplicates, and the one order std::map re-encodes in.
  if (previous != nullptr && !(*previous < node)) {
    return field_error("node", "not in strictly ascending order");
  }
  CODEC_TRY(reader.read_u64(entry.counter, "counter"));
  if (entry.counter == 0) return field_error("counter", "must be > 0");
  return reader.read_i64(entry.timestamp_us, "timestamp_us");
}

Status decode_clock_fields(ByteReader& reader, VectorClock& clock) {
  std::uint32_t count = 0;
  CODEC_TRY(read_count(reader, count, "entries", SizeBound{clock_entries_max, "clock_entries_max"},
                       clock_entry_bytes_min));
  clock = VectorClock();
  NodeId previous;
  for (std::uint32_t i = 0; i < count; ++i) {
    NodeId node;
    ClockEntry entry;
    CODEC_TRY_IN(indexed("entries", i),
                 decode_clock_entry(reader, i == 0 ? nullptr : &previous, node, entry));
    clock.set(node, entry);
    previous = std::move(node);
  }
  return Status::ok_status();
}

void encode_version(ByteWriter& writer, const Version& version) {
  encode_node_id(writer, version.dot.node, "dot.node");
  if (version.dot.counter == 0) writer.fail(field_error("dot.counter", "must be > 0"));
  writer.write_u64(version.dot.counter);
  encode_clock_fields(writer, version.context);
  writer.write_i64(version.timestamp_us);
  encode_optional_value(writer, version.value);
  writer.write_u64(version.checksum);
}

Status decode_version(ByteReader& reader, Version& version) {
  CODEC_TRY(decode_node_id(reader, version.dot.node, "dot.node"));
  CODEC_TRY(reader.read_u64(version.dot.counter, "dot.counter"));
  if (version.dot.counter == 0) return field_error("dot.counter", "must be > 0");
  CODEC_TRY_IN("context", decode_clock_fields(reader, version.context));
  CODEC_TRY(reader.read_i64(version.timestamp_us, "timestamp_us"));
  CODEC_TRY(decode_optional_value(reader, version.value));
  return reader.read_u64(version.checksum, "checksum");
}

void encode_sibling_set_fields(ByteWriter& writer, const SiblingSet& set) {
  write_count(writer, set.size(), "versions",
              SizeBound{siblings_decoded_max, "siblings_decoded_max"});
  for (const Version& version : set.versions()) encode_version(writer, version);
}

Status decode_sibling_set_fields(ByteReader& reader, SiblingSet& set) {
  std::uint32_t count = 0;
  CODEC_TRY(read_count(reader, count, "versions",
                       SizeBound{siblings_decoded_max, "siblings_decoded_max"}, version_bytes_min));
  std::vector<Version> versions;
  versions.reserve(count);  // bounded by siblings_decoded_max and by the input's size
  for (std::uint32_t i = 0; i < count; ++i) {
    Version version;
    CODEC_TRY_IN(indexed("versions", i), decode_version(reader, version));
    versions.push_back(std::move(version));
  }
  Result<SiblingSet> validated = SiblingSet::from_versions(std::move(versions));
  if (!validated.ok()) {
    // Keep from_versions' code: corruption for a value checksum, invalid_argument else.
    return error(validated.status().code(), "versions: " + validated.status().message());
  }
  set = std::move(validated).value();
  return Status::ok_status();
}

void encode_status(ByteWriter& writer, const WireStatus& status) {
  if (code_name(status.code) == "unknown") writer.fail(field_error("status.code", "unknown"));
  writer.write_u8(static_cast<std::uint8_t>(status.code));
  // A diagnostic must never make a reply undeliverable: cut it to the bound.
  const std::string_view message =
      std::string_view(status.message).substr(0, status_message_bytes_max);
  writer.write_string(message, status_message_bound, "status.message");
}

Status decode_status(ByteReader& reader, WireStatus& status) {
  std::uint8_t code = 0;
  CODEC_TRY(reader.read_u8(code, "code"));
  status.code = static_cast<Code>(code);  // Code is a uint8_t enum: every byte is a value
  if (code_name(status.code) == "unknown") {
    return field_error("code", "unknown status code " + number(code));
  }
  return reader.read_string(status.message, status_message_bound, "message");
}

void encode_consistency(ByteWriter& writer, Consistency consistency) {
  if (consistency > Consistency::all) writer.fail(field_error("consistency", "unknown"));
  writer.write_u8(static_cast<std::uint8_t>(consistency));
}

Status decode_consistency(ByteReader& reader, Consistency& consistency) {
  std::uint8_t byte = 0;
  CODEC_TRY(reader.read_u8(byte, "consistency"));
  if (byte > static_cast<std::uint8_t>(Consistency::all)) {
    return field_error("consistency", "unknown consistency level " + number(byte));
  }
  consistency = static_cast<Consistency>(byte);
  return Status::ok_status();
}

// ---- messages: one encode_fields/decode_fields pair per alternative of Message ----

void encode_fields(ByteWriter& writer, const ReplicaWrite& message) {
  writer.write_u64(message.request_id);
  writer.write_string(message.key, key_bound, "key");
  encode_sibling_set_fields(writer, message.state);
}

Status decode_fields(ByteReader& reader, ReplicaWrite& message) {
  CODEC_TRY(reader.read_u64(message.request_id, "request_id"));
  CODEC_TRY(reader.read_string(message.key, key_bound, "key"));
  CODEC_TRY_IN("state", decode_sibling_set_fields(reader, message.state));
  return Status::ok_status();
}

void encode_fields(ByteWriter& writer, const ReplicaWriteReply& message) {
  writer.write_u64(message.request_id);
  encode_status(writer, message.status);
}

Status decode_fields(ByteReader& reader, ReplicaWriteReply& message) {
  CODEC_TRY(reader.read_u64(message.request_id, "request_id"));
  CODEC_TRY_IN("status", decode_status(reader, message.status));
  return Status::ok_status();
}

void encode_fields(ByteWriter& writer, const ReplicaRead& message) {
  writer.write_u64(message.request_id);
  writer.write_string(message.key, key_bound, "key");
}

Status decode_fields(ByteReader& reader, ReplicaRead& message) {
  CODEC_TRY(reader.read_u64(message.request_id, "request_id"));
  return reader.read_string(message.key, key_bound, "key");
}

void encode_fields(ByteWriter& writer, const ReplicaReadReply& message) {
  writer.write_u64(message.request_id);
  encode_status(writer, message.status);
  encode_sibling_set_fields(writer, message.state);
}

Status decode_fields(ByteReader& reader, ReplicaReadReply& message) {
  CODEC_TRY(reader.read_u64(message.request_id, "request_id"));
  CODEC_TRY_IN("status", decode_status(reader, message.status));
  CODEC_TRY_IN("state", decode_sibling_set_fields(reader, message.state));
  return Status::ok_status();
}

void encode_fields(ByteWriter& writer, const CoordinateRequest& message) {
  writer.write_u64(message.request_id);
  encode_consistency(writer, message.consistency);
  writer.write_string(message.key, key_bound, "key");
  writer.write_bool(message.is_write);
  encode_optional_value(writer, message.value);
  encode_clock_fields(writer, message.context);
}

Status decode_fields(ByteReader& reader, CoordinateRequest& message) {
  CODEC_TRY(reader.read_u64(message.request_id, "request_id"));
  CODEC_TRY(decode_consistency(reader, message.consistency));
  CODEC_TRY(reader.read_string(message.key, key_bound, "key"));
  CODEC_TRY(reader.read_bool(message.is_write, "is_write"));
  CODEC_TRY(decode_optional_value(reader, message.value));
  CODEC_TRY_IN("context", decode_clock_fields(reader, message.context));
  return Status::ok_status();
}

void encode_fields(ByteWriter& writer, const CoordinateReply& message) {
  writer.write_u64(message.request_id);
  encode_status(writer, message.status);
  encode_sibling_set_fields(writer, message.state);
  writer.write_u32(message.replicas_answered);
}

Status decode_fields(ByteReader& reader, CoordinateReply& message) {
  CODEC_TRY(reader.read_u64(message.request_id, "request_id"));
  CODEC_TRY_IN("status", decode_status(reader, message.status));
  CODEC_TRY_IN("state", decode_sibling_set_fields(reader, message.state));
  return reader.read_u32(message.replicas_answered, "replicas_answered");
}

// An empty node id (no requester) travels as an empty string; any other must be valid.
void encode_optional_node_id(ByteWriter& writer, const NodeId& node, std::string_view field) {
  if (node.empty()) {
    writer.write_string(node, node_id_bound, field);
    return;
  }
  encode_node_id(writer, node, field);
}

Status decode_optional_node_id(ByteReader& reader, NodeId& node, std::string_view field) {
  CODEC_TRY(reader.read_string(node, node_id_bound, field));
  if (!node.empty() && !is_valid_node_id(node)) {
    return field_error(field, "invalid node id (1-64 characters of [A-Za-z0-9_.-])");
  }
  return Status::ok_status();
}

void encode_fields(ByteWriter& writer, const Gossip& message) {
  write_count(writer, message.members.size(), "members", members_bound);
  for (const MemberInfo& member : message.members) {
    encode_node_id(writer, member.id, "members.id");
    writer.write_string(member.address, address_bound, "members.address");
    writer.write_u64(member.incarnation);
    writer.write_u64(member.heartbeat);
    writer.write_u64(member.ring_digest);
  }
  writer.write_bool(message.is_reply);
}

Status decode_fields(ByteReader& reader, Gossip& message) {
  std::uint32_t count = 0;
  CODEC_TRY(read_count(reader, count, "members", members_bound, member_bytes_min));
  message.members.resize(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    MemberInfo& member = message.members[i];
    const std::string field = indexed("members", i);
    CODEC_TRY_IN(field, decode_node_id(reader, member.id, "id"));
    CODEC_TRY_IN(field, reader.read_string(member.address, address_bound, "address"));
    CODEC_TRY_IN(field, reader.read_u64(member.incarnation, "incarnation"));
    CODEC_TRY_IN(field, reader.read_u64(member.heartbeat, "heartbeat"));
    CODEC_TRY_IN(field, reader.read_u64(member.ring_digest, "ring_digest"));
  }
  return reader.read_bool(message.is_reply, "is_reply");
}

void encode_fields(ByteWriter& writer, const Ping& message) {
  writer.write_u64(message.probe_id);
  encode_optional_node_id(writer, message.requester, "requester");
}

Status decode_fields(ByteReader& reader, Ping& message) {
  CODEC_TRY(reader.read_u64(message.probe_id, "probe_id"));
  return decode_optional_node_id(reader, message.requester, "requester");
}

void encode_fields(ByteWriter& writer, const PingAck& message) {
  writer.write_u64(message.probe_id);
  encode_optional_node_id(writer, message.requester, "requester");
  encode_node_id(writer, message.target, "target");
}

Status decode_fields(ByteReader& reader, PingAck& message) {
  CODEC_TRY(reader.read_u64(message.probe_id, "probe_id"));
  CODEC_TRY(decode_optional_node_id(reader, message.requester, "requester"));
  return decode_node_id(reader, message.target, "target");
}

void encode_fields(ByteWriter& writer, const PingRequest& message) {
  writer.write_u64(message.probe_id);
  encode_node_id(writer, message.target, "target");
}

Status decode_fields(ByteReader& reader, PingRequest& message) {
  CODEC_TRY(reader.read_u64(message.probe_id, "probe_id"));
  return decode_node_id(reader, message.target, "target");
}

void encode_fields(ByteWriter& writer, const HintWrite& message) {
  writer.write_u64(message.request_id);
  encode_node_id(writer, message.target, "target");
  writer.write_string(message.key, key_bound, "key");
  encode_sibling_set_fields(writer, message.state);
}

Status decode_fields(ByteReader& reader, HintWrite& message) {
  CODEC_TRY(reader.read_u64(message.request_id, "request_id"));
  CODEC_TRY(decode_node_id(reader, message.target, "target"));
  CODEC_TRY(reader.read_string(message.key, key_bound, "key"));
  CODEC_TRY_IN("state", decode_sibling_set_fields(reader, message.state));
  return Status::ok_status();
}

void encode_fields(ByteWriter& writer, const HintDelivery& message) {
  writer.write_u64(message.hint_id);
  writer.write_string(message.key, key_bound, "key");
  encode_sibling_set_fields(writer, message.state);
}

Status decode_fields(ByteReader& reader, HintDelivery& message) {
  CODEC_TRY(reader.read_u64(message.hint_id, "hint_id"));
  CODEC_TRY(reader.read_string(message.key, key_bound, "key"));
  CODEC_TRY_IN("state", decode_sibling_set_fields(reader, message.state));
  return Status::ok_status();
}

void encode_fields(ByteWriter& writer, const HintDeliveryReply& message) {
  writer.write_u64(message.hint_id);
  encode_status(writer, message.status);
}

Status decode_fields(ByteReader& reader, HintDeliveryReply& message) {
  CODEC_TRY(reader.read_u64(message.hint_id, "hint_id"));
  CODEC_TRY_IN("status", decode_status(reader, message.status));
  return Status::ok_status();
}

// The wire type selects the variant alternative: a table with one decoder per index.
using MessageDecoder = Status (*)(ByteReader&, Message&);

template <std::size_t index>
Status decode_alternative(ByteReader& reader, Message& message) {
  std::variant_alternative_t<index, Message> alternative;
  CODEC_TRY(decode_fields(reader, alternative));
  message.emplace<index>(std::move(alternative));
  return Status::ok_status();
}

template <std::size_t... indices>
constexpr std::array<MessageDecoder, sizeof...(indices)> make_decoders(
    std::index_sequence<indices...>) {
  return {&decode_alternative<indices>...};
}

constexpr std::array<MessageDecoder, message_type_count> message_decoders =
    make_decoders(std::make_index_sequence<message_type_count>());

// ---- frame header ----

struct FrameHeader {
  std::uint8_t type = 0;
  std::uint32_t length = 0;
  std::uint64_t checksum = 0;
};

// The checksum's seed: magic, version, type and length as one little-endian u64, so the
// checksum also covers the header fields that select how the payload is parsed.
// REQUIRES: frame.size() >= 8.
std::uint64_t checksum_seed(std::string_view frame) {
  VIGIL_ASSERT(frame.size() >= 8, "checksum_seed needs the first 8 header bytes");
  std::uint64_t seed = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    seed |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(frame[i])) << (8 * i);
  }
  return seed;
}

std::string hex(std::uint64_t value) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string text = "0x";
  bool started = false;
  for (int shift = 60; shift >= 0; shift -= 4) {
    const auto digit = static_cast<std::size_t>((value >> shift) & 0xf);
    if (digit != 0 || started || shift == 0) {
      text += digits[digit];
      started = true;
    }
  }
  return text;
}

Status parse_header(std::string_view bytes, FrameHeader& header) {
  if (bytes.size() < frame_header_bytes) {
    return field_error("frame", "header needs " + number(frame_header_bytes) + " bytes, " +
                                    number(bytes.size()) + " given");
  }
  ByteReader reader(bytes.substr(0, frame_header_bytes));
  std::uint16_t magic = 0;
  std::uint8_t version = 0;
  CODEC_TRY(reader.read_u16(magic, "frame.magic"));
  CODEC_TRY(reader.read_u8(version, "frame.version"));
  CODEC_TRY(reader.read_u8(header.type, "frame.type"));
  CODEC_TRY(reader.read_u32(header.length, "frame.length"));
  CODEC_TRY(reader.read_u64(header.checksum, "frame.checksum"));
  if (magic != frame_magic) {
    return field_error("frame", "bad magic " + hex(magic) + " (expected " + hex(frame_magic) + ")");
  }
  if (version != wire_version) {
    return field_error("frame", "wire version " + number(version) +
                                    " is not supported (this binary speaks " +
                                    number(wire_version) + ")");
  }
  if (header.type >= message_type_count) {
    return field_error("frame", "unknown message type " + number(header.type));
  }
  if (header.length > frame_size_bytes_max) {
    return field_error("frame", "payload length " + number(header.length) +
                                    " exceeds frame_size_bytes_max (" +
                                    number(frame_size_bytes_max) + ")");
  }
  return Status::ok_status();
}

#undef CODEC_TRY_IN
#undef CODEC_TRY

}  // namespace

std::string_view message_type_name(std::size_t type) {
  return type < message_type_names.size() ? message_type_names[type] : "unknown";
}

Result<std::string> encode_frame(const Envelope& envelope) {
  VIGIL_ASSERT(!envelope.message.valueless_by_exception(), "encode_frame: valueless message");
  const std::size_t type = envelope.message.index();
  const std::string_view name = message_type_names[type];
  ByteWriter writer(frame_header_bytes + frame_size_bytes_max);
  writer.write_u16(frame_magic);
  writer.write_u8(wire_version);
  writer.write_u8(static_cast<std::uint8_t>(type));
  writer.write_u32(0);  // length, patched below
  writer.write_u64(0);  // checksum, patched below
  encode_node_id(writer, envelope.from, "from");
  encode_node_id(writer, envelope.to, "to");
  std::visit([&writer](const auto& message) { encode_fields(writer, message); }, envelope.message);
  if (!writer.ok()) {
    if (writer.status().code() == Code::resource_exhausted) {
      return error(Code::resource_exhausted, std::string(name) +
                                                 ": payload exceeds frame_size_bytes_max (" +
                                                 number(frame_size_bytes_max) + ")");
    }
    return prefixed(name, writer.status());
  }
  const std::size_t length = writer.size() - frame_header_bytes;
  writer.patch_u32(4, static_cast<std::uint32_t>(length));
  const std::string_view frame = writer.bytes();
  writer.patch_u64(8, xxhash64(frame.substr(frame_header_bytes), checksum_seed(frame)));
  return writer.take();
}

Result<std::size_t> frame_size(std::string_view header) {
  FrameHeader parsed;
  if (Status status = parse_header(header, parsed); !status.ok()) return status;
  return frame_header_bytes + parsed.length;
}

Result<Envelope> decode_frame(std::string_view bytes) {
  FrameHeader header;
  if (Status status = parse_header(bytes, header); !status.ok()) return status;
  const std::string_view name = message_type_names[header.type];
  if (bytes.size() != frame_header_bytes + header.length) {
    return field_error("frame", number(bytes.size()) + " bytes given, the header says " +
                                    number(frame_header_bytes + header.length));
  }
  const std::string_view payload = bytes.substr(frame_header_bytes);
  if (xxhash64(payload, checksum_seed(bytes)) != header.checksum) {
    return error(Code::corruption, "frame: checksum mismatch (" + std::string(name) + ", " +
                                       number(payload.size()) + " payload bytes)");
  }
  ByteReader reader(payload);
  Envelope envelope;
  if (Status status = decode_node_id(reader, envelope.from, "from"); !status.ok()) {
    return prefixed(name, status);
  }
  if (Status status = decode_node_id(reader, envelope.to, "to"); !status.ok()) {
    return prefixed(name, status);
  }
  if (Status status = message_decoders[header.type](reader, envelope.message); !status.ok()) {
    return prefixed(name, status);
  }
  if (Status status = reader.expect_end(name); !status.ok()) return status;
  return envelope;
}

std::string encode_sibling_set(const SiblingSet& set) {
  ByteWriter writer;
  encode_sibling_set_fields(writer, set);
  VIGIL_ASSERT(writer.ok(), "encode_sibling_set: " + writer.status().to_string());
  return writer.take();
}

Result<SiblingSet> decode_sibling_set(std::string_view bytes) {
  ByteReader reader(bytes);
  SiblingSet set;
  if (Status status = decode_sibling_set_fields(reader, set); !status.ok()) {
    return prefixed("SiblingSet", status);
  }
  if (Status status = reader.expect_end("SiblingSet"); !status.ok()) return status;
  return set;
}

std::string encode_clock(const VectorClock& clock) {
  ByteWriter writer;
  encode_clock_fields(writer, clock);
  VIGIL_ASSERT(writer.ok(), "encode_clock: " + writer.status().to_string());
  return writer.take();
}

Result<VectorClock> decode_clock(std::string_view bytes) {
  ByteReader reader(bytes);
  VectorClock clock;
  if (Status status = decode_clock_fields(reader, clock); !status.ok()) {
    return prefixed("VectorClock", status);
  }
  if (Status status = reader.expect_end("VectorClock"); !status.ok()) return status;
  return clock;
}

}  // namespace vigil::core
