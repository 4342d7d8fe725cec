# Run at build time (cmake -P) by the vigil_build_info target: writes build_info.cpp with
# the version, the git commit and the build type. configure_file leaves the file untouched
# when its text is unchanged, so a build at the same commit recompiles nothing, and a new
# commit recompiles this one small file and relinks (net/build_info.h says why it is a
# .cpp and not a header).
# Inputs: SOURCE_DIR, TEMPLATE, OUTPUT, VERSION, BUILD_TYPE.
set(commit "unknown")
find_package(Git QUIET)
if(GIT_FOUND AND EXISTS "${SOURCE_DIR}/.git")
  execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${SOURCE_DIR}" rev-parse --short=12 HEAD
    OUTPUT_VARIABLE head RESULT_VARIABLE head_result OUTPUT_STRIP_TRAILING_WHITESPACE
    ERROR_QUIET)
  if(head_result EQUAL 0 AND NOT head STREQUAL "")
    set(commit "${head}")
    # Tracked files changed since the commit: the binary is not that commit.
    execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${SOURCE_DIR}" status --porcelain
      --untracked-files=no OUTPUT_VARIABLE changes RESULT_VARIABLE status_result ERROR_QUIET)
    if(status_result EQUAL 0 AND NOT changes STREQUAL "")
      string(APPEND commit "-dirty")
    endif()
  endif()
endif()
if(BUILD_TYPE STREQUAL "")
  set(BUILD_TYPE "None")
endif()
set(VIGIL_VERSION "${VERSION}")
set(VIGIL_GIT_COMMIT "${commit}")
set(VIGIL_BUILD_TYPE "${BUILD_TYPE}")
configure_file("${TEMPLATE}" "${OUTPUT}" @ONLY)
