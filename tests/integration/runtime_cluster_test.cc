// Three nodes in one process on real sockets with mutual TLS over loopback:
// they find each other through one contact node, and a node whose process
// state is torn down is reported unreachable by the others. Waits are
// bounded polls that fail rather than hang.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "tests/integration/runtime_cluster.h"

namespace lashup::runtime {
namespace {

using lashup::testing::eventually;

class RuntimeCluster : public testing::RuntimeClusterFixture {
 protected:
  RuntimeCluster() : RuntimeClusterFixture("/tmp/lashup-runtime-XXXXXX") {}
};

TEST_F(RuntimeCluster, three_nodes_find_each_other_through_one_contact) {
  NodeRuntime& a = start_node("a", "");
  const std::string contact = "a@" + a.advertised_address();
  NodeRuntime& b = start_node("b", contact);
  NodeRuntime& c = start_node("c", contact);
  EXPECT_TRUE(eventually([&] { return reachable(a) == 2 && reachable(b) == 2 && reachable(c) == 2; },
                         std::chrono::seconds(15)))
      << reachable(a) << " " << reachable(b) << " " << reachable(c);
  // Events were queued for the application, and the fd says so.
  EXPECT_TRUE(a.poll(std::chrono::milliseconds(0)).has_value());
}

TEST_F(RuntimeCluster, a_stopped_node_is_reported_unreachable_by_the_others) {
  NodeRuntime& a = start_node("a", "");
  const std::string contact = "a@" + a.advertised_address();
  NodeRuntime& b = start_node("b", contact);
  start_node("c", contact);
  ASSERT_TRUE(eventually([&] { return reachable(a) == 2 && reachable(b) == 2; }, std::chrono::seconds(15)));
  nodes_.back()->stop();  // its sockets close, as a crashed process's would
  EXPECT_TRUE(eventually([&] { return reachable(a) == 1 && reachable(b) == 1; }, std::chrono::seconds(10)));
}

TEST_F(RuntimeCluster, a_restart_raises_the_incarnation_kept_in_the_data_dir) {
  Incarnation first = 0;
  {
    NodeRuntime& a = start_node("a", "");
    first = a.incarnation();
    nodes_.clear();
  }
  NodeRuntime& again = start_node("a", "");
  EXPECT_GT(again.incarnation(), first);
}

TEST_F(RuntimeCluster, a_contact_given_by_address_only_is_named_by_the_handshake) {
  NodeRuntime& a = start_node("a", "");
  NodeRuntime& b = start_node("b", a.advertised_address());
  NodeRuntime& c = start_node("c", "b@" + b.advertised_address());
  EXPECT_TRUE(eventually([&] { return reachable(a) == 2 && reachable(b) == 2 && reachable(c) == 2; },
                         std::chrono::seconds(15)))
      << reachable(a) << " " << reachable(b) << " " << reachable(c);
}

TEST_F(RuntimeCluster, a_contact_that_comes_up_later_is_retried) {
  // b's contact is an address nobody listens on yet; a comes up there later.
  const int port = [] {
    // A free port: bind, read it, close.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return static_cast<int>(ntohs(addr.sin_port));
  }();
  const std::string address = "127.0.0.1:" + std::to_string(port);
  NodeRuntime& b = start_node("b", address);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a few failed attempts first
  NodeRuntime& a = start_node("a", "", address);
  EXPECT_TRUE(eventually([&] { return reachable(a) == 1 && reachable(b) == 1; }, std::chrono::seconds(15)));
}

TEST(RuntimeConfig, a_node_needs_a_name_a_data_dir_and_tls_files) {
  config::Config c;
  EXPECT_EQ(NodeRuntime::create(c).status().message(), "node_name: required to start a node");
  ASSERT_TRUE(c.set("node_name", "a"));
  EXPECT_EQ(NodeRuntime::create(c).status().message(), "data_dir: required to start a node");
  ASSERT_TRUE(c.set("data_dir", "/tmp/x"));
  EXPECT_EQ(NodeRuntime::create(c).status().message(), "tls.cert_file: required when tls is on");
  ASSERT_TRUE(c.set("tls", "off"));
  ASSERT_TRUE(c.set("listen_address", "127.0.0.1:0"));
  ASSERT_TRUE(c.set("contact_nodes", "127.0.0.1:7450"));
  EXPECT_TRUE(NodeRuntime::create(c));  // a contact by address only is fine
  ASSERT_TRUE(c.set("contact_nodes", ""));
  ASSERT_TRUE(c.set("listen_address", "0.0.0.0:7450"));
  EXPECT_NE(NodeRuntime::create(c).status().message().find("advertise_address"), std::string::npos);
}

}  // namespace
}  // namespace lashup::runtime
