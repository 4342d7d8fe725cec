// `vigil start --config FILE [--log-format text|json] [--enable-fault-injection]`: runs one
// node in the foreground (docs/operations.md) until SIGTERM or SIGINT, logging to stderr, one event per line
// (net/log.h: text for people, json for a log shipper). The first signal shuts down gracefully (the client
// port closes, requests in flight get up to timing.request_timeout, staged writes are
// committed, the store closes); a second signal during that wait stops at once.
// Exit 0 after a clean shutdown; 1 when the node cannot start (a port in use, an
// unusable data directory) or was stopped by a second signal; 2 when the configuration
// file cannot be read or is invalid (the message names the file, line and key).
// --enable-fault-injection gives the node a fault filter that POST /fault on its admin port
// controls (net/fault_filter.h; `vigil chaos` uses it); never on a production node.

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/cluster_files.h"
#include "cli/commands.h"
#include "config/config_yaml.h"
#include "net/build_info.h"
#include "net/log.h"
#include "net/node_runtime.h"
#include "net/service_ports.h"

namespace vigil::cli {
namespace {

constexpr int exit_ok = 0;
constexpr int exit_failed = 1;
constexpr int exit_usage = 2;

core::Result<config::Config> load_config(const std::string& path) {
  core::Result<std::string> text = read_small_file(path, config::config_text_bytes_max);
  if (!text.ok()) return core::error(core::Code::invalid_argument, text.status().message());
  return config::config_from_yaml(*text, path);
}

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& endpoint) {
  return config::format_address(config::Address{endpoint.address().to_string(), endpoint.port()});
}

int run_node(const std::string& config_path, bool fault_injection) {
  core::Result<config::Config> config = load_config(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "vigil start: %s\n", config.status().message().c_str());
    return exit_usage;
  }
  const std::string id = config->node.id;
  for (const std::string& warning : config::config_warnings(*config)) {
    net::log_event(id, net::LogLevel::warning, "config_warning",
                   {{"config", config_path}, {"warning", warning}},
                   config_path + ": warning: " + warning);
  }
  boost::asio::io_context io;
  // Signals are taken by the loop before anything listens, so a SIGTERM that arrives
  // during start-up is not lost to the default action half-way.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  net::RuntimeOptions options;
  options.fault_injection = fault_injection;
  core::Result<std::unique_ptr<net::NodeRuntime>> runtime =
      net::NodeRuntime::open(io, std::move(config).value(), options);
  if (!runtime.ok()) {
    net::log_event(id, net::LogLevel::error, "start_failed",
                   {{"error", runtime.status().to_string()}},
                   "cannot start: " + runtime.status().to_string());
    return exit_failed;
  }
  net::NodeRuntime& node = **runtime;
  core::Result<std::unique_ptr<net::ServicePorts>> ports = net::ServicePorts::start(io, node);
  if (!ports.ok()) {
    net::log_event(id, net::LogLevel::error, "start_failed",
                   {{"error", ports.status().to_string()}},
                   "cannot start: " + ports.status().to_string());
    return exit_failed;
  }
  const std::string client = endpoint_text((*ports)->client_endpoint());
  const std::string admin = endpoint_text((*ports)->admin_endpoint());
  const net::BuildInfo build = net::build_info();
  net::log_event(id, net::LogLevel::info, "serving",
                 {{"client", client},
                  {"admin", admin},
                  {"version", build.version},
                  {"git_commit", build.git_commit}},
                 fmt::format("serving clients on {} (RESP), admin on {} (HTTP); {}", client,
                             admin, net::version_line()));
  node.add_port(std::move(ports).value());

  int exit_code = exit_ok;
  bool stopping = false;
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& error, int signal) {
        if (error) return;
        if (stopping) {
          net::log_event(id, net::LogLevel::warning, "stopping_now", {{"signal", signal}},
                         fmt::format("signal {} again: stopping now", signal));
          exit_code = exit_failed;
          io.stop();
          return;
        }
        stopping = true;
        net::log_event(id, net::LogLevel::info, "signal", {{"signal", signal}},
                       fmt::format("signal {}: shutting down", signal));
        node.shutdown([&] {
          signals.cancel();
          io.stop();
        });
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);
  io.run();
  return exit_code;
}

}  // namespace

void add_start_command(CLI::App& app, int& exit_code) {
  CLI::App* command = app.add_subcommand(
      "start", "run one node in the foreground until SIGTERM/SIGINT (docs/operations.md)");
  auto config_path = std::make_shared<std::string>();
  command->add_option("--config", *config_path, "the node's configuration file (YAML)")->required();
  auto log_format = std::make_shared<std::string>("text");
  command
      ->add_option("--log-format", *log_format,
                   "text: one line per event for people; json: one JSON object per line "
                   "(time, level, node, event, fields, message)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  auto fault_injection = std::make_shared<bool>(false);
  command->add_flag("--enable-fault-injection", *fault_injection,
                    "let POST /fault on the admin port drop peer frames and move the wall "
                    "clock (vigil chaos; tests only, never in production)");
  command->callback([config_path, log_format, fault_injection, &exit_code] {
    net::set_log_format(net::parse_log_format(*log_format).value_or(net::LogFormat::text));
    exit_code = run_node(*config_path, *fault_injection);
  });
}

}  // namespace vigil::cli
