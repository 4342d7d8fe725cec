// Free-port choice for a local cluster (cli/cluster_ports.h). Probing by bind() is the only
// honest test of "free"; randomising the base spreads parallel runs over the range so two
// of them rarely probe the same ports at the same moment.

#include "cli/cluster_ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <random>

#include "cli/cluster_layout.h"

namespace vigil::cli {
namespace {

// The lowest port of the kernel's ephemeral range; 32768 (Linux's default) if unreadable.
std::uint32_t ephemeral_port_low() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  std::uint32_t low = 0;
  std::uint32_t high = 0;
  if (in >> low >> high && low > 2048) return low;
  return 32768;
}

}  // namespace

bool loopback_port_free(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool bound = ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return bound;
}

core::Result<std::uint32_t> choose_base_port(std::uint32_t nodes) {
  const std::uint32_t span = 2 * cluster_port_stride + nodes;
  const std::uint32_t low = 10000;
  const std::uint32_t ephemeral = ephemeral_port_low();
  // Whole range below the ephemeral ports if it fits, else anywhere a layout fits.
  const std::uint32_t high =
      ephemeral > low + span ? ephemeral - span : cluster_base_port_max(nodes);
  // A CLI process, not the simulator: the seed does not need to be reproducible.
  std::mt19937 random{std::random_device{}()};
  for (std::uint32_t attempt = 0; attempt < cluster_port_attempts_max; ++attempt) {
    const std::uint32_t base = low + static_cast<std::uint32_t>(random() % (high - low + 1));
    bool all_free = true;
    for (std::uint32_t block = 0; block < 3 && all_free; ++block) {
      for (std::uint32_t k = 0; k < nodes && all_free; ++k) {
        all_free = loopback_port_free(
            static_cast<std::uint16_t>(base + block * cluster_port_stride + k));
      }
    }
    if (all_free) return base;
  }
  return core::error(core::Code::resource_exhausted,
                     "no free loopback ports for " + std::to_string(nodes) + " nodes after " +
                         std::to_string(cluster_port_attempts_max) +
                         " random tries; give --base-port");
}

}  // namespace vigil::cli
