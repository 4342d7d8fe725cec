// The bodies of the messages that keep the cluster together and cover for absent replicas:
// Gossip (membership), Ping, PingAck and PingRequest (the failure detector's direct and
// indirect probes), HintWrite, HintDelivery and HintDeliveryReply (hinted handoff). One
// encode_fields/decode_fields pair per message, fields in declaration order (messages.h);
// codec.cpp frames them.

#include <cstdint>
#include <string>

#include "core/wire/bytes.h"
#include "core/wire/codec.h"
#include "core/wire/codec_detail.h"

namespace vigil::core::codec_detail {

namespace {

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

}  // namespace

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

}  // namespace vigil::core::codec_detail
