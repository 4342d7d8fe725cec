// Siblings and causal contexts over the wire: concurrent writes through two nodes are both
// kept (VGET shows both with one context), a write with that context replaces them, and a
// delete with a context removes exactly what it saw (docs/client-protocol.md).

#include <set>

#include "tests/integration/cluster_fixture.h"

namespace vigil::integration {
namespace {

using ClusterSiblings = ClusterTest;

struct Siblings {
  std::string context;
  std::set<std::string> values;
};

// VGET key -> [context, [value, ...]].
Siblings vget(redisContext* client, const std::string& key) {
  const Reply reply = command(client, {"VGET", key});
  Siblings out;
  EXPECT_TRUE(reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2)
      << text(reply);
  if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) return out;
  EXPECT_EQ(reply->element[0]->type, REDIS_REPLY_STRING);
  out.context.assign(reply->element[0]->str, reply->element[0]->len);
  const redisReply* values = reply->element[1];
  EXPECT_EQ(values->type, REDIS_REPLY_ARRAY);
  for (std::size_t i = 0; i < values->elements; ++i) {
    out.values.emplace(values->element[i]->str, values->element[i]->len);
  }
  return out;
}

TEST_F(ClusterSiblings, ConcurrentWritesBecomeSiblingsAndAContextResolvesThem) {
  Redis n1 = connect(0);
  Redis n3 = connect(2);
  // Two blind writes (empty context: neither saw the other) through different nodes.
  const Reply first = command(n1.get(), {"VSET", "cart", "apple", ""});
  ASSERT_TRUE(first && first->type == REDIS_REPLY_STRING) << text(first);
  const Reply second = command(n3.get(), {"VSET", "cart", "pear", ""});
  ASSERT_TRUE(second && second->type == REDIS_REPLY_STRING) << text(second);

  const Siblings both = vget(n3.get(), "cart");
  EXPECT_EQ(both.values, (std::set<std::string>{"apple", "pear"}));
  EXPECT_FALSE(both.context.empty());
  // GET answers one of the siblings, the same one through every node.
  const std::string got = text(command(n1.get(), {"GET", "cart"}));
  EXPECT_TRUE(got == "apple" || got == "pear") << got;
  EXPECT_EQ(text(command(connect(1).get(), {"GET", "cart"})), got);

  // A write carrying the context that saw both replaces both.
  const Reply merged = command(n1.get(), {"VSET", "cart", "apple+pear", both.context});
  ASSERT_TRUE(merged && merged->type == REDIS_REPLY_STRING) << text(merged);
  const Siblings one = vget(connect(1).get(), "cart");
  EXPECT_EQ(one.values, (std::set<std::string>{"apple+pear"}));

  // A write with a stale context (it saw only the old siblings) does not overwrite the
  // merge it did not see: the two become siblings, nothing is lost.
  const Reply stale = command(n3.get(), {"VSET", "cart", "plum", both.context});
  ASSERT_TRUE(stale && stale->type == REDIS_REPLY_STRING) << text(stale);
  const Siblings again = vget(n1.get(), "cart");
  EXPECT_EQ(again.values, (std::set<std::string>{"apple+pear", "plum"}));

  // VDEL with the context that saw everything deletes the key.
  const Reply deleted = command(n3.get(), {"VDEL", "cart", again.context});
  ASSERT_TRUE(deleted && deleted->type == REDIS_REPLY_STRING) << text(deleted);
  const Siblings gone = vget(n1.get(), "cart");
  EXPECT_TRUE(gone.values.empty());
  EXPECT_EQ(text(command(n1.get(), {"GET", "cart"})), "(nil)");
}

TEST_F(ClusterSiblings, AForgedContextIsRefusedWithAnError) {
  Redis n2 = connect(1);
  const std::string reply = text(command(n2.get(), {"VSET", "k", "v", "not base64 !!"}));
  EXPECT_EQ(reply.rfind("-ERR", 0), 0u) << reply;
  // The connection still serves.
  EXPECT_EQ(text(command(n2.get(), {"PING"})), "+PONG");
}

}  // namespace
}  // namespace vigil::integration
