// Fuzz target: the scenario loader (sim/scenario.h, load_scenario), fed a scenario file's
// text. Checks, beyond "no crash, no sanitizer report": an accepted scenario written back
// with write_scenario() (sim/scenario_writer.h) loads again, and writing that gives the
// same text (load_scenario(write_scenario(s)) is s).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/assert.h"
#include "sim/scenario.h"
#include "sim/scenario_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto scenario = vigil::sim::load_scenario(text, "fuzz.yaml");
  if (!scenario.ok()) {
    VIGIL_ASSERT(!scenario.status().message().empty(), "a refusal without a message");
    return 0;
  }
  const std::string written = vigil::sim::write_scenario(*scenario);
  auto again = vigil::sim::load_scenario(written, "written.yaml");
  VIGIL_ASSERT(again.ok(), "write_scenario wrote what load_scenario refuses: " +
                               again.status().message() + "\n" + written);
  VIGIL_ASSERT(vigil::sim::write_scenario(*again) == written,
               "load_scenario(write_scenario(s)) is not s:\n" + written);
  return 0;
}
