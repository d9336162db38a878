// The control-plane scenarios of lashup-sim (issue: control plane in
// simulation). Each names its cluster, its fault and its expected outcome;
// the figures are printed as one JSON line, and tests/sim/control tests run
// them at reduced sizes with thresholds on simulated time.
#include "control/control_scenarios.h"

#include <chrono>

#include "control/measurements.h"
#include "scenario.h"
#include "scenario_support.h"

namespace lashup::sim {
namespace {

double seconds_since(Time start, Time end) { return to_seconds(end - start); }

constexpr Duration kBootstrapGoal = 10s;

ControlClusterOptions cluster_options(const ScenarioOptions& options) {
  ControlClusterOptions o;
  o.nodes = options.nodes;
  o.seed = options.seed;
  o.trace_hash = options.trace_hash;
  return o;
}

ScenarioOutcome finish(ScenarioOutcome outcome, ControlCluster& cluster, const WallClock& wall) {
  return finish_outcome(std::move(outcome), cluster.sim(), wall);
}

void add_invariant_checks(ControlCluster& cluster) {
  cluster.sim().every(1s, "views disjoint, bounded, no self", [&cluster]() -> std::optional<std::string> {
    std::string problems = cluster.check_views();
    if (problems.empty()) return std::nullopt;
    return problems;
  });
  cluster.sim().every(2s, "route trees are BFS trees", [&cluster]() -> std::optional<std::string> {
    std::string problems = cluster.check_route_trees(4);
    if (problems.empty()) return std::nullopt;
    return problems;
  });
}

}  // namespace

BootstrapFigures run_bootstrap(ControlCluster& cluster, Duration limit) {
  BootstrapFigures f;
  cluster.sim().start_all();
  f.converged_at = cluster.run_until_converged(limit);
  f.symmetric_ratio = cluster.symmetric_ratio();
  f.components = cluster.overlay_components();
  return f;
}

namespace {

ScenarioOutcome run_bootstrap_scenario(const ScenarioOptions& options) {
  WallClock wall;
  ControlCluster cluster(cluster_options(options));
  add_invariant_checks(cluster);
  ScenarioOutcome outcome;
  const BootstrapFigures f = run_bootstrap(cluster, options.duration);
  outcome.figures = begin_figures("bootstrap", options);
  outcome.figures.add("converged_s", f.converged_at ? to_seconds(*f.converged_at - Time(0)) : NAN)
      .add("symmetric_ratio", f.symmetric_ratio)
      .add("overlay_components", f.components)
      .add("messages_per_node", static_cast<double>(cluster.total_messages_sent()) / options.nodes);
  const auto& by_type = cluster.messages_by_type();
  const auto& bytes = cluster.bytes_by_type();
  std::string breakdown;
  for (size_t t = 0; t < by_type.size(); ++t) {
    if (by_type[t] == 0) continue;
    breakdown += (breakdown.empty() ? "" : " ") + std::to_string(t) + ":" + std::to_string(by_type[t]) + "/" +
                 std::to_string(bytes[t] / 1024) + "KiB";
  }
  outcome.figures.add("messages_by_type", breakdown);
  outcome.ok = f.converged_at.has_value() && *f.converged_at <= Time(kBootstrapGoal) && f.symmetric_ratio >= 0.99;
  if (!outcome.ok) {
    outcome.failure = f.converged_at ? "converged after the 10 s goal, or fewer than 99% of edges symmetric"
                                     : "did not converge within " + std::to_string(to_seconds(options.duration)) + " s";
  }
  return finish(std::move(outcome), cluster, wall);
}

// A stable cluster; then, `trials` times, one random node (never a contact)
// dies — its host hangs (crash) or its process exits and the kernel closes
// its connections (process-crash) — and we time how long until 90% of the
// other live nodes report it unreachable.
ScenarioOutcome run_crash(const ScenarioOptions& options, bool process_crash) {
  WallClock wall;
  const char* name = process_crash ? "process-crash" : "crash";
  ScenarioOutcome outcome;
  outcome.figures = begin_figures(name, options);
  auto trials = options.int_param("trials", 20);
  if (!trials) return {false, trials.status().message(), outcome.figures};
  ControlClusterOptions o = cluster_options(options);
  o.network.latency = {500us, 1000us};  // 1 ms +/- 0.5 ms
  ControlCluster cluster(o);
  add_invariant_checks(cluster);
  DetectionTracker detection(cluster);
  const BootstrapFigures boot = run_bootstrap(cluster, 60s);
  if (!boot.converged_at) return finish({false, "the cluster did not converge", outcome.figures}, cluster, wall);
  cluster.sim().run_for(5s);

  Random pick(options.seed ^ 0x637261736868ULL);
  std::vector<double> t90_ms, t100_ms;
  for (int64_t trial = 0; trial < *trials; ++trial) {
    auto live = cluster.live_nodes();
    std::vector<NodeIndex> candidates;
    for (NodeIndex i : live) {
      if (i >= 3) candidates.push_back(i);
    }
    if (candidates.empty()) break;
    const NodeIndex victim = candidates[pick.uniform(candidates.size())];
    const size_t observers = live.size() - 1;
    const Time died_at = cluster.sim().now();
    detection.watch(victim, died_at);
    if (process_crash) {
      cluster.sim().crash(victim);
    } else {
      cluster.sim().hang(victim);
    }
    // Run until everyone noticed, or 10 s.
    for (int step = 0; step < 1000 && detection.reported() < observers; ++step) cluster.sim().run_for(10ms);
    if (auto t = detection.time_to(0.9, observers)) {
      t90_ms.push_back(static_cast<double>(t->count()) / 1e3);
    } else {
      outcome.ok = false;
      outcome.failure = "trial " + std::to_string(trial) + ": fewer than 90% noticed " + cluster.sim().name(victim);
      t90_ms.push_back(NAN);
    }
    if (auto t = detection.time_to(1.0, observers)) t100_ms.push_back(static_cast<double>(t->count()) / 1e3);
    cluster.sim().run_for(3s);
  }
  const double p50 = percentile(t90_ms, 50);
  const double p99 = percentile(t90_ms, 99);
  const double goal_p50 = process_crash ? 100 : 800;
  const double goal_p99 = process_crash ? 100 : 1200;
  if (outcome.ok && !(p50 <= goal_p50 && p99 <= goal_p99)) {
    outcome.ok = false;
    outcome.failure = "t90 above the goal (p50 <= " + std::to_string(goal_p50) + " ms, p99 <= " +
                      std::to_string(goal_p99) + " ms)";
  }
  outcome.figures.add("trials", static_cast<int64_t>(t90_ms.size()))
      .add("t90_p50_ms", p50)
      .add("t90_p99_ms", p99)
      .add("t100_p50_ms", percentile(t100_ms, 50))
      .add("t100_max_ms", percentile(t100_ms, 100))
      .add("bootstrap_converged_s", to_seconds(*boot.converged_at - Time(0)));
  return finish(std::move(outcome), cluster, wall);
}

ScenarioOutcome run_hang_scenario(const ScenarioOptions& options) { return run_crash(options, false); }
ScenarioOutcome run_process_crash_scenario(const ScenarioOptions& options) { return run_crash(options, true); }

// Half of a stable cluster fails at once (hosts hang, or processes crash with
// mode=crash): the survivors must form one overlay and agree that exactly
// they are reachable.
ScenarioOutcome run_mass_failure(const ScenarioOptions& options) {
  WallClock wall;
  ScenarioOutcome outcome;
  outcome.figures = begin_figures("mass-failure", options);
  const bool crash_mode = options.params.count("mode") > 0 && options.params.at("mode") == "crash";
  ControlCluster cluster(cluster_options(options));
  add_invariant_checks(cluster);
  const BootstrapFigures boot = run_bootstrap(cluster, 60s);
  if (!boot.converged_at) return finish({false, "the cluster did not converge", outcome.figures}, cluster, wall);
  cluster.sim().run_for(5s);
  std::vector<NodeIndex> all = cluster.live_nodes();
  Random pick(options.seed ^ 0x6d617373ULL);
  pick.shuffle(all);
  const Time failed_at = cluster.sim().now();
  for (size_t i = 0; i < all.size() / 2; ++i) {
    if (crash_mode) {
      cluster.sim().crash(all[i]);
    } else {
      cluster.sim().hang(all[i]);
    }
  }
  auto converged = cluster.run_until_converged(options.duration);
  outcome.figures.add("mode", crash_mode ? "crash" : "hang")
      .add("failed_nodes", static_cast<uint64_t>(all.size() / 2))
      .add("converged_s", converged ? seconds_since(failed_at, *converged) : NAN)
      .add("overlay_components", cluster.overlay_components());
  outcome.ok = converged.has_value() && *converged - failed_at <= 30s;
  if (!outcome.ok) outcome.failure = "survivors did not converge within 30 s";
  return finish(std::move(outcome), cluster, wall);
}

// A long run on a jittery network where 1% of the nodes stall for 300 ms
// every minute: no live node may be reported unreachable, by anyone.
ScenarioOutcome run_false_positives(const ScenarioOptions& options) {
  WallClock wall;
  ScenarioOutcome outcome;
  outcome.figures = begin_figures("false-positives", options);
  auto jitter_ms = options.int_param("jitter_ms", 50);
  auto stall_ms = options.int_param("stall_ms", 300);
  if (!jitter_ms || !stall_ms) return {false, "bad parameter", outcome.figures};
  ControlClusterOptions o = cluster_options(options);
  o.network.latency = {1ms, from_ms(*jitter_ms)};
  ControlCluster cluster(o);
  add_invariant_checks(cluster);
  FalsePositiveCounter counter(cluster);
  const BootstrapFigures boot = run_bootstrap(cluster, 60s);
  if (!boot.converged_at) return finish({false, "the cluster did not converge", outcome.figures}, cluster, wall);
  cluster.sim().run_for(5s);
  counter.start();
  Random pick(options.seed ^ 0x7374616c6cULL);
  const Time start = cluster.sim().now();
  const uint32_t stalls_per_minute = std::max<uint32_t>(1, cluster.size() / 100);
  uint64_t stalls = 0;
  for (Time minute = start; minute < start + options.duration; minute += 60s) {
    for (uint32_t s = 0; s < stalls_per_minute; ++s) {
      const auto node = static_cast<NodeIndex>(pick.uniform(cluster.size()));
      const Time when = minute + Duration(pick.uniform(60'000'000));
      cluster.sim().at(when, [&cluster, node, stall = from_ms(*stall_ms)] { cluster.sim().pause(node, stall); });
      ++stalls;
    }
  }
  cluster.sim().run_until(start + options.duration);
  counter.stop();
  outcome.figures.add("jitter_ms", *jitter_ms)
      .add("stalls", stalls)
      .add("stall_ms", *stall_ms)
      .add("false_positives", counter.unreachable_marks())
      .add("false_evictions", counter.false_evictions());
  outcome.ok = counter.unreachable_marks() == 0;
  if (!outcome.ok) outcome.failure = "live nodes were marked unreachable";
  return finish(std::move(outcome), cluster, wall);
}

NodeName asymmetric_name(NodeIndex i) { return i < 3 ? "m" + std::to_string(i + 1) : "a" + std::to_string(i - 2); }

}  // namespace

AsymmetricFigures run_asymmetric_partition(uint64_t seed, bool one_way, Duration limit) {
  AsymmetricFigures f;
  ControlClusterOptions o;
  o.nodes = 8;
  o.seed = seed;
  o.name_of = asymmetric_name;
  ControlCluster cluster(o);
  add_invariant_checks(cluster);
  FalsePositiveCounter counter(cluster);
  const BootstrapFigures boot = run_bootstrap(cluster, 60s);
  if (!boot.converged_at) {
    f.failure = "the cluster did not converge";
    return f;
  }
  cluster.sim().run_for(5s);
  // Agents a1, a2 (indices 3, 4) against a3, a4, a5 (5, 6, 7).
  const std::vector<NodeIndex> left{3, 4}, right{5, 6, 7};
  std::vector<std::pair<NodeIndex, NodeIndex>> pairs;
  if (one_way) {
    const std::vector<NodeIndex> from{3}, to{5};
    cluster.sim().partition_one_way(from, to);
    pairs.emplace_back(3, 5);
  } else {
    cluster.sim().partition(left, right);
    for (NodeIndex a : left) {
      for (NodeIndex b : right) pairs.emplace_back(a, b);
    }
  }
  counter.start();
  const Time cut_at = cluster.sim().now();
  auto reported_everywhere = [&] {
    for (NodeIndex observer : cluster.live_nodes()) {
      const Membership& m = cluster.node(observer)->membership();
      for (auto [a, b] : pairs) {
        const NodeName& na = cluster.sim().name(a);
        const NodeName& nb = cluster.sim().name(b);
        auto reports = [&](const NodeName& reporter, const NodeName& target) {
          const std::vector<NodeName>& list = reporter == cluster.node(observer)->name()
                                                  ? m.own_record().link_reports
                                                  : (m.member(reporter) ? m.member(reporter)->link_reports
                                                                        : std::vector<NodeName>{});
          return std::binary_search(list.begin(), list.end(), target);
        };
        if (!reports(na, nb) && !reports(nb, na)) return false;
      }
    }
    return true;
  };
  while (cluster.sim().now() < cut_at + limit && !f.link_reports_at) {
    cluster.sim().run_for(50ms);
    if (reported_everywhere()) f.link_reports_at = cluster.sim().now() - cut_at;
  }
  cluster.sim().run_until(cut_at + limit);
  f.nodes_marked_failed = counter.unreachable_marks();
  f.false_evictions = counter.false_evictions();
  f.components = cluster.overlay_components();
  if (cluster.sim().failed()) f.failure = cluster.sim().result().describe();
  return f;
}

namespace {

ScenarioOutcome run_asymmetric_scenario(const ScenarioOptions& options) {
  WallClock wall;
  const bool one_way = options.params.count("one_way") > 0 && options.params.at("one_way") == "1";
  AsymmetricFigures f = run_asymmetric_partition(options.seed, one_way, options.duration);
  ScenarioOutcome outcome;
  outcome.figures = begin_figures("asymmetric-partition", options);
  outcome.figures.add("variant", one_way ? "one-way a1->a3" : "{a1,a2} x {a3,a4,a5}")
      .add("nodes_marked_failed", f.nodes_marked_failed)
      .add("neighbour_evictions_as_failed", f.false_evictions)
      .add("link_reports_s", f.link_reports_at ? to_seconds(*f.link_reports_at) : NAN)
      .add("overlay_components", f.components)
      .add("wall_ms", wall.ms());
  outcome.ok = f.failure.empty() && f.nodes_marked_failed == 0 && f.link_reports_at.has_value() &&
               *f.link_reports_at <= 5s;
  outcome.failure = f.failure.empty() ? (outcome.ok ? "" : "a node was marked failed or a pair was never reported")
                                      : f.failure;
  if (!outcome.ok) outcome.failure = "seed=" + std::to_string(options.seed) + " " + outcome.failure;
  return outcome;
}

// Two equal halves cut apart both ways (the original's failure_test): the
// overlay splits into exactly two components; after the heal it must be one
// again, with every node reaching every node.
ScenarioOutcome run_partition_heal(const ScenarioOptions& options) {
  WallClock wall;
  ScenarioOutcome outcome;
  outcome.figures = begin_figures("partition-heal", options);
  ControlCluster cluster(cluster_options(options));
  add_invariant_checks(cluster);
  const BootstrapFigures boot = run_bootstrap(cluster, 60s);
  if (!boot.converged_at) return finish({false, "the cluster did not converge", outcome.figures}, cluster, wall);
  cluster.sim().run_for(5s);
  std::vector<NodeIndex> a, b;
  for (NodeIndex i = 0; i < cluster.size(); ++i) (i < cluster.size() / 2 ? a : b).push_back(i);
  const PartitionId cut = cluster.sim().partition(a, b);
  const Time cut_at = cluster.sim().now();
  // Split: each side reaches exactly its own half.
  auto split = [&] {
    for (NodeIndex i : cluster.live_nodes()) {
      const Membership& m = cluster.node(i)->membership();
      const bool in_a = i < cluster.size() / 2;
      if (m.reachable_member_count() != (in_a ? a.size() : b.size()) - 1) return false;
    }
    return true;
  };
  std::optional<Time> split_at;
  while (cluster.sim().now() < cut_at + 30s && !split_at) {
    cluster.sim().run_for(100ms);
    if (split()) split_at = cluster.sim().now();
  }
  cluster.sim().run_for(options.duration);  // a long partition: views fill up on both sides
  const uint32_t components_during = cluster.overlay_components();
  cluster.sim().heal(cut);
  const Time healed_at = cluster.sim().now();
  auto merged = cluster.run_until_converged(120s);
  outcome.figures.add("components_during", components_during)
      .add("split_s", split_at ? seconds_since(cut_at, *split_at) : NAN)
      .add("partition_s", to_seconds(healed_at - cut_at))
      .add("heal_s", merged ? seconds_since(healed_at, *merged) : NAN);
  outcome.ok = components_during == 2 && merged.has_value() && *merged - healed_at <= 10s;
  if (!outcome.ok) outcome.failure = "did not split into exactly two components, or did not heal within 10 s";
  return finish(std::move(outcome), cluster, wall);
}

// A node's process crashes and comes back with its data dir: it rejoins
// with a higher incarnation, and every node ends up with the new one.
ScenarioOutcome run_restart(const ScenarioOptions& options) {
  WallClock wall;
  ScenarioOutcome outcome;
  outcome.figures = begin_figures("restart", options);
  ControlCluster cluster(cluster_options(options));
  add_invariant_checks(cluster);
  const BootstrapFigures boot = run_bootstrap(cluster, 60s);
  if (!boot.converged_at) return finish({false, "the cluster did not converge", outcome.figures}, cluster, wall);
  cluster.sim().run_for(5s);
  const NodeIndex victim = cluster.size() - 1;
  const NodeName& name = cluster.sim().name(victim);
  const Incarnation before = cluster.node(victim)->incarnation();
  cluster.sim().crash(victim);
  cluster.sim().run_for(3s);
  cluster.sim().restart(victim);
  const Time restarted_at = cluster.sim().now();
  const Incarnation after = cluster.node(victim)->incarnation();
  auto everyone_sees_new = [&] {
    for (NodeIndex i : cluster.live_nodes()) {
      if (i == victim) continue;
      auto info = cluster.node(i)->membership().member(name);
      if (!info || info->incarnation != after || info->state != Reachability::reachable) return false;
    }
    return true;
  };
  std::optional<Time> rejoined;
  while (cluster.sim().now() < restarted_at + options.duration && !rejoined) {
    cluster.sim().run_for(50ms);
    if (everyone_sees_new() && cluster.converged()) rejoined = cluster.sim().now();
  }
  outcome.figures.add("incarnation_before", before)
      .add("incarnation_after", after)
      .add("rejoin_s", rejoined ? seconds_since(restarted_at, *rejoined) : NAN);
  outcome.ok = after > before && rejoined.has_value();
  if (!outcome.ok) outcome.failure = "the restarted node did not rejoin with a higher incarnation";
  return finish(std::move(outcome), cluster, wall);
}

// State held and traffic sent per node in a stable cluster.
ScenarioOutcome run_footprint(const ScenarioOptions& options) {
  WallClock wall;
  ScenarioOutcome outcome;
  outcome.figures = begin_figures("footprint", options);
  ControlCluster cluster(cluster_options(options));
  const BootstrapFigures boot = run_bootstrap(cluster, 120s);
  if (!boot.converged_at) return finish({false, "the cluster did not converge", outcome.figures}, cluster, wall);
  cluster.sim().run_for(10s);
  const uint64_t bytes0 = cluster.total_bytes_sent();
  const uint64_t messages0 = cluster.total_messages_sent();
  const Time t0 = cluster.sim().now();
  cluster.sim().run_for(options.duration);
  const double seconds = to_seconds(cluster.sim().now() - t0);
  uint64_t state_bytes = 0;
  const auto live = cluster.live_nodes();
  for (NodeIndex i : live) state_bytes += cluster.node(i)->membership().footprint_bytes();
  const double n = static_cast<double>(live.size());
  // Goal: 5 MB per node at 1,000 nodes, i.e. 5 KB per member.
  const double bytes_per_node = static_cast<double>(state_bytes) / n;
  outcome.ok = bytes_per_node <= 5000.0 * n;
  if (!outcome.ok) outcome.failure = "membership state above 5 KB per member";
  outcome.figures.add("bytes_per_node", bytes_per_node)
      .add("msgs_per_node_per_s", static_cast<double>(cluster.total_messages_sent() - messages0) / n / seconds)
      .add("bytes_sent_per_node_per_s", static_cast<double>(cluster.total_bytes_sent() - bytes0) / n / seconds)
      .add("measured_s", seconds)
      .add("bootstrap_converged_s", to_seconds(*boot.converged_at - Time(0)));
  return finish(std::move(outcome), cluster, wall);
}

const bool registered = [] {
  register_scenario({.name = "bootstrap",
                     .summary = "N nodes start at once and join through 3 contact nodes: one strongly connected "
                                "overlay, every node lists and reaches all N (goal: 1,000 nodes within 10 s)",
                     .default_nodes = 1000,
                     .default_duration = 60s,
                     .params = {},
                     .run = run_bootstrap_scenario});
  register_scenario({.name = "crash",
                     .summary = "stable cluster on 1 ms +/- 0.5 ms links; a node's host hangs (no connection "
                                "close): 90% of nodes report it unreachable (goal: p50 0.8 s, p99 1.2 s)",
                     .default_nodes = 1000,
                     .default_duration = 60s,
                     .params = {{"trials", "nodes killed one after the other (default 20)"}},
                     .run = run_hang_scenario});
  register_scenario({.name = "process-crash",
                     .summary = "as crash, but the process dies and the kernel closes its connections (goal: 90% "
                                "within 100 ms)",
                     .default_nodes = 1000,
                     .default_duration = 60s,
                     .params = {{"trials", "nodes killed one after the other (default 20)"}},
                     .run = run_process_crash_scenario});
  register_scenario({.name = "mass-failure",
                     .summary = "50% of a stable cluster fails at once: survivors form one overlay and agree on "
                                "membership (goal: within 30 s)",
                     .default_nodes = 1000,
                     .default_duration = 30s,
                     .params = {{"mode", "hang (default) or crash"}},
                     .run = run_mass_failure});
  register_scenario({.name = "false-positives",
                     .summary = "jitter up to 50 ms, 1% of nodes stall 300 ms each minute: zero live nodes marked "
                                "unreachable by anyone",
                     .default_nodes = 1000,
                     .default_duration = 600s,
                     .params = {{"jitter_ms", "uniform extra one-way latency (default 50)"},
                                {"stall_ms", "length of each stall (default 300)"}},
                     .run = run_false_positives});
  register_scenario({.name = "asymmetric-partition",
                     .summary = "m1-m3, a1-a5; {a1,a2} cannot reach {a3,a4,a5}: nobody marked failed, every node "
                                "sees the link reports (goal: within 5 s)",
                     .default_nodes = 8,  // fixed: m1-m3 and a1-a5
                     .default_duration = 10s,
                     .params = {{"one_way", "1: only a1->a3 is dropped"}},
                     .run = run_asymmetric_scenario});
  register_scenario({.name = "partition-heal",
                     .summary = "two equal halves cut apart for the duration: exactly 2 components; after the heal "
                                "1 component (goal: within 10 s)",
                     .default_nodes = 16,
                     .default_duration = 60s,
                     .params = {},
                     .run = run_partition_heal});
  register_scenario({.name = "restart",
                     .summary = "a node crashes and restarts with its data: it rejoins with a higher incarnation "
                                "and no node keeps the old one",
                     .default_nodes = 100,
                     .default_duration = 30s,
                     .params = {},
                     .run = run_restart});
  register_scenario({.name = "footprint",
                     .summary = "membership and adjacency bytes per node, and messages/bytes per node per second, "
                                "in a stable cluster (goal: <= 5 MB at 1,000 nodes)",
                     .default_nodes = 1000,
                     .default_duration = 60s,
                     .params = {},
                     .run = run_footprint});
  return true;
}();

}  // namespace
}  // namespace lashup::sim
