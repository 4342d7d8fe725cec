// The bodies of the anti-entropy messages (messages.h; docs/anti-entropy.md): comparing
// tictac trees level by level (AeTreeRequest, AeTreeReply), listing the keys under a node
// (AeKeysRequest, AeKeysReply) and repairing them (AeSync, AeSyncReply). One
// encode_fields/decode_fields pair per message, fields in declaration order; codec.cpp
// frames them.
//
// Tree coordinates are checked here, not only by the receiving state machine: a depth over
// merkle_depth_max, a level below the leaves, or an index past its level's width is refused
// with the field named, so no later code shifts by an unchecked amount or sizes a reply
// from a peer's numbers. The encoder runs the same checks (check_* below), so whatever
// encodes decodes. Lists are bounded (codec.h ae_*_max) and read through read_count, which
// also refuses a count the remaining bytes cannot hold before anything is reserved.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/wire/bytes.h"
#include "core/wire/codec.h"
#include "core/wire/codec_detail.h"

namespace vigil::core::codec_detail {

namespace {

// ---- tree coordinates: one check shared by encoder and decoder ----

Status check_depth(std::uint32_t depth) {
  if (depth > merkle_depth_max) {
    return field_error("depth", "depth " + number(depth) + " exceeds merkle_depth_max (" +
                                    number(merkle_depth_max) + ")");
  }
  return Status::ok_status();
}

// REQUIRES: check_depth(depth) passed.
Status check_level(std::uint32_t level, std::uint32_t depth) {
  if (level > depth) {
    return field_error("level", "level " + number(level) + " exceeds depth " + number(depth));
  }
  return Status::ok_status();
}

// REQUIRES: check_level(level, depth) passed.
Status check_levels_down(std::uint32_t levels_down, std::uint32_t level, std::uint32_t depth) {
  if (levels_down > ae_levels_down_max) {
    return field_error("levels_down", "levels_down " + number(levels_down) +
                                          " exceeds ae_levels_down_max (" +
                                          number(ae_levels_down_max) + ")");
  }
  if (level + levels_down > depth) {
    return field_error("levels_down", "level " + number(level) + " + levels_down " +
                                          number(levels_down) + " exceeds depth " +
                                          number(depth));
  }
  return Status::ok_status();
}

// A level holds 2^level nodes, indexed from 0. REQUIRES: level <= merkle_depth_max.
Status check_index(std::uint64_t index, std::uint32_t level, std::string_view field) {
  const std::uint64_t width = std::uint64_t{1} << level;
  if (index >= width) {
    return field_error(field, "index " + std::to_string(index) + " is not below 2^level (" +
                                  std::to_string(width) + ")");
  }
  return Status::ok_status();
}

void fail_unless_ok(ByteWriter& writer, Status status) {
  if (!status.ok()) writer.fail(std::move(status));
}

// ---- shared fields ----

// The tree's replica set: at most members_max valid node ids. Order and duplicates are the
// receiver's concern (a set that names no tree of its is refused as failed_precondition).
void encode_replicas(ByteWriter& writer, const std::vector<NodeId>& replicas) {
  write_count(writer, replicas.size(), "replicas", members_bound);
  for (const NodeId& node : replicas) encode_node_id(writer, node, "replicas");
}

Status decode_replicas(ByteReader& reader, std::vector<NodeId>& replicas) {
  std::uint32_t count = 0;
  CODEC_TRY(read_count(reader, count, "replicas", members_bound, 4 + 1));  // id "x"
  replicas.resize(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    CODEC_TRY(decode_node_id(reader, replicas[i], indexed("replicas", i)));
  }
  return Status::ok_status();
}

void encode_key_states(ByteWriter& writer, const std::vector<AeKeyState>& states,
                       std::string_view field) {
  write_count(writer, states.size(), field, ae_keys_bound);
  for (const AeKeyState& state : states) {
    writer.write_string(state.key, key_bound, std::string(field) + ".key");
    encode_sibling_set_fields(writer, state.state);
  }
}

Status decode_key_states(ByteReader& reader, std::vector<AeKeyState>& states,
                         std::string_view field) {
  std::uint32_t count = 0;
  CODEC_TRY(read_count(reader, count, field, ae_keys_bound, ae_key_state_bytes_min));
  states.resize(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::string element = indexed(field, i);
    CODEC_TRY_IN(element, reader.read_string(states[i].key, key_bound, "key"));
    CODEC_TRY_IN(element + ".state", decode_sibling_set_fields(reader, states[i].state));
  }
  return Status::ok_status();
}

}  // namespace

// ---- tree comparison ----

void encode_fields(ByteWriter& writer, const AeTreeRequest& message) {
  writer.write_u64(message.exchange_id);
  encode_replicas(writer, message.replicas);
  fail_unless_ok(writer, check_depth(message.depth));
  fail_unless_ok(writer, check_level(message.level, message.depth));
  fail_unless_ok(writer, check_levels_down(message.levels_down, message.level, message.depth));
  writer.write_u32(message.depth);
  writer.write_u32(message.level);
  writer.write_u32(message.levels_down);
  write_count(writer, message.indices.size(), "indices", ae_indices_bound);
  for (const std::uint64_t index : message.indices) {
    // Guarded: check_index's shift needs a level already known to be in range.
    if (writer.ok()) fail_unless_ok(writer, check_index(index, message.level, "indices"));
    writer.write_u64(index);
  }
}

Status decode_fields(ByteReader& reader, AeTreeRequest& message) {
  CODEC_TRY(reader.read_u64(message.exchange_id, "exchange_id"));
  CODEC_TRY(decode_replicas(reader, message.replicas));
  CODEC_TRY(reader.read_u32(message.depth, "depth"));
  CODEC_TRY(check_depth(message.depth));
  CODEC_TRY(reader.read_u32(message.level, "level"));
  CODEC_TRY(check_level(message.level, message.depth));
  CODEC_TRY(reader.read_u32(message.levels_down, "levels_down"));
  CODEC_TRY(check_levels_down(message.levels_down, message.level, message.depth));
  std::uint32_t count = 0;
  CODEC_TRY(read_count(reader, count, "indices", ae_indices_bound, ae_index_bytes));
  message.indices.resize(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::string field = indexed("indices", i);
    CODEC_TRY(reader.read_u64(message.indices[i], field));
    CODEC_TRY(check_index(message.indices[i], message.level, field));
  }
  return Status::ok_status();
}

void encode_fields(ByteWriter& writer, const AeTreeReply& message) {
  writer.write_u64(message.exchange_id);
  encode_status(writer, message.status);
  write_count(writer, message.nodes.size(), "nodes", ae_nodes_bound);
  for (const AeTreeNode& node : message.nodes) {
    writer.write_u64(node.hash);
    writer.write_u64(node.count);
  }
}

Status decode_fields(ByteReader& reader, AeTreeReply& message) {
  CODEC_TRY(reader.read_u64(message.exchange_id, "exchange_id"));
  CODEC_TRY_IN("status", decode_status(reader, message.status));
  std::uint32_t count = 0;
  CODEC_TRY(read_count(reader, count, "nodes", ae_nodes_bound, ae_tree_node_bytes));
  message.nodes.resize(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::string field = indexed("nodes", i);
    CODEC_TRY_IN(field, reader.read_u64(message.nodes[i].hash, "hash"));
    CODEC_TRY_IN(field, reader.read_u64(message.nodes[i].count, "count"));
  }
  return Status::ok_status();
}

// ---- key listing ----

void encode_fields(ByteWriter& writer, const AeKeysRequest& message) {
  writer.write_u64(message.exchange_id);
  encode_replicas(writer, message.replicas);
  fail_unless_ok(writer, check_depth(message.depth));
  fail_unless_ok(writer, check_level(message.level, message.depth));
  writer.write_u32(message.depth);
  writer.write_u32(message.level);
  if (writer.ok()) fail_unless_ok(writer, check_index(message.index, message.level, "index"));
  writer.write_u64(message.index);
  writer.write_string(message.after, key_bound, "after");  // empty: from the start
}

Status decode_fields(ByteReader& reader, AeKeysRequest& message) {
  CODEC_TRY(reader.read_u64(message.exchange_id, "exchange_id"));
  CODEC_TRY(decode_replicas(reader, message.replicas));
  CODEC_TRY(reader.read_u32(message.depth, "depth"));
  CODEC_TRY(check_depth(message.depth));
  CODEC_TRY(reader.read_u32(message.level, "level"));
  CODEC_TRY(check_level(message.level, message.depth));
  CODEC_TRY(reader.read_u64(message.index, "index"));
  CODEC_TRY(check_index(message.index, message.level, "index"));
  return reader.read_string(message.after, key_bound, "after");
}

void encode_fields(ByteWriter& writer, const AeKeysReply& message) {
  writer.write_u64(message.exchange_id);
  encode_status(writer, message.status);
  write_count(writer, message.keys.size(), "keys", ae_keys_bound);
  for (const AeKeyHash& key : message.keys) {
    writer.write_string(key.key, key_bound, "keys.key");
    writer.write_u64(key.hash);
  }
  writer.write_bool(message.more);
}

Status decode_fields(ByteReader& reader, AeKeysReply& message) {
  CODEC_TRY(reader.read_u64(message.exchange_id, "exchange_id"));
  CODEC_TRY_IN("status", decode_status(reader, message.status));
  std::uint32_t count = 0;
  CODEC_TRY(read_count(reader, count, "keys", ae_keys_bound, ae_key_hash_bytes_min));
  message.keys.resize(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::string field = indexed("keys", i);
    CODEC_TRY_IN(field, reader.read_string(message.keys[i].key, key_bound, "key"));
    CODEC_TRY_IN(field, reader.read_u64(message.keys[i].hash, "hash"));
  }
  return reader.read_bool(message.more, "more");
}

// ---- repair ----

void encode_fields(ByteWriter& writer, const AeSync& message) {
  writer.write_u64(message.exchange_id);
  encode_key_states(writer, message.push, "push");
  write_count(writer, message.pull.size(), "pull", ae_keys_bound);
  for (const Key& key : message.pull) writer.write_string(key, key_bound, "pull");
}

Status decode_fields(ByteReader& reader, AeSync& message) {
  CODEC_TRY(reader.read_u64(message.exchange_id, "exchange_id"));
  CODEC_TRY(decode_key_states(reader, message.push, "push"));
  std::uint32_t count = 0;
  CODEC_TRY(read_count(reader, count, "pull", ae_keys_bound, ae_key_bytes_min));
  message.pull.resize(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    CODEC_TRY(reader.read_string(message.pull[i], key_bound, indexed("pull", i)));
  }
  return Status::ok_status();
}

void encode_fields(ByteWriter& writer, const AeSyncReply& message) {
  writer.write_u64(message.exchange_id);
  encode_status(writer, message.status);
  encode_key_states(writer, message.states, "states");
}

Status decode_fields(ByteReader& reader, AeSyncReply& message) {
  CODEC_TRY(reader.read_u64(message.exchange_id, "exchange_id"));
  CODEC_TRY_IN("status", decode_status(reader, message.status));
  return decode_key_states(reader, message.states, "states");
}

}  // namespace vigil::core::codec_detail
