#pragma once
// The written forms of durations, byte sizes and byte rates in configuration files, and
// their exact inverses (docs/configuration.md, "Units").
//
//   duration: <whole number><unit>, unit one of us ms s m h d        100ms  5s  1m  24h
//   size:     <whole number><unit>, unit one of B KB MB GB TB         10MB  1GB  512B
//             (KB = 1024 B, MB = 1024 KB, ...; KiB MiB GiB TiB are accepted as synonyms)
//   rate:     <size>/s                                                50MB/s
//
// A space may separate number and unit; surrounding spaces are ignored. Fractions, signs
// and missing units are refused, as is any value that does not fit (a duration over
// INT64_MAX microseconds, a size over UINT64_MAX bytes). Errors are invalid_argument
// with a message that quotes the text and says what was expected.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/time.h"

namespace vigil::config {

core::Result<core::Duration> parse_duration(std::string_view text);
// The largest of h, m, s, ms, us that divides the duration exactly ("3600s" -> "1h", 0 ->
// "0s");
// parse_duration(format_duration(d)) == d for every d >= 0.
std::string format_duration(core::Duration duration);

core::Result<std::uint64_t> parse_size_bytes(std::string_view text);
// The largest of TB, GB, MB, KB, B that divides the size exactly (1536 -> "1536B").
std::string format_size_bytes(std::uint64_t size_bytes);

core::Result<std::uint64_t> parse_rate_bytes_per_second(std::string_view text);
std::string format_rate_bytes_per_second(std::uint64_t rate_bytes_per_second);

// A whole number written in decimal ("1000000000000") or in scientific notation whose
// value is a whole number ("1e12", "2.5e3"); the seed writes token spacing as "1e12".
core::Result<std::uint64_t> parse_whole_number(std::string_view text);
// Decimal, or "<m>e<k>" when the number ends in 6 or more zeros (1000000000000 -> "1e12").
std::string format_whole_number(std::uint64_t number);

// A finite decimal or scientific real ("0.1", "8", "1e-3"); nan and inf are refused.
core::Result<double> parse_real(std::string_view text);
// The shortest text that parses back to the same double, with ".0" added to whole numbers
// so the written form still reads as a real ("8.0").
std::string format_real(double number);

}  // namespace vigil::config
