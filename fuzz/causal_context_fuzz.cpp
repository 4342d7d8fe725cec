// Fuzz target: the client causal-context decoder (net/causal_context.h), fed what a client
// passes to VSET/VDEL. Checks, beyond "no crash, no sanitizer report":
// - an accepted context re-encodes to exactly its text (one clock, one text);
// - the input read as clock bytes (core::decode_clock), when it decodes and is within the
//   future tolerance, goes through encode_context and decode_context unchanged.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/assert.h"
#include "core/wire/codec.h"
#include "net/causal_context.h"

namespace {
// The node's wall clock: a fixed instant (2027), so runs are reproducible.
constexpr vigil::core::WallMicros now_us = 1'800'000'000'000'000;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto clock = vigil::net::decode_context(input, now_us); clock.ok()) {
    VIGIL_ASSERT(vigil::net::encode_context(*clock) == input,
                 "an accepted context re-encodes to another text");
  } else {
    VIGIL_ASSERT(clock.status().message().rfind("invalid context: ", 0) == 0,
                 clock.status().message());
  }

  auto clock = vigil::core::decode_clock(input);
  if (!clock.ok()) return 0;
  const auto limit = now_us + vigil::core::to_micros(vigil::net::context_future_tolerance);
  for (const auto& [node, entry] : clock->entries()) {
    if (entry.timestamp_us > limit) return 0;
  }
  const std::string text = vigil::net::encode_context(*clock);
  auto again = vigil::net::decode_context(text, now_us);
  VIGIL_ASSERT(again.ok(),
               "encode_context wrote what decode_context refuses: " + again.status().message());
  VIGIL_ASSERT(*again == *clock, "a clock changed through its context text");
  return 0;
}
