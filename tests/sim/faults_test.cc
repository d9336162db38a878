// Node faults (crash, hang, restart, pause), the simulated disk, ticks,
// observers and checks.
#include <gtest/gtest.h>

#include "sim_test_cluster.h"

namespace lashup::sim::testing {
namespace {

TEST(SimFaults, crash_with_close_reports_connection_down_to_peers) {
  Cluster cluster(3);
  cluster.connect_and_settle(0, 1);
  cluster.connect_and_settle(2, 0);
  const Time crashed_at = cluster.sim().now();
  cluster.sim().crash(0);
  cluster.run_for(100ms);
  for (NodeIndex peer : {1u, 2u}) {
    const auto down = cluster.core(peer).inputs(Kind::connection_down, cluster.name(0));
    ASSERT_EQ(down.size(), 1u) << "peer " << peer;
    EXPECT_GT(down[0].at, crashed_at);  // after the link latency, not at once
  }
  EXPECT_EQ(cluster.sim().status(0), NodeStatus::crashed);
  EXPECT_EQ(cluster.sim().core(0), nullptr);
}

TEST(SimFaults, crash_without_close_leaves_peers_connected_and_drops_messages) {
  Cluster cluster(2);
  cluster.connect_and_settle(0, 1);
  cluster.sim().hang(0);
  cluster.send(1, 0, 1);
  cluster.run_for(10s);
  EXPECT_EQ(cluster.count(1, Kind::connection_down, 0), 0u);
  EXPECT_TRUE(cluster.sim().connected(1, 0));
  EXPECT_EQ(cluster.sim().stats().dropped_node_down, 1u);
}

TEST(SimFaults, connecting_to_a_hung_node_times_out_and_to_a_crashed_one_is_refused) {
  NetworkConfig network;
  network.connect_timeout = 2s;
  Cluster cluster(3, network);
  cluster.sim().hang(1);
  cluster.sim().crash(2);
  const Time asked = cluster.sim().now();
  cluster.connect(0, 1);
  cluster.connect(0, 2);
  cluster.run_for(3s);
  const auto to_hung = cluster.core(0).inputs(Kind::connection_down, cluster.name(1));
  const auto to_crashed = cluster.core(0).inputs(Kind::connection_down, cluster.name(2));
  ASSERT_EQ(to_hung.size(), 1u);
  ASSERT_EQ(to_crashed.size(), 1u);
  EXPECT_EQ(to_hung[0].at, asked + 2s);
  EXPECT_LT(to_crashed[0].at, asked + 10ms);  // one round trip
}

TEST(SimFaults, restart_keeps_synced_writes_and_loses_unsynced_ones) {
  Cluster cluster(1);
  cluster.persist(0, "kept", Bytes{1});
  cluster.persist(0, "deleted", Bytes{2});
  cluster.persist(0, "deleted", Bytes{});  // an empty value deletes
  cluster.sim().set_disk_sync(0, DiskSync::manual);
  cluster.persist(0, "synced-by-hand", Bytes{3});
  cluster.sim().sync_disk(0);
  cluster.persist(0, "lost", Bytes{4});
  EXPECT_EQ(cluster.sim().store(0).unsynced_writes(), 1u);
  EXPECT_EQ(cluster.sim().store(0).current().count("lost"), 1u);

  cluster.sim().crash(0);
  cluster.sim().restart(0);
  const DurableStore::Map expected{{"kept", Bytes{1}}, {"synced-by-hand", Bytes{3}}};
  EXPECT_EQ(cluster.core(0).persisted(), expected);
  EXPECT_EQ(cluster.sim().boot_count(0), 2u);
  EXPECT_EQ(cluster.core(0).inputs().front().kind, Kind::start);
}

TEST(SimFaults, restarted_node_resets_stale_connections_of_its_peers) {
  Cluster cluster(2);
  cluster.connect_and_settle(0, 1);
  cluster.sim().hang(0);  // no close: n1 keeps its connection
  cluster.run_for(1s);
  cluster.sim().restart(0);
  EXPECT_FALSE(cluster.sim().connected(0, 1));
  ASSERT_TRUE(cluster.sim().connected(1, 0));
  cluster.send(1, 0, 1);
  cluster.run_for(100ms);
  EXPECT_TRUE(cluster.received(0, 1).empty());
  EXPECT_EQ(cluster.count(1, Kind::connection_down, 0), 1u);
  EXPECT_EQ(cluster.sim().stats().connections_reset, 1u);
}

TEST(SimFaults, redial_by_a_restarted_node_replaces_the_stale_connection) {
  Cluster cluster(2);
  cluster.connect_and_settle(0, 1);
  cluster.sim().hang(0);
  cluster.sim().restart(0);
  cluster.connect_and_settle(0, 1);
  // n1 saw the old connection go down, then the new one come up.
  const auto& inputs = cluster.core(1).inputs();
  ASSERT_GE(inputs.size(), 2u);
  EXPECT_EQ(inputs[inputs.size() - 2].kind, Kind::connection_down);
  EXPECT_EQ(inputs.back().kind, Kind::connection_up);
  cluster.send(0, 1, 9);
  cluster.run_for(100ms);
  EXPECT_EQ(cluster.received(1, 0), std::vector<uint32_t>{9});
}

TEST(SimFaults, paused_node_processes_nothing_then_everything_queued) {
  Cluster cluster(2);
  cluster.connect_and_settle(0, 1);
  const Time paused_at = cluster.sim().now();
  cluster.sim().pause(1, 1s);
  Actions tick_soon;
  tick_soon.wake_no_later_than(paused_at + 10ms);
  cluster.sim().execute(1, std::move(tick_soon));
  for (uint32_t i = 0; i < 3; ++i) cluster.send(0, 1, i);
  const size_t inputs_before = cluster.core(1).inputs().size();
  cluster.run_for(999ms);
  EXPECT_EQ(cluster.core(1).inputs().size(), inputs_before);
  cluster.run_for(1ms);
  EXPECT_EQ(cluster.received(1, 0), (std::vector<uint32_t>{0, 1, 2}));
  const auto ticks = cluster.core(1).inputs(Kind::tick);
  ASSERT_EQ(ticks.size(), 1u);
  EXPECT_EQ(ticks[0].at, paused_at + 1s);
}

TEST(SimFaults, an_earlier_wake_replaces_a_later_one) {
  Cluster cluster(1);
  const Time t0 = cluster.sim().now();
  Actions late;
  late.wake_no_later_than(t0 + 100ms);
  cluster.sim().execute(0, std::move(late));
  Actions early;
  early.wake_no_later_than(t0 + 50ms);
  cluster.sim().execute(0, std::move(early));
  Actions later_again;  // does not push the pending (earlier) tick back
  later_again.wake_no_later_than(t0 + 200ms);
  cluster.sim().execute(0, std::move(later_again));
  cluster.run_for(1s);
  const auto ticks = cluster.core(0).inputs(Kind::tick);
  ASSERT_EQ(ticks.size(), 1u);
  EXPECT_EQ(ticks[0].at, t0 + 50ms);
}

TEST(SimFaults, ticks_of_a_previous_life_are_not_delivered_after_restart) {
  Cluster cluster(1);
  Actions wake;
  wake.wake_no_later_than(cluster.sim().now() + 10ms);
  cluster.sim().execute(0, std::move(wake));
  cluster.sim().restart(0);
  cluster.run_for(1s);
  EXPECT_TRUE(cluster.core(0).inputs(Kind::tick).empty());
}

TEST(SimFaults, observers_see_every_emitted_event_with_time_and_node) {
  Cluster cluster(2);
  std::vector<std::pair<Time, NodeIndex>> seen;
  cluster.sim().observe([&seen](Time at, NodeIndex node, const Event& event) {
    EXPECT_TRUE(std::holds_alternative<ProbeAnswered>(event));
    seen.emplace_back(at, node);
  });
  Actions emit;
  emit.emit(ProbeAnswered{"n0", 3ms});
  cluster.sim().execute(1, std::move(emit));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], std::make_pair(cluster.sim().now(), NodeIndex{1}));
}

TEST(SimFaults, failing_check_stops_the_run_and_the_result_names_the_seed) {
  Cluster cluster(1, {}, /*seed=*/4242);
  int calls = 0;
  cluster.sim().every(100ms, "fails on the third call", [&calls]() -> std::optional<std::string> {
    if (++calls == 3) return "third call";
    return std::nullopt;
  });
  const Time start = cluster.sim().now();
  const RunResult result = cluster.sim().run_for(10s);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(result.now, start + 300ms);
  EXPECT_NE(result.failure.find("third call"), std::string::npos);
  EXPECT_NE(result.describe().find("seed=4242"), std::string::npos);
}

TEST(SimFaults, livelocked_core_is_stopped_by_the_event_budget) {
  // A core that answers "no connection" by sending again spins on one instant forever.
  SimConfig config;
  config.nodes = 1;
  config.max_events = 10'000;
  Simulation sim(config, [](const NodeContext& node) {
    return std::make_unique<RecordingCore>(node.persisted, [](const RecordingCore::Input& input) {
      Actions out;
      if (input.kind == Kind::start || input.kind == Kind::connection_down) out.send("nobody", Bytes{1});
      return out;
    });
  });
  sim.start_all();
  const RunResult result = sim.run_for(1s);
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.failure.find("event budget"), std::string::npos);
  EXPECT_EQ(sim.stats().events, 10'000u);
  EXPECT_EQ(result.now, Time{0});
}

TEST(SimFaults, scheduled_faults_run_at_their_time) {
  Cluster cluster(2);
  cluster.connect_and_settle(0, 1);
  const Time t0 = cluster.sim().now();
  cluster.sim().at(t0 + 2s, [&cluster] { cluster.sim().crash(1); });
  cluster.sim().at(t0 + 3s, [&cluster] { cluster.sim().restart(1); });
  cluster.run_for(1s);
  EXPECT_EQ(cluster.sim().status(1), NodeStatus::alive);
  cluster.run_for(1500ms);
  EXPECT_EQ(cluster.sim().status(1), NodeStatus::crashed);
  cluster.run_for(1s);
  EXPECT_EQ(cluster.sim().status(1), NodeStatus::alive);
  EXPECT_EQ(cluster.core(1).inputs().front().at, t0 + 3s);
}

}  // namespace
}  // namespace lashup::sim::testing
