// core::decide_conditional_write: the rule SET NX/XX/GET follow (in net/ and in the
// simulator's workload): present means a live value, the write carries the read's context,
// and "previous" is the value a plain GET answers.

#include "core/node/conditional_write.h"

#include <gtest/gtest.h>

namespace vigil::core {
namespace {

ClientReply absent() {
  ClientReply reply;
  reply.status = error(Code::not_found, "no such key");
  return reply;
}

TEST(ConditionalWrite, NxWritesOnlyWhenNoLiveValueAndXxOnlyWhenOne) {
  VectorClock clock;
  clock.increment("n1", 10);
  ClientReply present;
  present.values = {"older", "newest"};
  present.context = clock;
  const ConditionalWrite nx_present = decide_conditional_write(present, WriteCondition::if_absent);
  EXPECT_FALSE(nx_present.write);
  EXPECT_EQ(nx_present.previous, Value("newest")) << "the value a plain GET answers";
  const ConditionalWrite xx_present = decide_conditional_write(present, WriteCondition::if_present);
  EXPECT_TRUE(xx_present.write);
  EXPECT_EQ(xx_present.context, clock) << "the write supersedes what the read saw";
  EXPECT_TRUE(decide_conditional_write(absent(), WriteCondition::if_absent).write);
  EXPECT_FALSE(decide_conditional_write(absent(), WriteCondition::if_present).write);
  EXPECT_FALSE(decide_conditional_write(absent(), WriteCondition::always).previous.has_value());
  EXPECT_TRUE(decide_conditional_write(absent(), WriteCondition::always).write);
}

// A key whose siblings are all deletes reads as absent: NX writes, with a context that
// covers the tombstones (so they are superseded, not kept as siblings of the new value).
TEST(ConditionalWrite, OnlyTombstonesCountAsAbsent) {
  ClientReply deleted;  // ok, no live values, one delete sibling
  deleted.deleted_siblings = 1;
  deleted.context.increment("n2", 20);
  const ConditionalWrite nx = decide_conditional_write(deleted, WriteCondition::if_absent);
  EXPECT_TRUE(nx.write);
  EXPECT_EQ(nx.context, deleted.context);
  EXPECT_FALSE(decide_conditional_write(deleted, WriteCondition::if_present).write);
}

}  // namespace
}  // namespace vigil::core
