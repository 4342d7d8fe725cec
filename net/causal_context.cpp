// Contexts travel as base64 so that redis-cli shows them as plain text and users can copy
// them between commands. Decoding is strict (the alphabet, the length, the padding) and
// canonical (the bytes must re-encode to themselves), so one clock has exactly one
// context text. OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock do the base64 itself; its
// decoder tolerates surrounding whitespace and returns padding as zero bytes, which the
// checks here account for.

#include "net/causal_context.h"

#include <openssl/evp.h>

#include <string>

#include "core/wire/codec.h"

namespace vigil::net {

namespace {

bool is_base64_character(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

core::Status invalid(const std::string& what) {
  return core::error(core::Code::invalid_argument, "invalid context: " + what);
}

}  // namespace

std::string encode_context(const core::VectorClock& clock) {
  if (clock.empty()) return {};  // "" is the empty context, as decode_context reads it
  const std::string bytes = core::encode_clock(clock);
  std::string text(4 * ((bytes.size() + 2) / 3) + 1, '\0');  // + the NUL it writes
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()),
                                      reinterpret_cast<const unsigned char*>(bytes.data()),
                                      static_cast<int>(bytes.size()));
  text.resize(static_cast<std::size_t>(written));
  return text;
}

core::Result<core::VectorClock> decode_context(std::string_view text, core::WallMicros now) {
  if (text.empty()) return core::VectorClock{};
  if (text.size() % 4 != 0) {
    return invalid("not base64 (length " + std::to_string(text.size()) +
                   " is not a multiple of 4)");
  }
  std::size_t padding = 0;
  while (padding < 2 && text[text.size() - 1 - padding] == '=') ++padding;
  for (std::size_t i = 0; i < text.size() - padding; ++i) {
    if (!is_base64_character(text[i])) {
      return invalid("not base64 (character " + std::to_string(i) + ")");
    }
  }
  std::string bytes(text.size() / 4 * 3, '\0');
  const int decoded = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                                      reinterpret_cast<const unsigned char*>(text.data()),
                                      static_cast<int>(text.size()));
  if (decoded < 0 || static_cast<std::size_t>(decoded) != bytes.size()) {
    return invalid("not base64");
  }
  bytes.resize(bytes.size() - padding);
  auto clock = core::decode_clock(bytes);
  if (!clock.ok()) return invalid(clock.status().message());
  if (encode_context(*clock) != text) return invalid("not in canonical form");
  const core::WallMicros limit = now + core::to_micros(context_future_tolerance);
  for (const auto& [node, entry] : clock->entries()) {
    if (entry.timestamp_us > limit) {
      return invalid("the entry of " + node + " has a timestamp " +
                     std::to_string((entry.timestamp_us - now) / 1000000) +
                     " s ahead of this node's clock (at most " +
                     std::to_string(core::to_micros(context_future_tolerance) / 1000000) +
                     " s are accepted)");
    }
  }
  return clock;
}

}  // namespace vigil::net
