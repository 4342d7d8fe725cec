// Redis' glob patterns over bytes (glob_match.h).

#include "net/glob_match.h"

#include <cstddef>
#include <utility>

namespace vigil::net {

namespace {

// Matches the set starting just after `[` at pattern[p] against `byte`. Sets `p` to just
// after the closing `]` (or to the end of an unclosed set).
bool match_set(std::string_view pattern, std::size_t& p, unsigned char byte) {
  bool negate = false;
  if (p < pattern.size() && pattern[p] == '^') {
    negate = true;
    ++p;
  }
  bool matched = false;
  while (p < pattern.size() && pattern[p] != ']') {
    if (pattern[p] == '\\' && p + 1 < pattern.size()) {
      ++p;
      if (static_cast<unsigned char>(pattern[p]) == byte) matched = true;
      ++p;
    } else if (p + 2 < pattern.size() && pattern[p + 1] == '-' && pattern[p + 2] != ']') {
      auto low = static_cast<unsigned char>(pattern[p]);
      auto high = static_cast<unsigned char>(pattern[p + 2]);
      if (low > high) std::swap(low, high);
      if (byte >= low && byte <= high) matched = true;
      p += 3;
    } else {
      if (static_cast<unsigned char>(pattern[p]) == byte) matched = true;
      ++p;
    }
  }
  if (p < pattern.size()) ++p;  // the closing ]
  return matched != negate;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view key) {
  std::size_t p = 0;
  std::size_t k = 0;
  // Where to resume after the last `*`: the pattern just after it, and the key position it
  // has swallowed up to.
  std::size_t star_p = std::string_view::npos;
  std::size_t star_k = 0;
  while (k < key.size()) {
    bool advanced = false;
    if (p < pattern.size()) {
      const char c = pattern[p];
      if (c == '*') {
        while (p < pattern.size() && pattern[p] == '*') ++p;
        if (p == pattern.size()) return true;  // a trailing * takes the rest
        star_p = p;
        star_k = k;
        continue;
      }
      if (c == '?') {
        ++p;
        ++k;
        advanced = true;
      } else if (c == '[') {
        std::size_t after = p + 1;
        if (match_set(pattern, after, static_cast<unsigned char>(key[k]))) {
          p = after;
          ++k;
          advanced = true;
        }
      } else {
        std::size_t literal = p;
        if (c == '\\' && p + 1 < pattern.size()) literal = p + 1;
        if (pattern[literal] == key[k]) {
          p = literal + 1;
          ++k;
          advanced = true;
        }
      }
    }
    if (advanced) continue;
    if (star_p == std::string_view::npos) return false;
    // Let the last * swallow one more byte and try again from just after it.
    p = star_p;
    k = ++star_k;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace vigil::net
