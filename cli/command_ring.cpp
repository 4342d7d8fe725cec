// `vigil ring --nodes N [--vnodes V] [--min-spacing S] [--json]`: builds the ring of nodes
// n1..nN joined in that order with balanced tokens and prints how evenly it is owned and
// what one more join moves (docs/ring.md explains every figure).

#include <fmt/format.h>

#include <cstdint>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "core/ring/ring.h"

namespace vigil::cli {
namespace {

struct RingArguments {
  // Wide signed types so that a negative or huge value reaches our range check and its
  // message instead of a parser conversion error.
  long long nodes = 0;
  long long vnodes = core::RingOptions{}.vnodes;
  std::uint64_t token_spacing_min = core::RingOptions{}.token_spacing_min;
  bool json = false;
};

nlohmann::json to_json(const core::RingStatistics& s) {
  nlohmann::json per_node = nlohmann::json::array();
  for (const core::NodeOwnership& node : s.per_node) {
    per_node.push_back(
        {{"node", node.node}, {"primary", node.primary}, {"replicas", node.replicas}});
  }
  return {{"nodes", s.nodes},
          {"vnodes", s.vnodes},
          {"min_spacing", s.token_spacing_min},
          {"max_over_mean", s.max_over_mean},
          {"min_over_mean", s.min_over_mean},
          {"replicas", s.replicas},
          {"replica_max_over_mean", s.replica_max_over_mean},
          {"replica_min_over_mean", s.replica_min_over_mean},
          {"join_moved_fraction", s.join_moved_fraction},
          {"join_ideal_fraction", s.join_ideal_fraction},
          {"join_moved_between_old_nodes", s.join_moved_between_old_nodes},
          {"leave_max_over_mean", s.leave_max_over_mean},
          {"ownership", per_node}};
}

void print_table(const core::RingStatistics& s) {
  std::cout << fmt::format("ring: {} nodes x {} vnodes, min_spacing {}\n", s.nodes, s.vnodes,
                           s.token_spacing_min);
  std::cout << fmt::format("  primary ownership   max/mean {:.6f}  min/mean {:.6f}\n",
                           s.max_over_mean, s.min_over_mean);
  std::cout << fmt::format("  replicas (N={})      max/mean {:.6f}  min/mean {:.6f}\n", s.replicas,
                           s.replica_max_over_mean, s.replica_min_over_mean);
  std::cout << fmt::format(
      "  join of n{}          moves {:.6f} of the ring (ideal {:.6f}), {:.6f} between old "
      "nodes\n",
      s.nodes + 1, s.join_moved_fraction, s.join_ideal_fraction, s.join_moved_between_old_nodes);
  if (s.nodes > 1) {
    std::cout << fmt::format("  leave of n1          primary max/mean {:.6f} (no rebalance)\n",
                             s.leave_max_over_mean);
  }
  const double mean = 1.0 / static_cast<double>(s.nodes);
  std::cout << fmt::format("\n  {:<8} {:>10} {:>10} {:>12}\n", "node", "primary", "/mean",
                           "replicas");
  for (const core::NodeOwnership& node : s.per_node) {
    std::cout << fmt::format("  {:<8} {:>10.6f} {:>10.6f} {:>12.6f}\n", node.node, node.primary,
                             node.primary / mean, node.replicas);
  }
}

int run(const RingArguments& arguments) {
  if (arguments.nodes < 1 || arguments.nodes > static_cast<long long>(core::ring_nodes_max)) {
    std::cerr << fmt::format("vigil ring: --nodes must be in [1, {}], got {}\n",
                             core::ring_nodes_max, arguments.nodes);
    return 2;
  }
  if (arguments.vnodes < 1 || arguments.vnodes > core::ring_vnodes_max) {
    std::cerr << fmt::format("vigil ring: --vnodes must be in [1, {}], got {}\n",
                             core::ring_vnodes_max, arguments.vnodes);
    return 2;
  }
  const core::RingOptions options{static_cast<std::uint32_t>(arguments.vnodes),
                                  arguments.token_spacing_min};
  const core::Result<core::RingStatistics> statistics =
      core::ring_statistics(static_cast<std::size_t>(arguments.nodes), options);
  if (!statistics.ok()) {
    std::cerr << "vigil " << statistics.status().message() << "\n";
    return 2;
  }
  if (arguments.json) {
    std::cout << to_json(*statistics).dump() << "\n";
  } else {
    print_table(*statistics);
  }
  return 0;
}

}  // namespace

void add_ring_command(CLI::App& app, int& exit_code) {
  CLI::App* ring = app.add_subcommand(
      "ring",
      "Build a ring of n1..nN with balanced tokens and print its ownership balance and "
      "what one more join moves (docs/ring.md)");
  auto arguments = std::make_shared<RingArguments>();
  ring->add_option("--nodes", arguments->nodes, "Number of nodes, 1-1024")->required();
  ring->add_option("--vnodes", arguments->vnodes, "Tokens per node, 1-4096")->capture_default_str();
  ring->add_option("--min-spacing", arguments->token_spacing_min,
                   "Least distance between two tokens (token_distribution.min_spacing)")
      ->capture_default_str();
  ring->add_flag("--json", arguments->json, "Print one JSON object instead of a table");
  ring->callback([arguments, &exit_code] { exit_code = run(*arguments); });
}

}  // namespace vigil::cli
