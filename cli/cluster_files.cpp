// Small-file helpers of `vigil cluster` (cli/cluster_files.h). Plain POSIX calls so every
// error carries errno's reason and the file's name.

#include "cli/cluster_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace vigil::cli {
namespace {

core::Status io_error(const std::string& path, const std::string& what, int error_number) {
  return core::error(core::Code::io_error,
                     path + ": cannot " + what + ": " + std::strerror(error_number));
}

}  // namespace

core::Result<std::string> read_small_file(const std::string& path, std::size_t bytes_max) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return core::error(core::Code::not_found, path + ": no such file");
    return io_error(path, "read", errno);
  }
  std::string text;
  char buffer[4096];
  while (true) {
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd);
      return io_error(path, "read", saved);
    }
    if (got == 0) break;
    text.append(buffer, static_cast<std::size_t>(got));
    if (text.size() > bytes_max) {
      ::close(fd);
      return core::error(core::Code::resource_exhausted,
                         path + ": larger than " + std::to_string(bytes_max) + " bytes");
    }
  }
  ::close(fd);
  return text;
}

core::Status write_file_atomically(const std::string& path, const std::string& text,
                                   unsigned mode) {
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return io_error(temp, "create", errno);
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t put = ::write(fd, text.data() + written, text.size() - written);
    if (put < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd);
      return io_error(temp, "write", saved);
    }
    written += static_cast<std::size_t>(put);
  }
  if (::close(fd) != 0) return io_error(temp, "write", errno);
  if (std::rename(temp.c_str(), path.c_str()) != 0) return io_error(path, "rename onto", errno);
  return core::Status::ok_status();
}

core::Status make_directories(const std::string& path) {
  std::error_code error;
  std::filesystem::create_directories(path, error);
  if (error) {
    return core::error(core::Code::io_error, path + ": cannot create: " + error.message());
  }
  return core::Status::ok_status();
}

}  // namespace vigil::cli
