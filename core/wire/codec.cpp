// The frame layer: the header (magic, version, type, length, checksum), the table from wire
// type to message decoder, and the frame entry points of codec.h. The message bodies are in
// codec_data_messages.cpp, codec_membership_hint_messages.cpp and
// codec_antientropy_messages.cpp, the primitives they are made of in codec_fields.cpp
// (core/wire/codec_detail.h lists the split).
//
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
// because a buggy or malicious peer computes checksums too (codec_fields.cpp says how).

#include "core/wire/codec.h"

#include <array>
#include <utility>
#include <variant>

#include "core/hash.h"
#include "core/wire/bytes.h"
#include "core/wire/codec_detail.h"

namespace vigil::core {

using namespace codec_detail;  // NOLINT(google-build-using-namespace): the codec's own helpers

namespace {

constexpr std::array<std::string_view, message_type_count> message_type_names = {
    "ReplicaWrite",     "ReplicaWriteReply", "ReplicaRead",
    "ReplicaReadReply", "CoordinateRequest", "CoordinateReply",
    "Gossip",           "Ping",              "PingAck",
    "PingRequest",      "HintWrite",         "HintDelivery",
    "HintDeliveryReply", "AeTreeRequest",    "AeTreeReply",
    "AeKeysRequest",    "AeKeysReply",       "AeSync",
    "AeSyncReply",      "TombstoneQuery",    "TombstoneQueryReply",
    "TombstoneReap",    "KeyScan",           "KeyScanReply",
    "KeyCount",         "KeyCountReply",
};
static_assert(std::variant_size_v<Message> == message_type_count,
              "a message was added to core::Message: teach codec.h, codec_detail.h and its "
              "sources, the test generators and docs/wire-protocol.md about it");

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

}  // namespace vigil::core
