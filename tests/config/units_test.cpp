// The written forms of durations, sizes, rates and numbers (config/units.h): the accepted
// forms, the refused ones (with what the message says), overflow, and exact round trips.

#include "config/units.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>

#include "core/types.h"

namespace vigil::config {
namespace {

using core::Code;
using core::Duration;
using core::Result;
using core::value_size_bytes_max;

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::uint64_t mb = 1024 * 1024;

// The message of a refused parse, or "<accepted>" so a wrong acceptance fails readably.
template <typename T>
std::string refusal(const Result<T>& result) {
  if (result.ok()) return "<accepted>";
  EXPECT_EQ(result.status().code(), Code::invalid_argument);
  return result.status().message();
}

TEST(Durations, TheSeedsFormsParse) {
  EXPECT_EQ(*parse_duration("100ms"), milliseconds(100));
  EXPECT_EQ(*parse_duration("5s"), seconds(5));
  EXPECT_EQ(*parse_duration("1m"), minutes(1));
  EXPECT_EQ(*parse_duration("5m"), minutes(5));
  EXPECT_EQ(*parse_duration("24h"), hours(24));
  EXPECT_EQ(*parse_duration("3600s"), hours(1));
  EXPECT_EQ(*parse_duration("500ms"), milliseconds(500));
}

TEST(Durations, OtherUnitsSpacesAndZero) {
  EXPECT_EQ(*parse_duration("1us"), microseconds(1));
  EXPECT_EQ(*parse_duration("2d"), hours(48));
  EXPECT_EQ(*parse_duration("0s"), microseconds(0));
  EXPECT_EQ(*parse_duration(" 5 s "), seconds(5));
  EXPECT_EQ(*parse_duration("007ms"), milliseconds(7));
}

TEST(Durations, MalformedFormsAreRefusedWithAReason) {
  EXPECT_EQ(refusal(parse_duration("5")), "\"5\": missing unit (us, ms, s, m, h, d)");
  EXPECT_EQ(refusal(parse_duration("5x")),
            "\"5x\": unknown unit \"x\" (expected us, ms, s, m, h, d)");
  EXPECT_EQ(refusal(parse_duration("-5s")), "\"-5s\": a duration cannot be negative");
  EXPECT_EQ(refusal(parse_duration("1.5s")),
            "\"1.5s\": fractions are not accepted; use a smaller unit");
  EXPECT_NE(refusal(parse_duration("")).find("empty duration"), std::string::npos);
  EXPECT_NE(refusal(parse_duration("s")).find("expected a whole number"), std::string::npos);
  EXPECT_NE(refusal(parse_duration("+5s")).find("expected a whole number"), std::string::npos);
  EXPECT_NE(refusal(parse_duration("5S")).find("unknown unit \"S\""), std::string::npos);
  EXPECT_NE(refusal(parse_duration("5 s s")).find("unknown unit"), std::string::npos);
  EXPECT_NE(refusal(parse_duration("1h30m")).find("unknown unit \"h30m\""), std::string::npos);
}

TEST(Durations, OverflowIsRefused) {
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(parse_duration(std::to_string(max) + "us")->count(), max);
  EXPECT_EQ(refusal(parse_duration("9223372036854775808us")),
            "\"9223372036854775808us\": too large (at most 9223372036854775807us)");
  EXPECT_NE(refusal(parse_duration("106751992d")).find("too large (at most 106751991d)"),
            std::string::npos);
  EXPECT_NE(refusal(parse_duration("99999999999999999999999999h")).find("too large"),
            std::string::npos);
}

TEST(Durations, FormatPicksTheLargestExactUnit) {
  EXPECT_EQ(format_duration(seconds(3600)), "1h");
  EXPECT_EQ(format_duration(seconds(86400)), "24h");
  EXPECT_EQ(format_duration(seconds(90)), "90s");
  EXPECT_EQ(format_duration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(format_duration(microseconds(1)), "1us");
  EXPECT_EQ(format_duration(microseconds(0)), "0s");
  EXPECT_EQ(format_duration(seconds(-5)), "-5s");
  EXPECT_EQ(format_duration(microseconds(std::numeric_limits<std::int64_t>::min())),
            "-9223372036854775808us");
}

RC_GTEST_PROP(Durations, FormatThenParseIsExact, ()) {
  const auto micros = *rc::gen::inRange<std::int64_t>(0, std::numeric_limits<std::int64_t>::max());
  const auto scale = *rc::gen::element<std::int64_t>(1, 1000, 1000000, 60000000, 3600000000);
  const std::int64_t value = micros / scale * scale;  // exercise every unit, not only us
  const Result<Duration> back = parse_duration(format_duration(Duration{value}));
  RC_ASSERT(back.ok());
  RC_ASSERT(back->count() == value);
}

TEST(Sizes, BinaryUnits) {
  EXPECT_EQ(*parse_size_bytes("10MB"), 10 * mb);
  EXPECT_EQ(*parse_size_bytes("1GB"), 1024 * mb);
  EXPECT_EQ(*parse_size_bytes("100MB"), 100 * mb);
  EXPECT_EQ(*parse_size_bytes("64KB"), 64u * 1024);
  EXPECT_EQ(*parse_size_bytes("512B"), 512u);
  EXPECT_EQ(*parse_size_bytes("0B"), 0u);
  EXPECT_EQ(*parse_size_bytes("2TB"), 2 * mb * mb);
  EXPECT_EQ(*parse_size_bytes("1KiB"), 1024u);
  EXPECT_EQ(*parse_size_bytes("3 MiB"), 3 * mb);
  EXPECT_EQ(*parse_size_bytes("16MB"), value_size_bytes_max);
}

TEST(Sizes, MalformedFormsAreRefused) {
  EXPECT_EQ(refusal(parse_size_bytes("10")), "\"10\": missing unit (B, KB, MB, GB, TB)");
  EXPECT_EQ(refusal(parse_size_bytes("10mb")),
            "\"10mb\": unknown unit \"mb\" (expected B, KB, MB, GB, TB)");
  EXPECT_NE(refusal(parse_size_bytes("10Mb")).find("unknown unit"), std::string::npos);
  EXPECT_NE(refusal(parse_size_bytes("1.5GB")).find("fractions"), std::string::npos);
  EXPECT_NE(refusal(parse_size_bytes("-1MB")).find("cannot be negative"), std::string::npos);
  EXPECT_NE(refusal(parse_size_bytes("MB")).find("expected a whole number"), std::string::npos);
  EXPECT_NE(refusal(parse_size_bytes("10XB")).find("unknown unit \"XB\""), std::string::npos);
}

TEST(Sizes, OverflowIsRefused) {
  EXPECT_EQ(*parse_size_bytes("18446744073709551615B"), std::numeric_limits<std::uint64_t>::max());
  EXPECT_NE(refusal(parse_size_bytes("18446744073709551616B")).find("too large"),
            std::string::npos);
  EXPECT_EQ(*parse_size_bytes("16777215TB"), 16777215 * mb * mb);
  EXPECT_EQ(refusal(parse_size_bytes("16777216TB")),
            "\"16777216TB\": too large (at most 16777215TB)");
}

TEST(Sizes, FormatPicksTheLargestExactUnit) {
  EXPECT_EQ(format_size_bytes(1024 * mb), "1GB");
  EXPECT_EQ(format_size_bytes(50 * mb), "50MB");
  EXPECT_EQ(format_size_bytes(1536), "1536B");
  EXPECT_EQ(format_size_bytes(1024 * 1536), "1536KB");
  EXPECT_EQ(format_size_bytes(0), "0B");
}

RC_GTEST_PROP(Sizes, FormatThenParseIsExact, (std::uint64_t bytes, std::uint8_t shift)) {
  const std::uint64_t value = bytes << (shift % 48);  // many values with big exact units
  const Result<std::uint64_t> back = parse_size_bytes(format_size_bytes(value));
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == value);
}

TEST(Rates, SizePerSecond) {
  EXPECT_EQ(*parse_rate_bytes_per_second("50MB/s"), 50 * mb);
  EXPECT_EQ(*parse_rate_bytes_per_second("10MB/s"), 10 * mb);
  EXPECT_EQ(*parse_rate_bytes_per_second(" 1 GB/s "), 1024 * mb);
  EXPECT_EQ(format_rate_bytes_per_second(50 * mb), "50MB/s");
  EXPECT_EQ(*parse_rate_bytes_per_second(format_rate_bytes_per_second(12345)), 12345u);
}

TEST(Rates, MalformedFormsAreRefused) {
  EXPECT_EQ(refusal(parse_rate_bytes_per_second("50MB")),
            "\"50MB\": expected a size per second, e.g. 50MB/s");
  EXPECT_NE(refusal(parse_rate_bytes_per_second("50MB/m")).find("per second"), std::string::npos);
  EXPECT_NE(refusal(parse_rate_bytes_per_second("/s")).find("per second"), std::string::npos);
  EXPECT_NE(refusal(parse_rate_bytes_per_second("MB/s")).find("expected a whole number"),
            std::string::npos);
  EXPECT_NE(refusal(parse_rate_bytes_per_second("20000000TB/s")).find("too large"),
            std::string::npos);
}

TEST(WholeNumbers, DecimalAndScientific) {
  EXPECT_EQ(*parse_whole_number("3"), 3u);
  EXPECT_EQ(*parse_whole_number("1e12"), 1000000000000u);
  EXPECT_EQ(*parse_whole_number("1E12"), 1000000000000u);
  EXPECT_EQ(*parse_whole_number("1e+3"), 1000u);
  EXPECT_EQ(*parse_whole_number("2.5e3"), 2500u);
  EXPECT_EQ(*parse_whole_number("1.50e1"), 15u);
  EXPECT_EQ(*parse_whole_number("0e300"), 0u);
  EXPECT_EQ(*parse_whole_number("18446744073709551615"), std::numeric_limits<std::uint64_t>::max());
}

TEST(WholeNumbers, FractionsSignsAndOverflowAreRefused) {
  EXPECT_EQ(refusal(parse_whole_number("1.5")),
            "\"1.5\": expected a whole number (e.g. 3 or 1e12)");
  EXPECT_EQ(refusal(parse_whole_number("1.25e1")), "\"1.25e1\": not a whole number");
  EXPECT_NE(refusal(parse_whole_number("1e-3")).find("expected a whole number"), std::string::npos);
  EXPECT_EQ(refusal(parse_whole_number("-1")), "\"-1\": cannot be negative");
  EXPECT_NE(refusal(parse_whole_number("three")).find("expected a whole number"),
            std::string::npos);
  EXPECT_NE(refusal(parse_whole_number("")).find("expected a whole number"), std::string::npos);
  EXPECT_NE(refusal(parse_whole_number("1e20")).find("too large"), std::string::npos);
  EXPECT_NE(refusal(parse_whole_number("18446744073709551616")).find("too large"),
            std::string::npos);
  EXPECT_NE(refusal(parse_whole_number("1e9999")).find("expected a whole number"),
            std::string::npos);
}

TEST(WholeNumbers, FormatUsesScientificOnlyForManyZeros) {
  EXPECT_EQ(format_whole_number(1000000000000u), "1e12");
  EXPECT_EQ(format_whole_number(1000u), "1000");
  EXPECT_EQ(format_whole_number(1000000u), "1e6");
  EXPECT_EQ(format_whole_number(128000000u), "128e6");
  EXPECT_EQ(format_whole_number(100000u), "100000");
  EXPECT_EQ(format_whole_number(123u), "123");
  EXPECT_EQ(format_whole_number(0u), "0");
}

RC_GTEST_PROP(WholeNumbers, FormatThenParseIsExact, (std::uint64_t value, std::uint8_t zeros)) {
  std::uint64_t number = value % 100000;
  for (int i = 0; i < zeros % 15; ++i) number *= 10;
  const Result<std::uint64_t> back = parse_whole_number(format_whole_number(number));
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == number);
}

TEST(Reals, ParseAndFormat) {
  EXPECT_EQ(*parse_real("0.1"), 0.1);
  EXPECT_EQ(*parse_real("8"), 8.0);
  EXPECT_EQ(*parse_real("1e-3"), 0.001);
  EXPECT_EQ(format_real(8.0), "8.0");
  EXPECT_EQ(format_real(0.1), "0.1");
  EXPECT_EQ(format_real(-2.0), "-2.0");
  EXPECT_NE(refusal(parse_real("nan")).find("expected a number"), std::string::npos);
  EXPECT_NE(refusal(parse_real("inf")).find("expected a number"), std::string::npos);
  EXPECT_NE(refusal(parse_real("1e999")).find("expected a number"), std::string::npos);
  EXPECT_NE(refusal(parse_real("0.1x")).find("expected a number"), std::string::npos);
  EXPECT_NE(refusal(parse_real("")).find("expected a number"), std::string::npos);
}

RC_GTEST_PROP(Reals, FormatThenParseIsExact, (double value)) {
  RC_PRE(std::isfinite(value));
  const Result<double> back = parse_real(format_real(value));
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == value);
}

}  // namespace
}  // namespace vigil::config
