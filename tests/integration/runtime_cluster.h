// Nodes in one process on real sockets (NodeRuntime) with mutual TLS over
// loopback and a data dir each under a temporary directory: the fixture of
// the runtime integration tests.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "runtime/node_runtime.h"
#include "tests/integration/eventually.h"
#include "tests/unit/transport/test_pki.h"

namespace lashup::runtime::testing {

class RuntimeClusterFixture : public ::testing::Test {
 protected:
  explicit RuntimeClusterFixture(const char* dir_pattern) {
    std::string pattern = dir_pattern;
    dir_ = mkdtemp(pattern.data());
  }
  ~RuntimeClusterFixture() override {
    nodes_.clear();
    std::filesystem::remove_all(dir_);
  }

  NodeRuntime& start_node(const std::string& name, const std::string& contacts,
                          const std::string& listen = "127.0.0.1:0") {
    const TlsMaterial tls = pki_.issue(name, name);
    config::Config c;
    auto set = [&](const char* key, const std::string& value) { EXPECT_TRUE(c.set(key, value)) << key; };
    set("node_name", name);
    set("listen_address", listen);
    set("data_dir", (std::filesystem::path(dir_) / name).string());
    set("contact_nodes", contacts);
    set("tls.cert_file", tls.cert_file);
    set("tls.key_file", tls.key_file);
    set("tls.ca_file", tls.ca_file);
    auto node = NodeRuntime::create(c);
    EXPECT_TRUE(node) << node.status().message();
    Status started = (*node)->start();
    EXPECT_TRUE(started) << started.message();
    nodes_.push_back(std::move(*node));
    return *nodes_.back();
  }

  static size_t reachable(NodeRuntime& node) {
    auto count = node.ask<size_t>([](Time, NodeCore& core) { return core.membership().reachable_member_count(); });
    return count ? *count : 0;
  }

  TestPki pki_;
  std::string dir_;
  std::vector<std::unique_ptr<NodeRuntime>> nodes_;
};

}  // namespace lashup::runtime::testing
