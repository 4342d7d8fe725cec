// What `vigil cluster repair` reads of a node's /status (cli/cluster_repair.h); the whole
// command against real nodes is tests/integration/cluster_repair_test.cpp.

#include "cli/cluster_repair.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace vigil::cli {
namespace {

nlohmann::json status_document() {
  nlohmann::json peer = nlohmann::json::object();
  peer["peer"] = "n2";
  peer["last_exchange_seconds_ago"] = nullptr;
  peer["outcome"] = "";
  nlohmann::json tree = nlohmann::json::object();
  tree["replicas"] = nlohmann::json::array({"n1", "n2"});
  tree["root_hash"] = "00";
  tree["keys"] = 5;
  tree["peers"] = nlohmann::json::array({peer});
  nlohmann::json document = nlohmann::json::object();
  document["anti_entropy"]["exchanges_completed"] = 7;
  document["anti_entropy"]["exchanges_pending"] = 1;
  document["anti_entropy"]["trees"] = nlohmann::json::array({tree});
  document["counters"]["ae_keys_repaired_missing"] = 10;
  document["counters"]["ae_keys_repaired_inconsistent"] = 2;
  document["counters"]["ae_keys_repaired_background"] = 1;
  document["counters"]["ae_exchanges_failed"] = 3;
  document["counters"]["ae_exchanges_skipped_peer_down"] = 4;
  return document;
}

TEST(ClusterRepair, ReadsTheFiguresItNeedsFromStatus) {
  auto snapshot = repair_snapshot_from_status(status_document().dump());
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().to_string();
  EXPECT_EQ(snapshot->exchanges_completed, 7u);
  EXPECT_EQ(snapshot->exchanges_pending, 1u);
  EXPECT_TRUE(snapshot->has_peers);
  EXPECT_EQ(snapshot->repaired_missing, 10u);
  EXPECT_EQ(snapshot->repaired_inconsistent, 2u);
  EXPECT_EQ(snapshot->repaired_background, 1u);
  EXPECT_EQ(snapshot->exchanges_failed, 3u);
  EXPECT_EQ(snapshot->exchanges_skipped, 4u);
}

TEST(ClusterRepair, ATreeWithoutPeersIsNoted) {
  nlohmann::json document = status_document();
  document["anti_entropy"]["trees"][0]["peers"] = nlohmann::json::array();
  auto snapshot = repair_snapshot_from_status(document.dump());
  ASSERT_TRUE(snapshot.ok());
  EXPECT_FALSE(snapshot->has_peers);
}

TEST(ClusterRepair, AStatusWithoutTheFiguresIsAPreciseError) {
  EXPECT_EQ(repair_snapshot_from_status("not json").status().code(),
            core::Code::invalid_argument);
  nlohmann::json old = status_document();
  old.erase("anti_entropy");
  auto missing = repair_snapshot_from_status(old.dump());
  EXPECT_EQ(missing.status().code(), core::Code::invalid_argument);
  EXPECT_NE(missing.status().message().find("anti_entropy"), std::string::npos);
  nlohmann::json negative = status_document();
  negative["anti_entropy"]["exchanges_pending"] = -1;
  auto bad = repair_snapshot_from_status(negative.dump());
  EXPECT_NE(bad.status().message().find("anti_entropy.exchanges_pending"), std::string::npos);
  nlohmann::json no_counter = status_document();
  no_counter["counters"].erase("ae_keys_repaired_missing");
  EXPECT_NE(repair_snapshot_from_status(no_counter.dump())
                .status()
                .message()
                .find("counters.ae_keys_repaired_missing"),
            std::string::npos);
}

TEST(ClusterRepair, TextHasOneLinePerNode) {
  NodeRepair one;
  one.id = "n1";
  one.exchanges_finished = 2;
  one.repaired_missing = 1000;
  one.seconds = 0.84;
  EXPECT_EQ(cluster_repair_text({one}),
            "n1  exchanges 2 (0 failed, 0 skipped: peer down)  keys repaired 1000 missing, 0 "
            "inconsistent, 0 background  0.8s\n");
}

}  // namespace
}  // namespace vigil::cli
