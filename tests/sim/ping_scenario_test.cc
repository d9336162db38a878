// The ping scenario: the reference workload of the simulator.
#include "scenarios/ping_scenario.h"

#include <gtest/gtest.h>

#include "scenario.h"

namespace lashup::sim {
namespace {

TEST(PingScenario, two_hundred_nodes_for_ten_seconds_answer_every_probe) {
  PingScenarioConfig config;
  config.nodes = 200;
  config.seed = 3;
  config.duration = 10s;
  const PingScenarioFigures figures = run_ping_scenario(config);
  SCOPED_TRACE(figures.run.describe());
  ASSERT_TRUE(figures.run.ok);
  // One probe per node every 100 ms (±10 %, first one at a random offset).
  EXPECT_GT(figures.pings_sent, 200u * 90);
  EXPECT_LT(figures.pings_sent, 200u * 112);
  // Every probe is answered, except those still in flight when the run stops
  // (a round trip is ~3 ms: at most one per node).
  EXPECT_LE(figures.pongs_received, figures.pings_sent);
  EXPECT_GE(figures.pongs_received + 200, figures.pings_sent);
  EXPECT_EQ(figures.probes_timed_out, 0u);
  EXPECT_EQ(figures.malformed_messages, 0u);
  EXPECT_EQ(figures.network.dropped_no_connection + figures.network.dropped_closed + figures.network.dropped_queue_full,
            0u);
  // Two one-way latencies of 1 ms + [0, 0.5] ms.
  EXPECT_GT(figures.rtt_mean_ms, 2.0);
  EXPECT_LT(figures.rtt_mean_ms, 3.0);
}

TEST(PingScenario, is_registered_and_reports_its_figures_as_one_json_line) {
  const ScenarioInfo* ping = find_scenario("ping");
  ASSERT_NE(ping, nullptr);
  ScenarioOptions options;
  options.nodes = 20;
  options.seed = 5;
  options.duration = 2s;
  options.trace_hash = true;
  const ScenarioOutcome outcome = ping->run(options);
  EXPECT_TRUE(outcome.ok) << outcome.failure;
  const std::string line = outcome.figures.str();
  EXPECT_EQ(line.rfind("{\"scenario\":\"ping\",\"nodes\":20,\"seed\":5,", 0), 0u) << line;
  for (const char* field : {"\"events\":", "\"wall_ms\":", "\"events_per_s\":", "\"pings_sent\":",
                            "\"pongs_received\":", "\"rtt_mean_ms\":", "\"trace_hash\":"}) {
    EXPECT_NE(line.find(field), std::string::npos) << field << " missing in " << line;
  }
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(PingScenario, rejects_a_malformed_parameter) {
  ScenarioOptions options;
  options.nodes = 2;
  options.duration = 1s;
  options.params["peers_min"] = "four";
  const ScenarioOutcome outcome = find_scenario("ping")->run(options);
  EXPECT_FALSE(outcome.ok);
  EXPECT_NE(outcome.failure.find("peers_min"), std::string::npos);
}

TEST(PingScenario, same_seed_same_figures) {
  PingScenarioConfig config;
  config.nodes = 100;
  config.duration = 3s;
  config.trace_hash = true;
  const PingScenarioFigures first = run_ping_scenario(config);
  const PingScenarioFigures second = run_ping_scenario(config);
  EXPECT_EQ(first.trace_hash, second.trace_hash);
  EXPECT_EQ(first.pings_sent, second.pings_sent);
  EXPECT_EQ(first.network.events, second.network.events);
}

}  // namespace
}  // namespace lashup::sim
