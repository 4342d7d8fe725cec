// Fuzz target: the node-to-node wire codec (core/wire/codec.h), every message type, and
// the stored encodings of sibling sets and clocks.
//
// The input is used three ways:
// 1. as a whole frame, as a peer sends it (header, checksum and all);
// 2. byte 0 picks a message type (mod message_type_count) and the rest is the payload of a
//    frame this target wraps with a correct header and checksum, so that the fuzzer
//    explores every message's decoder instead of stopping at the checksum (a buggy or
//    hostile peer computes checksums too);
// 3. the rest as a stored sibling set and as a causal clock.
// Checks, beyond "no crash, no sanitizer report": whatever decodes re-encodes to exactly
// the bytes it came from (codec.h: encodings are canonical), and decodes again to an equal
// value; frame_size() agrees with the frame.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/assert.h"
#include "core/hash.h"
#include "core/wire/codec.h"

namespace {

using namespace vigil::core;  // NOLINT(google-build-using-namespace): a fuzz target's own file

void put_little_endian(std::string& out, std::uint64_t value, std::size_t width) {
  for (std::size_t i = 0; i < width; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
}

// A frame around `payload` with a correct header and checksum (codec.h's layout).
std::string frame_of(std::uint8_t type, std::string_view payload) {
  std::string frame;
  put_little_endian(frame, frame_magic, 2);
  put_little_endian(frame, wire_version, 1);
  put_little_endian(frame, type, 1);
  put_little_endian(frame, payload.size(), 4);
  std::uint64_t seed = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    seed |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(frame[i])) << (8 * i);
  }
  put_little_endian(frame, xxhash64(payload, seed), 8);
  frame.append(payload);
  return frame;
}

void check_frame(std::string_view bytes) {
  auto envelope = decode_frame(bytes);
  if (bytes.size() >= frame_header_bytes) {
    auto size = frame_size(bytes);
    if (envelope.ok()) {
      VIGIL_ASSERT(size.ok() && *size == bytes.size(), "frame_size disagrees with the frame");
    }
  }
  if (!envelope.ok()) {
    VIGIL_ASSERT(!envelope.status().message().empty(), "an error without a message");
    return;
  }
  auto again = encode_frame(*envelope);
  VIGIL_ASSERT(again.ok(), "a decoded frame does not encode: " + again.status().message());
  VIGIL_ASSERT(*again == bytes, "a decoded frame re-encodes to other bytes (" +
                                    std::string(message_type_name(envelope->message.index())) +
                                    ")");
  auto twice = decode_frame(*again);
  VIGIL_ASSERT(twice.ok() && *twice == *envelope, "a re-encoded frame decodes differently");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_frame(input);
  if (input.empty()) return 0;

  const auto type =
      static_cast<std::uint8_t>(static_cast<std::uint8_t>(input[0]) % message_type_count);
  const std::string_view payload = input.substr(1);
  check_frame(frame_of(type, payload));

  if (auto set = decode_sibling_set(payload); set.ok()) {
    VIGIL_ASSERT(encode_sibling_set(*set) == payload, "a sibling set re-encodes differently");
  }
  if (auto clock = decode_clock(payload); clock.ok()) {
    VIGIL_ASSERT(encode_clock(*clock) == payload, "a clock re-encodes differently");
  }
  return 0;
}
