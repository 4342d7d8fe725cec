// The cluster secret's file (config/cluster_secret.h). Read with plain POSIX calls so that
// errors carry errno's reason, and bounded: a wrong path (a log file, /dev/zero) cannot
// cost memory.

#include "config/cluster_secret.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace vigil::config {
namespace {

core::Status file_error(core::Code code, std::string_view kind, const std::string& path,
                        const std::string& what) {
  return core::error(code, std::string(kind) + " " + path + ": " + what);
}

}  // namespace

core::Result<ClusterSecretFile> read_cluster_secret(const std::string& path) {
  return read_secret_file(path, "cluster secret file");
}

core::Result<ClusterSecretFile> read_secret_file(const std::string& path, std::string_view kind) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int saved = errno;
    return file_error(saved == ENOENT ? core::Code::not_found : core::Code::io_error, kind, path,
                      std::strerror(saved));
  }
  ClusterSecretFile out;
  struct stat info {};
  if (::fstat(fd, &info) == 0) out.readable_by_others = (info.st_mode & 077) != 0;
  std::string text;
  std::array<char, 512> buffer{};
  // One byte past the bound (and a newline) is enough to know it is too long.
  while (text.size() <= cluster_secret_bytes_max + 2) {
    const ssize_t got = ::read(fd, buffer.data(), buffer.size());
    if (got < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd);
      return file_error(core::Code::io_error, kind, path, std::strerror(saved));
    }
    if (got == 0) break;
    text.append(buffer.data(), static_cast<std::size_t>(got));
  }
  ::close(fd);
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.find('\0') != std::string::npos) {
    OPENSSL_cleanse(text.data(), text.size());
    return file_error(core::Code::invalid_argument, kind, path, "holds a NUL byte");
  }
  if (text.size() > cluster_secret_bytes_max) {
    // The read stopped soon after the bound: the file's size is not known, only "more".
    OPENSSL_cleanse(text.data(), text.size());
    return file_error(core::Code::invalid_argument, kind, path,
                      "the secret is longer than " + std::to_string(cluster_secret_bytes_max) +
                          " bytes (make one with `openssl rand -hex 32`)");
  }
  if (text.size() < cluster_secret_bytes_min) {
    const std::size_t size = text.size();
    OPENSSL_cleanse(text.data(), text.size());
    return file_error(core::Code::invalid_argument, kind, path,
                      "the secret is " + std::to_string(size) + " bytes; it must be " +
                          std::to_string(cluster_secret_bytes_min) + ".." +
                          std::to_string(cluster_secret_bytes_max) +
                          " (make one with `openssl rand -hex 32`)");
  }
  out.secret = std::move(text);
  return out;
}

core::Result<std::string> new_cluster_secret_text() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return core::error(core::Code::failed_precondition,
                       "no randomness for a cluster secret (RAND_bytes failed)");
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string text;
  for (const unsigned char byte : bytes) {
    text.push_back(digits[byte >> 4]);
    text.push_back(digits[byte & 0xf]);
  }
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return text + "\n";
}

}  // namespace vigil::config
