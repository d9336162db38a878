// Multicast between real nodes in one process, on real sockets with mutual
// TLS over loopback (the original's mc_test): a subscriber gets a message
// exactly once, a subscriber added later gets none of what was sent before,
// and a later message reaches both. "Exactly once" counts the copies a node
// delivers until it has been quiet for kQuiet; waits are bounded polls that
// fail rather than hang.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/runtime_cluster.h"

namespace lashup::runtime {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr auto kConverge = seconds(20);
constexpr auto kQuiet = seconds(2);

class MulticastCluster : public testing::RuntimeClusterFixture {
 protected:
  MulticastCluster() : RuntimeClusterFixture("/tmp/lashup-multicast-XXXXXX") {}

  // Five nodes, the others joined through the first; returns once every
  // node reaches every other.
  void start_cluster() {
    NodeRuntime& first = start_node("n1", "");
    const std::string contact = "n1@" + first.advertised_address();
    for (int i = 2; i <= 5; ++i) start_node("n" + std::to_string(i), contact);
    ASSERT_TRUE(eventually([&] {
      for (auto& node : nodes_) {
        if (reachable(*node) != nodes_.size() - 1) return false;
      }
      return true;
    }));
  }

  NodeRuntime& node(int number) { return *nodes_.at(static_cast<size_t>(number - 1)); }

  static MulticastStats stats(NodeRuntime& node) {
    auto s = node.ask<MulticastStats>([](Time, NodeCore& core) { return core.multicast().stats(); });
    EXPECT_TRUE(s) << s.status().message();
    return s ? *s : MulticastStats{};
  }

  // The messages `node` delivers from now until it has delivered none for
  // kQuiet, after waiting up to kConverge for the first; other events are
  // skipped.
  static std::vector<McDelivered> deliveries_until_quiet(NodeRuntime& node) {
    std::vector<McDelivered> delivered;
    auto deadline = std::chrono::steady_clock::now() + kConverge;
    while (true) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return delivered;
      auto event = node.poll(left);
      if (!event) continue;
      if (auto* m = std::get_if<McDelivered>(&event->event)) {
        delivered.push_back(std::move(*m));
        deadline = std::chrono::steady_clock::now() + kQuiet;
      }
    }
  }

  template <typename Predicate>
  static bool eventually(Predicate done, milliseconds limit = kConverge) {
    return lashup::testing::eventually(done, limit);
  }

  static wire::Bytes bytes(std::string_view text) { return wire::Bytes(text.begin(), text.end()); }

};

TEST_F(MulticastCluster, a_message_reaches_a_subscriber_once_and_a_late_subscriber_not_at_all) {
  ASSERT_NO_FATAL_FAILURE(start_cluster());
  ASSERT_TRUE(node(1).subscribe("topic1"));

  const wire::Bytes first = bytes("first message");
  auto sequence = node(2).publish_and_wait("topic1", first);
  ASSERT_TRUE(sequence) << sequence.status().message();
  auto at_1 = deliveries_until_quiet(node(1));
  ASSERT_EQ(at_1.size(), 1u);
  EXPECT_EQ(at_1[0].origin, "n2");
  EXPECT_EQ(at_1[0].incarnation, node(2).incarnation());
  EXPECT_EQ(at_1[0].sequence, *sequence);
  EXPECT_EQ(at_1[0].topic, "topic1");
  EXPECT_EQ(at_1[0].payload, first);

  // Node 3 has the first message (unsubscribed, it was not delivered) when
  // its subscriber arrives: it gets no copy of it.
  ASSERT_TRUE(eventually([&] { return stats(node(3)).received >= 1; }));
  EXPECT_EQ(stats(node(3)).no_subscriber, 1u);
  ASSERT_TRUE(node(3).subscribe("topic1"));
  std::this_thread::sleep_for(kQuiet);
  size_t late_copies = 0;
  while (auto event = node(3).poll(milliseconds(0))) late_copies += std::holds_alternative<McDelivered>(event->event);
  EXPECT_EQ(late_copies, 0u);

  // A message published afterwards reaches both subscribers, once each.
  const wire::Bytes second = bytes("second message");
  auto second_sequence = node(2).publish_and_wait("topic1", second);
  ASSERT_TRUE(second_sequence);
  EXPECT_EQ(*second_sequence, *sequence + 1);
  for (int n : {1, 3}) {
    auto got = deliveries_until_quiet(node(n));
    ASSERT_EQ(got.size(), 1u) << "node " << n;
    EXPECT_EQ(got[0].origin, "n2");
    EXPECT_EQ(got[0].sequence, *second_sequence);
    EXPECT_EQ(got[0].payload, second);
  }
  // Nothing was lost or refused on the way.
  for (auto& n : nodes_) {
    const MulticastStats s = stats(*n);
    EXPECT_EQ(s.lost, 0u);
    EXPECT_EQ(s.stale_received, 0u);
  }
}

TEST_F(MulticastCluster, messages_from_every_node_reach_every_subscriber_once) {
  ASSERT_NO_FATAL_FAILURE(start_cluster());
  for (auto& n : nodes_) ASSERT_TRUE(n->subscribe("all"));
  constexpr int kPerNode = 50;
  for (int i = 0; i < kPerNode; ++i) {
    for (auto& n : nodes_) {
      Status s;
      while ((s = n->publish("all", bytes(std::to_string(i)))).code() == StatusCode::again) {
        std::this_thread::sleep_for(milliseconds(1));
      }
      ASSERT_TRUE(s) << s.message();
    }
  }
  for (auto& n : nodes_) {
    auto got = deliveries_until_quiet(*n);
    std::map<std::string, std::set<uint64_t>> by_origin;
    for (const auto& m : got) {
      EXPECT_TRUE(by_origin[m.origin].insert(m.sequence).second)
          << "a second copy of " << m.origin << " " << m.sequence;
    }
    EXPECT_EQ(got.size(), nodes_.size() * kPerNode);
    for (auto& origin : nodes_) {
      const auto& sequences = by_origin[origin->snapshot()->self];
      ASSERT_EQ(sequences.size(), static_cast<size_t>(kPerNode)) << origin->snapshot()->self;
      EXPECT_EQ(*sequences.begin(), 1u);
      EXPECT_EQ(*sequences.rbegin(), static_cast<uint64_t>(kPerNode));
    }
  }
}

}  // namespace
}  // namespace lashup::runtime
