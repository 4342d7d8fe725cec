// Fuzz target: the peer authentication handshake (net/peer_handshake.h).
//
// Byte 0 picks a mode, byte 1 a chunk size and which secrets each side holds; the rest:
// - mode 0: what a stranger sends to an acceptor (someone dialing in);
// - mode 1: what a stranger answers to a dialer (someone at the address dialed);
// - mode 2: an honest dialer and acceptor talk, and the rest is a list of tamperings
//   (message index, offset, xor) applied to their messages in flight, plus bytes the
//   dialer sends right after its proof (its first frames).
// Checks, beyond "no crash, no sanitizer report":
// - a stranger without the secret never authenticates (modes 0 and 1);
// - handle_bytes() never consumes more than it was given, and nothing once decided; a
//   refusal has a reason, and neither the reason nor any output holds the secret;
// - mode 2: untouched, two sides sharing a secret both authenticate each other's real
//   id, sides sharing none are both refused; tampered, a side that authenticates still
//   names the other's real id; the acceptor leaves the dialer's first frames unconsumed.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/assert.h"
#include "net/peer_handshake.h"

namespace {

using vigil::net::PeerHandshake;
namespace hs = vigil::net::peer_handshake;

const std::string secret_a = "fuzz cluster secret number one";
const std::string secret_b = "fuzz cluster secret number two";

hs::Nonce nonce_of(std::uint8_t fill) {
  hs::Nonce nonce{};
  for (std::size_t i = 0; i < nonce.size(); ++i) nonce[i] = static_cast<std::uint8_t>(fill + i);
  return nonce;
}

// Bits pick {a}, {b}, {a, b} or {b, a}.
std::vector<hs::Secret> secrets_of(unsigned bits) {
  switch (bits & 3) {
    case 0: return {hs::make_secret(secret_a)};
    case 1: return {hs::make_secret(secret_b)};
    case 2: return {hs::make_secret(secret_a), hs::make_secret(secret_b)};
    default: return {hs::make_secret(secret_b), hs::make_secret(secret_a)};
  }
}

bool shares_secret(unsigned x, unsigned y) {
  // {a}=0, {b}=1 share nothing; anything holding both shares with anyone.
  return (x & 3) >= 2 || (y & 3) >= 2 || (x & 3) == (y & 3);
}

PeerHandshake make(PeerHandshake::Role role, unsigned secret_bits) {
  PeerHandshake::Options options;
  options.role = role;
  options.self = role == PeerHandshake::Role::dialer ? "n1" : "n2";
  options.secrets = secrets_of(secret_bits);
  // Not the corpus's nonces (corpus_gen.cpp): a recorded transcript replays as a replay
  // would, with MACs over other nonces.
  options.nonce = nonce_of(role == PeerHandshake::Role::dialer ? 1 : 101);
  if (role == PeerHandshake::Role::dialer) options.expected_peer = "n2";
  return PeerHandshake(std::move(options));
}

void check_output(const std::string& output) {
  VIGIL_ASSERT(
      output.find(secret_a) == std::string::npos && output.find(secret_b) == std::string::npos,
      "a handshake message holds the secret");
}

void check_decided(const PeerHandshake& side) {
  if (side.state() == PeerHandshake::State::refused) {
    VIGIL_ASSERT(side.refusal() != hs::Refusal::none, "refused without a refusal");
    VIGIL_ASSERT(!side.refusal_reason().empty(), "refused without a reason");
    VIGIL_ASSERT(side.refusal_reason().find(secret_a) == std::string::npos &&
                     side.refusal_reason().find(secret_b) == std::string::npos,
                 "a refusal reason holds the secret");
  } else {
    VIGIL_ASSERT(side.refusal() == hs::Refusal::none, "a refusal without being refused");
  }
}

// Feeds `bytes` in chunks; returns how many were consumed in all. What the side sends in
// answer is appended to `output`.
std::size_t feed(PeerHandshake& side, std::string_view bytes, std::size_t chunk,
                 std::string& output) {
  std::size_t consumed = 0;
  for (std::size_t offset = 0; offset < bytes.size(); offset += chunk) {
    const std::string_view piece = bytes.substr(offset, chunk);
    const bool decided = side.state() != PeerHandshake::State::in_progress;
    const std::size_t took = side.handle_bytes(piece);
    VIGIL_ASSERT(took <= piece.size(), "consumed more than given");
    VIGIL_ASSERT(!decided || took == 0, "consumed bytes after the handshake was decided");
    consumed += took;
    const std::string sent = side.poll_output();
    check_output(sent);
    output += sent;
    check_decided(side);
  }
  return consumed;
}

void stranger(PeerHandshake::Role role, unsigned secret_bits, std::string_view bytes,
              std::size_t chunk) {
  PeerHandshake side = make(role, secret_bits);
  std::string output = side.poll_output();
  check_output(output);
  feed(side, bytes, chunk, output);
  VIGIL_ASSERT(side.state() != PeerHandshake::State::authenticated,
               "a stranger without the secret authenticated");
  side.handle_closed();
  VIGIL_ASSERT(side.state() == PeerHandshake::State::refused, "closed but not refused");
  check_decided(side);
}

struct Tamper {
  std::size_t message = 0;  // 0 hello, 1 challenge, 2 proof, 3 verdict
  std::size_t offset = 0;
  std::uint8_t xor_with = 0;
};

// Applies the tamperings meant for message `index`; true when a byte changed.
bool tamper(std::string& message, std::size_t index, const std::vector<Tamper>& tampers) {
  bool changed = false;
  for (const Tamper& t : tampers) {
    if (t.message != index || message.empty() || t.xor_with == 0) continue;
    message[t.offset % message.size()] = static_cast<char>(
        static_cast<std::uint8_t>(message[t.offset % message.size()]) ^ t.xor_with);
    changed = true;
  }
  return changed;
}

void honest_pair(unsigned control, std::string_view rest, std::size_t chunk) {
  const unsigned dialer_bits = control & 3;
  const unsigned acceptor_bits = (control >> 2) & 3;
  std::vector<Tamper> tampers;
  while (rest.size() >= 3 && tampers.size() < 4) {
    tampers.push_back(Tamper{static_cast<std::uint8_t>(rest[0]) % 4u,
                             static_cast<std::uint8_t>(rest[1]),
                             static_cast<std::uint8_t>(rest[2])});
    rest.remove_prefix(3);
  }
  const std::string_view first_frames = rest;  // what the dialer sends after its proof

  PeerHandshake d = make(PeerHandshake::Role::dialer, dialer_bits);
  PeerHandshake a = make(PeerHandshake::Role::acceptor, acceptor_bits);
  bool tampered = false;
  std::string hello = d.poll_output();
  check_output(hello);
  tampered |= tamper(hello, 0, tampers);
  std::string challenge;
  feed(a, hello, chunk, challenge);
  tampered |= tamper(challenge, 1, tampers);
  std::string proof;
  feed(d, challenge, chunk, proof);
  tampered |= tamper(proof, 2, tampers);
  const std::size_t proof_bytes = proof.size();
  std::string verdict;
  const std::size_t took = feed(a, proof + std::string(first_frames), chunk, verdict);
  if (a.state() == PeerHandshake::State::authenticated) {
    VIGIL_ASSERT(took == proof_bytes, "the acceptor consumed the dialer's first frames");
  }
  tampered |= tamper(verdict, 3, tampers);
  std::string after_verdict;
  feed(d, verdict, chunk, after_verdict);
  check_decided(d);
  check_decided(a);

  if (a.state() == PeerHandshake::State::authenticated) {
    VIGIL_ASSERT(a.peer_id() == "n1", "the acceptor authenticated another id: " + a.peer_id());
  }
  if (d.state() == PeerHandshake::State::authenticated) {
    VIGIL_ASSERT(d.peer_id() == "n2", "the dialer authenticated another id: " + d.peer_id());
  }
  if (!tampered) {
    const bool shared = shares_secret(dialer_bits, acceptor_bits);
    const auto want = shared ? PeerHandshake::State::authenticated : PeerHandshake::State::refused;
    VIGIL_ASSERT(a.state() == want && d.state() == want,
                 "an untouched handshake ended wrongly: acceptor " + a.refusal_reason() +
                     ", dialer " + d.refusal_reason());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t mode = data[0] % 3;
  const std::uint8_t control = data[1];
  const std::size_t chunk = 1 + (control >> 4);
  const std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  switch (mode) {
    case 0: stranger(PeerHandshake::Role::acceptor, control & 3, rest, chunk); break;
    case 1: stranger(PeerHandshake::Role::dialer, control & 3, rest, chunk); break;
    default: honest_pair(control, rest, chunk); break;
  }
  return 0;
}
