// The fault filter's rules (net/fault_filter.h): what each rule drops, duplicates and how
// it moves the clock, and that a POST /fault body is refused with the key it gets wrong.
// The transport's use of it: tests/net/peer_transport_test.cpp; the admin endpoint and its
// refusal without --enable-fault-injection: tests/net/admin_http_test.cpp.

#include "net/fault_filter.h"

#include <gtest/gtest.h>

namespace vigil::net {
namespace {

core::Instant at_s(std::int64_t seconds) {
  return core::instant_from_micros(seconds * 1000000);
}

TEST(FaultFilter, DropsWhatTheRulesName) {
  FaultFilter filter(1);
  EXPECT_EQ(filter.outbound("n2"), FaultFilter::Verdict::deliver);
  EXPECT_FALSE(filter.drop_inbound("n2"));
  FaultRules rules;
  rules.drop_to = {"n2"};
  rules.drop_from = {"n3"};
  filter.set(rules, at_s(0));
  EXPECT_EQ(filter.outbound("n2"), FaultFilter::Verdict::drop);
  EXPECT_EQ(filter.outbound("n3"), FaultFilter::Verdict::deliver);
  EXPECT_TRUE(filter.drop_inbound("n3"));
  EXPECT_FALSE(filter.drop_inbound("n2"));
  EXPECT_EQ(filter.counters().frames_dropped_out, 1U);
  EXPECT_EQ(filter.counters().frames_dropped_in, 1U);
}

TEST(FaultFilter, LossAndDuplicationFollowTheirProbabilities) {
  FaultFilter filter(3);
  FaultRules rules;
  rules.loss_to = {{"n2", 1.0}};
  rules.duplicate = 1.0;
  filter.set(rules, at_s(0));
  EXPECT_EQ(filter.outbound("n2"), FaultFilter::Verdict::drop);       // its link loses all
  EXPECT_EQ(filter.outbound("n3"), FaultFilter::Verdict::duplicate);  // the rest doubled
  rules = FaultRules{};
  rules.loss = 0.25;
  filter.set(rules, at_s(0));
  int dropped = 0;
  for (int i = 0; i < 4000; ++i) dropped += filter.outbound("n2") == FaultFilter::Verdict::drop;
  EXPECT_GT(dropped, 800);
  EXPECT_LT(dropped, 1200);
}

TEST(FaultFilter, ClockOffsetAndDriftKeepWhatWasGained) {
  FaultFilter filter(1);
  FaultRules rules;
  rules.clock_offset_us = 3'000'000;
  filter.set(rules, at_s(0));
  EXPECT_EQ(filter.wall(1'000'000, at_s(10)), 4'000'000);
  rules.clock_drift = 0.01;  // gains 10 ms per s from t = 10 s
  filter.set(rules, at_s(10));
  EXPECT_EQ(filter.wall(0, at_s(20)), 3'000'000 + 100'000);
  // The same rules pushed again do not restart the drift; a new drift keeps what was gained.
  filter.set(rules, at_s(20));
  EXPECT_EQ(filter.wall(0, at_s(30)), 3'000'000 + 200'000);
  rules.clock_drift = 0;
  filter.set(rules, at_s(30));
  EXPECT_EQ(filter.wall(0, at_s(100)), 3'000'000 + 200'000);
}

TEST(FaultFilter, BodiesAreParsedStrictly) {
  const auto rules = fault_rules_from_json(
      R"({"drop_to": ["n2"], "loss": 0.5, "loss_to": {"n3": 1}, "clock_offset_us": -2000000,
          "clock_drift": 0.001, "duplicate": 0.1, "drop_from": []})");
  ASSERT_TRUE(rules.ok()) << rules.status().to_string();
  EXPECT_EQ(rules->drop_to, std::set<core::NodeId>{"n2"});
  EXPECT_EQ(rules->loss_to.at("n3"), 1.0);
  EXPECT_EQ(rules->clock_offset_us, -2000000);
  EXPECT_EQ(fault_rules_from_json(fault_rules_to_json(*rules).dump()).value(), *rules);
  EXPECT_EQ(fault_rules_from_json("{}").value(), FaultRules{});
  const auto delayed = fault_rules_from_json(R"({"delay_to_us": {"n2": 50000}})");
  ASSERT_TRUE(delayed.ok());
  FaultFilter filter(1);
  filter.set(*delayed, at_s(0));
  EXPECT_EQ(filter.delay_to("n2"), std::chrono::milliseconds(50));
  EXPECT_EQ(filter.delay_to("n3"), core::Duration{0});
  EXPECT_EQ(fault_rules_from_json(fault_rules_to_json(*delayed).dump()).value(), *delayed);

  const auto message = [](std::string_view body) {
    const auto parsed = fault_rules_from_json(body);
    return parsed.ok() ? std::string("accepted") : parsed.status().message();
  };
  EXPECT_EQ(message("[1]"), "fault rules: expected a JSON object");
  EXPECT_EQ(message("{nope"), "fault rules: expected a JSON object");
  EXPECT_NE(message(R"({"drop": []})").find("drop: unknown key"), std::string::npos);
  EXPECT_NE(message(R"({"drop_to": "n2"})").find("drop_to: expected a list"), std::string::npos);
  EXPECT_NE(message(R"({"drop_to": [2]})").find("drop_to: expected node ids"), std::string::npos);
  EXPECT_NE(message(R"({"loss": -0.1})").find("loss: expected a number in [0, 1]"),
            std::string::npos);
  EXPECT_NE(message(R"({"loss_to": {"n2": 3}})").find("loss_to.n2"), std::string::npos);
  EXPECT_NE(message(R"({"clock_offset_us": 1.5})").find("clock_offset_us: expected an integer"),
            std::string::npos);
  EXPECT_NE(message(R"({"clock_offset_us": 99999999999999})").find("over the bound"),
            std::string::npos);
  EXPECT_NE(message(R"({"clock_offset_us": 18446744073709551615})").find("over the bound"),
            std::string::npos);
  EXPECT_NE(message(R"({"clock_drift": 2})").find("clock_drift"), std::string::npos);
  EXPECT_NE(message(R"({"delay_to_us": {"n2": -1}})").find("delay_to_us.n2: expected"),
            std::string::npos);
  EXPECT_NE(message(R"({"delay_to_us": {"n2": 61000000}})").find("delay_to_us.n2"),
            std::string::npos);
}

}  // namespace
}  // namespace vigil::net
