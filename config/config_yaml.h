#pragma once
// A node's configuration from YAML and back (docs/configuration.md). No file I/O here: the
// caller reads the file (cli/command_config.cpp) and passes its text and its name.
//
// A document gives only the keys it changes; every other key keeps its default from
// config/config.h. Errors never throw: the result is invalid_argument whose message has one
// line per problem (at most config_errors_max), sorted by position, each
//     <source>:<line>:<column>: <key.path>: <what is wrong>
// e.g. "node.yaml:7:6: quorum_settings.R: R (4) is greater than N (3)". Lines and columns
// count from 1. A problem with no position in the document (a relation broken by a key
// the document did not set) is written "<source>: <key.path>: <what is wrong>".
// Malformed YAML gives "<source>:<line>:<column>: malformed YAML: <parser message>".

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "config/config.h"
#include "core/status.h"

namespace YAML {
class Node;
}

namespace vigil::config {

// Longer texts are refused before parsing (a config is a few kilobytes).
inline constexpr std::size_t config_text_bytes_max = 1024 * 1024;
inline constexpr std::size_t config_errors_max = 20;

Result<Config> config_from_yaml(std::string_view text, std::string_view source_name);
// From an already parsed document (e.g. one section of a larger file); positions are
// those the parser recorded in `document`.
Result<Config> config_from_yaml(const YAML::Node& document, std::string_view source_name);

// Every section and key, each with a comment; config_from_yaml() of it gives `config`
// back exactly.
std::string config_to_yaml(const Config& config);
// config_to_yaml(Config{}): what `vigil config defaults` prints.
std::string config_defaults_yaml();

// Every key as "section.key" -> its value as written in YAML, in file order of sections
// (std::map sorts them; the order of the file is that of config_to_yaml).
std::map<std::string, std::string> config_key_values(const Config& config);
// The keys whose value differs from the default.
std::size_t config_keys_changed(const Config& config);

// One line for `vigil config check`: "node n1, listen 127.0.0.1:7401, ..., N=3 R=2 W=2".
std::string config_summary(const Config& config);

}  // namespace vigil::config
