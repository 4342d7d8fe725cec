#pragma once
// Small-file helpers of `vigil cluster`: the layout, node configs and pid files are a few
// kilobytes each, written whole and atomically (write a temp file, then rename) so that a
// reader never sees half a file, and read with a bound so a wrong path cannot cost memory.

#include <cstddef>
#include <string>

#include "core/status.h"

namespace vigil::cli {

inline constexpr std::size_t cluster_file_bytes_max = 1024 * 1024;

// The whole file: not_found when it does not exist, io_error naming the file and the reason,
// resource_exhausted when it is over `bytes_max`.
core::Result<std::string> read_small_file(const std::string& path,
                                          std::size_t bytes_max = cluster_file_bytes_max);
// Writes `text` to path.tmp (created with `mode`) and renames it over `path`. io_error
// naming the file.
core::Status write_file_atomically(const std::string& path, const std::string& text,
                                   unsigned mode = 0644);
// mkdir -p; io_error naming the directory.
core::Status make_directories(const std::string& path);

}  // namespace vigil::cli
