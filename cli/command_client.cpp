// `vigil client`: a small command-line front end on vigil::Client (docs/client-library.md).
//
//   vigil client --seeds 127.0.0.1:6401 get k          one command, then exit
//   vigil client --dir vigil-cluster                   interactive: one command per line
//   vigil client --dir vigil-cluster bench -c 50 -n 100000
//   vigil client --tls --cacert ca.pem --seeds 127.0.0.1:6401 get k     (docs/security.md)
//
// Exit codes (cli/commands.h): 0 ok, 1 a request failed (the ClientError is printed with
// its code), 2 a usage error.

#include <unistd.h>

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/client_bench.h"
#include "cli/cluster_layout.h"
#include "cli/cluster_tls.h"
#include "cli/commands.h"
#include "client/client.h"

namespace vigil::cli {
namespace {

struct ClientArguments {
  std::string seeds;  // comma-separated
  std::string dir;    // a `vigil cluster` directory: every node's client port
  std::string user;
  std::string password;
  std::string consistency;
  bool tls = false;    // --tls, or a --dir cluster made with `cluster up --tls`
  std::string cacert;  // --cacert; with --dir of a TLS cluster, DIR/tls/ca.pem by default
  std::string cert;    // --cert/--key: a client certificate to present
  std::string key;
  std::string tls_server_name;
  std::uint32_t timeout_ms = 6000;
  std::uint32_t connect_timeout_ms = 500;
  std::uint32_t max_retries = 3;
  std::vector<std::string> words;
  ClientBenchOptions bench;
  std::string bench_commands = "set,get";
};

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> out;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, separator)) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// Words of one interactive line: whitespace separates, "double quotes" group (with \" and
// \\ inside). false on an unterminated quote.
bool tokenize(const std::string& line, std::vector<std::string>& words) {
  words.clear();
  std::string word;
  bool in_word = false;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '\\' && i + 1 < line.size()) {
        word += line[++i];
      } else if (c == '"') {
        quoted = false;
      } else {
        word += c;
      }
    } else if (c == '"') {
      quoted = true;
      in_word = true;
    } else if (c == ' ' || c == '\t') {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(word);
  return !quoted;
}

const char* const usage_text =
    "commands: get KEY | set KEY VALUE | del KEY | vget KEY | vset KEY VALUE CONTEXT |\n"
    "          vdel KEY CONTEXT | pref KEY | nodes | stats | refresh | help | quit\n"
    "          (CONTEXT \"\" is a blind write)";

// Runs one command; false when it is unknown or has the wrong number of words (usage).
bool run_words(Client& client, const std::vector<std::string>& words, std::ostream& out) {
  const std::string& name = words[0];
  const std::size_t count = words.size();
  if (name == "get" && count == 2) {
    const auto value = client.get(words[1]);
    out << (value ? "\"" + *value + "\"" : "(nil)") << "\n";
  } else if (name == "set" && count == 3) {
    client.set(words[1], words[2]);
    out << "OK\n";
  } else if (name == "del" && count == 2) {
    out << "(integer) " << (client.del(words[1]) ? 1 : 0) << "\n";
  } else if (name == "vget" && count == 2) {
    const Versioned versioned = client.vget(words[1]);
    out << "context: \"" << versioned.context << "\"\n";
    for (std::size_t i = 0; i < versioned.values.size(); ++i) {
      const auto& value = versioned.values[i];
      out << i + 1 << ") " << (value ? "\"" + *value + "\"" : "(deleted)") << "\n";
    }
  } else if (name == "vset" && count == 4) {
    out << "\"" << client.vset(words[1], words[2], words[3]) << "\"\n";
  } else if (name == "vdel" && count == 3) {
    out << "\"" << client.vdel(words[1], words[2]) << "\"\n";
  } else if (name == "pref" && count == 2) {
    for (const std::string& node : client.preference_list(words[1])) out << node << " ";
    out << "\n";
  } else if (name == "nodes" && count == 1) {
    out << "ring version " << client.ring_version() << "\n";
    for (const NodeView& node : client.nodes()) {
      out << fmt::format("{}  {}  {}  breaker {}\n", node.id,
                         node.address.empty() ? "(address unknown)" : node.address,
                         node.healthy ? "healthy" : "unhealthy", node.breaker);
    }
  } else if (name == "stats" && count == 1) {
    const ClientStats s = client.stats();
    out << fmt::format(
        "requests {} attempts {} retries {} failures {} token_aware {} ring_refreshes {} "
        "breaker_openings {} breaker_closings {} short_circuited {}\n",
        s.requests, s.attempts, s.retries, s.failures, s.token_aware, s.ring_refreshes,
        s.breaker_openings, s.breaker_closings, s.short_circuited);
  } else if (name == "refresh" && count == 1) {
    client.refresh_ring();
    out << "ring version " << client.ring_version() << "\n";
  } else {
    return false;
  }
  return true;
}

int interactive(Client& client) {
  const bool terminal = ::isatty(STDIN_FILENO) != 0;
  if (terminal) std::cout << "connected; " << usage_text << "\n";
  std::string line;
  std::vector<std::string> words;
  int exit_code = 0;
  for (;;) {
    if (terminal) std::cout << "vigil> " << std::flush;
    if (!std::getline(std::cin, line)) break;
    if (!tokenize(line, words)) {
      std::cout << "(error) unterminated quote\n";
      continue;
    }
    if (words.empty()) continue;
    if (words[0] == "quit" || words[0] == "exit") break;
    if (words[0] == "help") {
      std::cout << usage_text << "\n";
      continue;
    }
    try {
      if (!run_words(client, words, std::cout)) std::cout << "(error) usage: " << usage_text << "\n";
    } catch (const ClientError& error) {
      std::cout << "(error) " << error.what() << "\n";
      exit_code = 1;
    }
  }
  return exit_code;
}

// The seeds from --seeds or --dir; empty after printing why. A --dir cluster made with
// `cluster up --tls` also turns on TLS with its CA, unless --cacert names another.
std::vector<std::string> seeds_of(ClientArguments& arguments) {
  if (!arguments.dir.empty()) {
    auto layout = load_layout(arguments.dir);
    if (!layout.ok()) {
      std::cerr << "vigil client: " << layout.status().message() << "\n";
      return {};
    }
    if (layout->tls) {
      arguments.tls = true;
      if (arguments.cacert.empty()) arguments.cacert = cluster_ca_path(*layout);
    }
    std::vector<std::string> seeds;
    for (const ClusterNode& node : layout->nodes) seeds.push_back(config::format_address(node.client));
    return seeds;
  }
  std::vector<std::string> seeds = split(arguments.seeds, ',');
  if (seeds.empty()) std::cerr << "vigil client: give --seeds host:port[,host:port...] or --dir\n";
  return seeds;
}

int run_bench(ClientArguments& arguments, const ClientOptions& options) {
  ClientBenchOptions& bench = arguments.bench;
  bench.client = options;
  bench.commands = split(arguments.bench_commands, ',');
  for (const std::string& command : bench.commands) {
    if (command != "set" && command != "get") {
      std::cerr << "vigil client bench: --commands takes set and get, not \"" << command << "\"\n";
      return 2;
    }
  }
  if (bench.connections < 1 || bench.connections > client_bench_connections_max ||
      bench.requests < 1 || bench.requests > client_bench_requests_max || bench.keys < 1 ||
      bench.value_bytes > client_bench_value_bytes_max) {
    std::cerr << fmt::format(
        "vigil client bench: need 1 <= connections <= {}, 1 <= requests <= {}, keys >= 1, "
        "value bytes <= {}\n",
        client_bench_connections_max, client_bench_requests_max, client_bench_value_bytes_max);
    return 2;
  }
  const auto rows = run_client_bench(bench);
  int exit_code = 0;
  for (const ClientBenchRow& row : rows) {
    std::cout << format_client_bench_row(row, bench.connections) << "\n";
    if (row.errors > 0) exit_code = 1;
  }
  return exit_code;
}

int run_client(ClientArguments& arguments, bool bench) {
  ClientOptions options;
  options.seeds = seeds_of(arguments);
  if (options.seeds.empty()) return 2;
  options.user = arguments.user;
  options.password = arguments.password;
  options.consistency = arguments.consistency;
  options.request_timeout = std::chrono::milliseconds(arguments.timeout_ms);
  options.connect_timeout = std::chrono::milliseconds(arguments.connect_timeout_ms);
  options.max_retries = arguments.max_retries;
  if (!arguments.tls && (!arguments.cacert.empty() || !arguments.cert.empty() ||
                         !arguments.key.empty() || !arguments.tls_server_name.empty())) {
    std::cerr << "vigil client: --cacert, --cert, --key and --tls-server-name need --tls\n";
    return 2;
  }
  options.tls.enabled = arguments.tls;
  options.tls.ca_file = arguments.cacert;
  options.tls.cert_file = arguments.cert;
  options.tls.key_file = arguments.key;
  options.tls.server_name = arguments.tls_server_name;
  try {
    if (bench) return run_bench(arguments, options);
    Client client(options);
    if (arguments.words.empty()) return interactive(client);
    if (!run_words(client, arguments.words, std::cout)) {
      std::cerr << "vigil client: " << usage_text << "\n";
      return 2;
    }
    return 0;
  } catch (const ClientError& error) {
    std::cerr << "(error) " << error.what() << "\n";
    return 1;
  }
}

}  // namespace

void add_client_command(CLI::App& app, int& exit_code) {
  auto arguments = std::make_shared<ClientArguments>();
  CLI::App* client = app.add_subcommand(
      "client", "get/set/del and causal vget/vset/vdel through vigil::Client, token-aware "
                "(one command, interactive without one, or bench)");
  client->add_option("--seeds", arguments->seeds, "client ports host:port,host:port,...");
  client->add_option("--dir", arguments->dir, "a `vigil cluster` directory (every node a seed)");
  client->add_option("--user", arguments->user, "AUTH user");
  client->add_option("--password", arguments->password, "AUTH password");
  client->add_option("--consistency", arguments->consistency, "one, quorum or all");
  client->add_flag("--tls", arguments->tls,
                   "TLS to the client ports (on by itself for a --dir cluster made with --tls)");
  client->add_option("--cacert", arguments->cacert,
                     "CA certificates (PEM) the nodes' certificates must chain to; default: the "
                     "system's, or DIR/tls/ca.pem with --dir");
  client->add_option("--cert", arguments->cert, "a client certificate (PEM) to present");
  client->add_option("--key", arguments->key, "the client certificate's private key (PEM)");
  client->add_option("--tls-server-name", arguments->tls_server_name,
                     "the name the nodes' certificates must carry (default: the host dialed)");
  client->add_option("--timeout-ms", arguments->timeout_ms, "each attempt's timeout")
      ->check(CLI::Range(1u, 3'600'000u));
  client
      ->add_option("--connect-timeout-ms", arguments->connect_timeout_ms,
                   "each connection's bound to connect (and finish the TLS handshake)")
      ->check(CLI::Range(1u, 600'000u));
  client->add_option("--max-retries", arguments->max_retries, "retries after the first attempt")
      ->check(CLI::Range(0u, 100u));
  client->add_option("words", arguments->words, "get KEY | set KEY VALUE | ... (none: interactive)");
  CLI::App* bench = client->add_subcommand(
      "bench", "drive the cluster token-aware: C connections, N requests of each command");
  bench->fallthrough();
  bench->add_option("-c,--connections", arguments->bench.connections, "threads, each a Client");
  bench->add_option("-n,--requests", arguments->bench.requests, "requests per command");
  bench->add_option("-r,--keys", arguments->bench.keys, "distinct keys");
  bench->add_option("-d,--value-bytes", arguments->bench.value_bytes, "value size");
  bench->add_option("-t,--commands", arguments->bench_commands, "set,get");
  client->callback([arguments, bench, &exit_code] {
    exit_code = run_client(*arguments, bench->parsed());
  });
}

}  // namespace vigil::cli
