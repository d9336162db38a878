// The replicated KV store in simulation, at sizes that keep the suite fast:
// concurrent writers on shared keys, with and without cut links, end with
// identical replicas holding every acknowledged update.
#include <gtest/gtest.h>

#include "scenario_test_support.h"

namespace lashup::sim {
namespace {

ScenarioOutcome run(const std::string& name, uint32_t nodes, uint64_t seed,
                    std::map<std::string, std::string, std::less<>> params = {}) {
  return run_scenario(name, nodes, seed, std::move(params));
}

TEST(KvScenarios, concurrent_writers_converge_to_identical_replicas_with_nothing_lost) {
  const auto outcome = run("kv-converge", 60, 1, {{"keys", "200"}, {"write_s", "5"}, {"updates_per_s", "4"}});
  EXPECT_TRUE(outcome.ok) << outcome.failure << "\n" << outcome.figures.str();
}

TEST(KvScenarios, writes_made_while_links_are_cut_reach_everyone_after_the_heal) {
  const auto outcome =
      run("kv-converge", 60, 2, {{"keys", "200"}, {"write_s", "8"}, {"cut_pct", "15"}, {"cut_s", "4"}});
  EXPECT_TRUE(outcome.ok) << outcome.failure << "\n" << outcome.figures.str();
}

TEST(KvScenarios, crashed_nodes_restart_with_their_writes_and_catch_up_by_anti_entropy) {
  const auto outcome = run("kv-converge", 60, 3, {{"keys", "200"}, {"write_s", "8"}, {"restarts", "3"}});
  EXPECT_TRUE(outcome.ok) << outcome.failure << "\n" << outcome.figures.str();
}

TEST(KvScenarios, a_node_cut_off_longer_than_the_multicast_history_catches_up_by_anti_entropy) {
  const auto outcome = run("kv-converge", 40, 4,
                           {{"keys", "100"}, {"write_s", "40"}, {"updates_per_s", "1"}, {"isolate_s", "35"}});
  EXPECT_TRUE(outcome.ok) << outcome.failure << "\n" << outcome.figures.str();
}

TEST(KvScenarios, every_write_reaches_every_nodes_subscription) {
  const auto outcome = run("kv-latency", 60, 7, {{"writes", "100"}});
  EXPECT_TRUE(outcome.ok) << outcome.failure << "\n" << outcome.figures.str();
}

TEST(KvScenarios, tombstones_are_collected_once_every_member_holds_them_and_nothing_comes_back) {
  const auto outcome = run("kv-tombstones", 40, 8, {{"keys", "200"}});
  EXPECT_TRUE(outcome.ok) << outcome.failure << "\n" << outcome.figures.str();
}

TEST(KvScenarios, chaos_of_partitions_crashes_and_cut_links_ends_identical_with_nothing_lost) {
  for (uint64_t seed : {5, 6}) {
    const auto outcome = run("kv-chaos", 40, seed, {{"keys", "300"}, {"write_s", "15"}, {"chaos", "8"}});
    EXPECT_TRUE(outcome.ok) << outcome.failure << "\n" << outcome.figures.str();
  }
}

}  // namespace
}  // namespace lashup::sim
