// The original's kv_test (lashup_kv_SUITE), through the public C API on
// five real nodes over mutual TLS on loopback: each node, as soon as it has
// started and before the overlay has converged, adds 5 to the counter of
// its own key and 5 to the shared "god_counter". Deltas multicast before a
// node is in the others' trees are lost; anti-entropy repairs them, so
// within a generous limit every node reads every node's key as 5 and
// god_counter as 25. Waits are bounded polls; nothing measures speed.
#include <gtest/gtest.h>
#include <lashup/lashup.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/capi_cluster.h"

namespace {

using lashup::testing::eventually;
constexpr int kNodes = 5;
constexpr auto kConvergeLimit = std::chrono::seconds(60);

class KvCluster : public lashup::testing::CapiClusterFixture {
 protected:
  KvCluster() : CapiClusterFixture("/tmp/lashup-kv-cluster-XXXXXX") {}

  lashup_node_t* start(const std::string& name, const std::string& contacts) {
    return CapiClusterFixture::start(name, contacts, {{"kv.anti_entropy_interval_ms", "500"}});
  }

  static int add(lashup_node_t* node, const std::string& key, int64_t amount) {
    lashup_kv_ops_t* ops = nullptr;
    if (lashup_kv_ops_new(&ops) != LASHUP_OK) return LASHUP_ERR_NOMEM;
    int rc = lashup_kv_ops_counter_add(ops, "value", amount);
    if (rc == LASHUP_OK) rc = lashup_kv_update(node, key.data(), key.size(), ops, nullptr, nullptr);
    lashup_kv_ops_destroy(ops);
    return rc;
  }

  // The counter "value" of key on node; -1 when the key is absent.
  static int64_t read(lashup_node_t* node, const std::string& key) {
    lashup_kv_value_t* value = nullptr;
    if (lashup_kv_get(node, key.data(), key.size(), &value) != LASHUP_OK) return -1;
    int64_t out = -1;
    for (size_t i = 0; i < lashup_kv_value_field_count(value); ++i) {
      size_t len = 0;
      const char* name = lashup_kv_value_field_name(value, i, &len);
      if (lashup_kv_value_field_type(value, i) == LASHUP_KV_COUNTER && std::string(name, len) == "value") {
        out = lashup_kv_value_counter(value, i);
      }
    }
    lashup_kv_value_destroy(value);
    return out;
  }

  std::vector<std::string> names_;
};

TEST_F(KvCluster, writes_made_before_the_overlay_converges_reach_every_node) {
  std::string contacts;
  for (int i = 0; i < kNodes; ++i) {
    const std::string name = "n" + std::to_string(i);
    lashup_node_t* node = start(name, contacts);
    ASSERT_NE(node, nullptr);
    if (i == 0) contacts = "n0@" + address(node);
    names_.push_back(name);
    // At once, while the node is still joining.
    ASSERT_EQ(add(node, name, 5), LASHUP_OK) << lashup_last_error();
    ASSERT_EQ(add(node, "god_counter", 5), LASHUP_OK) << lashup_last_error();
  }
  const bool converged = eventually(
      [&] {
        for (auto* node : nodes_) {
          if (read(node, "god_counter") != 5 * kNodes) return false;
          for (const auto& name : names_) {
            if (read(node, name) != 5) return false;
          }
        }
        return true;
      },
      kConvergeLimit);
  for (auto* node : nodes_) {
    EXPECT_EQ(read(node, "god_counter"), 5 * kNodes) << "on " << lashup_node_name(node);
    for (const auto& name : names_) EXPECT_EQ(read(node, name), 5) << name << " on " << lashup_node_name(node);
  }
  EXPECT_TRUE(converged);
}

}  // namespace
