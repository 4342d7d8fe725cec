// The client port's users (docs/security.md) through a real client (hiredis): NOAUTH before
// AUTH, WRONGPASS, AUTH's two forms, HELLO 2 AUTH, ACL WHOAMI, a read-only user's NOPERM
// on every write command of the table, the counters, and a port without users as before.
// Hashes use the least iteration count so the tests stay fast under ASan.

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <string>
#include <vector>

#include "config/password_hash.h"
#include "net/client_command_table.h"
#include "tests/net/resp_harness.h"

namespace vigil::net {
namespace {

using testing::Harness;
using testing::run;
using Permission = config::Config::Security::Permission;

constexpr const char* noauth = "-NOAUTH Authentication required.";
constexpr const char* wrongpass =
    "-WRONGPASS invalid username-password pair or user is disabled.";

std::string hash_of(std::string_view password) {
  return config::format_password_hash(config::derive_password_hash(
      password, std::vector<std::uint8_t>(16, 7), config::password_iterations_min));
}

config::Config with_users() {
  config::Config config = Harness::default_config();
  config.security.users = {{"default", hash_of("open sesame"), Permission::read_write},
                           {"alice", hash_of("alice-pw"), Permission::read_write},
                           {"reader", hash_of("reader-pw"), Permission::read_only}};
  return config;
}

std::uint64_t errors(Harness& harness, const std::string& kind) {
  return harness.on_loop([&] { return harness.metrics().errors().at(kind); });
}

TEST(ClientAuth, CommandsBeforeAuthAnswerNoauthAndReachNoNode) {
  Harness harness(with_users());
  redisContext* c = harness.connect();
  EXPECT_EQ(run(c, {"GET", "k"}), noauth);
  EXPECT_EQ(run(c, {"SET", "k", "v"}), noauth);
  EXPECT_EQ(run(c, {"PING"}), noauth);
  EXPECT_EQ(run(c, {"ACL", "WHOAMI"}), noauth);
  EXPECT_EQ(run(c, {"MULTI"}), noauth);
  // As in Redis, an unknown command and a wrong arity are answered as such.
  EXPECT_EQ(run(c, {"NOSUCH"}).rfind("-ERR unknown command 'NOSUCH'", 0), 0u);
  EXPECT_EQ(run(c, {"GET"}), "-ERR wrong number of arguments for 'get' command");
  EXPECT_EQ(harness.on_loop([&] { return harness.service().requests_.size(); }), 0u);
  EXPECT_EQ(errors(harness, "noauth"), 5u);
  EXPECT_EQ(run(c, {"QUIT"}), "+OK");
}

TEST(ClientAuth, AuthWithPasswordIsTheDefaultUser) {
  Harness harness(with_users());
  redisContext* c = harness.connect();
  EXPECT_EQ(run(c, {"AUTH", "wrong"}), wrongpass);
  EXPECT_EQ(run(c, {"GET", "k"}), noauth) << "a failed AUTH authenticates nothing";
  EXPECT_EQ(run(c, {"AUTH", "open sesame"}), "+OK");
  EXPECT_EQ(run(c, {"ACL", "WHOAMI"}), "default");
  EXPECT_EQ(run(c, {"SET", "k", "v"}), "+OK");
  EXPECT_EQ(run(c, {"GET", "k"}), "v");
  EXPECT_EQ(errors(harness, "wrongpass"), 1u);
}

TEST(ClientAuth, AuthWithUserAndPassword) {
  Harness harness(with_users());
  redisContext* c = harness.connect();
  EXPECT_EQ(run(c, {"AUTH", "alice", "reader-pw"}), wrongpass) << "another user's password";
  EXPECT_EQ(run(c, {"AUTH", "nobody", "alice-pw"}), wrongpass);
  EXPECT_EQ(run(c, {"AUTH", "alice", "alice-pw", "extra"}), "-ERR syntax error");
  EXPECT_EQ(run(c, {"AUTH", "alice", "alice-pw"}), "+OK");
  EXPECT_EQ(run(c, {"ACL", "WHOAMI"}), "alice");
  // A later failed AUTH keeps the user the connection had, as Redis does.
  EXPECT_EQ(run(c, {"AUTH", "reader", "nope"}), wrongpass);
  EXPECT_EQ(run(c, {"ACL", "WHOAMI"}), "alice");
  EXPECT_EQ(run(c, {"AUTH", "reader", "reader-pw"}), "+OK");
  EXPECT_EQ(run(c, {"ACL", "WHOAMI"}), "reader");
  EXPECT_EQ(run(c, {"ACL", "LIST"}).rfind("-ERR unknown subcommand 'LIST'", 0), 0u);
}

// Every command the table flags "write" is refused to a read-only user, so a new write
// command cannot slip past the check; reads still work.
TEST(ClientAuth, ReadOnlyUserGetsNopermOnEveryWrite) {
  Harness harness(with_users());
  redisContext* c = harness.connect();
  ASSERT_EQ(run(c, {"AUTH", "reader", "reader-pw"}), "+OK");
  EXPECT_EQ(run(c, {"SET", "k", "v"}),
            "-NOPERM User reader has no permissions to run the 'set' command");
  std::uint64_t writes = 0;
  for (const commands::Command& command : commands::command_table()) {
    if (!commands::is_write(command)) continue;
    ++writes;
    std::vector<std::string> arguments{std::string(command.name)};
    const int count = command.arity > 0 ? command.arity : -command.arity;
    for (int i = 1; i < count; ++i) arguments.push_back("x");
    EXPECT_EQ(run(c, arguments), "-NOPERM User reader has no permissions to run the '" +
                                     std::string(command.name) + "' command");
  }
  EXPECT_GE(writes, 5u) << "set, mset, del, vset, vdel";
  EXPECT_EQ(harness.on_loop([&] { return harness.service().requests_.size(); }), 0u);
  EXPECT_EQ(errors(harness, "noperm"), writes + 1);
  EXPECT_EQ(run(c, {"GET", "k"}), "(nil)");
  EXPECT_EQ(run(c, {"PING"}), "+PONG");
}

TEST(ClientAuth, HelloTwoAuthAuthenticates) {
  Harness harness(with_users());
  redisContext* c = harness.connect();
  EXPECT_EQ(run(c, {"HELLO", "2"}).rfind("-NOAUTH HELLO must be called with the client", 0),
            0u);
  EXPECT_EQ(run(c, {"HELLO", "2", "AUTH", "alice", "bad", "SETNAME", "x"}), wrongpass);
  EXPECT_EQ(run(c, {"CLIENT", "GETNAME"}), noauth);
  EXPECT_EQ(run(c, {"HELLO", "2", "AUTH", "alice"}),
            "-ERR Syntax error in HELLO option 'AUTH'");
  const testing::Reply hello =
      testing::command(c, {"HELLO", "2", "AUTH", "alice", "alice-pw", "SETNAME", "app"});
  ASSERT_TRUE(hello != nullptr);
  EXPECT_EQ(hello->type, REDIS_REPLY_ARRAY);
  EXPECT_EQ(run(c, {"ACL", "WHOAMI"}), "alice");
  EXPECT_EQ(run(c, {"CLIENT", "GETNAME"}), "app");
  EXPECT_EQ(run(c, {"HELLO", "3", "AUTH", "alice", "alice-pw"}).rfind("-NOPROTO", 0), 0u);
}

// AUTH is a barrier: commands pipelined after it run as the user it made.
TEST(ClientAuth, PipelinedCommandsAfterAuthRunAuthenticated) {
  Harness harness(with_users());
  redisContext* c = harness.connect();
  for (const char* line : {"GET k", "AUTH alice alice-pw", "SET k v", "GET k"}) {
    redisAppendCommand(c, line);
  }
  std::vector<std::string> replies;
  for (int i = 0; i < 4; ++i) {
    redisReply* raw = nullptr;
    ASSERT_EQ(redisGetReply(c, reinterpret_cast<void**>(&raw)), REDIS_OK);
    replies.push_back(testing::text(testing::Reply(raw, &freeReplyObject)));
  }
  EXPECT_EQ(replies, (std::vector<std::string>{noauth, "+OK", "+OK", "v"}));
}

// A second successful AUTH with the same password is served from the verified-password
// tag, not the KDF; a wrong password always runs the KDF.
TEST(ClientAuth, RepeatedAuthSkipsTheKdfOnlyForTheRightPassword) {
  Harness harness(with_users());
  auto kdf_runs = [&] {
    return harness.on_loop([&] { return harness.server().kdf_runs(); });
  };
  redisContext* a = harness.connect();
  ASSERT_EQ(run(a, {"AUTH", "alice", "alice-pw"}), "+OK");
  EXPECT_EQ(kdf_runs(), 1u);
  redisContext* b = harness.connect();
  ASSERT_EQ(run(b, {"AUTH", "alice", "alice-pw"}), "+OK");
  EXPECT_EQ(kdf_runs(), 1u);
  EXPECT_EQ(run(b, {"AUTH", "alice", "alice-pw2"}), wrongpass);
  EXPECT_EQ(kdf_runs(), 2u);
}

TEST(ClientAuth, WithoutUsersThePortIsOpenAsBefore) {
  Harness harness;
  redisContext* c = harness.connect();
  EXPECT_EQ(run(c, {"SET", "k", "v"}), "+OK");
  EXPECT_EQ(run(c, {"ACL", "WHOAMI"}), "default");
  EXPECT_EQ(run(c, {"AUTH", "pw"}),
            "-ERR AUTH <password> called without any password configured for the default "
            "user. Are you sure your configuration is correct?");
  EXPECT_EQ(run(c, {"GET", "k"}), "v");
}

}  // namespace
}  // namespace vigil::net
