// SCAN's cursor (core/scan/scan_cursor.h): every bucket-aligned token round-trips through a
// cursor a JavaScript Number holds exactly, and anything else is a clear error.

#include "core/scan/scan_cursor.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>

namespace vigil::core {
namespace {

TEST(ScanCursor, ZeroIsTheStartOfTheRing) {
  EXPECT_EQ(encode_cursor(0), 0U);
  ASSERT_TRUE(decode_cursor(std::uint64_t{0}).ok());
  EXPECT_EQ(*decode_cursor(std::uint64_t{0}), 0U);
  ASSERT_TRUE(decode_cursor(std::string_view("0")).ok());
  EXPECT_EQ(*decode_cursor(std::string_view("0")), 0U);
}

TEST(ScanCursor, BucketsAreTwoToTheSixteenTokens) {
  EXPECT_EQ(bucket_start(0x1234'5678'9abc'def0ULL), 0x1234'5678'9abc'0000ULL);
  EXPECT_EQ(bucket_end(0x1234'5678'9abc'def0ULL), 0x1234'5678'9abc'ffffULL);
  EXPECT_EQ(bucket_end(~Token{0}), ~Token{0});
}

RC_GTEST_PROP(ScanCursor, EveryBucketRoundTripsBelowTwoToThe53, (Token token)) {
  const Token start = bucket_start(token);
  const std::uint64_t cursor = encode_cursor(start);
  RC_ASSERT(cursor <= cursor_max);
  RC_ASSERT((cursor == 0) == (start == 0));
  const auto decoded = decode_cursor(cursor);
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == start);
  // As a client sends it back: decimal text.
  const auto from_text = decode_cursor(std::string_view(std::to_string(cursor)));
  RC_ASSERT(from_text.ok());
  RC_ASSERT(*from_text == start);
}

TEST(ScanCursor, TheLastBucketIsACursorToo) {
  const Token last = bucket_start(~Token{0});
  const std::uint64_t cursor = encode_cursor(last);
  EXPECT_LE(cursor, cursor_max);
  EXPECT_EQ(*decode_cursor(cursor), last);
}

void expect_invalid(std::string_view text, std::string_view why) {
  const auto decoded = decode_cursor(text);
  ASSERT_FALSE(decoded.ok()) << text;
  EXPECT_EQ(decoded.status().code(), Code::invalid_argument) << text;
  EXPECT_NE(decoded.status().message().find("invalid cursor"), std::string::npos)
      << decoded.status().message();
  EXPECT_NE(decoded.status().message().find(why), std::string::npos)
      << decoded.status().message();
}

TEST(ScanCursor, BadCursorsAreClearErrors) {
  expect_invalid("", "not a decimal number");
  expect_invalid("abc", "not a decimal number");
  expect_invalid("-1", "not a decimal number");
  expect_invalid("+5", "not a decimal number");
  expect_invalid(" 5", "not a decimal number");
  expect_invalid("1.5", "not a decimal number");
  expect_invalid("123456789012345678901", "not a decimal number");  // 21 digits
  expect_invalid("18446744073709551616", "out of range");           // 2^64
  expect_invalid(std::to_string(cursor_max + 1), "out of range");
  // A real Redis cursor (a small number) has no check bits: this cluster never gave it out.
  expect_invalid("17", "not a cursor this cluster gave out");
  expect_invalid("1", "not a cursor this cluster gave out");
}

TEST(ScanCursor, ATamperedCursorIsRefusedMostOfTheTime) {
  // Five check bits: of the cursors one step away from a real one, about 1 in 31 passes.
  std::size_t accepted = 0;
  std::size_t tried = 0;
  for (Token bucket = 1; bucket < 2000; ++bucket) {
    const std::uint64_t cursor = encode_cursor(bucket << cursor_bucket_bits);
    for (const std::uint64_t other : {cursor + 1, cursor - 1, cursor ^ (std::uint64_t{1} << 50)}) {
      ++tried;
      if (decode_cursor(other).ok()) ++accepted;
    }
  }
  EXPECT_LT(accepted * 10, tried);
}

}  // namespace
}  // namespace vigil::core
