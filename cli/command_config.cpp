// `vigil config check FILE`, `vigil config defaults` and `vigil config hash-password`
// (docs/configuration.md, docs/security.md).
// The file is read here, not in core/ (core does no I/O); its name goes into every error
// so that a message reads "node.yaml:7:6: quorum_settings.R: R (4) is greater than N (3)".

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "config/config_yaml.h"
#include "config/password_hash.h"

namespace vigil::cli {
namespace {

// The whole file, or io_error naming the file and the reason. Reads at most one byte more
// than a config may hold, so a huge or endless file (/dev/zero) costs bounded memory; the
// loader then refuses the oversized text with its own message.
core::Result<std::string> read_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return core::error(core::Code::io_error, path + ": cannot read: " + std::strerror(errno));
  }
  std::string text;
  constexpr std::size_t chunk_bytes = 64 * 1024;
  const auto buffer = std::make_unique<char[]>(chunk_bytes);
  while (text.size() <= config::config_text_bytes_max) {
    in.read(buffer.get(), chunk_bytes);
    text.append(buffer.get(), static_cast<std::size_t>(in.gcount()));
    if (!in) break;
  }
  if (in.bad() || (in.fail() && !in.eof())) {
    return core::error(core::Code::io_error, path + ": cannot read: " + std::strerror(errno));
  }
  return text;
}

int check(const std::string& path) {
  core::Result<std::string> text = read_config_file(path);
  if (!text.ok()) {
    std::cerr << text.status().message() << "\n";
    return 2;
  }
  const core::Result<config::Config> config = config::config_from_yaml(*text, path);
  if (!config.ok()) {
    std::cerr << config.status().message() << "\n";
    return 2;
  }
  std::cout << path << ": ok (" << config::config_summary(*config) << ")\n";
  for (const std::string& warning : config::config_warnings(*config)) {
    std::cout << path << ": warning: " << warning << "\n";
  }
  return 0;
}

// Reads one password from stdin (its first line, without the line end, so `echo pw |` and
// typing both work) and prints its encoded hash for a security.users entry. The password is
// never an argument, so it stays out of the shell history and the process list.
int hash_password(std::uint32_t iterations) {
  if (iterations < config::password_iterations_min ||
      iterations > config::password_iterations_max) {
    std::cerr << "hash-password: --iterations must be from " << config::password_iterations_min
              << " to " << config::password_iterations_max << "\n";
    return 2;
  }
  std::string password;
  std::getline(std::cin, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty()) {
    std::cerr << "hash-password: no password on standard input\n";
    return 2;
  }
  const auto hash = config::make_password_hash(password, iterations);
  if (!hash.ok()) {
    std::cerr << "hash-password: " << hash.status().message() << "\n";
    return 1;
  }
  std::cout << config::format_password_hash(*hash) << "\n";
  return 0;
}

}  // namespace

void add_config_command(CLI::App& app, int& exit_code) {
  CLI::App* config = app.add_subcommand("config",
                                        "Check a node configuration file or print "
                                        "the defaults (docs/configuration.md)");
  config->require_subcommand(1);

  CLI::App* check_command = config->add_subcommand(
      "check", "Load FILE as a node configuration; exit 0 if valid, 2 with every problem");
  auto path = std::make_shared<std::string>();
  check_command->add_option("FILE", *path, "the YAML file")->required();
  check_command->callback([path, &exit_code] { exit_code = check(*path); });

  CLI::App* defaults = config->add_subcommand(
      "defaults", "Print the configuration file with every key at its default, commented");
  defaults->callback([&exit_code] {
    std::cout << config::config_defaults_yaml();
    exit_code = 0;
  });

  CLI::App* hash = config->add_subcommand(
      "hash-password",
      "Read a password from standard input and print its PBKDF2-SHA256 hash for "
      "security.users (docs/security.md)");
  auto iterations = std::make_shared<std::uint32_t>(config::password_iterations_default);
  hash->add_option("--iterations", *iterations, "PBKDF2 iterations (cost of every AUTH)")
      ->capture_default_str();
  hash->callback([iterations, &exit_code] { exit_code = hash_password(*iterations); });
}

}  // namespace vigil::cli
