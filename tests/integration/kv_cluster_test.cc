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

#include "tests/unit/transport/test_pki.h"

namespace {

namespace fs = std::filesystem;
constexpr int kNodes = 5;
constexpr auto kConvergeLimit = std::chrono::seconds(60);

template <typename Predicate>
bool eventually(Predicate done, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

class KvCluster : public ::testing::Test {
 protected:
  KvCluster() {
    char pattern[] = "/tmp/lashup-kv-cluster-XXXXXX";
    dir_ = mkdtemp(pattern);
  }
  ~KvCluster() override {
    for (auto* node : nodes_) lashup_node_destroy(node);
    fs::remove_all(dir_);
  }

  lashup_node_t* start(const std::string& name, const std::string& contacts) {
    const auto tls = pki_.issue(name, name);
    lashup_config_t* cfg = nullptr;
    EXPECT_EQ(lashup_config_new(&cfg), LASHUP_OK);
    char err[256] = "";
    const std::pair<const char*, std::string> settings[] = {
        {"node_name", name},
        {"listen_address", "127.0.0.1:0"},
        {"data_dir", (fs::path(dir_) / name).string()},
        {"contact_nodes", contacts},
        {"durability", "none"},
        {"kv.anti_entropy_interval_ms", "500"},
        {"tls.cert_file", tls.cert_file},
        {"tls.key_file", tls.key_file},
        {"tls.ca_file", tls.ca_file},
    };
    for (const auto& [key, value] : settings) {
      EXPECT_EQ(lashup_config_set(cfg, key, value.c_str(), err, sizeof err), LASHUP_OK) << err;
    }
    lashup_node_t* node = nullptr;
    EXPECT_EQ(lashup_node_new(&node, cfg, err, sizeof err), LASHUP_OK) << err;
    lashup_config_destroy(cfg);
    if (node == nullptr) return nullptr;
    EXPECT_EQ(lashup_node_start(node), LASHUP_OK) << lashup_last_error();
    nodes_.push_back(node);
    return node;
  }

  static std::string address(lashup_node_t* node) {
    char* text = nullptr;
    EXPECT_EQ(lashup_node_address(node, &text), LASHUP_OK);
    std::string out = text == nullptr ? "" : text;
    lashup_free(text);
    return out;
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

  lashup::runtime::testing::TestPki pki_;
  std::string dir_;
  std::vector<lashup_node_t*> nodes_;
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
