#pragma once
// The cluster secret's file (security.cluster_secret_file; docs/security.md): what peers
// prove they hold in net/peer_handshake.h. The file holds the secret as text (any bytes but
// NUL; one trailing newline is not part of it). `vigil cluster up` writes one with
// new_cluster_secret_text(); `openssl rand -hex 32` makes an equally good one.
//
// The secret's bytes are returned to the caller and never appear in an error message.

#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"

namespace vigil::config {

inline constexpr std::size_t cluster_secret_bytes_min = 16;
inline constexpr std::size_t cluster_secret_bytes_max = 1024;

struct ClusterSecretFile {
  std::string secret;
  bool readable_by_others = false;  // group or world may read it: the node warns
};

// The secret in `path`. not_found / io_error naming the file; invalid_argument naming the
// file when the secret is shorter than cluster_secret_bytes_min, longer than
// cluster_secret_bytes_max or holds a NUL byte.
core::Result<ClusterSecretFile> read_cluster_secret(const std::string& path);
// The same rules for another secret file (the admin token's); errors start with `what`
// ("admin token file") instead of "cluster secret file".
core::Result<ClusterSecretFile> read_secret_file(const std::string& path, std::string_view what);

// 32 bytes from the OpenSSL generator as 64 hex digits and a newline, for a new file.
// failed_precondition when the generator fails.
core::Result<std::string> new_cluster_secret_text();

}  // namespace vigil::config
