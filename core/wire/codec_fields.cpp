// The primitives every message and stored record is made of (counts, node ids, values,
// clocks, versions, sibling sets, statuses), and the stored-record entry points of codec.h
// (encode_sibling_set, encode_clock and their decoders), which use the same bounds.
//
// Each length and count is checked against its bound and against the bytes that remain
// before anything is allocated; enums and booleans are range checked; node ids are
// validated; a decoded SiblingSet goes through SiblingSet::from_versions, which rechecks
// the value checksums (xxhash, as the seed's incremental repair asks) and the sibling
// invariants. This holds for any payload, a checksum-valid one included (codec.cpp).
//
// Error messages carry a field path built only on the error path (bytes.h `prefixed`), so
// a peer sending a bad frame shows up in logs as "ReplicaRead.key: length ... exceeds
// key_size_bytes_max" rather than "decode failed".

#include <string>
#include <utility>
#include <vector>

#include "core/wire/bytes.h"
#include "core/wire/codec.h"
#include "core/wire/codec_detail.h"

namespace vigil::core {

namespace codec_detail {

namespace {

Status count_error(std::string_view field, std::size_t count, std::string_view bound_name,
                   std::size_t bound) {
  return field_error(field, "count " + number(count) + " exceeds " + std::string(bound_name) +
                                " (" + number(bound) + ")");
}

}  // namespace

std::string number(std::size_t value) {
  return std::to_string(value);
}

std::string indexed(std::string_view name, std::size_t index) {
  return std::string(name) + "[" + number(index) + "]";
}

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

// One tag byte keeps a tombstone (absent) apart from an empty value, and says whether an
// expiry follows and what the bytes are: 0 absent, 1 a value, 2 an expiry (i64 > 0) and then
// a value, 3 a counter's state (core/versions/pn_counter.h), 4 an expiry and then a
// counter's state. A value without an expiry encodes as it did before expiry existed (tags
// 0 and 1), so stored records and peers of the older format read the same; an older node
// refuses tags 2-4 with a decode error, never a misreading (docs/expiry.md,
// docs/counters.md).
void encode_optional_value(ByteWriter& writer, const std::optional<Value>& value,
                           WallMicros expires_at_us, ValueKind kind) {
  if (!value.has_value()) {
    if (expires_at_us != 0) writer.fail(field_error("expires_at_us", "set on a tombstone"));
    if (kind != ValueKind::bytes) writer.fail(field_error("value.kind", "a counter tombstone"));
    writer.write_u8(0);
    return;
  }
  if (expires_at_us < 0) writer.fail(field_error("expires_at_us", "negative"));
  const bool counter = kind == ValueKind::counter;
  writer.write_u8(expires_at_us == 0 ? (counter ? 3 : 1) : (counter ? 4 : 2));
  if (expires_at_us != 0) writer.write_i64(expires_at_us);
  writer.write_string(*value, value_bound, "value");
}

Status decode_optional_value(ByteReader& reader, std::optional<Value>& value,
                             WallMicros& expires_at_us, ValueKind* kind) {
  std::uint8_t tag = 0;
  CODEC_TRY(reader.read_u8(tag, "value.present"));
  expires_at_us = 0;
  const std::uint8_t tag_max = kind != nullptr ? 4 : 2;
  if (tag > tag_max) {
    return field_error("value.present",
                       "byte " + number(tag) + (kind != nullptr ? " is not 0 to 4" : " is not 0, 1 or 2"));
  }
  if (kind != nullptr) *kind = tag >= 3 ? ValueKind::counter : ValueKind::bytes;
  if (tag == 0) {
    value.reset();
    return Status::ok_status();
  }
  if (tag == 2 || tag == 4) {
    CODEC_TRY(reader.read_i64(expires_at_us, "expires_at_us"));
    if (expires_at_us <= 0) {
      return field_error("expires_at_us", "must be > 0 after tag " + number(tag));
    }
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

namespace {

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

void encode_version(ByteWriter& writer, const Version& version) {
  encode_node_id(writer, version.dot.node, "dot.node");
  if (version.dot.counter == 0) writer.fail(field_error("dot.counter", "must be > 0"));
  writer.write_u64(version.dot.counter);
  encode_clock_fields(writer, version.context);
  writer.write_i64(version.timestamp_us);
  encode_optional_value(writer, version.value, version.expires_at_us, version.kind);
  writer.write_u64(version.checksum);
}

Status decode_version(ByteReader& reader, Version& version) {
  CODEC_TRY(decode_node_id(reader, version.dot.node, "dot.node"));
  CODEC_TRY(reader.read_u64(version.dot.counter, "dot.counter"));
  if (version.dot.counter == 0) return field_error("dot.counter", "must be > 0");
  CODEC_TRY_IN("context", decode_clock_fields(reader, version.context));
  CODEC_TRY(reader.read_i64(version.timestamp_us, "timestamp_us"));
  CODEC_TRY(decode_optional_value(reader, version.value, version.expires_at_us, &version.kind));
  return reader.read_u64(version.checksum, "checksum");
}

}  // namespace

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

}  // namespace codec_detail

using namespace codec_detail;  // NOLINT(google-build-using-namespace): the codec's own helpers

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
