#pragma once
// PeerHandshake: the mutual challenge-response two nodes run on a new peer connection before
// any frame crosses it, when the cluster has a secret (security.cluster_secret_file;
// docs/security.md, "Peer authentication").
//
// Protocol (the dialer opens the TCP connection; the acceptor accepted it):
//   dialer   -> hello      nonce_d, the key ids of the secrets it holds, its node id
//   acceptor -> challenge  nonce_a, the key id it picked, its node id,
//                          HMAC(K, "vigil peer v1 acceptor" || nonce_d || nonce_a || id_a)
//   dialer   -> proof      HMAC(K, "vigil peer v1 dialer" || nonce_d || nonce_a || id_d)
//   acceptor -> verdict    accepted, or the reason it refused
// Each side proves it holds K over the other's fresh nonce, so a recorded handshake cannot
// be replayed, and the MAC binds the node id the peer claims: the acceptor then takes only
// frames whose `from` is that id (net/peer_transport_inbound.cpp).
//
// Contract:
// - Sans-I/O: handle_bytes() takes what arrived, poll_output() gives what to send; the
//   caller owns the socket, the clock (the handshake's timeout) and the randomness (the
//   nonce is an option, so tests and fuzzers are deterministic).
// - Untrusted bytes never crash it: any malformed, truncated-then-closed, oversized or
//   unexpected message ends in state refused with a reason; nothing is allocated beyond
//   one message (message_body_bytes_max).
// - handle_bytes() consumes only the handshake's own bytes: once authenticated, whatever
//   follows (the dialer's first frames) is left to the caller.
// - Secrets are never written to a log line or a refusal reason.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"

namespace vigil::net {

namespace peer_handshake {

inline constexpr std::size_t nonce_bytes = 32;
inline constexpr std::size_t mac_bytes = 32;     // HMAC-SHA256
inline constexpr std::size_t key_id_bytes = 8;
inline constexpr std::size_t secrets_max = 2;    // the current one and, while rotating, another
inline constexpr std::size_t secret_bytes_min = 16;
inline constexpr std::size_t secret_bytes_max = 1024;
// magic "VHS" | version u8 | type u8 | body length u16 (big-endian) | body
inline constexpr std::size_t message_header_bytes = 7;
inline constexpr std::size_t message_body_bytes_max = 256;
inline constexpr std::uint8_t protocol_version = 1;

using Nonce = std::array<std::uint8_t, nonce_bytes>;
using Mac = std::array<std::uint8_t, mac_bytes>;
using KeyId = std::array<std::uint8_t, key_id_bytes>;

enum class MessageType : std::uint8_t { hello = 1, challenge = 2, proof = 3, verdict = 4 };

// Why a handshake failed; travels in a verdict (one byte), so the values are fixed.
enum class Refusal : std::uint8_t {
  none = 0,
  malformed = 1,          // not a handshake message, or not the one expected now
  no_shared_secret = 2,   // no key id in common: the other side has a different secret
  bad_mac = 3,            // a MAC did not verify: wrong secret, or a replayed message
  wrong_peer = 4,         // the acceptor is not the node the dialer meant to reach
  reflected_nonce = 5,    // the other side sent back our own nonce
  frame_before_handshake = 6,  // a frame arrived: the peer runs without a cluster secret
  refused_by_peer = 7,    // local only: the other side's verdict refused us
  closed = 8,             // local only: the connection closed mid-handshake
  timed_out = 9,          // local only: the caller's timeout
};
std::string_view refusal_name(Refusal refusal);

// One secret as the handshake uses it: its bytes and the key id that names it on the wire
// (the first key_id_bytes of HMAC(secret, "vigil peer key id"): it says which secret
// without revealing it).
struct Secret {
  std::string bytes;
  KeyId id{};
};
Secret make_secret(std::string bytes);

// The MACs (pure functions, so they can be tested and fuzzed alone).
Mac acceptor_mac(std::string_view secret, const Nonce& dialer_nonce, const Nonce& acceptor_nonce,
                 std::string_view acceptor_id);
Mac dialer_mac(std::string_view secret, const Nonce& dialer_nonce, const Nonce& acceptor_nonce,
               std::string_view dialer_id);
// Constant time (CRYPTO_memcmp).
bool macs_equal(const Mac& a, const Mac& b);

// The wire messages, for tests and fuzzers that play one side by hand.
struct Hello {
  Nonce nonce{};
  std::vector<KeyId> key_ids;  // 1..secrets_max
  core::NodeId id;
};
struct Challenge {
  Nonce nonce{};
  KeyId key_id{};
  Mac mac{};
  core::NodeId id;
};
struct Proof {
  Mac mac{};
};
struct Verdict {
  Refusal refusal = Refusal::none;  // none: accepted
};
std::string encode(const Hello& hello);
std::string encode(const Challenge& challenge);
std::string encode(const Proof& proof);
std::string encode(const Verdict& verdict);

}  // namespace peer_handshake

class PeerHandshake {
 public:
  enum class Role : std::uint8_t { dialer, acceptor };
  enum class State : std::uint8_t { in_progress, authenticated, refused };

  struct Options {
    Role role = Role::dialer;
    core::NodeId self;
    // The secrets this node accepts, the current one first. REQUIRES: 1..secrets_max.
    std::vector<peer_handshake::Secret> secrets;
    peer_handshake::Nonce nonce{};  // fresh from a CSPRNG for every connection
    core::NodeId expected_peer;     // dialer: the node it dialed (the acceptor must be it)
  };

  explicit PeerHandshake(Options options);

  // Takes received bytes; returns how many it consumed. Bytes after the handshake's last
  // message are not consumed (they are the peer's first frames). After the state left
  // in_progress it consumes nothing.
  std::size_t handle_bytes(std::string_view bytes);
  // The connection closed or the caller's deadline passed: refused (closed / timed_out)
  // unless already decided.
  void handle_closed();
  void handle_timeout();
  // Bytes to send, drained. May be non-empty after a refusal (the verdict telling why).
  std::string poll_output();

  State state() const { return state_; }
  peer_handshake::Refusal refusal() const { return refusal_; }
  // Why it was refused, for a log line; names no secret.
  const std::string& refusal_reason() const { return reason_; }
  // The peer's authenticated node id. REQUIRES: state() == authenticated.
  const core::NodeId& peer_id() const;

 private:
  void handle_message(peer_handshake::MessageType type, std::string_view body);
  void on_hello(std::string_view body);
  void on_challenge(std::string_view body);
  void on_proof(std::string_view body);
  void on_verdict(std::string_view body);
  void refuse(peer_handshake::Refusal refusal, std::string reason, bool tell_peer);
  // The index in options_.secrets of the secret with key id `id`; no_secret when none.
  std::size_t secret_with(const peer_handshake::KeyId& id) const;
  const peer_handshake::Secret& secret() const;
  static constexpr std::size_t no_secret = peer_handshake::secrets_max;

  enum class Expect : std::uint8_t { hello, challenge, proof, verdict, nothing };

  Options options_;
  State state_ = State::in_progress;
  Expect expect_;
  peer_handshake::Refusal refusal_ = peer_handshake::Refusal::none;
  std::string reason_;
  std::string output_;
  std::string pending_;  // a message received in part
  peer_handshake::Nonce dialer_nonce_{};
  std::size_t secret_index_ = no_secret;  // in options_.secrets: the one both sides hold
  core::NodeId peer_id_;
};

}  // namespace vigil::net
