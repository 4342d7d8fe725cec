#pragma once
// Bounds-checked little-endian primitives under the codec (core/wire/codec.h).
//
// Integers are fixed width (u8, u32, u64, i64 as two's complement), strings are a u32
// length then the bytes. Fixed widths keep every encoding canonical: a decoded value
// re-encodes to exactly the bytes it came from, which the codec's tests rely on.
//
// ByteWriter can be given a size limit: past it, it records resource_exhausted and stops
// growing, so encoding an oversized message costs at most the limit in memory.
//
// ByteReader reads untrusted bytes: every read checks what remains first, every string
// length is checked against a named bound and against what remains *before* anything is
// allocated, and failures are invalid_argument Statuses that name the field. ByteWriter
// writes our own values and keeps the first bound violation it sees as a sticky error, so
// an encoder can write a whole message and check once.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/status.h"

namespace vigil::core {

// A size limit with the name it is reported under ("key_size_bytes_max").
struct SizeBound {
  std::size_t value = 0;
  std::string_view name;
};

class ByteWriter {
 public:
  ByteWriter() = default;
  explicit ByteWriter(std::size_t size_bytes_max) : size_bytes_max_(size_bytes_max) {}

  void write_u8(std::uint8_t value);
  void write_u16(std::uint16_t value);
  void write_u32(std::uint32_t value);
  void write_u64(std::uint64_t value);
  void write_i64(std::int64_t value);
  void write_bool(bool value) { write_u8(value ? 1 : 0); }
  // A u32 length then the bytes. A string longer than `bound` is still written but records
  // an invalid_argument error naming `field` (the decoder would refuse it).
  void write_string(std::string_view value, SizeBound bound, std::string_view field);
  // Overwrites bytes already written. REQUIRES: offset + width <= size().
  void patch_u32(std::size_t offset, std::uint32_t value);
  void patch_u64(std::size_t offset, std::uint64_t value);

  // Records `status` unless an error is already recorded (the first error wins).
  void fail(Status status);

  const Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }
  std::size_t size() const { return bytes_.size(); }
  const std::string& bytes() const { return bytes_; }
  std::string take() { return std::move(bytes_); }

 private:
  void append(std::string_view bytes);

  std::string bytes_;
  std::size_t size_bytes_max_ = SIZE_MAX;
  Status status_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}

  // Each read names its field for the error: "key: truncated (need 4 bytes, 1 remain)".
  Status read_u8(std::uint8_t& out, std::string_view field);
  Status read_u16(std::uint16_t& out, std::string_view field);
  Status read_u32(std::uint32_t& out, std::string_view field);
  Status read_u64(std::uint64_t& out, std::string_view field);
  Status read_i64(std::int64_t& out, std::string_view field);
  // Only 0 and 1 are accepted (anything else would not re-encode to the same byte).
  Status read_bool(bool& out, std::string_view field);
  // A u32 length, checked against `bound` and then against what remains, then the bytes.
  Status read_string(std::string& out, SizeBound bound, std::string_view field);
  // invalid_argument when bytes are left after the last field of `what`.
  Status expect_end(std::string_view what) const;

  std::size_t remaining() const { return bytes_.size() - position_; }

 private:
  Status need(std::size_t width, std::string_view field) const;
  std::uint64_t take_little_endian(std::size_t width);

  std::string_view bytes_;
  std::size_t position_ = 0;
};

// The error helpers shared by the codec: "<field>: <what>" as invalid_argument.
Status field_error(std::string_view field, std::string_view what);
// The same code with "<prefix>." put in front of the message: nests field paths on the
// error path only ("versions[2]" + "value: truncated" -> "versions[2].value: truncated").
Status prefixed(std::string_view prefix, const Status& status);

}  // namespace vigil::core
