#include "bench/run_directory.h"

#include <stdlib.h>  // mkdtemp

#include <system_error>
#include <utility>

namespace vigil::bench {

core::Result<std::unique_ptr<RunDirectory>> RunDirectory::create(const std::string& parent,
                                                                 const std::string& prefix) {
  std::error_code error;
  const std::filesystem::path base =
      parent.empty() ? std::filesystem::temp_directory_path(error) : std::filesystem::path(parent);
  if (!error) std::filesystem::create_directories(base, error);
  if (error) return core::error(core::Code::io_error, "bench directory: " + error.message());
  std::string pattern = (base / (prefix + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return core::error(core::Code::io_error, "cannot create a directory in " + base.string());
  }
  return std::unique_ptr<RunDirectory>(new RunDirectory(pattern));
}

RunDirectory::~RunDirectory() {
  if (keep_) return;
  std::error_code ignored;  // nothing to do about a failed clean-up but leave it
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace vigil::bench
