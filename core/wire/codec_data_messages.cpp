// The bodies of the request-path messages: the coordinator's requests to replicas
// (ReplicaWrite, ReplicaRead and their replies) and a client request forwarded to a
// coordinator (CoordinateRequest, CoordinateReply). One encode_fields/decode_fields pair per
// message, fields in declaration order (messages.h); codec.cpp frames them.

#include "core/wire/bytes.h"
#include "core/wire/codec.h"
#include "core/wire/codec_detail.h"

namespace vigil::core::codec_detail {

namespace {

void encode_consistency(ByteWriter& writer, Consistency consistency) {
  if (consistency > Consistency::default_level) writer.fail(field_error("consistency", "unknown"));
  writer.write_u8(static_cast<std::uint8_t>(consistency));
}

Status decode_consistency(ByteReader& reader, Consistency& consistency) {
  std::uint8_t byte = 0;
  CODEC_TRY(reader.read_u8(byte, "consistency"));
  if (byte > static_cast<std::uint8_t>(Consistency::default_level)) {
    return field_error("consistency", "unknown consistency level " + number(byte));
  }
  consistency = static_cast<Consistency>(byte);
  return Status::ok_status();
}

}  // namespace

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
  encode_optional_value(writer, message.value, message.expires_at_us);
  encode_clock_fields(writer, message.context);
  writer.write_bool(message.context_from_coordinator);
  writer.write_bool(message.increment.has_value());
  if (message.increment) {
    if (!message.is_write || message.value || !message.context_from_coordinator) {
      writer.fail(field_error("increment", "only on a write without a value, from the coordinator"));
    }
    writer.write_i64(*message.increment);
  }
}

Status decode_fields(ByteReader& reader, CoordinateRequest& message) {
  CODEC_TRY(reader.read_u64(message.request_id, "request_id"));
  CODEC_TRY(decode_consistency(reader, message.consistency));
  CODEC_TRY(reader.read_string(message.key, key_bound, "key"));
  CODEC_TRY(reader.read_bool(message.is_write, "is_write"));
  CODEC_TRY(decode_optional_value(reader, message.value, message.expires_at_us));
  CODEC_TRY_IN("context", decode_clock_fields(reader, message.context));
  CODEC_TRY(reader.read_bool(message.context_from_coordinator, "context_from_coordinator"));
  bool has_increment = false;
  CODEC_TRY(reader.read_bool(has_increment, "increment.present"));
  message.increment.reset();
  if (!has_increment) return Status::ok_status();
  if (!message.is_write || message.value || !message.context_from_coordinator) {
    return field_error("increment", "only on a write without a value, from the coordinator");
  }
  std::int64_t increment = 0;
  CODEC_TRY(reader.read_i64(increment, "increment"));
  message.increment = increment;
  return Status::ok_status();
}

void encode_fields(ByteWriter& writer, const CoordinateReply& message) {
  writer.write_u64(message.request_id);
  encode_status(writer, message.status);
  encode_sibling_set_fields(writer, message.state);
  writer.write_u32(message.replicas_answered);
  writer.write_bool(message.existed);
}

Status decode_fields(ByteReader& reader, CoordinateReply& message) {
  CODEC_TRY(reader.read_u64(message.request_id, "request_id"));
  CODEC_TRY_IN("status", decode_status(reader, message.status));
  CODEC_TRY_IN("state", decode_sibling_set_fields(reader, message.state));
  CODEC_TRY(reader.read_u32(message.replicas_answered, "replicas_answered"));
  return reader.read_bool(message.existed, "existed");
}

}  // namespace vigil::core::codec_detail
