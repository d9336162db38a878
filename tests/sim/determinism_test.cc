// Same seed, same run: the property every simulator test and every replayed
// failure relies on. The run exercises every fault verb so that each code
// path of the network model is covered by the comparison.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "core/common/random.h"
#include "core/ping/ping_core.h"
#include "simulation.h"

namespace lashup::sim {
namespace {

struct FaultyRun {
  uint64_t trace_hash = 0;
  std::vector<TraceEntry> trace;
  SimStats stats;
  RunResult result;
};

// 40 ping nodes for 5 simulated seconds, with a fault script drawn from the
// seed: a one-way partition, a symmetric one, clogs, a pause, a crash and a
// hang, each followed by recovery.
FaultyRun run_with_faults(uint64_t seed) {
  constexpr uint32_t kNodes = 40;
  SimConfig config;
  config.nodes = kNodes;
  config.seed = seed;
  config.trace_list = true;
  Random topology(seed);
  std::vector<std::vector<std::pair<NodeName, std::string>>> peers(kNodes);
  for (NodeIndex node = 0; node < kNodes; ++node) {
    for (int i = 0; i < 5; ++i) {
      const auto peer = static_cast<NodeIndex>(topology.uniform(kNodes));
      if (peer != node) peers[node].emplace_back("n" + std::to_string(peer), "");
    }
  }
  Simulation sim(config, [&peers](const NodeContext& node) {
    return std::make_unique<PingCore>(node.name, peers[node.index], PingConfig{}, node.seed);
  });
  sim.start_all();

  Random faults(seed * 31 + 7);
  auto pick = [&faults] { return static_cast<NodeIndex>(faults.uniform(kNodes)); };
  const std::vector<NodeIndex> left = {pick(), pick(), pick()};
  const std::vector<NodeIndex> right = {pick(), pick(), pick()};
  const NodeIndex paused = pick();
  const NodeIndex crashed = pick();
  const NodeIndex hung = pick();
  const NodeIndex clog_a = pick();
  const NodeIndex clog_b = pick();
  sim.at(Time(500ms), [&] { sim.partition_one_way(left, right); });
  sim.at(Time(900ms), [&] { sim.partition(right, left); });
  sim.at(Time(1500ms), [&] { sim.heal_all(); });
  sim.at(Time(1s), [&] { sim.clog_pair(clog_a, clog_b, 700ms); });
  sim.at(Time(1200ms), [&] { sim.clog_node(clog_b, 300ms); });
  sim.at(Time(2s), [&] { sim.pause(paused, 800ms); });
  sim.at(Time(2500ms), [&] { sim.crash(crashed); });
  sim.at(Time(3500ms), [&] { sim.restart(crashed); });
  sim.at(Time(3s), [&] { sim.hang(hung); });
  sim.at(Time(4s), [&] { sim.restart(hung); });
  sim.every(250ms, "at most one node hung", [&sim]() -> std::optional<std::string> {
    int hung_nodes = 0;
    for (NodeIndex node = 0; node < sim.node_count(); ++node) hung_nodes += sim.status(node) == NodeStatus::hung;
    if (hung_nodes > 1) return std::to_string(hung_nodes) + " nodes hung";
    return std::nullopt;
  });

  FaultyRun run;
  run.result = sim.run_until(Time(5s));
  run.trace_hash = sim.trace_hash();
  run.trace = sim.trace();
  run.stats = sim.stats();
  return run;
}

TEST(SimDeterminism, same_seed_gives_identical_trace) {
  const FaultyRun first = run_with_faults(11);
  const FaultyRun second = run_with_faults(11);
  ASSERT_TRUE(first.result.ok) << first.result.describe();
  EXPECT_GT(first.trace.size(), 1000u);
  EXPECT_EQ(first.trace_hash, second.trace_hash);
  EXPECT_EQ(first.stats.events, second.stats.events);
  ASSERT_EQ(first.trace.size(), second.trace.size());
  for (size_t i = 0; i < first.trace.size(); ++i) {
    ASSERT_EQ(first.trace[i], second.trace[i]) << "first divergence at entry " << i << ": " << to_string(first.trace[i])
                                               << " vs " << to_string(second.trace[i]);
  }
}

TEST(SimDeterminism, different_seeds_give_different_traces) {
  const FaultyRun a = run_with_faults(11);
  const FaultyRun b = run_with_faults(12);
  EXPECT_NE(a.trace_hash, b.trace_hash);
}

TEST(SimDeterminism, the_fault_script_exercises_the_fault_paths) {
  const FaultyRun run = run_with_faults(11);
  EXPECT_GT(run.stats.dropped_partition, 0u);
  EXPECT_GT(run.stats.dropped_node_down, 0u);
  size_t crashes = 0, hangs = 0, restarts = 0, downs = 0;
  for (const auto& entry : run.trace) {
    crashes += entry.kind == TraceKind::crash;
    hangs += entry.kind == TraceKind::hang;
    restarts += entry.kind == TraceKind::restart;
    downs += entry.kind == TraceKind::connection_down;
  }
  EXPECT_EQ(crashes, 1u);
  EXPECT_EQ(hangs, 1u);
  EXPECT_EQ(restarts, 2u);
  EXPECT_GT(downs, 0u);
}

}  // namespace
}  // namespace lashup::sim
