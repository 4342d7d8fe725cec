// Fuzz target: the node configuration loader (config/config_yaml.h), fed a config file's
// text. Checks, beyond "no crash, no sanitizer report": a refusal names the file on its
// first line (config_yaml.h's format); an accepted config written back with
// config_to_yaml() loads again to an equal Config (config_yaml.h promises it).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/config_yaml.h"
#include "core/assert.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = vigil::config::config_from_yaml(text, "fuzz.yaml");
  if (!config.ok()) {
    VIGIL_ASSERT(config.status().message().rfind("fuzz.yaml", 0) == 0,
                 "a refusal that does not name the file: " + config.status().message());
    return 0;
  }
  const std::string written = vigil::config::config_to_yaml(*config);
  auto again = vigil::config::config_from_yaml(written, "written.yaml");
  VIGIL_ASSERT(again.ok(),
               "config_to_yaml wrote what config_from_yaml refuses: " + again.status().message());
  VIGIL_ASSERT(*again == *config, "config_to_yaml then config_from_yaml changed the config");
  return 0;
}
