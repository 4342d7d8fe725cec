// The files of a local cluster: ports from a base port, the layout file, node configs.

#include "cli/cluster_layout.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "cli/cluster_files.h"
#include "cli/cluster_ports.h"
#include "config/config_yaml.h"

#include "tests/support/temp_directory.h"

namespace vigil::cli {
namespace {

using testing_support::TempDirectory;

TEST(ClusterLayout, BasePortGivesThreeBlocksOfPorts) {
  const core::Result<ClusterLayout> layout = layout_from_base_port("/c", 3, 6401);
  ASSERT_TRUE(layout.ok()) << layout.status().to_string();
  ASSERT_EQ(layout->nodes.size(), 3u);
  EXPECT_EQ(layout->nodes[0].id, "n1");
  EXPECT_EQ(layout->nodes[2].id, "n3");
  EXPECT_EQ(layout->nodes[1].client, (config::Address{"127.0.0.1", 6402}));
  EXPECT_EQ(layout->nodes[1].listen, (config::Address{"127.0.0.1", 6502}));
  EXPECT_EQ(layout->nodes[1].admin, (config::Address{"127.0.0.1", 6602}));
}

TEST(ClusterLayout, RefusesNodeCountsAndPortsOutOfRange) {
  EXPECT_EQ(layout_from_base_port("/c", 0, 6401).status().code(), core::Code::invalid_argument);
  EXPECT_EQ(layout_from_base_port("/c", cluster_nodes_max + 1, 6401).status().code(),
            core::Code::invalid_argument);
  EXPECT_EQ(layout_from_base_port("/c", 3, 80).status().code(), core::Code::invalid_argument);
  const core::Result<ClusterLayout> too_high = layout_from_base_port("/c", 3, 65400);
  ASSERT_FALSE(too_high.ok());
  EXPECT_NE(too_high.status().message().find("--base-port must be"), std::string::npos);
  EXPECT_TRUE(layout_from_base_port("/c", 3, cluster_base_port_max(3)).ok());
  EXPECT_FALSE(layout_from_base_port("/c", 3, cluster_base_port_max(3) + 1).ok());
}

TEST(ClusterLayout, JsonRoundTrips) {
  const core::Result<ClusterLayout> layout = layout_from_base_port("/c", 5, 20000);
  ASSERT_TRUE(layout.ok());
  const core::Result<ClusterLayout> back = layout_from_json(layout_to_json(*layout), "/c", "f");
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, *layout);
}

TEST(ClusterLayout, TlsIsRecordedAndTurnsOnEveryPortWithTheClusterCertificates) {
  core::Result<ClusterLayout> layout = layout_from_base_port("/c", 3, 20000);
  ASSERT_TRUE(layout.ok());
  layout->tls = true;
  const std::string json = layout_to_json(*layout);
  EXPECT_NE(json.find("\"tls\": true"), std::string::npos);
  EXPECT_EQ(*layout_from_json(json, "/c", "f"), *layout);
  EXPECT_FALSE(layout_from_json(R"({"nodes": [{"id": "n1", "listen": "h:1", "client": "h:2",
                                   "admin": "h:3"}], "tls": 1})",
                                "/c", "f")
                   .ok());
  const core::Result<config::Config> config = node_config(*layout, 1, config::Config{});
  ASSERT_TRUE(config.ok()) << config.status().to_string();
  const config::Config::Security::Tls& tls = config->security.tls;
  EXPECT_TRUE(tls.client && tls.peer && tls.admin);
  EXPECT_EQ(tls.cert_file, "/c/tls/n2.pem");
  EXPECT_EQ(tls.key_file, "/c/tls/n2.key");
  EXPECT_EQ(tls.ca_file, "/c/tls/ca.pem");
  layout->tls = false;
  EXPECT_FALSE(node_config(*layout, 1, config::Config{})->security.tls.any());
}

TEST(ClusterLayout, BadJsonIsRefusedWithTheSourceNamed) {
  for (const char* text :
       {"", "{", "[]", "{\"nodes\": []}", "{\"nodes\": [{\"id\": \"n2\"}]}",
        R"({"nodes": [{"id": "n1", "listen": "127.0.0.1:1", "client": "127.0.0.1:2"}]})",
        R"({"nodes": [{"id": "n1", "listen": "x", "client": "127.0.0.1:2", "admin": "a:3"}]})",
        R"({"nodes": [{"id": "n1", "listen": "h:1", "client": "h:1", "admin": "h:3"}]})"}) {
    const core::Result<ClusterLayout> layout = layout_from_json(text, "/c", "cluster.json");
    ASSERT_FALSE(layout.ok()) << text;
    EXPECT_EQ(layout.status().code(), core::Code::invalid_argument);
    EXPECT_EQ(layout.status().message().rfind("cluster.json", 0), 0u) << layout.status().message();
  }
}

TEST(ClusterLayout, NodeConfigNamesEveryNodeAsSeedInTheSameOrder) {
  const core::Result<ClusterLayout> layout = layout_from_base_port("/c", 3, 6401);
  ASSERT_TRUE(layout.ok());
  config::Config overlay;
  overlay.timing.request_timeout = std::chrono::seconds(2);
  for (std::size_t i = 0; i < 3; ++i) {
    const core::Result<config::Config> config = node_config(*layout, i, overlay);
    ASSERT_TRUE(config.ok()) << config.status().to_string();
    EXPECT_EQ(config->node.id, layout->nodes[i].id);
    EXPECT_EQ(config->node.client, layout->nodes[i].client);
    EXPECT_EQ(config->node.data_dir, "/c/n" + std::to_string(i + 1) + "/data");
    ASSERT_EQ(config->node.seeds.size(), 3u);
    for (std::size_t k = 0; k < 3; ++k) {
      EXPECT_EQ(config->node.seeds[k].id, layout->nodes[k].id);
      EXPECT_EQ(config->node.seeds[k].address, layout->nodes[k].listen);
    }
    EXPECT_EQ(config->timing.request_timeout, std::chrono::seconds(2));
  }
}

TEST(ClusterLayout, NodeConfigRefusesAReplicationFactorLargerThanTheCluster) {
  const core::Result<ClusterLayout> layout = layout_from_base_port("/c", 2, 6401);
  ASSERT_TRUE(layout.ok());
  const core::Result<config::Config> config = node_config(*layout, 0, config::Config{});
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("quorum_settings.N (3)"), std::string::npos);
}

TEST(ClusterLayout, WrittenConfigsLoadBackAndAreKeptUnlessOverwritten) {
  TempDirectory temp{"vigil-layout"};
  const core::Result<ClusterLayout> layout = layout_from_base_port(temp.path(), 3, 6401);
  ASSERT_TRUE(layout.ok());
  ASSERT_TRUE(save_layout(*layout).ok());
  config::Config overlay;
  overlay.timing.request_timeout = std::chrono::seconds(2);
  ASSERT_TRUE(write_node_configs(*layout, overlay, false).ok());
  EXPECT_TRUE(std::filesystem::is_directory(node_data_dir(*layout, 2)));
  core::Result<std::string> text = read_small_file(node_config_path(*layout, 1));
  ASSERT_TRUE(text.ok());
  const core::Result<config::Config> loaded = config::config_from_yaml(*text, "node.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
  EXPECT_EQ(*loaded, *node_config(*layout, 1, overlay));

  // Without overwrite a rerun keeps the file (here: an edit survives); with it, it is redone.
  ASSERT_TRUE(write_file_atomically(node_config_path(*layout, 1), "# edited\n").ok());
  ASSERT_TRUE(write_node_configs(*layout, config::Config{}, false).ok());
  EXPECT_EQ(*read_small_file(node_config_path(*layout, 1)), "# edited\n");
  ASSERT_TRUE(write_node_configs(*layout, config::Config{}, true).ok());
  EXPECT_NE(*read_small_file(node_config_path(*layout, 1)), "# edited\n");

  const core::Result<ClusterLayout> reloaded = load_layout(temp.path());
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().to_string();
  EXPECT_EQ(*reloaded, *layout);
  EXPECT_EQ(load_layout(temp.path() + "/absent").status().code(), core::Code::not_found);
}

TEST(ClusterLayout, NodeIndexNamesTheKnownIds) {
  const core::Result<ClusterLayout> layout = layout_from_base_port("/c", 3, 6401);
  ASSERT_TRUE(layout.ok());
  EXPECT_EQ(*node_index(*layout, "n3"), 2u);
  const core::Result<std::size_t> missing = node_index(*layout, "n9");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("n1, n2, n3"), std::string::npos);
}

TEST(ClusterPorts, ChosenBasePortHasEveryPortFree) {
  const core::Result<std::uint32_t> base = choose_base_port(3);
  ASSERT_TRUE(base.ok()) << base.status().to_string();
  for (std::uint32_t block = 0; block < 3; ++block) {
    for (std::uint32_t k = 0; k < 3; ++k) {
      EXPECT_TRUE(loopback_port_free(
          static_cast<std::uint16_t>(*base + block * cluster_port_stride + k)));
    }
  }
}

}  // namespace
}  // namespace vigil::cli
