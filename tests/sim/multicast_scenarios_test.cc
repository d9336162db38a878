// Multicast in simulation, at sizes that keep the suite fast: the
// mc-delivery, mc-repair and mc-latency scenarios must meet their goals
// (every subscriber once, nobody else; repair within 2 s of simulated time;
// everything after the heal), and an origin's messages arrive in order
// while the overlay is stable.
#include <gtest/gtest.h>

#include "scenario_test_support.h"

namespace lashup::sim {
namespace {

ScenarioOutcome run(const std::string& name, uint32_t nodes, uint64_t seed,
                    std::map<std::string, std::string, std::less<>> params = {}) {
  return run_scenario(name, nodes, seed, std::move(params));
}

bool has(const ScenarioOutcome& outcome, const std::string& field) {
  return outcome.figures.str().find(field) != std::string::npos;
}

TEST(McScenarios, every_subscriber_gets_every_message_once_and_nobody_else_does) {
  for (uint64_t seed : {1, 2}) {
    const auto outcome = run("mc-delivery", 200, seed);
    EXPECT_TRUE(outcome.ok) << outcome.failure << "\n" << outcome.figures.str();
    EXPECT_TRUE(has(outcome, "\"duplicates_delivered\":0,")) << outcome.figures.str();
  }
}

TEST(McScenarios, an_origins_messages_arrive_in_order_while_the_overlay_is_stable) {
  const auto outcome = run("mc-delivery", 100, 3, {{"settle_s", "30"}, {"origins", "3"}, {"messages", "300"}});
  EXPECT_TRUE(outcome.ok) << outcome.failure << "\n" << outcome.figures.str();
  EXPECT_TRUE(has(outcome, "\"out_of_order_deliveries\":0,")) << outcome.figures.str();
}

TEST(McScenarios, cut_links_lose_nothing_repair_within_2_s_and_the_heal_completes_delivery) {
  const auto outcome = run("mc-repair", 200, 4, {{"cut_s", "5"}});
  EXPECT_TRUE(outcome.ok) << outcome.failure << "\n" << outcome.figures.str();
  EXPECT_TRUE(has(outcome, "\"delivered_ratio_healed\":1.000,")) << outcome.figures.str();
}

TEST(McScenarios, a_fixed_overlay_of_500_delivers_everything_once) {
  const auto outcome = run("mc-latency", 500, 5);
  EXPECT_TRUE(outcome.ok) << outcome.failure << "\n" << outcome.figures.str();
}

}  // namespace
}  // namespace lashup::sim
