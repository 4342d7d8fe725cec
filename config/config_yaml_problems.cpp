// The config loader's error formatting and its one-document guard: how problems become
// the lines of the message config/config_yaml.h promises ("<source>:<line>:<column>:
// <key.path>: <what>", sorted, at most config_errors_max), the "did you mean" for unknown
// keys, and the check that a text holds a single YAML document.
//
// YAML::LoadAll is not used: in yaml-cpp 0.7 it never returns (allocating without bound)
// on a stray token such as a leading ",", because the parser then reports a new document
// at the same position forever (fixed upstream by jbeder/yaml-cpp#1319, not in Debian 12).
// check_one_document() asks for at most three documents and treats a document that starts
// where the previous one started as malformed input.

#include "config/config_yaml_problems.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace vigil::config::yaml_detail {

using core::Code;

namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Levenshtein distance ignoring case, for "did you mean" (names are short: bounded below).
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const std::size_t substitute = diagonal + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string format_problem(std::string_view source, const Problem& problem) {
  std::string out(source);
  if (problem.at.known()) {
    out += ":" + std::to_string(problem.at.line + 1) + ":" + std::to_string(problem.at.column + 1);
  }
  return out + ": " + problem.text;
}

// Records where each document starts; ignores the content.
class DocumentStarts : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  std::vector<YAML::Mark> starts;
};

}  // namespace

std::string quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

std::string_view kind_name(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "a single value";
    case YAML::NodeType::Null: return "nothing";
    case YAML::NodeType::Undefined: return "nothing";
  }
  return "something else";
}

std::string unknown_key_message(std::string_view name, const std::vector<std::string_view>& known) {
  std::string_view best;
  std::size_t best_distance = 3;  // suggest only a near miss
  if (name.size() <= 64) {
    for (const std::string_view candidate : known) {
      const std::size_t distance = edit_distance(name, candidate);
      if (distance < best_distance && distance < name.size()) {
        best = candidate;
        best_distance = distance;
      }
    }
  }
  if (!best.empty()) return "unknown key; did you mean " + quoted(best) + "?";
  std::string list;
  for (const std::string_view candidate : known) {
    list += list.empty() ? "" : ", ";
    list += candidate;
  }
  return "unknown key (known keys here: " + list + ")";
}

Status problems_status(std::string_view source, std::vector<Problem> problems,
                       std::size_t not_kept) {
  std::stable_sort(problems.begin(), problems.end(), [](const Problem& a, const Problem& b) {
    const auto key = [](const Problem& p) {
      return std::pair{p.at.known() ? p.at.line : std::numeric_limits<int>::max(), p.at.column};
    };
    return key(a) < key(b);
  });
  std::string message;
  for (std::size_t i = 0; i < problems.size() && i < config_errors_max; ++i) {
    message += (i == 0 ? "" : "\n") + format_problem(source, problems[i]);
  }
  const std::size_t shown = std::min(problems.size(), config_errors_max);
  if (problems.size() + not_kept > shown) {
    message += "\n" + std::string(source) + ": ... and " +
               std::to_string(problems.size() + not_kept - shown) + " more problems";
  }
  return error(Code::invalid_argument, std::move(message));
}

Status malformed(std::string_view source, const YAML::Exception& e) {
  return problems_status(source, {{position_of(e.mark), "malformed YAML: " + e.msg}});
}

Status check_one_document(const std::string& text, std::string_view source) {
  std::istringstream stream(text);
  YAML::Parser parser(stream);
  DocumentStarts documents;
  for (int i = 0; i < 3 && parser.HandleNextDocument(documents); ++i) {
  }
  const std::vector<YAML::Mark>& starts = documents.starts;
  for (std::size_t i = 1; i < starts.size(); ++i) {
    if (starts[i].pos != starts[i - 1].pos) continue;
    const auto at = static_cast<std::size_t>(starts[i].pos);
    const std::string found = at < text.size() ? quoted(text.substr(at, 1)) : "end of input";
    return problems_status(source,
                           {{position_of(starts[i]), "malformed YAML: unexpected " + found}});
  }
  if (starts.size() > 1) {
    return problems_status(source, {{position_of(starts[1]),
                                     "only one YAML document is allowed; a second "
                                     "one starts here"}});
  }
  return {};
}

}  // namespace vigil::config::yaml_detail
