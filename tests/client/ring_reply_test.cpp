// The client's side of VRING (client/ring_reply.h): a real node port's reply decodes to the
// node's ring, and every malformed reply is refused with the field named, never a crash.

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>

#include "client/node_connection.h"
#include "client/ring_reply.h"
#include "tests/net/resp_harness.h"

namespace vigil::client {
namespace {

// The reply hiredis reads from raw RESP bytes (what a node, or a liar, sends).
Reply parse(const std::string& bytes) {
  redisReader* reader = redisReaderCreate();
  redisReaderFeed(reader, bytes.data(), bytes.size());
  void* raw = nullptr;
  EXPECT_EQ(redisReaderGetReply(reader, &raw), REDIS_OK);
  redisReaderFree(reader);
  EXPECT_NE(raw, nullptr) << "incomplete RESP in the test";
  return Reply(static_cast<redisReply*>(raw));
}

std::string bulk(const std::string& text) {
  return "$" + std::to_string(text.size()) + "\r\n" + text + "\r\n";
}

// A VRING reply with the given fields; `members` is the members array's RESP.
std::string vring(const std::string& version, const std::string& digest, const std::string& self,
                  const std::string& replicas, const std::string& members) {
  return "*10\r\n" + bulk("version") + version + bulk("digest") + digest + bulk("self") + self +
         bulk("replicas") + replicas + bulk("members") + members;
}

std::string member(const std::string& id, const std::string& address,
                   const std::vector<std::string>& tokens) {
  std::string out = "*3\r\n" + bulk(id) + bulk(address) + "*" + std::to_string(tokens.size()) +
                    "\r\n";
  for (const std::string& token : tokens) out += bulk(token);
  return out;
}

const std::string good_members = "*2\r\n" + member("n1", "127.0.0.1:6401", {"100", "300"}) +
                                 member("n2", "", {"200", "18446744073709551615"});

TEST(RingReply, DecodesEveryFieldAndTheRing) {
  Reply reply = parse(vring(":7\r\n", bulk("00000000000000ff"), bulk("n1"), ":3\r\n", good_members));
  auto decoded = decode_ring_reply(*reply);
  ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded->version, 7u);
  EXPECT_EQ(decoded->digest, "00000000000000ff");
  EXPECT_EQ(decoded->self, "n1");
  EXPECT_EQ(decoded->replicas, 3u);
  EXPECT_EQ(decoded->addresses, (std::map<core::NodeId, std::string>{{"n1", "127.0.0.1:6401"}}));
  auto expected = core::Ring::from_tokens({{"n1", {100, 300}}, {"n2", {200, 18446744073709551615ULL}}});
  EXPECT_EQ(decoded->ring, expected.value());
  // Routing follows the tokens: (100, 200] belongs to n2, (300, 2^64-1] to n2, wrapping to n1.
  EXPECT_EQ(decoded->ring.preference_list(150, 2), (std::vector<core::NodeId>{"n2", "n1"}));
  EXPECT_EQ(decoded->ring.preference_list(250, 2), (std::vector<core::NodeId>{"n1", "n2"}));
}

TEST(RingReply, RefusesMalformedRepliesNamingTheField) {
  const auto refused = [](const std::string& bytes, const std::string& needle) {
    Reply reply = parse(bytes);
    auto decoded = decode_ring_reply(*reply);
    ASSERT_FALSE(decoded.ok()) << "accepted: " << needle;
    EXPECT_NE(decoded.status().message().find(needle), std::string::npos)
        << decoded.status().message();
  };
  const std::string d = bulk("00000000000000ff");
  refused("-ERR unknown command 'VRING'\r\n", "unknown command");
  refused("*2\r\n" + bulk("version") + ":1\r\n", "5 name/value pairs");
  refused(vring(bulk("1"), d, bulk("n1"), ":3\r\n", good_members), "version");
  refused(vring(":1\r\n", bulk("ff"), bulk("n1"), ":3\r\n", good_members), "digest");
  refused(vring(":1\r\n", d, bulk("n9"), ":3\r\n", good_members), "not a member");
  refused(vring(":1\r\n", d, bulk("bad id!"), ":3\r\n", good_members), "self");
  refused(vring(":1\r\n", d, bulk("n1"), ":0\r\n", good_members), "replicas");
  refused(vring(":1\r\n", d, bulk("n1"), ":3\r\n", "*0\r\n"), "members");
  refused(vring(":1\r\n", d, bulk("n1"), ":3\r\n", "*1\r\n" + member("n1", "", {"12x"})),
          "members[0].tokens[0]");
  refused(vring(":1\r\n", d, bulk("n1"), ":3\r\n", "*1\r\n" + member("n1", "", {"-1"})),
          "members[0].tokens[0]");
  refused(vring(":1\r\n", d, bulk("n1"), ":3\r\n", "*1\r\n" + member("n1", "", {})), "tokens");
  refused(vring(":1\r\n", d, bulk("n1"), ":3\r\n", "*1\r\n" + member("n1", "nohost", {"1"})),
          "members[0].address");
  refused(vring(":1\r\n", d, bulk("n1"), ":3\r\n",
                "*2\r\n" + member("n1", "", {"5"}) + member("n1", "", {"6"})),
          "listed twice");
  // Two nodes holding one token: core::Ring::from_tokens refuses it.
  refused(vring(":1\r\n", d, bulk("n1"), ":3\r\n",
                "*2\r\n" + member("n1", "", {"5"}) + member("n2", "", {"5"})),
          "members");
  refused(vring(":1\r\n", d, bulk("n1"), ":3\r\n", "*1\r\n*2\r\n" + bulk("n1") + bulk("")),
          "members[0]");
}

// A reply from a broken or hostile node: a valid reply with bytes replaced, inserted or cut,
// as long as hiredis still reads it as one reply. Decoding answers ok or an error; it never
// crashes, and what it accepts satisfies the ring's invariants.
RC_GTEST_PROP(RingReply, MangledRepliesAreRefusedOrDecodedNeverACrash, ()) {
  std::string bytes = vring(":3\r\n", bulk("00000000000000ff"), bulk("n1"), ":2\r\n",
                            good_members);
  // Few edits, and a cut only now and then: most mangled replies must still be one whole
  // reply for hiredis, or the decoder is never reached.
  const int edits = *rc::gen::inRange(0, 4);
  for (int i = 0; i < edits; ++i) {
    const auto at = *rc::gen::inRange<std::size_t>(0, bytes.size());
    bytes[at] = *rc::gen::element<char>('*', '$', ':', '-', '0', '1', '5', '9', 'x', 'n');
  }
  if (*rc::gen::inRange(0, 4) == 0) {
    bytes.resize(*rc::gen::inRange<std::size_t>(bytes.size() / 2, bytes.size() + 1));
  }
  redisReader* reader = redisReaderCreate();
  redisReaderFeed(reader, bytes.data(), bytes.size());
  void* raw = nullptr;
  const int read = redisReaderGetReply(reader, &raw);
  redisReaderFree(reader);
  if (read != REDIS_OK || raw == nullptr) return;  // not one whole reply: hiredis says so
  Reply reply(static_cast<redisReply*>(raw));
  auto decoded = decode_ring_reply(*reply);
  RC_CLASSIFY(decoded.ok(), "decoded");
  RC_CLASSIFY(!decoded.ok(), "refused");
  if (decoded.ok()) {
    RC_ASSERT(!decoded->ring.empty());
    RC_ASSERT(decoded->ring.contains(decoded->self));
    RC_ASSERT(decoded->replicas >= 1u);
  } else {
    RC_ASSERT(decoded.status().message().rfind("VRING reply: ", 0) == 0u);
  }
}

TEST(RingReply, TheClientPortAnswersVringWithItsRingAndItsOwnAddress) {
  net::testing::Harness harness;
  redisContext* c = harness.connect();
  Reply reply(static_cast<redisReply*>(redisCommand(c, "VRING")));
  ASSERT_NE(reply, nullptr);
  auto decoded = decode_ring_reply(*reply);
  ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded->version, 1u);
  EXPECT_EQ(decoded->digest, "0000000000001234");
  EXPECT_EQ(decoded->self, "n1");
  EXPECT_EQ(decoded->replicas, 2u);
  EXPECT_EQ(decoded->ring, harness.service().ring_view().ring);
  // Its own address with the port bound (node.client asked for any port); n2's is unknown.
  EXPECT_EQ(decoded->addresses,
            (std::map<core::NodeId, std::string>{{"n1", "127.0.0.1:" + std::to_string(harness.port())}}));
}

TEST(HostPort, ParsesTheLastColonAndBracketedIpv6) {
  EXPECT_EQ(parse_host_port("127.0.0.1:6401")->port, 6401);
  EXPECT_EQ(parse_host_port("[::1]:6401")->host, "::1");
  EXPECT_FALSE(parse_host_port("127.0.0.1").ok());
  EXPECT_FALSE(parse_host_port("127.0.0.1:0").ok());
  EXPECT_FALSE(parse_host_port("127.0.0.1:65536").ok());
  EXPECT_FALSE(parse_host_port(":80").ok());
}

}  // namespace
}  // namespace vigil::client
