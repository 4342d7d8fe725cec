// SCAN MATCH / KEYS patterns (net/glob_match.h): Redis' glob over bytes.

#include "net/glob_match.h"

#include <gtest/gtest.h>

#include <string>

namespace vigil::net {
namespace {

using namespace std::string_literals;

TEST(GlobMatch, StarAndQuestionMark) {
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("*", "anything"));
  EXPECT_TRUE(glob_match("user:*", "user:42"));
  EXPECT_FALSE(glob_match("user:*", "session:42"));
  EXPECT_TRUE(glob_match("*:42", "user:42"));
  EXPECT_TRUE(glob_match("u*r*2", "user:42"));
  EXPECT_FALSE(glob_match("u*r*3", "user:42"));
  EXPECT_TRUE(glob_match("h?llo", "hello"));
  EXPECT_FALSE(glob_match("h?llo", "hllo"));
  EXPECT_TRUE(glob_match("**a**", "bab"));
  EXPECT_FALSE(glob_match("", "a"));
  EXPECT_TRUE(glob_match("", ""));
  EXPECT_TRUE(glob_match("a/*", "a/b/c"));  // unlike a path glob, * crosses '/'
  EXPECT_TRUE(glob_match("*", ".hidden"));
}

TEST(GlobMatch, Sets) {
  EXPECT_TRUE(glob_match("h[ae]llo", "hello"));
  EXPECT_TRUE(glob_match("h[ae]llo", "hallo"));
  EXPECT_FALSE(glob_match("h[ae]llo", "hillo"));
  EXPECT_TRUE(glob_match("h[^e]llo", "hallo"));
  EXPECT_FALSE(glob_match("h[^e]llo", "hello"));
  EXPECT_TRUE(glob_match("h[a-b]llo", "hbllo"));
  EXPECT_TRUE(glob_match("h[b-a]llo", "hbllo"));  // a reversed range, as Redis allows
  EXPECT_FALSE(glob_match("h[a-b]llo", "hcllo"));
  EXPECT_TRUE(glob_match("[\\]]", "]"));
  EXPECT_TRUE(glob_match("x[abc", "xb"));  // an unclosed set runs to the pattern's end
}

TEST(GlobMatch, Escapes) {
  EXPECT_TRUE(glob_match("a\\*b", "a*b"));
  EXPECT_FALSE(glob_match("a\\*b", "axb"));
  EXPECT_TRUE(glob_match("a\\?", "a?"));
  EXPECT_FALSE(glob_match("a\\?", "ab"));
  EXPECT_TRUE(glob_match("\\[x]", "[x]"));
}

TEST(GlobMatch, BinaryKeys) {
  EXPECT_TRUE(glob_match("a*", "a\0b"s));
  EXPECT_TRUE(glob_match("a?b", "a\0b"s));
  EXPECT_FALSE(glob_match("a", "a\0b"s));
  EXPECT_TRUE(glob_match("\xff*", "\xff\xfe"s));
}

TEST(GlobMatch, AHostilePatternStaysLinearPerKey) {
  const std::string key(10000, 'a');
  const std::string pattern = std::string(50, '*') + "a*a*a*a*a*a*b";
  EXPECT_FALSE(glob_match(pattern, key));
}

}  // namespace
}  // namespace vigil::net
