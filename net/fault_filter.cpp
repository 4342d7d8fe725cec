// FaultFilter (net/fault_filter.h). Theory of operation: the filter sits where a firewall
// would, between the node and its peer sockets, so the node's protocol sees exactly what a
// real network fault shows it: frames that never arrive. Its rules are replaced whole by
// each POST /fault, so the one writing them (`vigil chaos`) keeps the truth of what every
// node should be doing and a lost or repeated request cannot leave a stale rule behind.
// Clock faults change only the wall clock the node stamps versions and hints with, as the
// simulator's SimClock does; timers run on the monotonic clock and are not affected.

#include "net/fault_filter.h"

#include <chrono>
#include <cmath>

namespace vigil::net {
namespace {

core::Status bad(const std::string& key, const std::string& what) {
  return core::error(core::Code::invalid_argument, "fault rules: " + key + ": " + what);
}

core::Status read_probability(const nlohmann::json& value, const std::string& key, double& out) {
  if (!value.is_number()) return bad(key, "expected a number in [0, 1]");
  const double p = value.get<double>();
  if (!(p >= 0 && p <= 1)) return bad(key, "expected a number in [0, 1], got " + value.dump());
  out = p;
  return core::Status::ok_status();
}

core::Status read_peers(const nlohmann::json& value, const std::string& key,
                        std::set<core::NodeId>& out) {
  if (!value.is_array()) return bad(key, "expected a list of node ids");
  if (value.size() > fault_peers_max) {
    return bad(key, "more than " + std::to_string(fault_peers_max) + " peers");
  }
  for (const nlohmann::json& id : value) {
    if (!id.is_string() || id.get<std::string>().empty()) {
      return bad(key, "expected node ids (strings), got " + id.dump());
    }
    out.insert(id.get<std::string>());
  }
  return core::Status::ok_status();
}

core::Status read_loss_to(const nlohmann::json& value, std::map<core::NodeId, double>& out) {
  if (!value.is_object()) return bad("loss_to", "expected {\"<node id>\": probability, ...}");
  if (value.size() > fault_peers_max) {
    return bad("loss_to", "more than " + std::to_string(fault_peers_max) + " peers");
  }
  for (const auto& [peer, p] : value.items()) {
    double probability = 0;
    if (core::Status read = read_probability(p, "loss_to." + peer, probability); !read.ok()) {
      return read;
    }
    out[peer] = probability;
  }
  return core::Status::ok_status();
}

core::Status read_delay_to(const nlohmann::json& value, std::map<core::NodeId, std::int64_t>& out) {
  if (!value.is_object()) return bad("delay_to_us", "expected {\"<node id>\": microseconds, ...}");
  if (value.size() > fault_peers_max) {
    return bad("delay_to_us", "more than " + std::to_string(fault_peers_max) + " peers");
  }
  for (const auto& [peer, delay] : value.items()) {
    if (!delay.is_number_unsigned() ||
        delay.get<std::uint64_t>() > static_cast<std::uint64_t>(fault_delay_us_max)) {
      return bad("delay_to_us." + peer,
                 "expected microseconds in [0, " + std::to_string(fault_delay_us_max) + "]");
    }
    out[peer] = delay.get<std::int64_t>();
  }
  return core::Status::ok_status();
}

core::Status read_clock(const nlohmann::json& document, FaultRules& rules) {
  if (document.contains("clock_offset_us")) {
    const nlohmann::json& value = document["clock_offset_us"];
    if (!value.is_number_integer()) return bad("clock_offset_us", "expected an integer");
    // An unsigned number past int64's range would wrap: bound it before converting.
    const bool huge =
        value.is_number_unsigned() &&
        value.get<std::uint64_t>() > static_cast<std::uint64_t>(fault_clock_offset_us_max);
    const std::int64_t offset = huge ? fault_clock_offset_us_max + 1 : value.get<std::int64_t>();
    if (offset > fault_clock_offset_us_max || offset < -fault_clock_offset_us_max) {
      return bad("clock_offset_us",
                 "over the bound of a day (" + std::to_string(fault_clock_offset_us_max) + " us)");
    }
    rules.clock_offset_us = offset;
  }
  if (document.contains("clock_drift")) {
    const nlohmann::json& value = document["clock_drift"];
    if (!value.is_number()) return bad("clock_drift", "expected a number");
    const double drift = value.get<double>();
    if (!(std::fabs(drift) <= fault_clock_drift_max)) {
      return bad("clock_drift", "expected a number in [-1, 1], got " + value.dump());
    }
    rules.clock_drift = drift;
  }
  return core::Status::ok_status();
}

}  // namespace

core::Result<FaultRules> fault_rules_from_json(std::string_view body) {
  const nlohmann::json document = nlohmann::json::parse(body, nullptr, false);
  if (document.is_discarded() || !document.is_object()) {
    return core::error(core::Code::invalid_argument, "fault rules: expected a JSON object");
  }
  static const std::set<std::string> known = {"drop_to",         "drop_from",  "loss",
                                              "duplicate",       "loss_to",    "delay_to_us",
                                              "clock_offset_us", "clock_drift"};
  for (const auto& [key, value] : document.items()) {
    if (!known.contains(key)) {
      return bad(key,
                 "unknown key (known: drop_to, drop_from, loss, duplicate, loss_to, "
                 "clock_offset_us, clock_drift, delay_to_us)");
    }
  }
  FaultRules rules;
  core::Status read = core::Status::ok_status();
  if (read.ok() && document.contains("drop_to"))
    read = read_peers(document["drop_to"], "drop_to", rules.drop_to);
  if (read.ok() && document.contains("drop_from")) {
    read = read_peers(document["drop_from"], "drop_from", rules.drop_from);
  }
  if (read.ok() && document.contains("loss"))
    read = read_probability(document["loss"], "loss", rules.loss);
  if (read.ok() && document.contains("duplicate")) {
    read = read_probability(document["duplicate"], "duplicate", rules.duplicate);
  }
  if (read.ok() && document.contains("loss_to"))
    read = read_loss_to(document["loss_to"], rules.loss_to);
  if (read.ok() && document.contains("delay_to_us")) {
    read = read_delay_to(document["delay_to_us"], rules.delay_to_us);
  }
  if (read.ok()) read = read_clock(document, rules);
  if (!read.ok()) return read;
  return rules;
}

nlohmann::json fault_rules_to_json(const FaultRules& rules) {
  nlohmann::json loss_to = nlohmann::json::object();
  for (const auto& [peer, p] : rules.loss_to) loss_to[peer] = p;
  nlohmann::json delay_to = nlohmann::json::object();
  for (const auto& [peer, delay] : rules.delay_to_us) delay_to[peer] = delay;
  return {{"drop_to", rules.drop_to},
          {"drop_from", rules.drop_from},
          {"loss", rules.loss},
          {"duplicate", rules.duplicate},
          {"loss_to", loss_to},
          {"delay_to_us", delay_to},
          {"clock_offset_us", rules.clock_offset_us},
          {"clock_drift", rules.clock_drift}};
}

core::Instant steady_instant() {
  return core::Instant{std::chrono::duration_cast<core::Duration>(
      std::chrono::steady_clock::now().time_since_epoch())};
}

FaultFilter::Verdict FaultFilter::outbound(const core::NodeId& to) {
  if (rules_.drop_to.contains(to)) {
    ++counters_.frames_dropped_out;
    return Verdict::drop;
  }
  double loss = rules_.loss;
  if (const auto it = rules_.loss_to.find(to); it != rules_.loss_to.end()) {
    loss = std::max(loss, it->second);
  }
  if (loss > 0 && random_.chance(loss)) {
    ++counters_.frames_dropped_out;
    return Verdict::drop;
  }
  if (rules_.duplicate > 0 && random_.chance(rules_.duplicate)) {
    ++counters_.frames_duplicated;
    return Verdict::duplicate;
  }
  return Verdict::deliver;
}

core::Duration FaultFilter::delay_to(const core::NodeId& to) const {
  const auto it = rules_.delay_to_us.find(to);
  return it == rules_.delay_to_us.end() ? core::Duration{0} : core::Duration{it->second};
}

bool FaultFilter::drop_inbound(const core::NodeId& from) {
  if (!rules_.drop_from.contains(from)) return false;
  ++counters_.frames_dropped_in;
  return true;
}

std::int64_t FaultFilter::drift_gained_us(core::Instant monotonic) const {
  if (rules_.clock_drift == 0) return drift_banked_us_;
  const double elapsed_us =
      static_cast<double>(core::to_micros(monotonic) - core::to_micros(drift_since_));
  return drift_banked_us_ + static_cast<std::int64_t>(elapsed_us * rules_.clock_drift);
}

core::WallMicros FaultFilter::wall(core::WallMicros real, core::Instant monotonic) const {
  return real + rules_.clock_offset_us + drift_gained_us(monotonic);
}

void FaultFilter::set(FaultRules rules, core::Instant monotonic) {
  if (rules.clock_drift != rules_.clock_drift) {
    drift_banked_us_ = drift_gained_us(monotonic);
    drift_since_ = monotonic;
  }
  rules_ = std::move(rules);
  ++counters_.rule_changes;
}

nlohmann::json FaultFilter::status_json(core::Instant monotonic) const {
  return {{"rules", fault_rules_to_json(rules_)},
          {"clock_drift_gained_us", drift_gained_us(monotonic)},
          {"counters",
           {{"frames_dropped_out", counters_.frames_dropped_out},
            {"frames_dropped_in", counters_.frames_dropped_in},
            {"frames_duplicated", counters_.frames_duplicated},
            {"frames_delayed", counters_.frames_delayed},
            {"rule_changes", counters_.rule_changes}}}};
}

}  // namespace vigil::net
