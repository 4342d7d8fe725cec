#include "core/assert.h"

#include <cstdio>
#include <cstdlib>

namespace vigil::core {

namespace {
// Thread-local so that two simulations in one process (tests) do not share it; this is the
// one piece of process state in core/, and it is only read on the way to abort().
thread_local AssertionContext assertion_context = nullptr;
}  // namespace

void set_assertion_context(AssertionContext context) { assertion_context = context; }

void assertion_failed(const char* file, int line, const char* expression,
                      const std::string& message) {
  std::fprintf(stderr, "vigil: invariant violated at %s:%d: %s (%s)\n", file, line,
               expression, message.c_str());
  if (assertion_context != nullptr) {
    std::fprintf(stderr, "%s\n", assertion_context().c_str());
  }
  std::fflush(stderr);
  std::abort();
}

}  // namespace vigil::core
