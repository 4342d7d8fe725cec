// INFO [section ...]: Redis' "# Section" / "field:value" text with CRLF line ends.
// Sections: server, clients, stats, commandstats, ring, vigil, and keyspace. With no
// argument or "default": every section but keyspace; "all" or "everything": all of them.
// An unknown section gives an empty text, as Redis does.
// Keyspace is DBSIZE's estimate (core/scan/scanner.h): it asks every node of the cluster for
// its key count, so it is given only when asked for by name (or by all), not to every
// monitoring poll of a plain INFO; its db0 line carries `estimate=1` and the section says
// how many nodes answered.

#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "net/build_info.h"
#include "net/client_command_table.h"
#include "net/resp_reply.h"

namespace vigil::net::commands {

namespace {

void server_section(std::string& out, CommandEnvironment& environment) {
  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::steady_clock::now() - environment.started);
  out += "# Server\r\n";
  out += "redis_version:7.0.0\r\n";  // the protocol subset this port follows
  const BuildInfo build = build_info();
  out += fmt::format("vigil_version:{}\r\n", build.version);
  out += fmt::format("vigil_git_commit:{}\r\n", build.git_commit);
  out += fmt::format("vigil_build_type:{}\r\n", build.build_type);
  out += "redis_mode:standalone\r\n";
  out += fmt::format("process_id:{}\r\n", ::getpid());
  out += fmt::format("tcp_port:{}\r\n", environment.port);
  out += fmt::format("uptime_in_seconds:{}\r\n", uptime.count());
  out += fmt::format("uptime_in_days:{}\r\n", uptime.count() / 86400);
  out += fmt::format("node_id:{}\r\n", environment.config.node.id);
  out += "\r\n";
}

void clients_section(std::string& out, CommandEnvironment& environment) {
  out += "# Clients\r\n";
  out += fmt::format("connected_clients:{}\r\n", environment.metrics.connections_open());
  out += fmt::format("maxclients:{}\r\n", environment.config.limits.client_connections_max);
  out += "\r\n";
}

void stats_section(std::string& out, CommandEnvironment& environment) {
  const Metrics& metrics = environment.metrics;
  out += "# Stats\r\n";
  out += fmt::format("total_connections_received:{}\r\n", metrics.connections_accepted());
  out += fmt::format("total_commands_processed:{}\r\n", metrics.commands_total());
  out += fmt::format("rejected_connections:{}\r\n", metrics.connections_refused());
  out += fmt::format("total_error_replies:{}\r\n", metrics.errors_total());
  out += fmt::format("protocol_errors:{}\r\n", metrics.protocol_errors());
  out += fmt::format("output_limit_closes:{}\r\n", metrics.output_limit_closes());
  out += fmt::format("get_siblings_resolved:{}\r\n", metrics.get_siblings_resolved_count());
  for (const auto& [kind, count] : metrics.errors()) {
    out += fmt::format("errorstat_{}:count={}\r\n", kind, count);
  }
  out += "\r\n";
}

void commandstats_section(std::string& out, CommandEnvironment& environment) {
  out += "# Commandstats\r\n";
  for (const auto& [labels, histogram] : environment.metrics.commands()) {
    const double usec = histogram.sum() * 1e6;
    const double count = static_cast<double>(histogram.count());
    out += fmt::format("cmdstat_{}_{}:calls={},usec={:.0f},usec_per_call={:.2f}\r\n",
                       labels.first, labels.second, histogram.count(), usec,
                       count > 0 ? usec / count : 0.0);
  }
  out += "\r\n";
}

void ring_section(std::string& out, CommandEnvironment& environment) {
  out += "# Ring\r\n";
  for (const auto& [node, fraction] : environment.service.ring_ownership()) {
    out += fmt::format("owner_{}:fraction={:.6f}\r\n", node, fraction);
  }
  out += "\r\n";
}

void vigil_section(std::string& out, CommandEnvironment& environment) {
  const config::Config& config = environment.config;
  out += "# Vigil\r\n";
  out += fmt::format("node_id:{}\r\n", config.node.id);
  out += fmt::format("replicas:{}\r\n", config.quorum_settings.n);
  for (core::Consistency level :
       {core::Consistency::one, core::Consistency::quorum, core::Consistency::all}) {
    const config::QuorumSizes sizes = config::quorum_sizes(config, level);
    out += fmt::format("consistency_{}:r={},w={}\r\n", consistency_name(level), sizes.r, sizes.w);
  }
  out += fmt::format("conflict_resolution:{}\r\n",
                     config.conflict_resolution == core::ConflictMode::siblings ? "siblings"
                                                                               : "timestamp");
  std::size_t counts[3] = {0, 0, 0};
  for (const core::PeerStatus& member : environment.service.members()) {
    ++counts[static_cast<std::size_t>(member.state)];
  }
  out += fmt::format("members_alive:{}\r\nmembers_suspect:{}\r\nmembers_failed:{}\r\n",
                     counts[0], counts[1], counts[2]);
  for (const auto& [name, meaning, value] : environment.service.counters().samples) {
    out += fmt::format("{}:{}\r\n", name, value);
  }
  out += "\r\n";
}

}  // namespace

void handle_info(const ResponderPtr& responder, ClientSession&, Arguments& arguments) {
  using Writer = void (*)(std::string&, CommandEnvironment&);
  static const std::vector<std::pair<std::string_view, Writer>> sections = {
      {"server", server_section}, {"clients", clients_section},
      {"stats", stats_section},   {"commandstats", commandstats_section},
      {"ring", ring_section},     {"vigil", vigil_section}};
  std::vector<std::string> wanted;
  for (std::size_t i = 1; i < arguments.size(); ++i) wanted.push_back(to_lower(arguments[i]));
  const bool everything =
      wanted.empty() || std::any_of(wanted.begin(), wanted.end(), [](const std::string& w) {
        return w == "all" || w == "default" || w == "everything";
      });
  std::string text;
  for (const auto& [name, writer] : sections) {
    if (everything || std::find(wanted.begin(), wanted.end(), name) != wanted.end()) {
      writer(text, responder->environment());
    }
  }
  const bool keyspace =
      std::any_of(wanted.begin(), wanted.end(), [](const std::string& w) {
        return w == "all" || w == "everything" || w == "keyspace";
      });
  if (!keyspace) {
    if (text.size() >= 2) text.resize(text.size() - 2);  // no blank line after the last section
    responder->send(resp::bulk(text));
    return;
  }
  core::ClientRequest request;
  request.op = core::ClientOp::key_count;
  std::shared_ptr<CommandEnvironment> environment = responder->environment_pointer();
  environment->service.submit(
      std::move(request), [environment, responder, text](const core::ClientReply& reply) mutable {
        if (!environment->alive) return;
        text += "# Keyspace\r\n";
        if (!reply.status.ok()) {
          text += fmt::format("keys_estimate_error:{}\r\n", reply.status.message());
        } else {
          // Redis leaves db0 out when the database is empty.
          if (reply.key_count > 0) {
            text += fmt::format("db0:keys={},estimate=1\r\n",
                                reply.key_count);
          }
          text += fmt::format("keys_estimate:{}\r\n", reply.key_count);
          text += fmt::format("keys_estimate_nodes_answered:{}\r\n", reply.replicas_answered);
          text += fmt::format("keys_estimate_nodes:{}\r\n", reply.replicas_needed);
          text += "keys_estimate_method:sum_of_node_key_counts_divided_by_n\r\n";
        }
        responder->send(resp::bulk(text));
      });
}

}  // namespace vigil::net::commands
