// PeerHandshake: theory of operation.
//
// Why a challenge-response and not the secret itself: the secret never crosses the wire,
// and each side answers a nonce the other just drew, so neither a sniffed handshake nor
// a recorded one can be replayed (the acceptor's fresh nonce makes the old proof wrong).
// The role label inside each MAC keeps one side's answer from serving as the other's (a
// reflection), and a nonce sent back to us is refused outright. The MAC covers the node
// id the answering side claims, so "holds the secret" and "is node X" are one proof; the
// transport then takes only frames from X on that connection. This is the shape of
// CRAM-style mutual authentication (RFC 2195's HMAC-over-a-challenge, made mutual), as
// Cassandra's internode and Riak's handoff leave to TLS; we have no TLS yet (issue 17),
// so it authenticates but does not encrypt (docs/security.md says what that leaves open).
//
// Rotation: each side holds up to two secrets. The dialer lists the key ids it holds; the
// acceptor picks its first (current) secret the dialer also has, and says which in the
// challenge; the dialer answers with that one. So nodes holding {new, old} and nodes
// holding {old} talk during a rolling change, and dropping `old` afterwards is a second
// roll (docs/security.md, "Rotating the cluster secret").
//
// Messages are length-prefixed and bounded (message_body_bytes_max); the parser copies at
// most one message into pending_ and consumes exactly its bytes, so the first frames that
// follow the handshake stay with the caller.

#include "net/peer_handshake.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <utility>

#include "core/assert.h"

namespace vigil::net {

namespace peer_handshake {
namespace {

constexpr std::string_view magic = "VHS";
constexpr std::string_view acceptor_label = "vigil peer v1 acceptor";
constexpr std::string_view dialer_label = "vigil peer v1 dialer";
constexpr std::string_view key_id_label = "vigil peer key id";

Mac hmac(std::string_view key, std::string_view data) {
  Mac out{};
  unsigned int length = 0;
  const unsigned char* result =
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &length);
  VIGIL_ASSERT(result != nullptr && length == mac_bytes, "HMAC-SHA256 failed");
  return out;
}

template <std::size_t N>
void append(std::string& out, const std::array<std::uint8_t, N>& bytes) {
  out.append(reinterpret_cast<const char*>(bytes.data()), N);
}

// label || nonce_d || nonce_a || u8 length || id: the id is last and length-prefixed, so
// two different (id, label) pairs never give the same input.
Mac role_mac(std::string_view label, std::string_view secret, const Nonce& dialer_nonce,
             const Nonce& acceptor_nonce, std::string_view id) {
  std::string data(label);
  append(data, dialer_nonce);
  append(data, acceptor_nonce);
  data.push_back(static_cast<char>(id.size()));
  data.append(id);
  return hmac(secret, data);
}

std::string message(MessageType type, const std::string& body) {
  VIGIL_ASSERT(body.size() <= message_body_bytes_max, "handshake message over its bound");
  std::string out(magic);
  out.push_back(static_cast<char>(protocol_version));
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>(body.size() >> 8));
  out.push_back(static_cast<char>(body.size() & 0xff));
  return out + body;
}

void append_id(std::string& out, std::string_view id) {
  out.push_back(static_cast<char>(id.size()));
  out.append(id);
}

// Reads fixed fields off the front of a body; every read is checked against what remains.
class BodyReader {
 public:
  explicit BodyReader(std::string_view body) : rest_(body) {}
  template <std::size_t N>
  bool bytes(std::array<std::uint8_t, N>& out) {
    if (rest_.size() < N) return false;
    std::copy_n(reinterpret_cast<const std::uint8_t*>(rest_.data()), N, out.begin());
    rest_.remove_prefix(N);
    return true;
  }
  bool byte(std::uint8_t& out) {
    if (rest_.empty()) return false;
    out = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return true;
  }
  // A u8-length node id that must be valid and end the body.
  bool last_id(core::NodeId& out) {
    std::uint8_t length = 0;
    if (!byte(length) || rest_.size() != length) return false;
    out = std::string(rest_);
    rest_ = {};
    return core::is_valid_node_id(out);
  }
  bool done() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

}  // namespace

std::string_view refusal_name(Refusal refusal) {
  switch (refusal) {
    case Refusal::none: return "none";
    case Refusal::malformed: return "malformed";
    case Refusal::no_shared_secret: return "no_shared_secret";
    case Refusal::bad_mac: return "bad_mac";
    case Refusal::wrong_peer: return "wrong_peer";
    case Refusal::reflected_nonce: return "reflected_nonce";
    case Refusal::frame_before_handshake: return "frame_before_handshake";
    case Refusal::refused_by_peer: return "refused_by_peer";
    case Refusal::closed: return "closed";
    case Refusal::timed_out: return "timed_out";
  }
  return "unknown";
}

Secret make_secret(std::string bytes) {
  Secret secret;
  const Mac digest = hmac(bytes, key_id_label);
  std::copy_n(digest.begin(), key_id_bytes, secret.id.begin());
  secret.bytes = std::move(bytes);
  return secret;
}

Mac acceptor_mac(std::string_view secret, const Nonce& dialer_nonce, const Nonce& acceptor_nonce,
                 std::string_view acceptor_id) {
  return role_mac(acceptor_label, secret, dialer_nonce, acceptor_nonce, acceptor_id);
}

Mac dialer_mac(std::string_view secret, const Nonce& dialer_nonce, const Nonce& acceptor_nonce,
               std::string_view dialer_id) {
  return role_mac(dialer_label, secret, dialer_nonce, acceptor_nonce, dialer_id);
}

bool macs_equal(const Mac& a, const Mac& b) {
  return CRYPTO_memcmp(a.data(), b.data(), mac_bytes) == 0;
}

std::string encode(const Hello& hello) {
  std::string body;
  append(body, hello.nonce);
  body.push_back(static_cast<char>(hello.key_ids.size()));
  for (const KeyId& id : hello.key_ids) append(body, id);
  append_id(body, hello.id);
  return message(MessageType::hello, body);
}

std::string encode(const Challenge& challenge) {
  std::string body;
  append(body, challenge.nonce);
  append(body, challenge.key_id);
  append(body, challenge.mac);
  append_id(body, challenge.id);
  return message(MessageType::challenge, body);
}

std::string encode(const Proof& proof) {
  std::string body;
  append(body, proof.mac);
  return message(MessageType::proof, body);
}

std::string encode(const Verdict& verdict) {
  return message(MessageType::verdict, std::string(1, static_cast<char>(verdict.refusal)));
}

}  // namespace peer_handshake

using namespace peer_handshake;

PeerHandshake::PeerHandshake(Options options)
    : options_(std::move(options)),
      expect_(options_.role == Role::dialer ? Expect::challenge : Expect::hello) {
  VIGIL_ASSERT(!options_.secrets.empty() && options_.secrets.size() <= secrets_max,
               "PeerHandshake needs 1..2 secrets");
  if (options_.role == Role::dialer) {
    Hello hello{options_.nonce, {}, options_.self};
    for (const Secret& secret : options_.secrets) hello.key_ids.push_back(secret.id);
    output_ = encode(hello);
  }
}

std::size_t PeerHandshake::handle_bytes(std::string_view bytes) {
  std::size_t consumed = 0;
  while (state_ == State::in_progress && consumed < bytes.size()) {
    // The header first, then exactly the body it announces.
    if (pending_.size() < message_header_bytes) {
      const std::size_t take =
          std::min(message_header_bytes - pending_.size(), bytes.size() - consumed);
      pending_.append(bytes.substr(consumed, take));
      consumed += take;
      const std::size_t magic_seen = std::min(pending_.size(), magic.size());
      if (pending_.compare(0, magic_seen, magic.substr(0, magic_seen)) != 0) {
        // A frame starts "GV" (core/wire/codec.h's magic, little-endian).
        const bool frame = pending_.size() >= 2 && pending_[0] == 'G' && pending_[1] == 'V';
        if (frame) {
          refuse(Refusal::frame_before_handshake,
                 "a frame arrived before the handshake (does the peer run without "
                 "security.cluster_secret_file?)",
                 true);
        } else {
          refuse(Refusal::malformed, "not a handshake message (bad magic)", true);
        }
        return consumed;
      }
      if (pending_.size() < message_header_bytes) continue;
      if (static_cast<std::uint8_t>(pending_[3]) != protocol_version) {
        refuse(Refusal::malformed,
               "handshake version " + std::to_string(static_cast<std::uint8_t>(pending_[3])) +
                   " (this node speaks " + std::to_string(protocol_version) + ")",
               true);
        return consumed;
      }
      const std::size_t length = (static_cast<std::size_t>(static_cast<std::uint8_t>(pending_[5]))
                                  << 8) |
                                 static_cast<std::uint8_t>(pending_[6]);
      if (length > message_body_bytes_max) {
        refuse(Refusal::malformed,
               "handshake message of " + std::to_string(length) + " bytes (at most " +
                   std::to_string(message_body_bytes_max) + ")",
               true);
        return consumed;
      }
    }
    const std::size_t length = (static_cast<std::size_t>(static_cast<std::uint8_t>(pending_[5]))
                                << 8) |
                               static_cast<std::uint8_t>(pending_[6]);
    const std::size_t want = message_header_bytes + length - pending_.size();
    const std::size_t take = std::min(want, bytes.size() - consumed);
    pending_.append(bytes.substr(consumed, take));
    consumed += take;
    if (pending_.size() < message_header_bytes + length) continue;
    const auto type = static_cast<MessageType>(static_cast<std::uint8_t>(pending_[4]));
    const std::string message = std::move(pending_);
    pending_.clear();
    handle_message(type, std::string_view(message).substr(message_header_bytes));
  }
  return consumed;
}

void PeerHandshake::handle_message(MessageType type, std::string_view body) {
  // A verdict may come instead of a challenge too: the acceptor refused our hello.
  if (type == MessageType::verdict && options_.role == Role::dialer &&
      (expect_ == Expect::challenge || expect_ == Expect::verdict)) {
    on_verdict(body);
  } else if (type == MessageType::hello && expect_ == Expect::hello) {
    on_hello(body);
  } else if (type == MessageType::challenge && expect_ == Expect::challenge) {
    on_challenge(body);
  } else if (type == MessageType::proof && expect_ == Expect::proof) {
    on_proof(body);
  } else {
    refuse(Refusal::malformed,
           "unexpected handshake message type " +
               std::to_string(static_cast<unsigned>(static_cast<std::uint8_t>(type))),
           true);
  }
}

void PeerHandshake::on_hello(std::string_view body) {
  Hello hello;
  BodyReader reader(body);
  std::uint8_t count = 0;
  if (!reader.bytes(hello.nonce) || !reader.byte(count) || count == 0 || count > secrets_max) {
    refuse(Refusal::malformed, "malformed hello (nonce or key ids)", true);
    return;
  }
  hello.key_ids.resize(count);
  for (KeyId& id : hello.key_ids) {
    if (!reader.bytes(id)) {
      refuse(Refusal::malformed, "malformed hello (truncated key ids)", true);
      return;
    }
  }
  if (!reader.last_id(hello.id)) {
    refuse(Refusal::malformed, "malformed hello (node id)", true);
    return;
  }
  if (hello.nonce == options_.nonce) {
    refuse(Refusal::reflected_nonce, "the hello carries this node's own nonce", true);
    return;
  }
  // Our first (current) secret that the dialer also holds.
  for (const Secret& secret : options_.secrets) {
    if (std::find(hello.key_ids.begin(), hello.key_ids.end(), secret.id) != hello.key_ids.end()) {
      secret_index_ = static_cast<std::size_t>(&secret - options_.secrets.data());
      break;
    }
  }
  if (secret_index_ == no_secret) {
    refuse(Refusal::no_shared_secret,
           "node \"" + hello.id + "\" holds no cluster secret this node holds", true);
    return;
  }
  dialer_nonce_ = hello.nonce;
  peer_id_ = hello.id;
  Challenge challenge{options_.nonce, secret().id, {}, options_.self};
  challenge.mac = acceptor_mac(secret().bytes, dialer_nonce_, options_.nonce, options_.self);
  output_ += encode(challenge);
  expect_ = Expect::proof;
}

void PeerHandshake::on_challenge(std::string_view body) {
  Challenge challenge;
  BodyReader reader(body);
  if (!reader.bytes(challenge.nonce) || !reader.bytes(challenge.key_id) ||
      !reader.bytes(challenge.mac) || !reader.last_id(challenge.id)) {
    refuse(Refusal::malformed, "malformed challenge", true);
    return;
  }
  if (challenge.nonce == options_.nonce) {
    refuse(Refusal::reflected_nonce, "the challenge carries this node's own nonce", true);
    return;
  }
  secret_index_ = secret_with(challenge.key_id);
  if (secret_index_ == no_secret) {
    refuse(Refusal::no_shared_secret, "the acceptor picked a secret this node does not hold",
           true);
    return;
  }
  if (!options_.expected_peer.empty() && challenge.id != options_.expected_peer) {
    refuse(Refusal::wrong_peer,
           "dialed node \"" + options_.expected_peer + "\" but \"" + challenge.id + "\" answered",
           true);
    return;
  }
  const Mac expected = acceptor_mac(secret().bytes, options_.nonce, challenge.nonce, challenge.id);
  if (!macs_equal(expected, challenge.mac)) {
    refuse(Refusal::bad_mac,
           "node \"" + challenge.id + "\" did not prove it holds the cluster secret", true);
    return;
  }
  peer_id_ = challenge.id;
  output_ += encode(Proof{dialer_mac(secret().bytes, options_.nonce, challenge.nonce,
                                     options_.self)});
  expect_ = Expect::verdict;
}

void PeerHandshake::on_proof(std::string_view body) {
  Proof proof;
  BodyReader reader(body);
  if (!reader.bytes(proof.mac) || !reader.done()) {
    refuse(Refusal::malformed, "malformed proof", true);
    return;
  }
  const Mac expected = dialer_mac(secret().bytes, dialer_nonce_, options_.nonce, peer_id_);
  if (!macs_equal(expected, proof.mac)) {
    refuse(Refusal::bad_mac,
           "node \"" + peer_id_ + "\" did not prove it holds the cluster secret", true);
    return;
  }
  output_ += encode(Verdict{Refusal::none});
  expect_ = Expect::nothing;
  state_ = State::authenticated;
}

void PeerHandshake::on_verdict(std::string_view body) {
  BodyReader reader(body);
  std::uint8_t code = 0;
  if (!reader.byte(code) || !reader.done()) {
    refuse(Refusal::malformed, "malformed verdict", false);
    return;
  }
  const auto refusal = static_cast<Refusal>(code);
  if (refusal == Refusal::none && expect_ == Expect::verdict) {
    expect_ = Expect::nothing;
    state_ = State::authenticated;
    return;
  }
  if (refusal == Refusal::none) {
    refuse(Refusal::malformed, "accepted before the challenge", false);
    return;
  }
  refuse(Refusal::refused_by_peer,
         "the peer refused this node: " +
             (code <= static_cast<std::uint8_t>(Refusal::timed_out)
                  ? std::string(refusal_name(refusal))
                  : "code " + std::to_string(code)),
         false);
}

void PeerHandshake::handle_closed() {
  if (state_ != State::in_progress) return;
  refuse(Refusal::closed, "the connection closed during the handshake", false);
}

void PeerHandshake::handle_timeout() {
  if (state_ != State::in_progress) return;
  refuse(Refusal::timed_out, "the handshake did not finish in time", false);
}

void PeerHandshake::refuse(Refusal refusal, std::string reason, bool tell_peer) {
  state_ = State::refused;
  expect_ = Expect::nothing;
  refusal_ = refusal;
  reason_ = std::move(reason);
  pending_.clear();
  // Only the acceptor tells why: the dialer just closes (its verdict would be read by
  // nobody, the acceptor reads no verdicts).
  if (tell_peer && options_.role == Role::acceptor) output_ += encode(Verdict{refusal});
}

std::string PeerHandshake::poll_output() {
  return std::exchange(output_, std::string());
}

const core::NodeId& PeerHandshake::peer_id() const {
  VIGIL_ASSERT(state_ == State::authenticated, "peer_id() before the handshake finished");
  return peer_id_;
}

std::size_t PeerHandshake::secret_with(const KeyId& id) const {
  for (std::size_t i = 0; i < options_.secrets.size(); ++i) {
    if (options_.secrets[i].id == id) return i;
  }
  return no_secret;
}

const Secret& PeerHandshake::secret() const {
  VIGIL_ASSERT(secret_index_ < options_.secrets.size(), "no shared secret chosen yet");
  return options_.secrets[secret_index_];
}

}  // namespace vigil::net
