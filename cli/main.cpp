// vigil: one binary, one subcommand per use (docs/operations.md lists them all).

#include <cstdio>

#include "cli/commands.h"
#include "net/build_info.h"

int main(int argc, char** argv) {
  CLI::App app{"vigil: a Dynamo-style key-value store and its deterministic simulator"};
  // --version: version, git commit and build type, as INFO server and /status show them.
  app.set_version_flag("--version", vigil::net::version_line());
  app.require_subcommand(1);
  int exit_code = 0;
  vigil::cli::add_config_command(app, exit_code);
  vigil::cli::add_ring_command(app, exit_code);
  vigil::cli::add_sim_command(app, exit_code);
  vigil::cli::add_explore_command(app, exit_code);
  vigil::cli::add_start_command(app, exit_code);
  vigil::cli::add_bench_command(app, exit_code);
  vigil::cli::add_cluster_command(app, exit_code);
  vigil::cli::add_chaos_command(app, exit_code);
  vigil::cli::add_client_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    // CLI11 uses 0 for --help; every other parse error is a usage error: exit 2.
    return code == 0 ? 0 : 2;
  }
  return exit_code;
}
