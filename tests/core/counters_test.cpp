// core/counters.h: the one declaration of the node's counters. Names are unique, valid
// metric names with a one-line meaning; enum, name and run-time lookup round-trip; the
// counters computed from a code or an op exist; NodeCounters counts and iterates in
// declaration order, zeros included.

#include "core/counters.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/node/client.h"

namespace vigil::core {
namespace {

// Literal names resolve at compile time (an undeclared one would not compile).
static_assert(CounterId("replies_ok").counter() == Counter::replies_ok);
static_assert(CounterId("siblings_dropped").counter() == Counter::siblings_dropped);
static_assert(counter_named("no_such_counter") == std::nullopt);

bool valid_metric_name(std::string_view name) {
  if (name.empty() || !(name[0] >= 'a' && name[0] <= 'z')) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return name.back() != '_';
}

TEST(Counters, NamesAreUniqueValidMetricNamesWithAMeaning) {
  std::set<std::string_view> names;
  for (const CounterDeclaration& declaration : counter_declarations) {
    EXPECT_TRUE(names.insert(declaration.name).second) << declaration.name << " twice";
    EXPECT_TRUE(valid_metric_name(declaration.name)) << declaration.name;
    EXPECT_FALSE(declaration.meaning.empty()) << declaration.name;
    EXPECT_EQ(declaration.meaning.find('\n'), std::string_view::npos) << declaration.name;
    EXPECT_EQ(declaration.meaning.back(), '.') << declaration.name;
  }
  EXPECT_EQ(names.size(), counter_count);
}

TEST(Counters, EnumNameAndLookupRoundTrip) {
  for (std::size_t i = 0; i < counter_count; ++i) {
    const auto counter = static_cast<Counter>(i);
    const std::string_view name = counter_name(counter);
    EXPECT_EQ(name, counter_declarations[i].name);
    EXPECT_EQ(counter_named(name), counter) << name;
    EXPECT_EQ(counter_at_run_time(name), counter) << name;
    EXPECT_EQ(CounterId(counter).counter(), counter);
  }
}

TEST(Counters, AnUndeclaredNameAtRunTimeIsABug) {
  const char* name = "no_such_counter";
  EXPECT_DEATH(counter_at_run_time(name), "not declared in core/counters.h");
}

TEST(Counters, EveryReplyCodeAndRequestOpHasItsCounter) {
  for (Code code : {Code::ok, Code::not_found, Code::unavailable, Code::timeout, Code::corruption,
                    Code::invalid_argument, Code::io_error, Code::resource_exhausted,
                    Code::failed_precondition}) {
    EXPECT_EQ(counter_name(reply_code_counter(code)),
              "replies_code_" + std::string(code_name(code)));
  }
  EXPECT_EQ(counter_name(request_counter(ClientOp::get)), "requests_get");
  EXPECT_EQ(counter_name(request_counter(ClientOp::put)), "requests_put");
  EXPECT_EQ(counter_name(request_counter(ClientOp::del)), "requests_del");
}

TEST(Counters, NodeCountersCountAndIterateInDeclarationOrder) {
  NodeCounters counters;
  counters.add("replies_ok");
  counters.add("replies_ok", 2);
  counters.add(Counter::hints_stored, 5);
  const bool ok = false;
  counters.add(ok ? "read_repairs_acknowledged" : "read_repair_refusals");  // run time
  EXPECT_EQ(counters.get("replies_ok"), 3u);
  EXPECT_EQ(counters.get(Counter::hints_stored), 5u);
  EXPECT_EQ(counters.get("read_repair_refusals"), 1u);
  EXPECT_EQ(counters.get("quorum_failures"), 0u);
  std::size_t index = 0;
  for (const NodeCounters::Entry entry : counters) {
    EXPECT_EQ(static_cast<std::size_t>(entry.counter), index);
    EXPECT_EQ(entry.name, counter_declarations[index].name);
    EXPECT_EQ(entry.value, counters.get(entry.counter));
    ++index;
  }
  EXPECT_EQ(index, counter_count);
}

}  // namespace
}  // namespace vigil::core
