// Peer judgements read back from a node's text log (cli/chaos_logs.h), for the
// failure_detection check of vigil chaos: the peer_state lines of that node, in run time;
// everything else skipped.

#include "cli/chaos_logs.h"

#include <gtest/gtest.h>

namespace vigil::cli {
namespace {

TEST(ChaosLogs, PeerStateLinesBecomeTransitionsInRunTime) {
  // 2026-12-03T12:38:10.000Z is 1796301490 s after the epoch.
  const std::int64_t start_us = 1796301490LL * 1000000;
  const std::string log =
      "--- vigil cluster: starting n1 at 2026-12-03T12:38:05Z ---\n"
      "2026-12-03T12:38:09.500Z n1 peer n2 is alive (was suspect)\n"  // before the run
      "2026-12-03T12:38:11.110Z n1 peer n3 is suspect (was alive)\n"
      "2026-12-03T12:38:11.120Z n1 serving clients on 127.0.0.1:1 (RESP)\n"
      "2026-12-03T12:38:12.000Z n2 peer n3 is failed (was suspect)\n"  // another node's
      "2026-12-03T12:38:12.697Z n1 peer n3 is failed (was suspect)\n"
      "2026-12-03T12:38:13.000Z n1 peer n3 is gone (was failed)\n"  // not a state
      "garbage\n"
      "2026-12-03T12:38:14.262Z n1 peer n3 is alive (was failed)";
  const auto records = peer_transitions_from_log(log, "n1", start_us);
  ASSERT_EQ(records.size(), 3U);
  EXPECT_EQ(records[0].at_us, 1'110'000);
  EXPECT_EQ(records[0].observer, "n1");
  EXPECT_EQ(records[0].transition.peer, "n3");
  EXPECT_EQ(records[0].transition.from, core::PeerState::alive);
  EXPECT_EQ(records[0].transition.to, core::PeerState::suspect);
  EXPECT_EQ(records[1].at_us, 2'697'000);
  EXPECT_EQ(records[1].transition.to, core::PeerState::failed);
  EXPECT_EQ(records[2].at_us, 4'262'000);
  EXPECT_EQ(records[2].transition.from, core::PeerState::failed);
  EXPECT_EQ(records[2].transition.to, core::PeerState::alive);
}

}  // namespace
}  // namespace vigil::cli
