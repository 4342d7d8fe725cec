// Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/) from real values:
// frames of every message type as nodes send them, stored sibling sets and clocks, client
// causal contexts, the node's default and example configs, every scenario under
// scenarios/, RESP requests as clients send them, and handshake transcripts. Deterministic:
// running it again writes the same files. Not run by scripts/fuzz.sh (the corpora are
// checked in); run it after a format change:
//   build/fuzz/fuzz/fuzz_corpus_gen fuzz/corpus

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/config_yaml.h"
#include "config/password_hash.h"
#include "core/wire/codec.h"
#include "net/causal_context.h"
#include "net/peer_handshake.h"

namespace {

namespace fs = std::filesystem;
using namespace vigil::core;  // NOLINT(google-build-using-namespace): a tool's own file

constexpr WallMicros epoch_us = 1'700'000'000'000'000;

void write(const fs::path& directory, const std::string& name, const std::string& bytes) {
  fs::create_directories(directory);
  std::ofstream out(directory / name, std::ios::binary);
  out << bytes;
  if (!out) {
    std::cerr << "fuzz_corpus_gen: cannot write " << (directory / name) << "\n";
    std::exit(1);
  }
}

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A key's state as replicas hold it: a write, a concurrent write (siblings), a delete.
SiblingSet state(int variant) {
  SiblingSet set;
  VersionCounters counters;
  const SiblingLimits limits;
  (void)set.write("n1", {}, std::string("v1"), epoch_us, ConflictMode::siblings, limits, counters);
  if (variant >= 1) {
    (void)set.write("n2", {}, std::string("value two"), epoch_us + 5, ConflictMode::siblings,
                    limits, counters, 0, epoch_us + 60'000'000);
  }
  if (variant >= 2) {
    (void)set.write("n3", set.context(), std::nullopt, epoch_us + 9, ConflictMode::siblings, limits,
                    counters);
  }
  return set;
}

VectorClock clock(int entries) {
  VectorClock clock;
  for (int i = 1; i <= entries; ++i) {
    for (int j = 0; j < i; ++j) clock.increment("n" + std::to_string(i), epoch_us + i * 1000 + j);
  }
  return clock;
}

std::vector<Message> messages() {
  const WireStatus ok{};
  const WireStatus failed{Code::unavailable, "quorum not reached: 1 of 2 replicas answered"};
  std::vector<Message> out;
  out.emplace_back(ReplicaWrite{7, "user:42", state(1)});
  out.emplace_back(ReplicaWriteReply{7, ok});
  out.emplace_back(ReplicaWriteReply{8, failed});
  out.emplace_back(ReplicaRead{9, "user:42"});
  out.emplace_back(ReplicaReadReply{9, ok, state(2)});
  CoordinateRequest write;
  write.request_id = 10;
  write.key = "cart";
  write.is_write = true;
  write.value = "apples";
  write.context = clock(2);
  write.expires_at_us = epoch_us + 10'000'000;
  out.emplace_back(write);
  CoordinateRequest read;
  read.request_id = 11;
  read.consistency = Consistency::all;
  read.key = "cart";
  out.emplace_back(read);
  out.emplace_back(CoordinateReply{10, ok, state(1), 2, true});
  out.emplace_back(Gossip{{MemberInfo{"n1", "127.0.0.1:7401", 1, 42, 0x1234},
                           MemberInfo{"n2", "127.0.0.1:7402", 3, 40, 0x1234}},
                          false});
  out.emplace_back(Ping{5, ""});
  out.emplace_back(Ping{6, "n3"});
  out.emplace_back(PingAck{6, "n3", "n2"});
  out.emplace_back(PingRequest{6, "n2"});
  out.emplace_back(HintWrite{12, "n3", "user:42", state(1)});
  out.emplace_back(HintDelivery{1, "user:42", state(0)});
  out.emplace_back(HintDeliveryReply{1, ok});
  out.emplace_back(AeTreeRequest{20, {"n1", "n2", "n3"}, 16, 0, 4, {0}});
  out.emplace_back(AeTreeReply{20, ok, {AeTreeNode{0xdeadbeef, 12}, AeTreeNode{0x1234, 3}}});
  out.emplace_back(AeKeysRequest{21, {"n1", "n2", "n3"}, 16, 16, 777, "k1"});
  out.emplace_back(AeKeysReply{21, ok, {AeKeyHash{"k2", 99}, AeKeyHash{"k3", 100}}, true});
  out.emplace_back(AeSync{22, {AeKeyState{"k2", state(1)}}, {"k3"}});
  out.emplace_back(AeSyncReply{22, ok, {AeKeyState{"k3", state(2)}}});
  out.emplace_back(TombstoneQuery{30, {TombstoneEntry{"gone", 0xabc}}});
  out.emplace_back(TombstoneQueryReply{30, {1}});
  out.emplace_back(TombstoneReap{{TombstoneEntry{"gone", 0xabc}}});
  out.emplace_back(KeyScan{40, 0, UINT64_MAX / 2, 100});
  out.emplace_back(KeyScanReply{40, ok, {"a", "b", "user:42"}, false, UINT64_MAX / 4});
  out.emplace_back(KeyCount{41});
  out.emplace_back(KeyCountReply{41, ok, 1234});
  return out;
}

void wire_codec(const fs::path& root) {
  const fs::path directory = root / "wire_codec";
  int index = 0;
  for (const Message& message : messages()) {
    const auto frame = encode_frame(Envelope{"n1", "n2", message});
    if (!frame.ok()) {
      std::cerr << "fuzz_corpus_gen: " << frame.status().message() << "\n";
      std::exit(1);
    }
    const std::string name =
        std::string(message_type_name(message.index())) + "-" + std::to_string(index++);
    // The frame as sent, and its type byte + payload (the target wraps it in a header).
    write(directory, "frame-" + name, *frame);
    write(directory, "payload-" + name,
          std::string(1, static_cast<char>(message.index())) + frame->substr(frame_header_bytes));
  }
  for (int variant = 0; variant < 3; ++variant) {
    write(directory, "stored-set-" + std::to_string(variant),
          std::string(1, '\0') + encode_sibling_set(state(variant)));
  }
  write(directory, "stored-clock", std::string(1, '\0') + encode_clock(clock(3)));
}

void causal_context(const fs::path& root) {
  const fs::path directory = root / "causal_context";
  for (int entries = 1; entries <= 4; ++entries) {
    write(directory, "context-" + std::to_string(entries),
          vigil::net::encode_context(clock(entries)));
    write(directory, "clock-" + std::to_string(entries), encode_clock(clock(entries)));
  }
  write(directory, "context-of-siblings", vigil::net::encode_context(state(2).context()));
}

void resp_parser(const fs::path& root) {
  const fs::path directory = root / "resp_parser";
  static constexpr char binary_set[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\n\0\r\n\xff\r\n";
  // Byte 0: bit 7 small limits, bits 0..6 the chunk size - 1 (resp_parser_fuzz.cpp).
  const std::vector<std::pair<std::string, std::string>> streams = {
      {"ping-inline", "PING\r\n"},
      {"set", "*3\r\n$3\r\nSET\r\n$4\r\nuser\r\n$5\r\nalice\r\n"},
      {"get", "*2\r\n$3\r\nGET\r\n$4\r\nuser\r\n"},
      {"pipelined",
       "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*3\r\n$3\r\nSET\r\n"
       "$1\r\nk\r\n$1\r\nv\r\nECHO hi\r\n"},
      {"inline-quotes", "SET \"a key\" 'it\\'s' \"\\x41\\n\"\r\n"},
      {"set-ex", "*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nEX\r\n$2\r\n10\r\n"},
      {"set-options-inline", "set k v NX GET PXAT 1800000000000\r\nSET k v xx keepttl\r\n"},
      {"vset-context", "*4\r\n$4\r\nVSET\r\n$1\r\nk\r\n$1\r\nv\r\n$4\r\nAQID\r\n"},
      {"empty-requests", "*0\r\n*-1\r\n\r\n*1\r\n$0\r\n\r\n"},
      {"auth", "*3\r\n$4\r\nAUTH\r\n$5\r\nalice\r\n$6\r\nsecret\r\n"},
      {"scan", "SCAN 0 MATCH user:* COUNT 100\r\n"},
      {"bad-bulk-length", "*1\r\n$-5\r\n"},
      {"bad-count", "*abc\r\n"},
      {"missing-dollar", "*1\r\n:1\r\n"},
      {"unbalanced", "SET \"a b\r\n"},
      {"binary-value", std::string(binary_set, sizeof binary_set - 1)},
  };
  for (const auto& [name, stream] : streams) {
    write(directory, name, std::string(1, '\x7f') + stream);             // whole, default limits
    write(directory, name + "-split", std::string(1, '\x82') + stream);  // 3-byte chunks, small
  }
}

void config(const fs::path& root, const fs::path& source) {
  const fs::path directory = root / "config";
  write(directory, "defaults.yaml", vigil::config::config_defaults_yaml());
  write(directory, "example-node.yaml", read(source / "config/example-node.yaml"));
  for (const auto& entry : fs::directory_iterator(source / "tests/data/config")) {
    write(directory, "test-" + entry.path().filename().string(), read(entry.path()));
  }
  vigil::config::Config secured;
  secured.node.id = "n2";
  secured.security.users.push_back(
      {"default",
       vigil::config::format_password_hash(
           vigil::config::derive_password_hash("password", std::vector<std::uint8_t>(16, 7), 1000)),
       vigil::config::Config::Security::Permission::read_write});
  secured.security.users.push_back(
      {"reader",
       vigil::config::format_password_hash(
           vigil::config::derive_password_hash("reader", std::vector<std::uint8_t>(16, 9), 1000)),
       vigil::config::Config::Security::Permission::read_only});
  secured.security.cluster_secret_file = "/etc/vigil/cluster.secret";
  secured.security.admin_token_file = "/etc/vigil/admin.token";
  write(directory, "secured.yaml", vigil::config::config_to_yaml(secured));
  write(directory, "small.yaml",
        "node:\n  id: n1\nquorum_settings:\n  N: 3\n  R: 2\n  W: 2\ntiming:\n"
        "  request_timeout: 5s\n");
}

void scenario(const fs::path& root, const fs::path& source) {
  const fs::path directory = root / "scenario";
  for (const auto& entry : fs::recursive_directory_iterator(source / "scenarios")) {
    if (entry.path().extension() != ".yaml") continue;
    write(directory, entry.path().filename().string(), read(entry.path()));
  }
}

// Transcripts recorded with other nonces than the target's (peer_handshake_fuzz.cpp), so a
// replayed MAC fails there as a replay would.
void peer_handshake(const fs::path& root) {
  namespace hs = vigil::net::peer_handshake;
  using vigil::net::PeerHandshake;
  const fs::path directory = root / "peer_handshake";
  auto make = [](PeerHandshake::Role role, std::vector<hs::Secret> secrets) {
    PeerHandshake::Options options;
    options.role = role;
    options.self = role == PeerHandshake::Role::dialer ? "n1" : "n2";
    options.secrets = std::move(secrets);
    options.nonce.fill(role == PeerHandshake::Role::dialer ? 7 : 107);
    if (role == PeerHandshake::Role::dialer) options.expected_peer = "n2";
    return PeerHandshake(std::move(options));
  };
  const hs::Secret a = hs::make_secret("fuzz cluster secret number one");
  const hs::Secret b = hs::make_secret("fuzz cluster secret number two");
  PeerHandshake dialer = make(PeerHandshake::Role::dialer, {a, b});
  PeerHandshake acceptor = make(PeerHandshake::Role::acceptor, {a});
  const std::string hello = dialer.poll_output();
  acceptor.handle_bytes(hello);
  const std::string challenge = acceptor.poll_output();
  dialer.handle_bytes(challenge);
  const std::string proof = dialer.poll_output();
  acceptor.handle_bytes(proof);
  const std::string verdict = acceptor.poll_output();
  const std::string frame_start = "GV\x05\x07";
  // Byte 0: mode (0 acceptor, 1 dialer, 2 honest pair); byte 1: chunk and secrets.
  write(directory, "acceptor-hello", std::string("\x00\x02", 2) + hello);
  write(directory, "acceptor-hello-proof", std::string("\x00\xf2", 2) + hello + proof);
  write(directory, "acceptor-frame", std::string("\x00\x00", 2) + frame_start);
  write(directory, "dialer-challenge", std::string("\x01\x02", 2) + challenge + verdict);
  write(directory, "dialer-refused",
        std::string("\x01\x10", 2) + hs::encode(hs::Verdict{hs::Refusal::bad_mac}));
  write(directory, "pair-clean", std::string("\x02\x0a", 2));
  write(directory, "pair-rotation", std::string("\x02\x0e", 2) + frame_start);
  write(directory, "pair-no-shared", std::string("\x02\x04", 2));
  write(directory, "pair-tamper-hello", std::string("\x02\x00\x00\x28\x01", 5));
  write(directory, "pair-tamper-proof", std::string("\x02\x30\x02\x09\x80", 5) + frame_start);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_corpus_gen DIRECTORY (fuzz/corpus)\n";
    return 2;
  }
  const fs::path root = argv[1];
  const fs::path source = VIGIL_SOURCE_DIR;
  wire_codec(root);
  causal_context(root);
  resp_parser(root);
  config(root, source);
  scenario(root, source);
  peer_handshake(root);
  std::cout << "fuzz_corpus_gen: wrote " << root << "\n";
  return 0;
}
