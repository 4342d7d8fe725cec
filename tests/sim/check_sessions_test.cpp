// read_your_writes on hand-built histories: a pipelined read that misses its client's own
// earlier acknowledged put fails the check; other clients, other nodes, deletes and (blind)
// later writes do not.

#include "sim/check_sessions.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vigil::sim {
namespace {

using core::ClientOp;

struct Builder {
  std::uint64_t add(std::uint32_t client, const std::string& node, ClientOp op,
                    const std::string& key, const std::string& element, std::int64_t invoked_ms,
                    std::int64_t completed_ms, std::vector<core::Value> values = {},
                    Outcome outcome = Outcome::ok) {
    Operation operation;
    operation.client = client;
    operation.node = node;
    operation.op = op;
    operation.key = key;
    operation.element = element;
    operation.invoked_us = invoked_ms * 1000;
    const std::uint64_t index = history.invoke(operation);
    history.complete(index, completed_ms * 1000, outcome, core::Code::ok, "", std::move(values));
    return index;
  }
  History history;
};

std::uint64_t missed(const CheckResult& result) {
  return result.counts.at("missed");
}

TEST(ReadYourWrites, PipelinedReadThatMissesItsOwnPutFails) {
  Builder b;
  // Client 0 pipelines put(e1) then a read before the put is answered; the read misses e1.
  b.add(0, "n1", ClientOp::put, "k", "e1", 10, 50);
  b.add(0, "n1", ClientOp::get, "k", "", 11, 30, {""});
  const CheckResult result = check_read_your_writes(b.history, WorkloadMode::read_modify_write, {});
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(missed(result), 1u);
  EXPECT_EQ(result.counts.at("reads_checked"), 1u);
  ASSERT_EQ(result.examples.size(), 1u);
  EXPECT_NE(result.examples[0].find("missed its own 'e1'"), std::string::npos);
  EXPECT_TRUE(check_read_your_writes(b.history, WorkloadMode::read_modify_write, 1).ok);
}

TEST(ReadYourWrites, ReadThatSeesThePutPasses) {
  Builder b;
  b.add(0, "n1", ClientOp::put, "k", "e1", 10, 50);
  b.add(0, "n1", ClientOp::get, "k", "", 11, 80, {"e0,e1"});
  EXPECT_TRUE(check_read_your_writes(b.history, WorkloadMode::read_modify_write, {}).ok);
}

TEST(ReadYourWrites, OtherClientsNodesUnacknowledgedPutsAndDeletesAreNotBlamed) {
  Builder b;
  b.add(0, "n1", ClientOp::put, "k", "e1", 10, 50);
  b.add(1, "n1", ClientOp::get, "k", "", 11, 30, {""});  // another client
  b.add(0, "n2", ClientOp::get, "k", "", 12, 30, {""});  // another connection
  b.add(0, "n1", ClientOp::put, "k", "e2", 13, 60, {}, Outcome::indeterminate);
  b.add(0, "n1", ClientOp::put, "j", "f1", 14, 40);
  b.add(2, "n3", ClientOp::del, "j", "", 41, 45);
  b.add(0, "n1", ClientOp::get, "j", "", 42, 70, {""});    // f1 deleted after it
  b.add(0, "n1", ClientOp::get, "k", "", 71, 90, {"e1"});  // sees e1; e2 never acknowledged
  const CheckResult result = check_read_your_writes(b.history, WorkloadMode::read_modify_write, {});
  EXPECT_TRUE(result.ok) << (result.examples.empty() ? "" : result.examples[0]);
  EXPECT_EQ(missed(result), 0u);
}

TEST(ReadYourWrites, BlindReadOfALaterWriteIsExcused) {
  Builder b;
  b.add(0, "n1", ClientOp::put, "k", "v1", 10, 50);
  b.add(1, "n2", ClientOp::put, "k", "v2", 20, 40);  // invoked after v1: may replace it
  b.add(0, "n1", ClientOp::get, "k", "", 51, 60, {"v2"});
  EXPECT_TRUE(check_read_your_writes(b.history, WorkloadMode::blind, {}).ok);
  Builder c;
  c.add(1, "n2", ClientOp::put, "k", "v0", 5, 8);  // before v1: no excuse
  c.add(0, "n1", ClientOp::put, "k", "v1", 10, 50);
  c.add(0, "n1", ClientOp::get, "k", "", 51, 60, {"v0"});
  EXPECT_EQ(missed(check_read_your_writes(c.history, WorkloadMode::blind, {})), 1u);
}

}  // namespace
}  // namespace vigil::sim
