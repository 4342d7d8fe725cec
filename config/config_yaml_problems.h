#pragma once
// Internal to the config loader (config/config_yaml*.cpp); config/config_yaml.h is the
// contract. A Problem is one error line before formatting; this header names the error
// formatting and the one-document guard (config_yaml_problems.cpp) that the reader
// (config_yaml.cpp) shares.

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_yaml.h"

namespace vigil::config::yaml_detail {

// Zero-based, as yaml-cpp's Mark; -1 when unknown.
struct Position {
  int line = -1;
  int column = -1;
  bool known() const { return line >= 0; }
};

inline Position position_of(const YAML::Mark& mark) {
  return {mark.line, mark.column};
}

struct Problem {
  Position at;
  std::string text;  // "key.path: what is wrong"
};

std::string quoted(std::string_view text);
// What a node is, for "expected X, got <kind_name>": "a mapping", "a list", ...
std::string_view kind_name(const YAML::Node& node);
// "unknown key; did you mean ...?" for a near miss among `known`, else the list of them.
std::string unknown_key_message(std::string_view name, const std::vector<std::string_view>& known);

// Sorts `problems` by position and formats the first config_errors_max, one a line;
// `not_kept`: further problems that were counted but not kept.
Status problems_status(std::string_view source, std::vector<Problem> problems,
                       std::size_t not_kept = 0);
Status malformed(std::string_view source, const YAML::Exception& e);
// ok when `text` holds at most one document. Throws YAML::Exception on malformed YAML.
Status check_one_document(const std::string& text, std::string_view source);

}  // namespace vigil::config::yaml_detail
