#pragma once
// Each `vigil` subcommand lives in its own cli/command_*.cpp and registers itself here.
// A command sets `exit_code` when it runs: 0 success, 1 a run that did not meet its
// expectation, 2 a usage or input error (rule 4: with a message naming what is wrong).

#include <CLI/CLI.hpp>

namespace vigil::cli {

void add_config_command(CLI::App& app, int& exit_code);
void add_ring_command(CLI::App& app, int& exit_code);
void add_bench_command(CLI::App& app, int& exit_code);
void add_sim_command(CLI::App& app, int& exit_code);
void add_explore_command(CLI::App& app, int& exit_code);
void add_start_command(CLI::App& app, int& exit_code);
void add_cluster_command(CLI::App& app, int& exit_code);
void add_chaos_command(CLI::App& app, int& exit_code);
void add_client_command(CLI::App& app, int& exit_code);
// `vigil bench cluster` (cli/command_bench_cluster.cpp), added by add_bench_command.
void add_bench_cluster(CLI::App& bench, int& exit_code);

}  // namespace vigil::cli
