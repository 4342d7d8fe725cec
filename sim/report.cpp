#include "sim/report.h"

#include <algorithm>
#include <cstdio>

// The report serves two readers. A program reads the JSON lines (one object per run, so a
// sweep can be piped into jq or a dashboard while it runs). A person reads the table, and
// for a failure needs exactly one thing: the command that replays it, since a simulated
// failure is fully determined by (scenario, seed). Checks contribute their own numbers;
// the report adds nothing to them and hides none.

namespace vigil::sim {
namespace {

std::string fixed(double number, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, number);
  return text;
}

std::string padded(const std::string& text, std::size_t width, bool right = false) {
  if (text.size() >= width) return text;
  const std::string pad(width - text.size(), ' ');
  return right ? pad + text : text + pad;
}

std::string shell_quoted(const std::string& text) {
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '/' || c == '.' || c == '-' || c == '_';
  });
  if (plain && !text.empty()) return text;
  std::string quoted = "'";
  for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

nlohmann::ordered_json check_json(const CheckResult& check) {
  nlohmann::ordered_json object = {{"ok", check.ok}};
  for (const auto& [name, count] : check.counts) object[name] = count;
  for (const auto& [name, ratio] : check.ratios) object[name] = ratio;
  if (!check.examples.empty()) object["examples"] = check.examples;
  return object;
}

// Each node's view at the end of the run: {observer: {peer: {state, phi, ...}}}.
nlohmann::ordered_json membership_json(const RunRecord& record) {
  nlohmann::ordered_json views = nlohmann::ordered_json::object();
  for (const auto& [observer, view] : record.members) {
    nlohmann::ordered_json peers = nlohmann::ordered_json::object();
    for (const core::PeerStatus& peer : view) {
      if (peer.is_self) continue;
      peers[peer.id] = {{"state", std::string(core::peer_state_name(peer.state))},
                        {"phi", peer.phi},
                        {"silence_s", static_cast<double>(peer.silence.count()) / 1e6},
                        {"incarnation", peer.incarnation},
                        {"heartbeat", peer.heartbeat},
                        {"probe_failures", peer.probe_failures}};
    }
    views[observer] = peers;
  }
  return views;
}

}  // namespace

std::string format_trace_hash(std::uint64_t hash) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

nlohmann::ordered_json run_json(const RunRecord& record) {
  nlohmann::ordered_json checks = nlohmann::ordered_json::object();
  for (const CheckResult& check : record.checks) checks[check.name] = check_json(check);
  nlohmann::ordered_json object = {
      {"scenario", record.scenario},
      {"file", record.file},
      {"seed", record.seed},
      {"result", record.checks_ok ? "pass" : "fail"},
      {"expect", record.expect == Expectation::pass ? "pass" : "fail"},
      {"met_expectation", record.met_expectation()},
      {"trace_hash", format_trace_hash(record.trace_hash)},
      {"sim_time_s", record.sim_time_s},
      {"wall_s", record.wall_s},
      {"events", record.events},
      {"events_per_s",
       record.wall_s > 0 ? static_cast<double>(record.events) / record.wall_s : 0.0},
      {"faults", record.faults},
      {"ops",
       {{"ok", record.ops.ok},
        {"failed", record.ops.failed},
        {"indeterminate", record.ops.indeterminate}}},
      {"checks", checks},
      {"counters", nlohmann::ordered_json(record.counters)},
      {"replay", replay_command(record)},
  };
  if (!record.members.empty()) object["membership"] = membership_json(record);
  if (record.second_trace_hash) {
    object["determinism"] = {{"ok", record.deterministic},
                             {"trace_hash_again", format_trace_hash(*record.second_trace_hash)}};
    if (!record.divergence.empty()) object["determinism"]["first_divergence"] = record.divergence;
  }
  return object;
}

std::string run_json_line(const RunRecord& record) {
  return run_json(record).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string replay_command(const RunRecord& record) {
  std::string command = "vigil sim " + shell_quoted(record.file.empty() ? record.scenario
                                                                         : record.file) +
                        " --seed " + std::to_string(record.seed);
  if (!record.deterministic) command += " --check-determinism";
  return command;
}

std::string result_text(const RunRecord& record) {
  std::string text;
  if (record.expect == Expectation::pass) {
    text = record.checks_ok ? "pass" : "FAIL (expected pass)";
  } else {
    text = record.checks_ok ? "PASS (expected fail)" : "fail (expected)";
  }
  if (!record.deterministic) text += " NONDETERMINISTIC";
  return text;
}

std::string check_summary(const CheckResult& check) {
  const auto count = [&](const std::string& name) {
    const auto it = check.counts.find(name);
    return it == check.counts.end() ? std::string("?") : std::to_string(it->second);
  };
  std::string text;
  if (check.name == "no_lost_writes") {
    text = "lost " + count("lost") + "/" + count("acknowledged");
    if (check.counts.contains("keys_unverified") && check.counts.at("keys_unverified") > 0) {
      text += " (" + count("keys_unverified") + " keys unread)";
    }
  } else if (check.name == "stale_reads") {
    text = "stale " + count("stale") + "/" + count("reads_checked");
    if (check.counts.contains("max")) text += " (max " + count("max") + ")";
  } else if (check.name == "read_your_writes") {
    text = "missed " + count("missed") + "/" + count("reads_checked");
  } else if (check.name == "no_resurrection") {
    text = "resurrected " + count("resurrections") + "/" + count("reads_checked") +
           " (deletes " + count("deletes_acknowledged") + ")";
  } else if (check.name == "tombstones_collected") {
    text = "held " + count("held_at_end") + " collected " + count("collected") + " (rounds " +
           count("rounds_started") + ")";
  } else if (check.name == "hints_drained") {
    text = "pending " + count("pending") + " (stored " + count("stored") + ", delivered " +
           count("delivered") + ", expired " + count("expired") + ", missing " +
           count("writes_missing_on_replicas") + ")";
  } else if (check.name == "failure_detection") {
    const auto time = [&](const std::string& name) {
      const auto it = check.ratios.find(name);
      return it == check.ratios.end() ? std::string("-") : fixed(it->second, 1) + "s";
    };
    text = "suspect " + time("suspect_time_s_max") + " failed " + time("failed_time_s_max") +
           " false " + count("false_suspicions") + "/" + count("false_failures");
  } else if (check.name == "convergence") {
    const auto it = check.ratios.find("converge_time_s");
    text = "divergent " + count("divergent_keys") + "/" + count("keys_checked") + " (at heal " +
           count("divergent_keys_at_heal") + ", converged " +
           (it == check.ratios.end() ? std::string("never") : fixed(it->second, 1) + "s") +
           ", streamed " + count("keys_streamed") + ")";
  } else if (check.name == "availability") {
    text = count("succeeded") + "/" + count("eligible");
    if (check.ratios.contains("min")) {
      char bound[32];
      std::snprintf(bound, sizeof bound, " (min %.3f)", check.ratios.at("min"));
      text += bound;
    }
  } else {
    for (const auto& [name, value] : check.counts) {
      text += (text.empty() ? "" : " ") + name + " " + std::to_string(value);
    }
  }
  return check.name + " " + text + (check.ok ? "" : " FAIL");
}

TableWriter::TableWriter(std::ostream& out, std::size_t scenario_width)
    : out_(out), scenario_width_(std::max<std::size_t>(scenario_width, 8)) {}

void TableWriter::header() {
  out_ << padded("scenario", scenario_width_) << "  " << padded("seed", 6, true) << "  "
       << padded("sim time", 9, true) << "  " << padded("ops ok/failed/indet", 20, true)
       << "  " << padded("faults", 6, true) << "  " << padded("result", 20) << "  checks\n";
}

void TableWriter::row(const RunRecord& record) {
  const std::string ops = std::to_string(record.ops.ok) + "/" +
                          std::to_string(record.ops.failed) + "/" +
                          std::to_string(record.ops.indeterminate);
  std::string checks;
  for (const CheckResult& check : record.checks) {
    checks += (checks.empty() ? "" : ", ") + check_summary(check);
  }
  out_ << padded(record.scenario, scenario_width_) << "  "
       << padded(std::to_string(record.seed), 6, true) << "  "
       << padded(fixed(record.sim_time_s, 1) + "s", 9, true) << "  " << padded(ops, 20, true)
       << "  " << padded(std::to_string(record.faults), 6, true) << "  "
       << padded(result_text(record), 20) << "  " << (checks.empty() ? "-" : checks) << '\n';
  out_.flush();
}

void TableWriter::summary(const std::vector<RunRecord>& records) {
  std::size_t missed = 0;
  for (const RunRecord& record : records) missed += record.met_expectation() ? 0 : 1;
  out_ << '\n' << records.size() << (records.size() == 1 ? " run: " : " runs: ");
  if (missed == 0) {
    out_ << "every run met its expectation\n";
    return;
  }
  out_ << missed << " did not meet the scenario's expectation. Replay with:\n";
  for (const RunRecord& record : records) {
    if (record.met_expectation()) continue;
    out_ << "  " << replay_command(record) << '\n';
    if (!record.divergence.empty()) out_ << "      first divergence: " << record.divergence << '\n';
    for (const CheckResult& check : record.checks) {
      if (check.ok) continue;
      for (const std::string& example : check.examples) {
        out_ << "      " << check.name << ": " << example << '\n';
      }
    }
  }
}

}  // namespace vigil::sim
