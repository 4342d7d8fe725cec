// VRING's reply, checked field by field (see ring_reply.h).

#include "client/ring_reply.h"

#include <charconv>
#include <string_view>
#include <vector>

namespace vigil::client {

namespace {

core::Status wrong(std::string_view field, std::string_view what) {
  return core::error(core::Code::invalid_argument,
                     "VRING reply: " + std::string(field) + ": " + std::string(what));
}

bool is_string(const redisReply* reply) {
  return reply != nullptr &&
         (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS);
}

std::string_view text(const redisReply* reply) {
  return std::string_view(reply->str, reply->len);
}

bool parse_u64(std::string_view digits, std::uint64_t& out) {
  if (digits.empty()) return false;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  return ec == std::errc() && end == digits.data() + digits.size();
}

core::Status check_name(const redisReply& reply, std::size_t index, std::string_view name) {
  const redisReply* element = reply.element[index];
  if (!is_string(element) || text(element) != name) {
    return wrong("field " + std::to_string(index / 2),
                 "expected the name \"" + std::string(name) + "\"");
  }
  return core::Status::ok_status();
}

core::Result<std::int64_t> integer_at(const redisReply& reply, std::size_t index,
                                      std::string_view name) {
  const redisReply* element = reply.element[index];
  if (element == nullptr || element->type != REDIS_REPLY_INTEGER || element->integer < 0) {
    return wrong(name, "expected a non-negative integer");
  }
  return static_cast<std::int64_t>(element->integer);
}

core::Status decode_member(const redisReply* member, std::size_t index, RingReply& out,
                           std::map<core::NodeId, std::vector<core::Token>>& tokens) {
  const std::string field = "members[" + std::to_string(index) + "]";
  if (member == nullptr || member->type != REDIS_REPLY_ARRAY || member->elements != 3) {
    return wrong(field, "expected [id, address, tokens]");
  }
  if (!is_string(member->element[0]) || !is_string(member->element[1])) {
    return wrong(field, "expected an id and an address (bulk strings)");
  }
  const core::NodeId id(text(member->element[0]));
  if (!core::is_valid_node_id(id)) return wrong(field, "invalid node id \"" + id + "\"");
  if (tokens.count(id) > 0) return wrong(field, "node \"" + id + "\" listed twice");
  const std::string_view address = text(member->element[1]);
  if (!address.empty()) {
    if (auto parsed = parse_host_port(address); !parsed.ok()) {
      return wrong(field + ".address", parsed.status().message());
    }
    out.addresses[id] = std::string(address);
  }
  const redisReply* list = member->element[2];
  if (list == nullptr || list->type != REDIS_REPLY_ARRAY || list->elements == 0 ||
      list->elements > core::ring_vnodes_max) {
    return wrong(field + ".tokens", "expected 1.." + std::to_string(core::ring_vnodes_max) +
                                        " tokens");
  }
  std::vector<core::Token>& node_tokens = tokens[id];
  for (std::size_t i = 0; i < list->elements; ++i) {
    std::uint64_t token = 0;
    if (!is_string(list->element[i]) || !parse_u64(text(list->element[i]), token)) {
      return wrong(field + ".tokens[" + std::to_string(i) + "]",
                   "expected an unsigned 64-bit decimal");
    }
    node_tokens.push_back(token);
  }
  return core::Status::ok_status();
}

}  // namespace

core::Result<HostPort> parse_host_port(std::string_view address) {
  const std::size_t colon = address.rfind(':');
  std::uint64_t port = 0;
  if (colon == std::string_view::npos || colon == 0 ||
      !parse_u64(address.substr(colon + 1), port) || port == 0 || port > 65535) {
    return core::error(core::Code::invalid_argument,
                       "\"" + std::string(address) + "\" is not host:port (port 1..65535)");
  }
  HostPort out;
  out.host = std::string(address.substr(0, colon));
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);  // [::1]:6401
  }
  out.port = static_cast<int>(port);
  return out;
}

core::Result<RingReply> decode_ring_reply(const redisReply& reply) {
  if (reply.type == REDIS_REPLY_ERROR) return wrong("reply", text(&reply));
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 10) {
    return wrong("reply", "expected an array of 5 name/value pairs");
  }
  const std::string_view names[] = {"version", "digest", "self", "replicas", "members"};
  for (std::size_t i = 0; i < 5; ++i) {
    if (core::Status ok = check_name(reply, 2 * i, names[i]); !ok.ok()) return ok;
  }
  RingReply out;
  auto version = integer_at(reply, 1, "version");
  if (!version.ok()) return version.status();
  out.version = static_cast<std::uint64_t>(*version);
  if (!is_string(reply.element[3]) || reply.element[3]->len != 16) {
    return wrong("digest", "expected 16 hex digits");
  }
  out.digest = std::string(text(reply.element[3]));
  if (!is_string(reply.element[5]) || !core::is_valid_node_id(std::string(text(reply.element[5])))) {
    return wrong("self", "expected a node id");
  }
  out.self = std::string(text(reply.element[5]));
  auto replicas = integer_at(reply, 7, "replicas");
  if (!replicas.ok()) return replicas.status();
  if (*replicas < 1 || *replicas > static_cast<std::int64_t>(core::ring_nodes_max)) {
    return wrong("replicas", "expected 1.." + std::to_string(core::ring_nodes_max));
  }
  out.replicas = static_cast<std::uint32_t>(*replicas);
  const redisReply* members = reply.element[9];
  if (members == nullptr || members->type != REDIS_REPLY_ARRAY || members->elements == 0 ||
      members->elements > core::ring_nodes_max) {
    return wrong("members", "expected 1.." + std::to_string(core::ring_nodes_max) + " members");
  }
  std::map<core::NodeId, std::vector<core::Token>> tokens;
  for (std::size_t i = 0; i < members->elements; ++i) {
    if (core::Status ok = decode_member(members->element[i], i, out, tokens); !ok.ok()) return ok;
  }
  if (tokens.count(out.self) == 0) return wrong("self", "\"" + out.self + "\" is not a member");
  auto ring = core::Ring::from_tokens(tokens);
  if (!ring.ok()) return wrong("members", ring.status().message());
  out.ring = std::move(ring).value();
  return out;
}

}  // namespace vigil::client
