// A cluster of nodes in one process, driven only through the public C API,
// with mutual TLS over loopback and a data dir per node under a temporary
// directory: the fixture of the C API integration tests.
#pragma once

#include <gtest/gtest.h>
#include <lashup/lashup.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/integration/eventually.h"
#include "tests/unit/transport/test_pki.h"

namespace lashup::testing {

class CapiClusterFixture : public ::testing::Test {
 protected:
  explicit CapiClusterFixture(const char* dir_pattern = "/tmp/lashup-capi-cluster-XXXXXX") {
    std::string pattern = dir_pattern;
    dir_ = mkdtemp(pattern.data());
  }
  ~CapiClusterFixture() override {
    for (auto* node : nodes_) lashup_node_destroy(node);
    std::filesystem::remove_all(dir_);
  }

  // Creates and starts node `name` (durability none unless `extra` says
  // otherwise; `extra` is applied last).
  lashup_node_t* start(const std::string& name, const std::string& contacts,
                       const std::vector<std::pair<const char*, std::string>>& extra = {}) {
    const auto tls = pki_.issue(name, name);
    lashup_config_t* cfg = nullptr;
    EXPECT_EQ(lashup_config_new(&cfg), LASHUP_OK);
    char err[256] = "";
    std::vector<std::pair<const char*, std::string>> settings = {
        {"node_name", name},
        {"listen_address", "127.0.0.1:0"},
        {"data_dir", (std::filesystem::path(dir_) / name).string()},
        {"contact_nodes", contacts},
        {"durability", "none"},
        {"tls.cert_file", tls.cert_file},
        {"tls.key_file", tls.key_file},
        {"tls.ca_file", tls.ca_file},
    };
    settings.insert(settings.end(), extra.begin(), extra.end());
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

  lashup::runtime::testing::TestPki pki_;
  std::string dir_;
  std::vector<lashup_node_t*> nodes_;
};

}  // namespace lashup::testing
