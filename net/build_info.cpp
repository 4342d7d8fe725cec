// The one-line rendering of the build info; the info itself is generated (build_info.h).

#include "net/build_info.h"

#include <fmt/format.h>

namespace vigil::net {

std::string version_line() {
  const BuildInfo info = build_info();
  return fmt::format("vigil {} (commit {}, {})", info.version, info.git_commit,
                     info.build_type);
}

}  // namespace vigil::net
