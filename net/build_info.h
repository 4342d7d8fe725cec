#pragma once
// What this binary is: the project version, the git commit it was built from and the
// CMake build type. `vigil --version`, INFO server and the admin port's /status show the
// same three (docs/operations.md).
//
// build_info() is defined in a .cpp generated into the build directory at build time
// (cmake/build_info.cmake), not in a header: a new commit then recompiles one small file
// and relinks, instead of every file that includes the version.

#include <string>
#include <string_view>

namespace vigil::net {

struct BuildInfo {
  std::string_view version;     // "0.1.0" (project(VERSION) in CMakeLists.txt)
  std::string_view git_commit;  // 12 hex digits, "-dirty" appended when tracked files
                                // differed from it; "unknown" when built outside git
  std::string_view build_type;  // CMAKE_BUILD_TYPE ("Release", "RelWithDebInfo", ...)
};

BuildInfo build_info();

// "vigil 0.1.0 (commit 5fbabf595cfa, RelWithDebInfo)": the one line of `vigil --version`.
std::string version_line();

}  // namespace vigil::net
