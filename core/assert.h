#pragma once
// Invariant assertions that stay on in every build (independent of NDEBUG), as in
// TigerBeetle and Seastar. A failed assertion is our own bug, never bad peer input: peer
// input becomes a Status, see status.h. On failure the process prints the expression, the
// message and whatever context the running environment registered (the simulator registers
// the scenario and seed that replay the run), then aborts.

#include <string>

namespace vigil::core {

// Called before abort() with a description of the failure; returns extra context to print
// (the simulator returns the replay command). One per thread; nullptr clears it.
using AssertionContext = std::string (*)();
void set_assertion_context(AssertionContext context);

[[noreturn]] void assertion_failed(const char* file, int line, const char* expression,
                                   const std::string& message);

}  // namespace vigil::core

#define VIGIL_ASSERT(condition, message)                                                   \
  do {                                                                                     \
    if (!(condition)) [[unlikely]] {                                                       \
      ::vigil::core::assertion_failed(__FILE__, __LINE__, #condition, (message));          \
    }                                                                                      \
  } while (false)
