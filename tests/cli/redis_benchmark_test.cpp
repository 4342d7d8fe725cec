// Reading redis-benchmark --csv output and running a program with a deadline, for
// `vigil bench cluster`.

#include "cli/redis_benchmark.h"

#include <gtest/gtest.h>

namespace vigil::cli {
namespace {

const char* const header =
    "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\","
    "\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"\n";

TEST(RedisBenchmarkCsv, ReadsEveryRowByItsHeader) {
  const std::string text = std::string(header) +
                           "\"SET\",\"88495.58\",\"0.301\",\"0.088\",\"0.287\",\"0.415\","
                           "\"0.551\",\"1.463\"\n"
                           "\"GET\",\"90909.09\",\"0.290\",\"0.080\",\"0.279\",\"0.400\","
                           "\"0.535\",\"2.000\"\n";
  const core::Result<std::vector<BenchmarkRow>> rows = parse_redis_benchmark_csv(text);
  ASSERT_TRUE(rows.ok()) << rows.status().to_string();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].test, "SET");
  EXPECT_DOUBLE_EQ((*rows)[0].requests_per_second, 88495.58);
  EXPECT_DOUBLE_EQ((*rows)[0].p50_ms, 0.287);
  EXPECT_DOUBLE_EQ((*rows)[0].p99_ms, 0.551);
  EXPECT_EQ((*rows)[1].test, "GET");
  EXPECT_DOUBLE_EQ((*rows)[1].p99_ms, 0.535);
}

TEST(RedisBenchmarkCsv, ColumnsAreFoundByNameNotPosition) {
  const core::Result<std::vector<BenchmarkRow>> rows = parse_redis_benchmark_csv(
      "\"p99_latency_ms\",\"test\",\"p50_latency_ms\",\"rps\"\r\n\"2.5\",\"GET\",\"1\",\"10\"\r\n");
  ASSERT_TRUE(rows.ok()) << rows.status().to_string();
  EXPECT_EQ((*rows)[0].test, "GET");
  EXPECT_DOUBLE_EQ((*rows)[0].requests_per_second, 10);
  EXPECT_DOUBLE_EQ((*rows)[0].p99_ms, 2.5);
}

TEST(RedisBenchmarkCsv, ServerErrorsMissingColumnsAndBadNumbersAreRefused) {
  const std::string row = "\"SET\",\"1\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\"\n";
  for (const std::string& text :
       {std::string(""), std::string(header),
        std::string(header) + "Error from server: OOM command not allowed\n",
        std::string("\"test\",\"rps\"\n\"SET\",\"1\"\n"),
        std::string(header) + "\"SET\",\"fast\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\"\n",
        std::string(header) + "\"SET\",\"1\",\"0\"\n", std::string(header) + row + "garbage\n"}) {
    const core::Result<std::vector<BenchmarkRow>> rows = parse_redis_benchmark_csv(text);
    EXPECT_FALSE(rows.ok()) << text;
    if (!rows.ok()) {
      EXPECT_EQ(rows.status().code(), core::Code::invalid_argument);
    }
  }
}

TEST(RedisBenchmarkErrors, FindsEveryServerErrorAndClassifiesQuorumErrors) {
  const std::vector<std::string> errors = redis_benchmark_errors(
      "\"test\",\"rps\"\r\nError from server: UNAVAILABLE quorum not reached: 1 of 2\r\n"
      "noise\nsomething Error from server: ERR internal: io_error\n");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0], "UNAVAILABLE quorum not reached: 1 of 2");
  EXPECT_EQ(errors[1], "ERR internal: io_error");
  EXPECT_TRUE(is_quorum_error(errors[0]));
  EXPECT_TRUE(is_quorum_error("TIMEOUT no quorum within the request timeout"));
  EXPECT_FALSE(is_quorum_error(errors[1]));
  EXPECT_FALSE(is_quorum_error("ERR UNAVAILABLE"));
  EXPECT_TRUE(redis_benchmark_errors("\"SET\",\"1\"\n").empty());
}

TEST(RunCaptured, CollectsOutputAndExitCodeAndKillsAtTheDeadline) {
  const core::Result<CapturedRun> run =
      run_captured({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, std::chrono::seconds(10));
  ASSERT_TRUE(run.ok()) << run.status().to_string();
  EXPECT_EQ(run->exit_code, 3);
  EXPECT_EQ(run->out, "out\n");
  EXPECT_EQ(run->err, "err\n");
  const auto start = std::chrono::steady_clock::now();
  const core::Result<CapturedRun> slow =
      run_captured({"/bin/sleep", "30"}, std::chrono::milliseconds(200));
  EXPECT_EQ(slow.status().code(), core::Code::timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(FindProgram, FindsShAndNamesTheHintOtherwise) {
  EXPECT_TRUE(find_program("sh", "").ok());
  const core::Result<std::string> missing = find_program("no-such-program-vigil", "install it");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "no-such-program-vigil not found in PATH (install it)");
}

}  // namespace
}  // namespace vigil::cli
