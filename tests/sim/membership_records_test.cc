// Membership records in simulation: every version a node publishes reaches
// every node soon after, and a failure is therefore seen by 90% of the
// cluster within the crash scenarios' goals on the seeds where it once was
// not (a stale record kept a dead node reachable for seconds).
//
// Thresholds are on simulated time only.
#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>

#include "control/control_cluster.h"
#include "control/control_scenarios.h"
#include "scenario_test_support.h"

namespace lashup::sim {
namespace {

// The newest (incarnation, version) of each member's record held by any live node.
using Versions = std::map<NodeName, std::pair<Incarnation, uint64_t>>;

Versions newest_versions(const ControlCluster& cluster) {
  Versions newest;
  for (NodeIndex i : cluster.live_nodes()) {
    for (const auto& m : cluster.node(i)->membership().members(cluster.sim().now())) {
      auto& best = newest[m.name];
      best = std::max(best, std::make_pair(m.incarnation, m.version));
    }
  }
  return newest;
}

// The (holder, member) pairs where a live holder lacks a version of a live
// member's record that some node already held at `then`, described.
std::vector<std::string> lagging(const ControlCluster& cluster, const Versions& then) {
  std::vector<std::string> out;
  for (NodeIndex i : cluster.live_nodes()) {
    const Membership& membership = cluster.node(i)->membership();
    for (const auto& [name, version] : then) {
      auto member = cluster.sim().find(name);
      if (!member || *member == i || !cluster.alive(*member)) continue;
      auto info = membership.member(name);
      if (!info || std::make_pair(info->incarnation, info->version) < version) {
        std::ostringstream s;
        s << cluster.sim().name(i) << " holds " << name << " v" << (info ? info->version : 0) << ", not v"
          << version.second;
        out.push_back(s.str());
      }
    }
  }
  return out;
}

TEST(MembershipRecords, every_published_version_reaches_every_node_within_half_a_second) {
  // After bootstrap, for 5 s: a version any node held half a second ago is
  // held by every live node now. Versions from the bootstrap that a flood
  // missed used to stay behind on dozens of nodes for 10 s and more (on
  // every one of these seeds), repaired by anti-entropy one hop at a time.
  for (uint64_t seed : {1, 2, 3, 4, 5, 6}) {
    ControlClusterOptions o;
    o.nodes = 100;
    o.seed = seed;
    o.network.latency = {500us, 1000us};
    ControlCluster cluster(o);
    const BootstrapFigures boot = run_bootstrap(cluster, 30s);
    ASSERT_TRUE(boot.converged_at) << "seed " << seed;
    Versions then = newest_versions(cluster);
    for (int check = 0; check < 10; ++check) {
      cluster.sim().run_for(500ms);
      auto behind = lagging(cluster, then);
      ASSERT_TRUE(behind.empty()) << "seed " << seed << ", " << to_seconds(cluster.sim().now() - Time(0))
                                  << " s: " << behind.size() << " pairs behind, e.g. " << behind.front();
      then = newest_versions(cluster);
    }
  }
}

double figure(const ScenarioOutcome& outcome, const std::string& key) {
  const std::string line = outcome.figures.str();
  const std::string quoted = "\"" + key + "\":";
  const auto at = line.find(quoted);
  if (at == std::string::npos) return NAN;
  return std::strtod(line.c_str() + at + quoted.size(), nullptr);
}

// Seeds on which, before versions were kept private until their flood and
// catch-up records were passed on, a failed node stayed reachable for
// seconds on part of a 100-node cluster: 1, 21 and 23 (both scenarios) as
// measured by bench-curves; 121, 170, 194 (process-crash) and 48, 170, 194
// (crash) on a later tree, whose cores draw their randomness differently.
// Seeds select other runs whenever that changes, so the test above is the
// guard that does not depend on them.
constexpr uint64_t kBadSeeds[] = {1, 21, 23, 48, 121, 170, 194};

TEST(MembershipRecords, a_crashed_process_is_seen_by_90_percent_within_100_ms_on_the_bad_seeds) {
  for (uint64_t seed : kBadSeeds) {
    const ScenarioOutcome outcome = run_scenario("process-crash", 100, seed, {{"trials", "1"}}, 60s);
    EXPECT_TRUE(outcome.ok) << outcome.failure << "\n" << outcome.figures.str();
    EXPECT_LE(figure(outcome, "t90_p50_ms"), 100.0) << "seed " << seed;
  }
}

TEST(MembershipRecords, a_hung_host_is_seen_by_90_percent_within_1_2_s_on_the_bad_seeds) {
  for (uint64_t seed : kBadSeeds) {
    const ScenarioOutcome outcome = run_scenario("crash", 100, seed, {{"trials", "1"}}, 60s);
    EXPECT_TRUE(outcome.ok) << outcome.failure << "\n" << outcome.figures.str();
    EXPECT_LE(figure(outcome, "t90_p99_ms"), 1200.0) << "seed " << seed;
  }
}

}  // namespace
}  // namespace lashup::sim
