// The cost of Node::check_invariants() with many requests in flight, beside the cost of one
// input + flush, in a release build: the figures behind the production invariant policy
// (core::production_invariant_interval, docs/operations.md). Built and run by
// scripts/invariant-cost.sh; not part of the CMake build (bench/CMakeLists.txt globs only
// bench/*.cpp), since it is a measurement, not a test.
#include <chrono>
#include <cstdio>
#include <string>

#include "core/node/node_driver.h"
#include "core/ring/ring.h"
#include "store/memory_store.h"
#include "store/typed_storage.h"

using namespace vigil;  // NOLINT: a one-file measurement
using clock_type = std::chrono::steady_clock;

int main() {
  core::RingOptions ring_options;
  ring_options.vnodes = 16;
  const core::Ring ring = core::Ring::build({"n1", "n2", "n3"}, ring_options);
  for (std::size_t in_flight : {100u, 1000u, 10000u}) {
    store::MemoryStore store;
    store::TypedStorage storage(store);
    core::NodeOptions options;
    options.id = "n1";
    options.request_timeout = std::chrono::hours(1);
    options.replication_timeout = std::chrono::hours(1);
    core::NodeDriver driver(options, ring, storage, 1, core::DriverOptions{0});
    driver.start();
    std::int64_t now_us = 1'000'000;
    auto now = [&] { return core::Now{core::instant_from_micros(now_us), 1'700'000'000'000'000 + now_us}; };
    driver.flush(now());
    // Inputs: puts (W=2, nobody answers: they stay in flight), half reads.
    const auto inputs_started = clock_type::now();
    for (std::size_t i = 0; i < in_flight; ++i) {
      core::ClientRequest request;
      request.id = i + 1;
      request.key = "key" + std::to_string(i);
      if (i % 2 == 0) {
        request.op = core::ClientOp::put;
        request.value = std::string(100, 'v');
      } else {
        request.op = core::ClientOp::get;
      }
      driver.client_request(now(), request);
      driver.flush(now());
      now_us += 1;
    }
    const double input_us =
        std::chrono::duration<double, std::micro>(clock_type::now() - inputs_started).count() /
        static_cast<double>(in_flight);
    const int rounds = in_flight >= 10000 ? 200 : 2000;
    const auto started = clock_type::now();
    for (int r = 0; r < rounds; ++r) driver.node().check_invariants();
    const double check_us =
        std::chrono::duration<double, std::micro>(clock_type::now() - started).count() / rounds;
    std::printf("in flight %6zu (counted %llu): check_invariants %9.1f us; one input+flush %6.2f us; "
                "check/input %.0fx\n",
                in_flight,
                static_cast<unsigned long long>(driver.node().counters().get("requests_put") +
                                                driver.node().counters().get("requests_get")),
                check_us, input_us, check_us / input_us);
  }
}
