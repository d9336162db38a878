// The simulated network: connections, latency, FIFO, partitions, clogs, bounds.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "sim_test_cluster.h"

namespace lashup::sim::testing {
namespace {

NetworkConfig jittery_network() {
  NetworkConfig network;
  network.latency = LinkLatency{Duration(100), 10ms};  // jitter 100x the base: reordering is likely
  return network;
}

TEST(SimNetwork, connect_reports_up_to_both_sides_after_the_handshake) {
  Cluster cluster(2);
  const Time asked = cluster.sim().now();
  cluster.connect(0, 1);
  cluster.run_for(100ms);
  const auto accepted = cluster.core(1).inputs(Kind::connection_up, cluster.name(0));
  const auto established = cluster.core(0).inputs(Kind::connection_up, cluster.name(1));
  ASSERT_EQ(accepted.size(), 1u);
  ASSERT_EQ(established.size(), 1u);
  // The dialer learns one round trip after asking, the listener one way.
  EXPECT_GT(accepted[0].at, asked);
  EXPECT_GT(established[0].at, accepted[0].at);
}

TEST(SimNetwork, fifo_within_a_connection_survives_jitter) {
  Cluster cluster(2, jittery_network());
  cluster.connect_and_settle(0, 1);
  // 500 messages sent at one instant, then 500 sent 5 us apart: each draws a
  // latency in [0.1, 10.1] ms, yet they must arrive in the order sent.
  Actions burst;
  for (uint32_t i = 0; i < 500; ++i) burst.send(cluster.name(1), bytes_of(i));
  cluster.sim().execute(0, std::move(burst));
  for (uint32_t i = 500; i < 1000; ++i) {
    cluster.sim().after(Duration(5 * (i - 499)), [&cluster, i] { cluster.send(0, 1, i); });
  }
  cluster.run_for(1s);
  std::vector<uint32_t> expected(1000);
  std::iota(expected.begin(), expected.end(), 0u);
  EXPECT_EQ(cluster.received(1, 0), expected);
}

TEST(SimNetwork, messages_on_different_connections_can_overtake_each_other) {
  Cluster cluster(3, jittery_network());
  cluster.connect_and_settle(0, 1);
  cluster.connect_and_settle(2, 1);
  // n0 and n2 alternate, 10 us apart; arrivals at n1 interleave differently.
  for (uint32_t i = 0; i < 200; ++i) {
    const NodeIndex sender = i % 2 == 0 ? 0 : 2;
    cluster.sim().after(Duration(10 * i), [&cluster, sender, i] { cluster.send(sender, 1, i); });
  }
  cluster.run_for(1s);
  std::vector<uint32_t> arrival_order;
  for (const auto& input : cluster.core(1).inputs(Kind::message)) arrival_order.push_back(value_of(input.message));
  ASSERT_EQ(arrival_order.size(), 200u);
  EXPECT_FALSE(std::is_sorted(arrival_order.begin(), arrival_order.end()));
}

TEST(SimNetwork, one_way_partition_drops_only_one_direction) {
  Cluster cluster(2);
  cluster.connect_and_settle(0, 1);
  const NodeIndex n0[] = {0};
  const NodeIndex n1[] = {1};
  const PartitionId cut = cluster.sim().partition_one_way(n0, n1);
  for (uint32_t i = 0; i < 10; ++i) {
    cluster.send(0, 1, i);
    cluster.send(1, 0, 100 + i);
  }
  cluster.run_for(1s);
  EXPECT_TRUE(cluster.received(1, 0).empty());
  EXPECT_EQ(cluster.received(0, 1).size(), 10u);
  EXPECT_EQ(cluster.sim().stats().dropped_partition, 10u);
  // A blackhole closes nothing.
  EXPECT_EQ(cluster.count(0, Kind::connection_down, 1), 0u);
  EXPECT_EQ(cluster.count(1, Kind::connection_down, 0), 0u);

  cluster.sim().heal(cut);
  cluster.send(0, 1, 42);
  cluster.run_for(100ms);
  EXPECT_EQ(cluster.received(1, 0), std::vector<uint32_t>{42});
}

TEST(SimNetwork, symmetric_partition_drops_both_directions_until_healed) {
  Cluster cluster(4);
  cluster.connect_and_settle(0, 2);
  cluster.connect_and_settle(1, 3);
  const NodeIndex left[] = {0, 1};
  const NodeIndex right[] = {2, 3};
  cluster.sim().partition(left, right);
  cluster.send(0, 2, 1);
  cluster.send(2, 0, 2);
  cluster.send(3, 1, 3);
  cluster.run_for(1s);
  EXPECT_TRUE(cluster.received(2, 0).empty());
  EXPECT_TRUE(cluster.received(0, 2).empty());
  EXPECT_TRUE(cluster.received(1, 3).empty());
  cluster.sim().heal_all();
  cluster.send(3, 1, 4);
  cluster.run_for(100ms);
  EXPECT_EQ(cluster.received(1, 3), std::vector<uint32_t>{4});
}

TEST(SimNetwork, connect_across_a_partition_times_out) {
  NetworkConfig network;
  network.connect_timeout = 750ms;
  Cluster cluster(2, network);
  const NodeIndex n0[] = {0};
  const NodeIndex n1[] = {1};
  // One way is enough: a handshake needs both.
  cluster.sim().partition_one_way(n1, n0);
  const Time asked = cluster.sim().now();
  cluster.connect(0, 1);
  cluster.run_for(2s);
  const auto down = cluster.core(0).inputs(Kind::connection_down, cluster.name(1));
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(down[0].at, asked + 750ms);
  EXPECT_TRUE(cluster.core(1).inputs(Kind::connection_up).empty());
  EXPECT_EQ(cluster.sim().stats().connects_failed, 1u);
}

TEST(SimNetwork, send_without_a_connection_is_dropped_and_reported_down) {
  Cluster cluster(2);
  cluster.send(0, 1, 7);
  Actions to_nobody;
  to_nobody.send("no-such-node", bytes_of(8));
  cluster.sim().execute(0, std::move(to_nobody));
  cluster.run_for(100ms);
  EXPECT_TRUE(cluster.received(1, 0).empty());
  EXPECT_EQ(cluster.count(0, Kind::connection_down, 1), 1u);
  EXPECT_EQ(cluster.core(0).inputs(Kind::connection_down, "no-such-node").size(), 1u);
  EXPECT_EQ(cluster.sim().stats().dropped_no_connection, 2u);
}

TEST(SimNetwork, in_flight_messages_beyond_the_cap_are_dropped_and_counted) {
  NetworkConfig network;
  network.max_in_flight_per_direction = 10;
  Cluster cluster(2, network);
  cluster.connect_and_settle(0, 1);
  Actions flood;
  for (uint32_t i = 0; i < 15; ++i) flood.send(cluster.name(1), bytes_of(i));
  cluster.sim().execute(0, std::move(flood));
  cluster.run_for(100ms);
  EXPECT_EQ(cluster.received(1, 0), (std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(cluster.sim().stats().dropped_queue_full, 5u);
  // Delivered messages free their place.
  cluster.send(0, 1, 99);
  cluster.run_for(100ms);
  EXPECT_EQ(cluster.received(1, 0).back(), 99u);
}

TEST(SimNetwork, clog_holds_traffic_then_releases_it_in_order) {
  Cluster cluster(2, jittery_network());
  cluster.connect_and_settle(0, 1);
  const Time clogged_at = cluster.sim().now();
  cluster.sim().clog_one_way(0, 1, 500ms);
  for (uint32_t i = 0; i < 5; ++i) cluster.sim().after(20ms * i, [&cluster, i] { cluster.send(0, 1, i); });
  cluster.send(1, 0, 100);  // the other direction is not clogged
  cluster.run_for(499ms);
  EXPECT_TRUE(cluster.received(1, 0).empty());
  EXPECT_EQ(cluster.received(0, 1), std::vector<uint32_t>{100});
  cluster.run_for(100ms);
  EXPECT_EQ(cluster.received(1, 0), (std::vector<uint32_t>{0, 1, 2, 3, 4}));
  for (const auto& input : cluster.core(1).inputs(Kind::message)) EXPECT_GE(input.at, clogged_at + 500ms);
}

TEST(SimNetwork, clogged_node_neither_sends_nor_receives_until_released) {
  Cluster cluster(3);
  cluster.connect_and_settle(0, 1);
  cluster.connect_and_settle(2, 0);
  cluster.sim().clog_node(0, 300ms);
  cluster.send(0, 1, 1);
  cluster.send(2, 0, 2);
  cluster.run_for(250ms);
  EXPECT_TRUE(cluster.received(1, 0).empty());
  EXPECT_TRUE(cluster.received(0, 2).empty());
  cluster.run_for(100ms);
  EXPECT_EQ(cluster.received(1, 0), std::vector<uint32_t>{1});
  EXPECT_EQ(cluster.received(0, 2), std::vector<uint32_t>{2});
}

TEST(SimNetwork, disconnect_delivers_pending_messages_then_down_to_the_peer) {
  Cluster cluster(2, jittery_network());
  cluster.connect_and_settle(0, 1);
  Actions actions;
  for (uint32_t i = 0; i < 20; ++i) actions.send(cluster.name(1), bytes_of(i));
  actions.disconnect(cluster.name(1));
  cluster.sim().execute(0, std::move(actions));
  cluster.run_for(100ms);
  EXPECT_EQ(cluster.received(1, 0).size(), 20u);
  const auto& inputs = cluster.core(1).inputs();
  ASSERT_FALSE(inputs.empty());
  EXPECT_EQ(inputs.back().kind, Kind::connection_down);
  EXPECT_EQ(cluster.count(0, Kind::connection_down, 1), 0u);  // the closer is not told
  EXPECT_FALSE(cluster.sim().connected(1, 0));
}

TEST(SimNetwork, both_ends_dialing_at_once_share_one_connection) {
  Cluster cluster(2);
  cluster.connect(0, 1);
  cluster.sim().after(Duration(100), [&cluster] { cluster.connect(1, 0); });
  cluster.run_for(100ms);
  EXPECT_EQ(cluster.count(0, Kind::connection_up, 1), 1u);
  EXPECT_EQ(cluster.count(1, Kind::connection_up, 0), 1u);
  cluster.send(0, 1, 5);
  cluster.send(1, 0, 6);
  cluster.run_for(100ms);
  EXPECT_EQ(cluster.received(1, 0), std::vector<uint32_t>{5});
  EXPECT_EQ(cluster.received(0, 1), std::vector<uint32_t>{6});
}

TEST(SimNetwork, both_ends_dialing_into_a_new_partition_both_time_out) {
  NetworkConfig network;
  network.connect_timeout = 500ms;
  Cluster cluster(2, network);
  cluster.connect(0, 1);
  cluster.sim().after(Duration(100), [&cluster] { cluster.connect(1, 0); });  // joins n0's attempt
  cluster.sim().after(Duration(200), [&cluster] {
    const NodeIndex n0[] = {0};
    const NodeIndex n1[] = {1};
    cluster.sim().partition_one_way(n1, n0);  // the answer to n0's SYN is lost
  });
  cluster.run_for(1s);
  EXPECT_EQ(cluster.count(0, Kind::connection_down, 1), 1u);
  EXPECT_EQ(cluster.count(1, Kind::connection_down, 0), 1u);
  EXPECT_EQ(cluster.count(0, Kind::connection_up, 1), 0u);
  EXPECT_EQ(cluster.count(1, Kind::connection_up, 0), 0u);
}

TEST(SimNetwork, per_link_latency_function_sets_each_link) {
  NetworkConfig network;
  network.link_latency = [](NodeIndex from, NodeIndex to) {
    return LinkLatency{(from + to) % 2 == 0 ? Duration(1000) : Duration(40000), Duration(0)};
  };
  Cluster cluster(3, network);
  cluster.connect_and_settle(0, 2);  // near: 1 ms
  cluster.connect(0, 1);             // far: 40 ms
  cluster.run_for(200ms);
  const Time sent = cluster.sim().now();
  cluster.send(0, 2, 1);
  cluster.send(0, 1, 2);
  cluster.run_for(100ms);
  EXPECT_EQ(cluster.core(2).inputs(Kind::message)[0].at, sent + 1ms);
  EXPECT_EQ(cluster.core(1).inputs(Kind::message)[0].at, sent + 40ms);
}

TEST(SimNetwork, each_message_and_each_reply_reaches_the_node_it_names) {
  // Names longer than 8 bytes and alike in their first 8 (both the name
  // index and a node's recent contacts must then confirm the whole name),
  // and more peers in turn than a node's contacts hold.
  constexpr uint32_t kPeers = 11;
  SimConfig config;
  config.nodes = kPeers + 1;
  config.name_of = [](NodeIndex node) { return "cluster-node-" + std::to_string(100 + node); };
  std::vector<RecordingCore*> cores(config.nodes, nullptr);
  Simulation sim(config, [&cores](const NodeContext& node) {
    const bool echoes = node.index != 0;
    auto core = std::make_unique<RecordingCore>(DurableStore::Map{}, [echoes](const RecordingCore::Input& input) {
      Actions out;
      if (echoes && input.kind == Kind::message) out.send(input.peer, input.message);
      return out;
    });
    cores[node.index] = core.get();
    return core;
  });
  sim.start_all();
  ASSERT_TRUE(sim.run_for(Duration(1)).ok);
  Actions connects;
  for (NodeIndex peer = 1; peer <= kPeers; ++peer) connects.connect(sim.name(peer), sim.name(peer) + ":7450");
  sim.execute(0, std::move(connects));
  ASSERT_TRUE(sim.run_for(100ms).ok);

  constexpr uint32_t kRounds = 10;
  for (uint32_t i = 0; i < kPeers * kRounds; ++i) {
    sim.after(Duration(10 * i), [&sim, i] {
      Actions out;
      out.send(sim.name(1 + i % kPeers), bytes_of(i));
      sim.execute(0, std::move(out));
    });
  }
  ASSERT_TRUE(sim.run_for(1s).ok);
  for (NodeIndex peer = 1; peer <= kPeers; ++peer) {
    std::vector<uint32_t> expected;
    for (uint32_t round = 0; round < kRounds; ++round) expected.push_back(round * kPeers + peer - 1);
    std::vector<uint32_t> received;
    for (const auto& input : cores[peer]->inputs(Kind::message)) {
      EXPECT_EQ(input.peer, sim.name(0));
      received.push_back(value_of(input.message));
    }
    EXPECT_EQ(received, expected) << sim.name(peer);
    std::vector<uint32_t> echoed;
    for (const auto& input : cores[0]->inputs(Kind::message, sim.name(peer))) echoed.push_back(value_of(input.message));
    EXPECT_EQ(echoed, expected) << sim.name(peer);
  }
  EXPECT_EQ(sim.stats().messages_delivered, 2u * kPeers * kRounds);
}

}  // namespace
}  // namespace lashup::sim::testing
