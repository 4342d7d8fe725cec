// PeerHandshake (net/peer_handshake.h) without sockets: two machines pumped into each other,
// and one side played by hand to send what a node without the secret, a replayer or a
// liar would. Every refusal is a state with a reason, never a crash; garbage and truncated
// input are fed from a seeded generator.

#include "net/peer_handshake.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/random.h"

namespace vigil::net {
namespace {

using namespace peer_handshake;
using State = PeerHandshake::State;
using Role = PeerHandshake::Role;

const std::string good = "0123456789abcdef0123456789abcdef";
const std::string other = "ffffffffffffffffffffffffffffffff";

Nonce nonce_of(std::uint8_t fill) {
  Nonce nonce{};
  nonce.fill(fill);
  return nonce;
}

std::vector<Secret> secrets(std::initializer_list<std::string> texts) {
  std::vector<Secret> out;
  for (const std::string& text : texts) out.push_back(make_secret(text));
  return out;
}

PeerHandshake dialer(const std::string& self, const std::string& expected,
                     std::vector<Secret> keys, std::uint8_t nonce = 1) {
  return PeerHandshake({Role::dialer, self, std::move(keys), nonce_of(nonce), expected});
}

PeerHandshake acceptor(const std::string& self, std::vector<Secret> keys,
                       std::uint8_t nonce = 2) {
  return PeerHandshake({Role::acceptor, self, std::move(keys), nonce_of(nonce), ""});
}

// Moves bytes both ways until neither side has anything to say.
void pump(PeerHandshake& a, PeerHandshake& b) {
  for (int round = 0; round < 10; ++round) {
    const std::string to_b = a.poll_output();
    const std::string to_a = b.poll_output();
    if (to_b.empty() && to_a.empty()) return;
    b.handle_bytes(to_b);
    a.handle_bytes(to_a);
  }
}

// The body's first byte of a verdict message (the refusal code).
Refusal verdict_of(const std::string& message) {
  EXPECT_EQ(message.size(), message_header_bytes + 1);
  return static_cast<Refusal>(static_cast<std::uint8_t>(message.back()));
}

TEST(PeerHandshake, SameSecretAuthenticatesBothSides) {
  PeerHandshake d = dialer("n1", "n2", secrets({good}));
  PeerHandshake a = acceptor("n2", secrets({good}));
  pump(d, a);
  ASSERT_EQ(d.state(), State::authenticated) << d.refusal_reason();
  ASSERT_EQ(a.state(), State::authenticated) << a.refusal_reason();
  EXPECT_EQ(d.peer_id(), "n2");
  EXPECT_EQ(a.peer_id(), "n1");
}

TEST(PeerHandshake, ByteAtATimeGivesTheSameResult) {
  PeerHandshake d = dialer("n1", "n2", secrets({good}));
  PeerHandshake a = acceptor("n2", secrets({good}));
  for (int round = 0; round < 10; ++round) {
    const std::string to_a = d.poll_output();
    const std::string to_d = a.poll_output();
    for (const char c : to_a) ASSERT_EQ(a.handle_bytes(std::string(1, c)), 1U);
    for (const char c : to_d) ASSERT_EQ(d.handle_bytes(std::string(1, c)), 1U);
  }
  EXPECT_EQ(d.state(), State::authenticated);
  EXPECT_EQ(a.state(), State::authenticated);
}

TEST(PeerHandshake, WrongSecretIsRefusedOnBothSides) {
  PeerHandshake d = dialer("n4", "n1", secrets({other}));
  PeerHandshake a = acceptor("n1", secrets({good}));
  pump(d, a);
  EXPECT_EQ(a.state(), State::refused);
  EXPECT_EQ(a.refusal(), Refusal::no_shared_secret);
  EXPECT_NE(a.refusal_reason().find("n4"), std::string::npos) << a.refusal_reason();
  EXPECT_EQ(d.state(), State::refused);
  EXPECT_EQ(d.refusal(), Refusal::refused_by_peer);
  EXPECT_NE(d.refusal_reason().find("no_shared_secret"), std::string::npos);
  // No reason names a secret.
  for (const std::string* reason : {&a.refusal_reason(), &d.refusal_reason()}) {
    EXPECT_EQ(reason->find(good), std::string::npos);
    EXPECT_EQ(reason->find(other), std::string::npos);
  }
}

TEST(PeerHandshake, ForgedKeyIdWithoutTheSecretFailsTheMac) {
  // A dialer that copied the key id off the wire but holds other bytes.
  Secret forged = make_secret(other);
  forged.id = make_secret(good).id;
  PeerHandshake a = acceptor("n1", secrets({good}));
  a.handle_bytes(encode(Hello{nonce_of(9), {forged.id}, "n4"}));
  ASSERT_EQ(a.state(), State::in_progress);
  const std::string challenge = a.poll_output();
  ASSERT_GT(challenge.size(), message_header_bytes + nonce_bytes);
  Nonce acceptor_nonce{};
  std::copy_n(challenge.begin() + message_header_bytes, nonce_bytes, acceptor_nonce.begin());
  a.handle_bytes(encode(Proof{dialer_mac(forged.bytes, nonce_of(9), acceptor_nonce, "n4")}));
  EXPECT_EQ(a.state(), State::refused);
  EXPECT_EQ(a.refusal(), Refusal::bad_mac);
  EXPECT_EQ(verdict_of(a.poll_output()), Refusal::bad_mac);

  // The same forger as an acceptor: the dialer refuses its challenge.
  PeerHandshake d = dialer("n1", "n2", secrets({good}));
  PeerHandshake fake = PeerHandshake({Role::acceptor, "n2", {forged}, nonce_of(3), ""});
  pump(d, fake);
  EXPECT_EQ(d.state(), State::refused);
  EXPECT_EQ(d.refusal(), Refusal::bad_mac);
}

TEST(PeerHandshake, ReplayedHelloAndProofAreRefused) {
  // Record a genuine dialer's messages against one acceptor...
  PeerHandshake d = dialer("n1", "n2", secrets({good}));
  PeerHandshake a = acceptor("n2", secrets({good}), 2);
  const std::string hello = d.poll_output();
  a.handle_bytes(hello);
  d.handle_bytes(a.poll_output());
  const std::string proof = d.poll_output();
  a.handle_bytes(proof);
  ASSERT_EQ(a.state(), State::authenticated);
  // ...and replay them to the next connection, whose acceptor drew a fresh nonce.
  PeerHandshake next = acceptor("n2", secrets({good}), 7);
  next.handle_bytes(hello);
  ASSERT_EQ(next.state(), State::in_progress);
  next.handle_bytes(proof);
  EXPECT_EQ(next.state(), State::refused);
  EXPECT_EQ(next.refusal(), Refusal::bad_mac);
}

TEST(PeerHandshake, ReflectedNonceIsRefused) {
  PeerHandshake a = acceptor("n2", secrets({good}), 5);
  a.handle_bytes(encode(Hello{nonce_of(5), {make_secret(good).id}, "n1"}));
  EXPECT_EQ(a.state(), State::refused);
  EXPECT_EQ(a.refusal(), Refusal::reflected_nonce);
}

TEST(PeerHandshake, ProofForAnotherIdIsRefused) {
  // The dialer says it is n9 in its hello but proves for n2 (a member replaying its own
  // proof under another name cannot make the two agree).
  PeerHandshake a = acceptor("n1", secrets({good}));
  a.handle_bytes(encode(Hello{nonce_of(9), {make_secret(good).id}, "n9"}));
  const std::string challenge = a.poll_output();
  Nonce acceptor_nonce{};
  std::copy_n(challenge.begin() + message_header_bytes, nonce_bytes, acceptor_nonce.begin());
  a.handle_bytes(encode(Proof{dialer_mac(good, nonce_of(9), acceptor_nonce, "n2")}));
  EXPECT_EQ(a.refusal(), Refusal::bad_mac);
}

TEST(PeerHandshake, DialerRefusesAnAcceptorThatIsNotTheNodeItDialed) {
  PeerHandshake d = dialer("n1", "n2", secrets({good}));
  PeerHandshake a = acceptor("n3", secrets({good}));
  pump(d, a);
  EXPECT_EQ(d.state(), State::refused);
  EXPECT_EQ(d.refusal(), Refusal::wrong_peer);
  EXPECT_NE(a.state(), State::authenticated);
}

TEST(PeerHandshake, RotationWindowAcceptsEitherSecret) {
  const std::string fresh = "a new secret of thirty-two bytes";
  // Old-only dialer against an acceptor already on {new, old}, and the other way round.
  for (const bool dialer_rotated : {false, true}) {
    std::vector<Secret> rotated = secrets({fresh, good});
    std::vector<Secret> old_only = secrets({good});
    PeerHandshake d = dialer("n1", "n2", dialer_rotated ? rotated : old_only);
    PeerHandshake a = acceptor("n2", dialer_rotated ? old_only : rotated);
    pump(d, a);
    EXPECT_EQ(d.state(), State::authenticated) << dialer_rotated << d.refusal_reason();
    EXPECT_EQ(a.state(), State::authenticated) << dialer_rotated << a.refusal_reason();
  }
  // Both rotated: they use the new one. After the window, new-only against old-only fails.
  PeerHandshake d = dialer("n1", "n2", secrets({fresh}));
  PeerHandshake a = acceptor("n2", secrets({good}));
  pump(d, a);
  EXPECT_EQ(a.refusal(), Refusal::no_shared_secret);
}

TEST(PeerHandshake, BytesAfterTheProofAreLeftForTheCaller) {
  PeerHandshake d = dialer("n1", "n2", secrets({good}));
  PeerHandshake a = acceptor("n2", secrets({good}));
  a.handle_bytes(d.poll_output());
  d.handle_bytes(a.poll_output());
  const std::string proof = d.poll_output();
  EXPECT_EQ(a.handle_bytes(proof + "FRAMES"), proof.size());
  EXPECT_EQ(a.state(), State::authenticated);
  EXPECT_EQ(a.handle_bytes("more"), 0U);
}

TEST(PeerHandshake, AFrameBeforeTheHandshakeIsNamed) {
  PeerHandshake a = acceptor("n2", secrets({good}));
  a.handle_bytes(std::string("GV\x04\x01", 4));  // core/wire/codec.h's header start
  EXPECT_EQ(a.refusal(), Refusal::frame_before_handshake);
  EXPECT_NE(a.refusal_reason().find("cluster_secret_file"), std::string::npos);
}

TEST(PeerHandshake, MalformedMessagesAreRefusedWithAReason) {
  const std::string bad_version = std::string("VHS\x09\x01\x00\x00", 7);
  const std::string too_long = std::string("VHS\x01\x01\xff\xff", 7);
  const std::string wrong_type = encode(Proof{});  // a proof before any hello
  std::string short_hello = encode(Hello{nonce_of(9), {make_secret(good).id}, "n1"});
  short_hello[6] = 3;  // body length 3: too short for a nonce
  short_hello.resize(message_header_bytes + 3);
  std::string bad_id = encode(Hello{nonce_of(9), {make_secret(good).id}, "n1"});
  bad_id.back() = '/';  // not a node id character
  for (const std::string& input : {bad_version, too_long, wrong_type, short_hello, bad_id,
                                   std::string("HELLO\r\n")}) {
    PeerHandshake a = acceptor("n2", secrets({good}));
    a.handle_bytes(input);
    EXPECT_EQ(a.state(), State::refused) << testing::PrintToString(input);
    EXPECT_EQ(a.refusal(), Refusal::malformed) << a.refusal_reason();
    EXPECT_FALSE(a.refusal_reason().empty());
  }
}

TEST(PeerHandshake, TruncatedThenClosedOrLateIsRefused) {
  const std::string hello = encode(Hello{nonce_of(9), {make_secret(good).id}, "n1"});
  for (std::size_t cut = 0; cut < hello.size(); ++cut) {
    PeerHandshake a = acceptor("n2", secrets({good}));
    EXPECT_EQ(a.handle_bytes(hello.substr(0, cut)), cut);
    EXPECT_EQ(a.state(), State::in_progress);
    EXPECT_TRUE(a.poll_output().empty());
    a.handle_closed();
    EXPECT_EQ(a.refusal(), Refusal::closed);
  }
  PeerHandshake d = dialer("n1", "n2", secrets({good}));
  d.handle_timeout();
  EXPECT_EQ(d.refusal(), Refusal::timed_out);
}

TEST(PeerHandshake, GarbageNeverCrashesEitherRole) {
  core::Random random(17);
  for (int run = 0; run < 2000; ++run) {
    std::string bytes(random.uniform(301), '\0');
    for (char& c : bytes) c = static_cast<char>(random.uniform(256));
    // Half the runs start with a valid header so the body parsers see the garbage.
    if (run % 2 == 0 && bytes.size() >= message_header_bytes) {
      bytes.replace(0, 4, "VHS\x01");
      bytes[4] = static_cast<char>(1 + random.uniform(4));
      bytes[5] = 0;
    }
    for (const Role role : {Role::acceptor, Role::dialer}) {
      PeerHandshake h({role, "n1", secrets({good}), nonce_of(1), "n2"});
      const std::size_t taken = h.handle_bytes(bytes);
      EXPECT_LE(taken, bytes.size());
      h.poll_output();
      EXPECT_NE(h.state(), State::authenticated);
    }
  }
}

TEST(PeerHandshakeMac, RoleIdAndNoncesAllMatter) {
  const Nonce n1 = nonce_of(1);
  const Nonce n2 = nonce_of(2);
  const Mac base = dialer_mac(good, n1, n2, "n1");
  EXPECT_TRUE(macs_equal(base, dialer_mac(good, n1, n2, "n1")));
  EXPECT_FALSE(macs_equal(base, acceptor_mac(good, n1, n2, "n1")));
  EXPECT_FALSE(macs_equal(base, dialer_mac(good, n2, n1, "n1")));
  EXPECT_FALSE(macs_equal(base, dialer_mac(good, n1, n2, "n2")));
  EXPECT_FALSE(macs_equal(base, dialer_mac(other, n1, n2, "n1")));
  EXPECT_NE(make_secret(good).id, make_secret(other).id);
}

}  // namespace
}  // namespace vigil::net
