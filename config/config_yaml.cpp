#include "config/config_yaml.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <exception>
#include <limits>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

#include "config/config_schema.h"
#include "config/config_yaml_problems.h"
#include "config/password_hash.h"
#include "config/units.h"

// The reader walks the key list of config_schema.h over the parsed document: each key it
// is told about is looked up in the current mapping, parsed by its kind and stored; keys
// the document has but the schema never asked for are unknown keys. A bad key is reported
// and keeps its default so that one pass finds every problem; relations between keys are
// checked (validate()) only when every key parsed, since a defaulted bad key would report
// a relation the user did not write. yaml-cpp throws on malformed input and on misuse;
// every entry point catches and returns a Status, so no exception leaves this file.
//
// Error formatting and the one-document guard are in config_yaml_problems.cpp.

namespace vigil::config {

using core::Code;

namespace {

using schema::Bounds;
using schema::DurationBounds;
using schema::RealBounds;
using yaml_detail::check_one_document;
using yaml_detail::kind_name;
using yaml_detail::malformed;
using yaml_detail::Position;
using yaml_detail::position_of;
using yaml_detail::Problem;
using yaml_detail::problems_status;
using yaml_detail::quoted;
using yaml_detail::unknown_key_message;

// Problems kept with their text; more are only counted (a few are shown, see header).
constexpr std::size_t problems_kept_max = 1000;
static_assert(problems_kept_max >= config_errors_max);

std::string join(std::string_view prefix, std::string_view name) {
  return prefix.empty() ? std::string(name) : std::string(prefix) + "." + std::string(name);
}

class Reader {
 public:
  explicit Reader(Config& config) : config_(config) {}

  void read(const YAML::Node& root) {
    if (!root.IsDefined() || root.IsNull()) return;  // an empty file: every default
    if (!root.IsMap()) {
      problems_.push_back(
          {position_of(root.Mark()), "expected a mapping of sections (e.g. \"timing:\"), got " +
                                         std::string(kind_name(root))});
      return;
    }
    within(root, "", [&] { schema::visit_config(*this, config_); });
  }

  std::vector<Problem>& problems() { return problems_; }
  std::size_t problems_not_kept() const { return problems_not_kept_; }
  const std::map<std::string, Position>& positions() const { return positions_; }

  template <typename Body>
  void section(std::string_view name, std::string_view /*doc*/, Body body) {
    const std::optional<YAML::Node> value = take(name);
    if (!value || value->IsNull()) return;  // absent or empty: defaults
    if (!value->IsMap()) {
      report(*value, name, "expected a section of keys, got " + std::string(kind_name(*value)));
      return;
    }
    within(*value, path(name), body);
  }

  template <typename Int>
  void count(std::string_view name, Int& field, Bounds, std::string_view) {
    const std::optional<std::uint64_t> value = whole(name, "a whole number", parse_whole_number);
    if (!value) return;
    if (*value > std::numeric_limits<Int>::max()) {
      report_at(name, quoted(std::to_string(*value)) + ": too large (at most " +
                          std::to_string(std::numeric_limits<Int>::max()) + ")");
      return;
    }
    field = static_cast<Int>(*value);
  }
  void big_number(std::string_view name, std::uint64_t& field, Bounds, std::string_view) {
    if (const auto value = whole(name, "a whole number", parse_whole_number)) {
      field = *value;
    }
  }
  void size(std::string_view name, std::uint64_t& field, Bounds, std::string_view) {
    if (const auto value = whole(name, "a size such as 10MB", parse_size_bytes)) {
      field = *value;
    }
  }
  void rate(std::string_view name, std::uint64_t& field, Bounds, std::string_view) {
    if (const auto value = whole(name, "a rate such as 50MB/s", parse_rate_bytes_per_second)) {
      field = *value;
    }
  }

  void duration(std::string_view name, Duration& field, DurationBounds, std::string_view) {
    parse_into(name, "a duration such as 5s", field, parse_duration);
  }
  void real(std::string_view name, double& field, RealBounds, std::string_view) {
    parse_into(name, "a number", field, parse_real);
  }
  void flag(std::string_view name, bool& field, std::string_view) {
    parse_into(name, "true or false", field, [](std::string_view text) -> Result<bool> {
      if (text == "true" || text == "True" || text == "TRUE") return true;
      if (text == "false" || text == "False" || text == "FALSE") return false;
      return error(Code::invalid_argument, quoted(text) + ": expected true or false");
    });
  }

  template <typename E>
  void choice(std::string_view name, E& field, std::string_view) {
    parse_into(name, "a name", field, [](std::string_view text) -> Result<E> {
      std::string options;
      for (const auto& entry : schema::enum_names(E{})) {
        if (entry.name == text) return entry.value;
        options += (options.empty() ? "" : ", ") + quoted(entry.name);
      }
      return error(Code::invalid_argument, quoted(text) + ": expected one of " + options);
    });
  }

  void quorum_size(std::string_view name, QuorumSize& field, std::string_view) {
    parse_into(name, "a number, \"N\" or \"N/2 + 1\"", field, parse_quorum_size);
  }

  void node_id(std::string_view name, NodeId& field, std::string_view) {
    parse_into(name, "a node id", field, parse_node_id);
  }

  void address(std::string_view name, Address& field, std::string_view) {
    parse_into(name, "host:port", field, parse_address);
  }

  void text(std::string_view name, std::string& field, std::string_view) {
    parse_into(name, "a text", field,
               [](std::string_view text) -> Result<std::string> { return std::string(text); });
  }

  void file_path(std::string_view name, std::string& field, std::string_view doc) {
    text(name, field, doc);
  }

  void seeds(std::string_view name, std::vector<SeedNode>& field, std::string_view) {
    const std::optional<YAML::Node> value = take(name);
    if (!value || value->IsNull()) {
      if (value) field.clear();  // "seeds:" with nothing: no seeds
      return;
    }
    if (!value->IsSequence()) {
      report(*value, name,
             "expected a list of id@host:port, got " + std::string(kind_name(*value)));
      return;
    }
    std::vector<SeedNode> seeds;
    bool ok = true;
    for (std::size_t i = 0; i < value->size(); ++i) {
      const YAML::Node element = (*value)[i];
      const std::string element_name = std::string(name) + "[" + std::to_string(i) + "]";
      positions_[path(element_name)] = position_of(element.Mark());
      if (!element.IsScalar()) {
        report(element, element_name,
               "expected id@host:port, got " + std::string(kind_name(element)));
        ok = false;
        continue;
      }
      Result<SeedNode> seed = parse_seed_node(element.Scalar());
      if (!seed.ok()) {
        report(element, element_name, seed.status().message());
        ok = false;
        continue;
      }
      seeds.push_back(std::move(seed).value());
    }
    if (ok) field = std::move(seeds);
  }

  // A list of {name, password_hash, permissions}; each entry's keys are read as a section
  // of its own, so unknown and duplicate keys are reported as everywhere else. A hash that
  // does not parse is refused here, at load, not at the first AUTH.
  void users(std::string_view name, std::vector<Config::Security::User>& field,
             std::string_view) {
    const std::optional<YAML::Node> value = take(name);
    if (!value || value->IsNull()) {
      if (value) field.clear();
      return;
    }
    if (!value->IsSequence()) {
      report(*value, name,
             "expected a list of {name, password_hash, permissions}, got " +
                 std::string(kind_name(*value)));
      return;
    }
    std::vector<Config::Security::User> users;
    bool ok = true;
    for (std::size_t i = 0; i < value->size(); ++i) {
      const YAML::Node element = (*value)[i];
      const std::string element_name = std::string(name) + "[" + std::to_string(i) + "]";
      positions_[path(element_name)] = position_of(element.Mark());
      if (!element.IsMap()) {
        report(element, element_name,
               "expected {name, password_hash, permissions}, got " +
                   std::string(kind_name(element)));
        ok = false;
        continue;
      }
      // A missing key is reported at its entry.
      for (const std::string_view key : {"name", "password_hash"}) {
        positions_[join(path(element_name), key)] = position_of(element.Mark());
      }
      Config::Security::User user;
      const std::size_t problems_before = problems_.size();
      bool has_name = false;
      bool has_hash = false;
      within(element, path(element_name), [&] {
        has_name = parse_into("name", "a user name", user.name,
                              [](std::string_view text) -> Result<std::string> {
                                return std::string(text);
                              });
        has_hash = parse_into("password_hash", "a password hash", user.password_hash,
                              [](std::string_view text) -> Result<std::string> {
                                const auto parsed = parse_password_hash(text);
                                if (!parsed.ok()) return parsed.status();
                                return std::string(text);
                              });
        choice("permissions", user.permissions, "");
        if (!has_name && !take_known("name")) report_at("name", "is required");
        if (!has_hash && !take_known("password_hash")) {
          report_at("password_hash", "is required (from `vigil config hash-password`)");
        }
      });
      if (problems_.size() != problems_before || !has_name || !has_hash) {
        ok = false;
        continue;
      }
      users.push_back(std::move(user));
    }
    if (ok) field = std::move(users);
  }

  void fixed(std::string_view name, std::string_view doc) {
    const std::optional<YAML::Node> value = take(name);
    if (!value) return;
    report_at(name, "cannot be configured: " + std::string(doc) + "; remove this key");
  }

 private:
  struct Frame {
    YAML::Node map;
    std::string path;
    std::vector<std::string_view> known;
  };

  std::string path(std::string_view name) const { return join(frames_.back().path, name); }

  void report(const YAML::Node& node, std::string_view name, std::string message) {
    Position at = position_of(node.Mark());
    if (!at.known() || node.IsNull()) at = positions_[path(name)];
    problems_.push_back({at, path(name) + ": " + std::move(message)});
  }
  // At the recorded position of a key of the current section.
  void report_at(std::string_view name, std::string message) {
    problems_.push_back({positions_[path(name)], path(name) + ": " + std::move(message)});
  }

  // Checks the keys of `map` are plain and unique, runs `body` with `map` as the current
  // section, then reports the keys `body` never asked for.
  template <typename Body>
  void within(const YAML::Node& map, std::string section_path, Body body) {
    frames_.push_back({map, std::move(section_path), {}});
    std::map<std::string, int> first_line;
    for (const auto& entry : map) {
      const YAML::Node& key = entry.first;
      if (!key.IsScalar()) {
        problems_.push_back(
            {position_of(key.Mark()),
             path("?") + ": a key must be a plain name, got " + std::string(kind_name(key))});
        continue;
      }
      const auto [seen, inserted] = first_line.emplace(key.Scalar(), key.Mark().line + 1);
      if (!inserted) {
        problems_.push_back({position_of(key.Mark()), path(key.Scalar()) +
                                                          ": duplicate key (first at line " +
                                                          std::to_string(seen->second) + ")"});
      }
    }
    body();
    const Frame& frame = frames_.back();
    for (const auto& entry : map) {
      const YAML::Node& key = entry.first;
      if (!key.IsScalar()) continue;
      const bool known =
          std::find(frame.known.begin(), frame.known.end(), key.Scalar()) != frame.known.end();
      if (known) continue;
      // Only the first config_errors_max lines are shown, so a file of many unknown keys
      // need not pay a "did you mean" search for each one.
      if (problems_.size() >= problems_kept_max) {
        ++problems_not_kept_;
        continue;
      }
      problems_.push_back(
          {position_of(key.Mark()),
           path(key.Scalar()) + ": " + unknown_key_message(key.Scalar(), frame.known)});
    }
    frames_.pop_back();
  }

  // Registers `name` as a key of the current section and returns its value when present,
  // recording where it is (the value for a single value, else the key).
  std::optional<YAML::Node> take(std::string_view name) {
    Frame& frame = frames_.back();
    frame.known.push_back(name);
    for (const auto& entry : frame.map) {
      const YAML::Node& key = entry.first;
      if (!key.IsScalar() || key.Scalar() != name) continue;
      const YAML::Node& value = entry.second;
      const bool point_at_value = value.IsScalar() && value.Mark().line >= 0;
      positions_[path(name)] = position_of(point_at_value ? value.Mark() : key.Mark());
      return value;
    }
    return std::nullopt;
  }

  // Whether the current section has key `name` (without registering it again).
  bool take_known(std::string_view name) const {
    for (const auto& entry : frames_.back().map) {
      if (entry.first.IsScalar() && entry.first.Scalar() == name) return true;
    }
    return false;
  }

  // The single value of key `name`, or nullopt (problem reported) when it is something else.
  std::optional<std::string> scalar(std::string_view name, const YAML::Node& value,
                                    std::string_view expected) {
    if (value.IsScalar()) return value.Scalar();
    report(value, name,
           "expected " + std::string(expected) + ", got " + std::string(kind_name(value)));
    return std::nullopt;
  }

  // True when key `name` is present and its value parsed into `field`.
  template <typename T, typename Parse>
  bool parse_into(std::string_view name, std::string_view expected, T& field, Parse parse) {
    const std::optional<YAML::Node> value = take(name);
    if (!value) return false;
    const std::optional<std::string> text = scalar(name, *value, expected);
    if (!text) return false;
    auto parsed = parse(*text);
    if (!parsed.ok()) {
      report(*value, name, parsed.status().message());
      return false;
    }
    field = std::move(parsed).value();
    return true;
  }

  template <typename Parse>
  std::optional<std::uint64_t> whole(std::string_view name, std::string_view expected,
                                     Parse parse) {
    std::uint64_t parsed = 0;
    if (!parse_into(name, expected, parsed, parse)) return std::nullopt;
    return parsed;
  }

  Config& config_;
  std::vector<Frame> frames_;
  std::vector<Problem> problems_;
  std::size_t problems_not_kept_ = 0;
  std::map<std::string, Position> positions_;
};

}  // namespace

Result<Config> config_from_yaml(const YAML::Node& document, std::string_view source_name) {
  try {
    Config config;
    Reader reader(config);
    reader.read(document);
    std::vector<Problem>& problems = reader.problems();
    if (problems.empty()) {
      for (const ConfigViolation& violation : find_violations(config)) {
        Position at;
        for (const std::string& path : {violation.key_path, violation.other_key_path}) {
          const auto found = reader.positions().find(path);
          if (!at.known() && found != reader.positions().end()) at = found->second;
        }
        problems.push_back({at, violation.key_path + ": " + violation.message});
      }
    }
    if (!problems.empty()) {
      return problems_status(source_name, std::move(problems), reader.problems_not_kept());
    }
    return config;
  } catch (const YAML::Exception& e) {
    return malformed(source_name, e);
  } catch (const std::exception& e) {
    return error(Code::invalid_argument,
                 std::string(source_name) + ": could not read the configuration: " + e.what());
  }
}

Result<Config> config_from_yaml(std::string_view text, std::string_view source_name) {
  if (text.size() > config_text_bytes_max) {
    return error(Code::invalid_argument, std::string(source_name) + ": larger than " +
                                             format_size_bytes(config_text_bytes_max) +
                                             "; not a configuration file?");
  }
  try {
    const std::string copy(text);
    const Status one_document = check_one_document(copy, source_name);
    if (!one_document.ok()) return one_document;
    return config_from_yaml(YAML::Load(copy), source_name);
  } catch (const YAML::Exception& e) {
    return malformed(source_name, e);
  } catch (const std::exception& e) {
    return error(Code::invalid_argument,
                 std::string(source_name) + ": could not read the configuration: " + e.what());
  }
}

}  // namespace vigil::config
