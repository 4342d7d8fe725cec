#include "config/config.h"

#include <algorithm>
#include <cstddef>
#include <limits>
#include <string>
#include <utility>

#include "config/units.h"

// The small parsers of config values (node ids, addresses, seeds, quorum sizes) and the
// mappings from a Config onto what core/ takes. Validation is in config_validate.cpp.

namespace vigil::config {

using core::Code;
using core::Consistency;
using core::is_valid_node_id;
using core::RingOptions;
using core::SiblingLimits;

namespace {

std::string quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex_digit(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

Status check_ipv4(std::string_view host) {
  const Status bad{Code::invalid_argument, quoted(host) + " is not a valid IPv4 address"};
  int parts = 0;
  std::size_t start = 0;
  while (start <= host.size()) {
    const std::size_t dot = std::min(host.find('.', start), host.size());
    const std::string_view part = host.substr(start, dot - start);
    if (part.empty() || part.size() > 3 || ++parts > 4) return bad;
    int value = 0;
    for (const char c : part) value = value * 10 + (c - '0');
    if (value > 255) return bad;
    start = dot + 1;
  }
  return parts == 4 ? Status{} : bad;
}

Status check_host_name(std::string_view host) {
  const Status bad{Code::invalid_argument,
                   quoted(host) + " is not a valid host name (labels of A-Z a-z 0-9 -)"};
  if (host.size() > 253) return bad;
  std::size_t start = 0;
  while (start <= host.size()) {
    const std::size_t dot = std::min(host.find('.', start), host.size());
    const std::string_view label = host.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return bad;
    }
    for (const char c : label) {
      const bool ok = is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
      if (!ok) return bad;
    }
    start = dot + 1;
  }
  return {};
}

Status check_host(std::string_view host) {
  if (host.empty()) return error(Code::invalid_argument, "empty host");
  if (host.find(':') != std::string_view::npos) {
    bool ok = host.size() <= 45;
    int colons = 0;
    for (const char c : host) {
      colons += c == ':' ? 1 : 0;
      ok = ok && (is_hex_digit(c) || c == ':' || c == '.');
    }
    if (!ok || colons < 2) {
      return error(Code::invalid_argument, quoted(host) + " is not a valid IPv6 address");
    }
    return {};
  }
  if (host.find_first_not_of("0123456789.") == std::string_view::npos) return check_ipv4(host);
  return check_host_name(host);
}

}  // namespace

Result<NodeId> parse_node_id(std::string_view text) {
  if (is_valid_node_id(text)) return NodeId(text);
  return error(Code::invalid_argument,
               "invalid node id " + quoted(text) + " (1-64 characters of A-Z a-z 0-9 _ . -)");
}

Status check_address(const Address& address) {
  const Status host = check_host(address.host);
  if (!host.ok()) return host;
  if (address.port == 0) return error(Code::invalid_argument, "port 0 is not allowed (1-65535)");
  return {};
}

Result<Address> parse_address(std::string_view text) {
  const std::string shape = "expected host:port, e.g. 127.0.0.1:7401";
  if (text.empty()) return error(Code::invalid_argument, "empty address; " + shape);
  std::string_view host;
  std::string_view port;
  if (text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return error(Code::invalid_argument, quoted(text) + ": expected [ipv6]:port");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return error(Code::invalid_argument, quoted(text) + ": missing port; " + shape);
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return error(Code::invalid_argument,
                   quoted(text) + ": write an IPv6 address in brackets, e.g. [::1]:7401");
    }
  }
  const Status host_status = check_host(host);
  if (!host_status.ok()) {
    return error(Code::invalid_argument, quoted(text) + ": " + host_status.message());
  }
  std::uint32_t port_number = 0;
  bool port_ok = !port.empty() && port.size() <= 5;
  for (const char c : port) {
    port_ok = port_ok && is_digit(c);
    if (port_ok) port_number = port_number * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (!port_ok || port_number < 1 || port_number > 65535) {
    return error(Code::invalid_argument, quoted(text) + ": port must be a number from 1 to 65535");
  }
  return Address{std::string(host), static_cast<std::uint16_t>(port_number)};
}

std::string format_address(const Address& address) {
  const bool ipv6 = address.host.find(':') != std::string::npos;
  return (ipv6 ? "[" + address.host + "]" : address.host) + ":" + std::to_string(address.port);
}

Result<SeedNode> parse_seed_node(std::string_view text) {
  const std::size_t at = text.find('@');
  if (at == std::string_view::npos) {
    return error(Code::invalid_argument,
                 quoted(text) + ": expected id@host:port, e.g. n2@127.0.0.1:7402");
  }
  Result<NodeId> id = parse_node_id(text.substr(0, at));
  if (!id.ok()) return error(Code::invalid_argument, quoted(text) + ": " + id.status().message());
  Result<Address> address = parse_address(text.substr(at + 1));
  if (!address.ok()) return address.status();
  return SeedNode{std::move(id).value(), std::move(address).value()};
}

std::string format_seed_node(const SeedNode& seed) {
  return seed.id + "@" + format_address(seed.address);
}

std::uint32_t QuorumSize::resolve(std::uint32_t n) const {
  switch (kind) {
    case Kind::count: return count;
    case Kind::all: return n;
    case Kind::majority: return n / 2 + 1;
  }
  VIGIL_ASSERT(false, "QuorumSize kind out of range");
  return 0;
}

Result<QuorumSize> parse_quorum_size(std::string_view text) {
  std::string compact;
  for (const char c : text) {
    if (c != ' ' && c != '\t') compact += c;
  }
  if (compact == "N") return QuorumSize::all();
  if (compact == "N/2+1") return QuorumSize::majority();
  const Status bad{Code::invalid_argument,
                   quoted(text) + ": expected a number, \"N\" or \"N/2 + 1\""};
  if (compact.empty() || compact.size() > 10 ||
      compact.find_first_not_of("0123456789") != std::string::npos) {
    return bad;
  }
  const std::uint64_t value = std::stoull(compact);
  if (value > std::numeric_limits<std::uint32_t>::max()) return bad;
  return QuorumSize::fixed(static_cast<std::uint32_t>(value));
}

std::string format_quorum_size(const QuorumSize& size) {
  switch (size.kind) {
    case QuorumSize::Kind::count: return std::to_string(size.count);
    case QuorumSize::Kind::all: return "N";
    case QuorumSize::Kind::majority: return "N/2 + 1";
  }
  return "?";
}

QuorumSizes default_quorum_sizes(const Config& config) {
  const auto& q = config.quorum_settings;
  return {q.n, q.r, q.w};
}

QuorumSizes quorum_sizes(const Config& config, Consistency level) {
  if (level == Consistency::default_level) return default_quorum_sizes(config);
  const ConsistencyLevelConfig* chosen = &config.consistency_levels.quorum;
  switch (level) {
    case Consistency::one: chosen = &config.consistency_levels.eventual; break;
    case Consistency::quorum: chosen = &config.consistency_levels.quorum; break;
    case Consistency::all: chosen = &config.consistency_levels.strong; break;
    case Consistency::default_level: break;  // returned above
  }
  const std::uint32_t n = config.quorum_settings.n;
  const QuorumSizes sizes{n, chosen->r.resolve(n), chosen->w.resolve(n)};
  VIGIL_ASSERT(sizes.r >= 1 && sizes.r <= n && sizes.w >= 1 && sizes.w <= n,
               "quorum_sizes() on a config that validate() refuses");
  return sizes;
}

SiblingLimits sibling_limits(const Config& config) {
  const auto& v = config.vector_clock;
  SiblingLimits limits;
  limits.siblings_max = v.siblings_max;
  limits.pruning.entries_small = v.prune_small;
  limits.pruning.entries_big = v.prune_big;
  limits.pruning.age_young = v.prune_young;
  limits.pruning.age_old = v.prune_old;
  return limits;
}

RingOptions ring_options(const Config& config) {
  RingOptions options;
  options.vnodes = config.ring_configuration.virtual_nodes;
  options.token_spacing_min = config.token_distribution.min_spacing;
  return options;
}

}  // namespace vigil::config
