// The repair benchmark's report, as text for people and JSON for scripts
// (bench/repair_bench.h says what each figure is).

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "bench/repair_bench.h"

namespace vigil::bench {

std::string repair_bench_text(const RepairBenchResult& result) {
  const RepairBenchOptions& options = result.options;
  std::string text = fmt::format(
      "repair (simulated cluster: 3 nodes, N=3, MemoryStore; {} keys of {} bytes, {} left out "
      "of n3)\n",
      options.keys, options.value_bytes, result.keys_differed);
  text += fmt::format("  trees built from the stores at start: {:.3f} s (3 nodes)\n",
                      result.build_seconds);
  text += fmt::format("  repair: {:.3f} s wall, {:.3f} s simulated; {:.0f} divergent keys/s\n",
                      result.repair_wall_seconds, result.repair_sim_seconds,
                      result.keys_per_second);
  text += fmt::format("  exchanges {}; keys compared {}; anti-entropy messages {}\n",
                      result.exchanges, result.keys_compared, result.ae_messages);
  text += fmt::format(
      "  keys streamed {} (sum of ae_keys_received) for {} that differed: over-streaming "
      "{:.3f} (ideal 1.0)\n",
      result.keys_streamed, result.keys_differed, result.over_streaming);
  text += fmt::format(
      "  bytes: {} on the wire (all anti-entropy frames), {:.1f} per divergent key; {} of "
      "key states\n",
      result.wire_bytes, result.wire_bytes_per_divergent_key, result.state_bytes);
  text += fmt::format("  stores equal after: {} ({} keys unequal)\n",
                      result.stores_equal ? "yes" : "NO", result.keys_unequal);
  for (const WritePathFigures& figures : result.write_path) {
    text += fmt::format(
        "write path ({}, {} writes x {} rounds, 100 per commit): trees on {:.0f}/s, off "
        "{:.0f}/s, cost {:.1f}%\n",
        figures.store, options.writes, options.write_rounds, figures.on_writes_per_second,
        figures.off_writes_per_second, 100.0 * figures.cost);
    text += fmt::format("  rounds on {::.3f} s, off {::.3f} s\n", figures.on_round_seconds,
                        figures.off_round_seconds);
  }
  return text;
}

std::string repair_bench_json(const RepairBenchResult& result) {
  nlohmann::json write_path = nlohmann::json::array();
  for (const WritePathFigures& figures : result.write_path) {
    write_path.push_back({{"store", figures.store},
                          {"on_writes_per_second", figures.on_writes_per_second},
                          {"off_writes_per_second", figures.off_writes_per_second},
                          {"cost", figures.cost},
                          {"on_round_seconds", figures.on_round_seconds},
                          {"off_round_seconds", figures.off_round_seconds}});
  }
  const RepairBenchOptions& options = result.options;
  const nlohmann::json json = {
      {"keys", options.keys},
      {"divergent_fraction", options.divergent_fraction},
      {"value_bytes", options.value_bytes},
      {"writes", options.writes},
      {"build_seconds", result.build_seconds},
      {"repair_wall_seconds", result.repair_wall_seconds},
      {"repair_sim_seconds", result.repair_sim_seconds},
      {"keys_differed", result.keys_differed},
      {"keys_streamed", result.keys_streamed},
      {"keys_per_second", result.keys_per_second},
      {"over_streaming", result.over_streaming},
      {"wire_bytes", result.wire_bytes},
      {"wire_bytes_per_divergent_key", result.wire_bytes_per_divergent_key},
      {"state_bytes", result.state_bytes},
      {"ae_messages", result.ae_messages},
      {"exchanges", result.exchanges},
      {"keys_compared", result.keys_compared},
      {"stores_equal", result.stores_equal},
      {"keys_unequal", result.keys_unequal},
      {"write_path", write_path}};
  return json.dump();
}

}  // namespace vigil::bench
