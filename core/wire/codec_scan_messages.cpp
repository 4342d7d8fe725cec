// Field encoders of the enumeration messages (core/scan/, messages.h): a key scan of one
// token span and its page of keys, a key count and its answer.

#include <string>

#include "core/wire/codec_detail.h"

namespace vigil::core::codec_detail {

void encode_fields(ByteWriter& writer, const KeyScan& message) {
  writer.write_u64(message.request_id);
  writer.write_u64(message.first_token);
  writer.write_u64(message.last_token);
  writer.write_u32(message.keys_max);
}

Status decode_fields(ByteReader& reader, KeyScan& message) {
  CODEC_TRY(reader.read_u64(message.request_id, "request_id"));
  CODEC_TRY(reader.read_u64(message.first_token, "first_token"));
  CODEC_TRY(reader.read_u64(message.last_token, "last_token"));
  return reader.read_u32(message.keys_max, "keys_max");
}

void encode_fields(ByteWriter& writer, const KeyScanReply& message) {
  writer.write_u64(message.request_id);
  encode_status(writer, message.status);
  write_count(writer, message.keys.size(), "keys", scan_keys_bound);
  for (const Key& key : message.keys) writer.write_string(key, key_bound, "keys.key");
  writer.write_bool(message.complete);
  writer.write_u64(message.covered_through);
}

Status decode_fields(ByteReader& reader, KeyScanReply& message) {
  CODEC_TRY(reader.read_u64(message.request_id, "request_id"));
  CODEC_TRY_IN("status", decode_status(reader, message.status));
  std::uint32_t count = 0;
  CODEC_TRY(read_count(reader, count, "keys", scan_keys_bound, ae_key_bytes_min));
  message.keys.resize(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    CODEC_TRY(reader.read_string(message.keys[i], key_bound, indexed("keys", i)));
  }
  CODEC_TRY(reader.read_bool(message.complete, "complete"));
  return reader.read_u64(message.covered_through, "covered_through");
}

void encode_fields(ByteWriter& writer, const KeyCount& message) {
  writer.write_u64(message.request_id);
}

Status decode_fields(ByteReader& reader, KeyCount& message) {
  return reader.read_u64(message.request_id, "request_id");
}

void encode_fields(ByteWriter& writer, const KeyCountReply& message) {
  writer.write_u64(message.request_id);
  encode_status(writer, message.status);
  writer.write_u64(message.count);
}

Status decode_fields(ByteReader& reader, KeyCountReply& message) {
  CODEC_TRY(reader.read_u64(message.request_id, "request_id"));
  CODEC_TRY_IN("status", decode_status(reader, message.status));
  return reader.read_u64(message.count, "count");
}

}  // namespace vigil::core::codec_detail
