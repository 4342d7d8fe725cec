// SCAN, KEYS and DBSIZE on a real 5-node cluster with N = 3, where no node holds every key,
// through hiredis: a walk whose pages go to different nodes lists each of a few hundred keys
// exactly once, deleted keys are not listed, a killed node's ranges are read from another
// replica, KEYS is bounded by client.keys_max, DBSIZE estimates the count.

#include <map>
#include <set>

#include "tests/integration/cluster_fixture.h"

namespace vigil::integration {
namespace {

constexpr int key_count = 300;
constexpr int keys_max = 250;  // client.keys_max below: KEYS of every key is refused

class ClusterScan : public ClusterTest {
 protected:
  std::size_t cluster_size() const override { return 5; }
  std::string overlay() const override {
    return std::string(test_overlay) + "client:\n  keys_max: " + std::to_string(keys_max) + "\n";
  }

  // Walks with SCAN from cursor 0, page i on node coordinators[i % size]; key -> times.
  std::map<std::string, int> walk(std::vector<redisContext*> coordinators,
                                  const std::vector<std::string>& options) {
    std::map<std::string, int> seen;
    std::string cursor = "0";
    for (std::size_t page = 0; page < 10000; ++page) {
      std::vector<std::string> arguments{"SCAN", cursor};
      arguments.insert(arguments.end(), options.begin(), options.end());
      const Reply reply = command(coordinators[page % coordinators.size()], arguments);
      EXPECT_TRUE(reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2)
          << "SCAN " << cursor << ": " << text(reply);
      if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) break;
      cursor.assign(reply->element[0]->str, reply->element[0]->len);
      for (std::size_t i = 0; i < reply->element[1]->elements; ++i) {
        const redisReply* key = reply->element[1]->element[i];
        ++seen[std::string(key->str, key->len)];
      }
      if (cursor == "0") break;
    }
    return seen;
  }
};

TEST_F(ClusterScan, EachKeyOnceAcrossNodesAndAFailure) {
  std::vector<Redis> clients;
  for (std::size_t i = 0; i < cluster_size(); ++i) clients.push_back(connect(i));
  std::set<std::string> live;
  for (int batch = 0; batch < key_count / 50; ++batch) {
    std::vector<std::string> mset{"MSET"};
    for (int i = batch * 50; i < (batch + 1) * 50; ++i) {
      mset.push_back("scan:" + std::to_string(i));
      mset.push_back("v");
      live.insert("scan:" + std::to_string(i));
    }
    ASSERT_EQ(text(command(clients[batch % clients.size()].get(), mset)), "+OK");
  }
  for (int i = 0; i < key_count; i += 30) {
    ASSERT_EQ(text(command(clients[1].get(), {"DEL", "scan:" + std::to_string(i)})), ":1");
    live.erase("scan:" + std::to_string(i));
  }
  const auto expect_each_once = [&live](const std::map<std::string, int>& seen) {
    EXPECT_EQ(seen.size(), live.size());
    for (const auto& [key, times] : seen) {
      EXPECT_TRUE(live.contains(key)) << key << " listed but not live";
      EXPECT_EQ(times, 1) << key << " listed " << times << " times";
    }
  };
  expect_each_once(walk({clients[0].get(), clients[2].get(), clients[4].get()}, {"COUNT", "17"}));
  // MATCH filters each page after the walk: the same keys, fewer per page.
  const auto matched = walk({clients[3].get()}, {"MATCH", "scan:1?", "COUNT", "50"});
  EXPECT_EQ(matched.size(), 10U);  // scan:10..19 (the deleted keys are multiples of 30)

  // KEYS: a narrow walk is refused past client.keys_max, as any walk of this keyspace.
  EXPECT_NE(text(command(clients[0].get(), {"KEYS", "*"})).find("client.keys_max"),
            std::string::npos);
  const Reply bad = command(clients[0].get(), {"SCAN", "12345"});
  EXPECT_NE(text(bad).find("invalid cursor"), std::string::npos) << text(bad);

  const Reply size = command(clients[2].get(), {"DBSIZE"});
  ASSERT_TRUE(size && size->type == REDIS_REPLY_INTEGER) << text(size);
  EXPECT_GE(size->integer, static_cast<long long>(live.size()) * 8 / 10);
  EXPECT_LE(size->integer, key_count * 12 / 10);
  const Reply info = command(clients[2].get(), {"INFO", "keyspace"});
  EXPECT_NE(text(info).find("estimate=1"), std::string::npos) << text(info);

  // A killed node: every range it holds has two other replicas, which answer instead.
  ASSERT_EQ(cluster("kill", "n5").exit_code, 0);
  expect_each_once(walk({clients[0].get(), clients[1].get()}, {"COUNT", "100"}));
}

}  // namespace
}  // namespace vigil::integration
