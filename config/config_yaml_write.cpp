#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "config/config_schema.h"
#include "config/config_yaml.h"
#include "config/units.h"

// Writing a Config as YAML: the same key list as the reader (config_schema.h), so a key
// cannot be written that the reader would not take back. Every value is written in the
// form its parser reads (units.h), strings always double-quoted, so that
// config_from_yaml(config_to_yaml(c)) == c for every valid c (tests/config/config_test.cpp).

namespace vigil::config {
namespace {

using schema::Bounds;
using schema::DurationBounds;
using schema::RealBounds;

std::string yaml_string(std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      out += "\\x";
      out += hex[byte >> 4];
      out += hex[byte & 0xf];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// How each kind of value is written; shared by the file writer and config_key_values().
struct Texts {
  template <typename Int>
  static std::string count(Int value) {
    return std::to_string(value);
  }
  static std::string big_number(std::uint64_t value) {
    return yaml_string(format_whole_number(value));
  }
  static std::string size(std::uint64_t value) { return format_size_bytes(value); }
  static std::string rate(std::uint64_t value) { return format_rate_bytes_per_second(value); }
  static std::string duration(Duration value) { return format_duration(value); }
  static std::string real(double value) { return format_real(value); }
  static std::string flag(bool value) { return value ? "true" : "false"; }
  template <typename E>
  static std::string choice(E value) {
    return yaml_string(schema::enum_name(value));
  }
  static std::string quorum_size(const QuorumSize& value) {
    return value.kind == QuorumSize::Kind::count ? format_quorum_size(value)
                                                 : yaml_string(format_quorum_size(value));
  }
  static std::string address(const Address& value) { return yaml_string(format_address(value)); }
  // Flow style, one entry per user. The hash is written (a node.yaml that `vigil cluster up`
  // writes must keep it); `vigil config defaults` has no users, so no hash.
  static std::string users(const std::vector<Config::Security::User>& value) {
    std::string out = "[";
    for (std::size_t i = 0; i < value.size(); ++i) {
      out += (i == 0 ? "{" : ", {") + std::string("name: ") + yaml_string(value[i].name) +
             ", password_hash: " + yaml_string(value[i].password_hash) +
             ", permissions: " + choice(value[i].permissions) + "}";
    }
    return out + "]";
  }
  static std::string seeds(const std::vector<SeedNode>& value) {
    std::string out = "[";
    for (std::size_t i = 0; i < value.size(); ++i) {
      out += (i == 0 ? "" : ", ") + yaml_string(format_seed_node(value[i]));
    }
    return out + "]";
  }
};

// Calls emit(name, written value, doc) for every key, inside enter/leave for sections.
template <typename Sink>
class TextVisitor {
 public:
  explicit TextVisitor(Sink& sink) : sink_(sink) {}

  template <typename Body>
  void section(std::string_view name, std::string_view doc, Body body) {
    sink_.enter(name, doc);
    body();
    sink_.leave();
  }
  template <typename Int>
  void count(std::string_view name, const Int& value, Bounds, std::string_view doc) {
    sink_.emit(name, Texts::count(value), doc);
  }
  void big_number(std::string_view name, const std::uint64_t& value, Bounds, std::string_view doc) {
    sink_.emit(name, Texts::big_number(value), doc);
  }
  void size(std::string_view name, const std::uint64_t& value, Bounds, std::string_view doc) {
    sink_.emit(name, Texts::size(value), doc);
  }
  void rate(std::string_view name, const std::uint64_t& value, Bounds, std::string_view doc) {
    sink_.emit(name, Texts::rate(value), doc);
  }
  void duration(std::string_view name, const Duration& value, DurationBounds,
                std::string_view doc) {
    sink_.emit(name, Texts::duration(value), doc);
  }
  void real(std::string_view name, const double& value, RealBounds, std::string_view doc) {
    sink_.emit(name, Texts::real(value), doc);
  }
  void flag(std::string_view name, const bool& value, std::string_view doc) {
    sink_.emit(name, Texts::flag(value), doc);
  }
  template <typename E>
  void choice(std::string_view name, const E& value, std::string_view doc) {
    sink_.emit(name, Texts::choice(value), doc);
  }
  void quorum_size(std::string_view name, const QuorumSize& value, std::string_view doc) {
    sink_.emit(name, Texts::quorum_size(value), doc);
  }
  void node_id(std::string_view name, const NodeId& value, std::string_view doc) {
    sink_.emit(name, yaml_string(value), doc);
  }
  void address(std::string_view name, const Address& value, std::string_view doc) {
    sink_.emit(name, Texts::address(value), doc);
  }
  void text(std::string_view name, const std::string& value, std::string_view doc) {
    sink_.emit(name, yaml_string(value), doc);
  }
  void file_path(std::string_view name, const std::string& value, std::string_view doc) {
    sink_.emit(name, yaml_string(value), doc);
  }
  void seeds(std::string_view name, const std::vector<SeedNode>& value, std::string_view doc) {
    sink_.emit(name, Texts::seeds(value), doc);
  }
  void users(std::string_view name, const std::vector<Config::Security::User>& value,
             std::string_view doc) {
    sink_.emit(name, Texts::users(value), doc);
  }
  void fixed(std::string_view name, std::string_view doc) { sink_.note(name, doc); }

 private:
  Sink& sink_;
};

constexpr std::size_t line_columns_max = 100;
constexpr std::size_t comment_column = 34;

// Writes the commented file.
class FileSink {
 public:
  void enter(std::string_view name, std::string_view doc) {
    if (depth_ == 0) out_ += "\n";
    comment_lines(doc);
    out_ += indent() + std::string(name) + ":\n";
    ++depth_;
  }
  void leave() { --depth_; }

  void emit(std::string_view name, const std::string& value, std::string_view doc) {
    std::string line = indent() + std::string(name) + ": " + value;
    const bool multi_line = doc.find('\n') != std::string_view::npos;
    const std::size_t padded = std::max(line.size() + 2, comment_column);
    if (!doc.empty() && !multi_line && padded + 2 + doc.size() <= line_columns_max) {
      line.resize(padded, ' ');
      line += "# " + std::string(doc);
    } else {
      if (depth_ == 0) out_ += "\n";
      comment_lines(doc);
    }
    out_ += line + "\n";
  }

  // A key that is described but not configurable: a comment only.
  void note(std::string_view name, std::string_view doc) {
    out_ += indent() + "# " + std::string(name) + ": " + std::string(doc) + "\n";
  }

  std::string& text() { return out_; }

 private:
  std::string indent() const { return std::string(2 * depth_, ' '); }
  void comment_lines(std::string_view doc) {
    while (!doc.empty()) {
      const std::size_t end = std::min(doc.find('\n'), doc.size());
      out_ += indent() + "# " + std::string(doc.substr(0, end)) + "\n";
      doc.remove_prefix(std::min(end + 1, doc.size()));
    }
  }

  std::string out_;
  std::size_t depth_ = 0;
};

// Collects "section.key" -> written value.
class FlatSink {
 public:
  void enter(std::string_view name, std::string_view) { path_.emplace_back(name); }
  void leave() { path_.pop_back(); }
  void emit(std::string_view name, const std::string& value, std::string_view) {
    std::string key;
    for (const std::string& part : path_) key += part + ".";
    values_[key + std::string(name)] = value;
  }
  void note(std::string_view, std::string_view) {}
  std::map<std::string, std::string>& values() { return values_; }

 private:
  std::vector<std::string> path_;
  std::map<std::string, std::string> values_;
};

constexpr std::string_view file_header =
    "# Vigil node configuration. A file gives only the keys it changes; every other key\n"
    "# keeps its default (`vigil config defaults` prints them all). Every key is described\n"
    "# in docs/configuration.md, with the feature that reads it (many are not built yet).\n"
    "# Durations: 100ms 5s 1m 24h (us ms s m h d). Sizes: 512B 64KB 10MB 1GB, where\n"
    "# 1KB = 1024B (KiB MiB GiB also accepted). Rates: a size per second, e.g. 50MB/s.\n";

}  // namespace

std::string config_to_yaml(const Config& config) {
  FileSink sink;
  TextVisitor<FileSink> visitor(sink);
  schema::visit_config(visitor, config);
  return std::string(file_header) + sink.text();
}

std::string config_defaults_yaml() {
  return config_to_yaml(Config{});
}

std::map<std::string, std::string> config_key_values(const Config& config) {
  FlatSink sink;
  TextVisitor<FlatSink> visitor(sink);
  schema::visit_config(visitor, config);
  return std::move(sink.values());
}

std::size_t config_keys_changed(const Config& config) {
  const std::map<std::string, std::string> defaults = config_key_values(Config{});
  std::size_t changed = 0;
  for (const auto& [key, value] : config_key_values(config)) {
    changed += defaults.at(key) == value ? 0 : 1;
  }
  return changed;
}

std::string config_summary(const Config& config) {
  const auto& n = config.node;
  const auto& q = config.quorum_settings;
  const std::size_t changed = config_keys_changed(config);
  return "node " + n.id + ", listen " + format_address(n.listen) + ", client " +
         format_address(n.client) + ", admin " + format_address(n.admin) +
         ", N=" + std::to_string(q.n) + " R=" + std::to_string(q.r) + " W=" + std::to_string(q.w) +
         ", conflict_resolution " + std::string(schema::enum_name(config.conflict_resolution)) +
         ", " + std::to_string(n.seeds.size()) + (n.seeds.size() == 1 ? " seed, " : " seeds, ") +
         std::to_string(changed) + (changed == 1 ? " key" : " keys") + " changed from defaults";
}

}  // namespace vigil::config
