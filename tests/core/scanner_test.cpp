// The scanner (core/scan/scanner.h) over an in-test cluster of 5 nodes with N = 3, where
// no node holds every key: a walk lists every live key exactly once, whichever nodes
// coordinate its pages, across a restart, and past a silent replica (the fallback); a
// range with no replica left fails and says to retry; bad cursors and counts are clear errors;
// DBSIZE's estimate is the replicas' counts over N.

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/scan/key_scan.h"
#include "core/scan/scan_cursor.h"
#include "tests/core/node_cluster.h"

namespace vigil::core {
namespace {

using testing::TestCluster;

constexpr std::size_t cluster_nodes = 5;

ClientRequest scan_request(std::uint64_t cursor, std::uint32_t count) {
  ClientRequest request;
  request.op = ClientOp::scan;
  request.scan_cursor = cursor;
  request.scan_count = count;
  return request;
}

struct WalkResult {
  std::map<Key, int> seen;  // key -> times listed
  std::size_t pages = 0;
  std::size_t largest_page = 0;
};

// Walks from cursor 0 until 0 comes back, page i coordinated by coordinators[i % size].
WalkResult walk(TestCluster& cluster, const std::vector<NodeId>& coordinators,
                std::uint32_t count, const std::function<void(std::size_t page)>& between = {}) {
  WalkResult result;
  std::uint64_t cursor = 0;
  do {
    const NodeId& at = coordinators[result.pages % coordinators.size()];
    const ClientReply reply = cluster.run(at, scan_request(cursor, count));
    EXPECT_TRUE(reply.status.ok()) << reply.status.message();
    if (!reply.status.ok()) break;
    for (const Key& key : reply.keys) ++result.seen[key];
    result.largest_page = std::max(result.largest_page, reply.keys.size());
    cursor = reply.scan_cursor;
    ++result.pages;
    if (between) between(result.pages);
  } while (cursor != 0 && result.pages < 10000);
  return result;
}

class ScannerTest : public ::testing::Test {
 protected:
  ScannerTest() : cluster(cluster_nodes) {
    for (int i = 0; i < 200; ++i) {
      const Key key = "key" + std::to_string(i);
      EXPECT_TRUE(cluster.put("n1", key, "v").status.ok());
      keys.insert(key);
    }
  }

  void expect_each_once(const WalkResult& result) {
    EXPECT_EQ(result.seen.size(), keys.size());
    for (const Key& key : keys) {
      auto it = result.seen.find(key);
      ASSERT_NE(it, result.seen.end()) << key << " not listed";
      EXPECT_EQ(it->second, 1) << key << " listed " << it->second << " times";
    }
    for (const auto& [key, times] : result.seen) EXPECT_TRUE(keys.contains(key)) << key;
  }

  TestCluster cluster;
  std::set<Key> keys;
};

TEST_F(ScannerTest, NoNodeHoldsEveryKey) {
  // The premise of the other tests: a node alone cannot answer a scan.
  for (const NodeId& id : cluster.ids()) {
    std::size_t held = 0;
    for (const Key& key : keys) held += cluster.stored(id, key).has_value() ? 1 : 0;
    EXPECT_LT(held, keys.size()) << id;
  }
}

TEST_F(ScannerTest, AWalkListsEveryKeyOnceFromAnyCoordinators) {
  expect_each_once(walk(cluster, {"n1"}, 10));
  expect_each_once(walk(cluster, {"n2", "n5", "n3"}, 7));
  const WalkResult big = walk(cluster, {"n4"}, 1000);
  expect_each_once(big);
  EXPECT_LE(big.pages, 3U);
}

TEST_F(ScannerTest, PagesHoldAboutCountKeys) {
  const WalkResult result = walk(cluster, {"n1"}, 10);
  expect_each_once(result);
  // A page may grow past COUNT only to finish a 2^16-token bucket: never with these keys.
  EXPECT_LE(result.largest_page, 10U);
  EXPECT_GE(result.pages, keys.size() / 10);
}

TEST_F(ScannerTest, DeletedKeysAreNotListed) {
  for (int i = 0; i < 200; i += 10) {
    const Key key = "key" + std::to_string(i);
    ASSERT_TRUE(cluster.del("n2", key, std::nullopt).status.ok());
    keys.erase(key);
  }
  expect_each_once(walk(cluster, {"n3"}, 25));
}

TEST_F(ScannerTest, ACursorSurvivesARestartOfItsCoordinator) {
  const WalkResult result = walk(cluster, {"n1", "n2"}, 10, [this](std::size_t page) {
    if (page == 5) cluster.restart("n1");
    if (page == 9) cluster.restart("n2");
  });
  expect_each_once(result);
}

TEST_F(ScannerTest, ASilentReplicaIsReplacedByTheNextOne) {
  cluster.down.insert("n4");
  const WalkResult result = walk(cluster, {"n1"}, 50);
  expect_each_once(result);
  EXPECT_GT(cluster.counter("n1", "key_scan_fallbacks"), 0U);
}

TEST_F(ScannerTest, ARangeWithNoReplicaLeftFails) {
  cluster.down = {"n2", "n3", "n4", "n5"};
  std::uint64_t cursor = 0;
  ClientReply reply;
  for (int page = 0; page < 1000; ++page) {
    reply = cluster.run("n1", scan_request(cursor, 10));
    if (!reply.status.ok() || reply.scan_cursor == 0) break;
    cursor = reply.scan_cursor;
  }
  // Every replica tried (unavailable), or the page's request_timeout passed first while they
  // were tried one after another, replication_timeout each (timeout): either way the page
  // fails and says how to go on.
  EXPECT_TRUE(reply.status.code() == Code::unavailable || reply.status.code() == Code::timeout)
      << reply.status.message();
  EXPECT_NE(reply.status.message().find("retry with the same cursor"), std::string::npos)
      << reply.status.message();
}

TEST_F(ScannerTest, BadCursorsAndCountsAreRefused) {
  ClientReply reply = cluster.run("n1", scan_request(17, 10));
  EXPECT_EQ(reply.status.code(), Code::invalid_argument);
  EXPECT_NE(reply.status.message().find("invalid cursor"), std::string::npos);
  reply = cluster.run("n1", scan_request(0, 0));
  EXPECT_EQ(reply.status.code(), Code::invalid_argument);
  reply = cluster.run("n1", scan_request(0, scan_page_keys_max + 1));
  EXPECT_EQ(reply.status.code(), Code::invalid_argument);
}

TEST_F(ScannerTest, KeyCountIsTheReplicasCountsOverN) {
  ClientRequest request;
  request.op = ClientOp::key_count;
  ClientReply reply = cluster.run("n3", request);
  ASSERT_TRUE(reply.status.ok()) << reply.status.message();
  EXPECT_EQ(reply.key_count, keys.size());  // every key on exactly N = 3 of the 5 nodes
  EXPECT_EQ(reply.replicas_answered, cluster_nodes);
  // A silent node is taken to hold the average: still an estimate near the truth.
  cluster.down.insert("n5");
  reply = cluster.run("n3", request);
  ASSERT_TRUE(reply.status.ok()) << reply.status.message();
  EXPECT_EQ(reply.replicas_answered, cluster_nodes - 1);
  EXPECT_GT(reply.key_count, keys.size() / 2);
  EXPECT_LT(reply.key_count, keys.size() * 2);
}

// The replica's side alone: a page ends at a bucket's end, never inside one.
TEST(KeyScan, APageEndsAtABucketEnd) {
  TestCluster cluster(1, [] {
    NodeOptions options;
    options.replicas = 1;
    options.one = options.quorum = options.all = options.default_level = {1, 1};
    return options;
  }());
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(cluster.put("n1", "k" + std::to_string(i), "v").status.ok());
  }
  NodeCounters counters;
  const WallMicros now = testing::wall_epoch_us;
  const KeyScanReply reply =
      scan_span(cluster.storage("n1"), KeyScan{1, 0, ~Token{0}, 7}, counters, now);
  ASSERT_EQ(reply.status.code, Code::ok);
  EXPECT_FALSE(reply.complete);
  EXPECT_EQ(reply.keys.size(), 7U);
  EXPECT_EQ(reply.covered_through, bucket_end(reply.covered_through));
  const KeyScanReply rest = scan_span(
      cluster.storage("n1"), KeyScan{2, reply.covered_through + 1, ~Token{0}, 1000}, counters,
      now);
  ASSERT_EQ(rest.status.code, Code::ok);
  EXPECT_TRUE(rest.complete);
  EXPECT_EQ(reply.keys.size() + rest.keys.size(), 50U);
  const KeyScanReply backwards =
      scan_span(cluster.storage("n1"), KeyScan{3, 5, 4, 10}, counters, now);
  EXPECT_EQ(backwards.status.code, Code::invalid_argument);

  // An expiring key is listed until it has expired on the scanning node's clock.
  ClientRequest expiring;
  expiring.op = ClientOp::put;
  expiring.key = "expiring";
  expiring.value = "v";
  expiring.expires_in = std::chrono::seconds(10);
  ASSERT_TRUE(cluster.run("n1", std::move(expiring)).status.ok());
  const auto listed = [&](WallMicros at) {
    return scan_span(cluster.storage("n1"), KeyScan{4, 0, ~Token{0}, 1000}, counters, at)
        .keys.size();
  };
  EXPECT_EQ(listed(now), 51U);
  EXPECT_EQ(listed(now + 3'600'000'000), 50U);
}

}  // namespace
}  // namespace vigil::core
