#include "core/wire/bytes.h"

#include <array>

namespace vigil::core {

namespace {

std::string number(std::size_t value) {
  return std::to_string(value);
}

}  // namespace

Status field_error(std::string_view field, std::string_view what) {
  std::string message(field);
  message += ": ";
  message += what;
  return error(Code::invalid_argument, std::move(message));
}

Status prefixed(std::string_view prefix, const Status& status) {
  VIGIL_ASSERT(!status.ok(), "prefixed() needs an error");
  std::string message(prefix);
  message += '.';
  message += status.message();
  return error(status.code(), std::move(message));
}

// ByteWriter

void ByteWriter::append(std::string_view bytes) {
  if (!status_.ok()) return;  // the result is refused anyway: stop spending memory on it
  if (bytes.size() > size_bytes_max_ - bytes_.size()) {
    fail(error(Code::resource_exhausted, "encoding exceeds " + number(size_bytes_max_) + " bytes"));
    return;
  }
  bytes_.append(bytes);
}

void ByteWriter::write_u8(std::uint8_t value) {
  const char byte = static_cast<char>(value);
  append(std::string_view(&byte, 1));
}

namespace {

// `width` bytes of `value`, least significant first, appended in one piece (the encoders
// write millions of integers in a simulated run: one append each, not one per byte).
template <std::size_t width>
std::array<char, width> little_endian(std::uint64_t value) {
  std::array<char, width> bytes{};
  for (std::size_t i = 0; i < width; ++i) {
    bytes[i] = static_cast<char>(static_cast<std::uint8_t>(value >> (8 * i)));
  }
  return bytes;
}

}  // namespace

void ByteWriter::write_u16(std::uint16_t value) {
  const auto bytes = little_endian<2>(value);
  append(std::string_view(bytes.data(), bytes.size()));
}

void ByteWriter::write_u32(std::uint32_t value) {
  const auto bytes = little_endian<4>(value);
  append(std::string_view(bytes.data(), bytes.size()));
}

void ByteWriter::write_u64(std::uint64_t value) {
  const auto bytes = little_endian<8>(value);
  append(std::string_view(bytes.data(), bytes.size()));
}

// Two's complement by conversion (well defined since C++20).
void ByteWriter::write_i64(std::int64_t value) {
  write_u64(static_cast<std::uint64_t>(value));
}

void ByteWriter::write_string(std::string_view value, SizeBound bound, std::string_view field) {
  if (value.size() > bound.value) {
    fail(field_error(field, "length " + number(value.size()) + " exceeds " +
                                std::string(bound.name) + " (" + number(bound.value) + ")"));
  }
  // A length that does not fit the u32 prefix must never be written truncated.
  VIGIL_ASSERT(value.size() <= UINT32_MAX, "string too long for a u32 length");
  write_u32(static_cast<std::uint32_t>(value.size()));
  append(value);
}

void ByteWriter::patch_u32(std::size_t offset, std::uint32_t value) {
  VIGIL_ASSERT(offset + 4 <= bytes_.size(), "patch_u32 past the end");
  for (std::size_t i = 0; i < 4; ++i) {
    bytes_[offset + i] = static_cast<char>(static_cast<std::uint8_t>(value >> (8 * i)));
  }
}

void ByteWriter::patch_u64(std::size_t offset, std::uint64_t value) {
  VIGIL_ASSERT(offset + 8 <= bytes_.size(), "patch_u64 past the end");
  for (std::size_t i = 0; i < 8; ++i) {
    bytes_[offset + i] = static_cast<char>(static_cast<std::uint8_t>(value >> (8 * i)));
  }
}

void ByteWriter::fail(Status status) {
  if (status_.ok()) status_ = std::move(status);
}

// ByteReader

Status ByteReader::need(std::size_t width, std::string_view field) const {
  if (width <= remaining()) return Status::ok_status();
  return field_error(
      field, "truncated (need " + number(width) + " bytes, " + number(remaining()) + " remain)");
}

std::uint64_t ByteReader::take_little_endian(std::size_t width) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    const auto byte = static_cast<std::uint8_t>(bytes_[position_ + i]);
    value |= static_cast<std::uint64_t>(byte) << (8 * i);
  }
  position_ += width;
  return value;
}

Status ByteReader::read_u8(std::uint8_t& out, std::string_view field) {
  if (Status status = need(1, field); !status.ok()) return status;
  out = static_cast<std::uint8_t>(take_little_endian(1));
  return Status::ok_status();
}

Status ByteReader::read_u16(std::uint16_t& out, std::string_view field) {
  if (Status status = need(2, field); !status.ok()) return status;
  out = static_cast<std::uint16_t>(take_little_endian(2));
  return Status::ok_status();
}

Status ByteReader::read_u32(std::uint32_t& out, std::string_view field) {
  if (Status status = need(4, field); !status.ok()) return status;
  out = static_cast<std::uint32_t>(take_little_endian(4));
  return Status::ok_status();
}

Status ByteReader::read_u64(std::uint64_t& out, std::string_view field) {
  if (Status status = need(8, field); !status.ok()) return status;
  out = take_little_endian(8);
  return Status::ok_status();
}

Status ByteReader::read_i64(std::int64_t& out, std::string_view field) {
  std::uint64_t bits = 0;
  if (Status status = read_u64(bits, field); !status.ok()) return status;
  out = static_cast<std::int64_t>(bits);
  return Status::ok_status();
}

Status ByteReader::read_bool(bool& out, std::string_view field) {
  std::uint8_t byte = 0;
  if (Status status = read_u8(byte, field); !status.ok()) return status;
  if (byte > 1) return field_error(field, "byte " + number(byte) + " is not 0 or 1");
  out = byte == 1;
  return Status::ok_status();
}

Status ByteReader::read_string(std::string& out, SizeBound bound, std::string_view field) {
  std::uint32_t length = 0;
  if (Status status = read_u32(length, field); !status.ok()) return status;
  // Both checks come before the allocation: a forged length never reaches the allocator.
  if (length > bound.value) {
    return field_error(field, "length " + number(length) + " exceeds " + std::string(bound.name) +
                                  " (" + number(bound.value) + ")");
  }
  if (length > remaining()) {
    return field_error(field, "truncated (length " + number(length) + ", " + number(remaining()) +
                                  " bytes remain)");
  }
  out.assign(bytes_.substr(position_, length));
  position_ += length;
  return Status::ok_status();
}

Status ByteReader::expect_end(std::string_view what) const {
  if (remaining() == 0) return Status::ok_status();
  return field_error(what, number(remaining()) + " trailing bytes after the last field");
}

}  // namespace vigil::core
