// Field encoders of the tombstone collector's messages (core/tombstones/, messages.h):
// a query naming deleted states by hash, its reply (one byte per entry), and the reap.

#include <string>

#include "core/wire/codec_detail.h"

namespace vigil::core::codec_detail {

namespace {

// Key (u32 length + bytes) and hash (u64): the least an entry takes.
constexpr std::size_t tombstone_entry_bytes_min = 4 + 8;

void encode_entries(ByteWriter& writer, const std::vector<TombstoneEntry>& entries) {
  write_count(writer, entries.size(), "entries", tombstone_entries_bound);
  for (const TombstoneEntry& entry : entries) {
    writer.write_string(entry.key, key_bound, "entries.key");
    writer.write_u64(entry.state_hash);
  }
}

Status decode_entries(ByteReader& reader, std::vector<TombstoneEntry>& entries) {
  std::uint32_t count = 0;
  CODEC_TRY(read_count(reader, count, "entries", tombstone_entries_bound,
                       tombstone_entry_bytes_min));
  entries.resize(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::string field = indexed("entries", i);
    CODEC_TRY_IN(field, reader.read_string(entries[i].key, key_bound, "key"));
    CODEC_TRY_IN(field, reader.read_u64(entries[i].state_hash, "state_hash"));
  }
  return Status::ok_status();
}

}  // namespace

void encode_fields(ByteWriter& writer, const TombstoneQuery& message) {
  writer.write_u64(message.round_id);
  encode_entries(writer, message.entries);
}

Status decode_fields(ByteReader& reader, TombstoneQuery& message) {
  CODEC_TRY(reader.read_u64(message.round_id, "round_id"));
  return decode_entries(reader, message.entries);
}

void encode_fields(ByteWriter& writer, const TombstoneQueryReply& message) {
  writer.write_u64(message.round_id);
  write_count(writer, message.holds.size(), "holds", tombstone_entries_bound);
  for (const std::uint8_t holds : message.holds) writer.write_bool(holds != 0);
}

Status decode_fields(ByteReader& reader, TombstoneQueryReply& message) {
  CODEC_TRY(reader.read_u64(message.round_id, "round_id"));
  std::uint32_t count = 0;
  CODEC_TRY(read_count(reader, count, "holds", tombstone_entries_bound, 1));
  message.holds.resize(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    bool holds = false;
    CODEC_TRY(reader.read_bool(holds, indexed("holds", i)));
    message.holds[i] = holds ? 1 : 0;
  }
  return Status::ok_status();
}

void encode_fields(ByteWriter& writer, const TombstoneReap& message) {
  encode_entries(writer, message.entries);
}

Status decode_fields(ByteReader& reader, TombstoneReap& message) {
  return decode_entries(reader, message.entries);
}

}  // namespace vigil::core::codec_detail
