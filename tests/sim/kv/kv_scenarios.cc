// KV scenarios of lashup-sim (issue: replicated KV store).
//
//  kv-converge  full nodes write random updates to shared keys while
//               (optionally) a share of the overlay's links is cut; after
//               the heal every replica is identical and holds every
//               acknowledged update. Deltas travel over multicast and its
//               repair; anti-entropy and crash/restart (kv-chaos) come with
//               persistence.
#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "control/control_cluster.h"
#include "control/control_scenarios.h"
#include "scenario.h"
#include "scenario_support.h"

namespace lashup::sim {
namespace {

ScenarioOutcome run_kv(const ScenarioOptions& options, const char* name, int64_t default_write_s,
                       int64_t default_chaos) {
  WallClock wall;
  ScenarioOutcome outcome;
  outcome.figures = begin_figures(name, options);
  auto keys = options.int_param("keys", 1000);
  auto rate = options.int_param("updates_per_s", 2);
  auto write_s = options.int_param("write_s", default_write_s);
  auto chaos = options.int_param("chaos", default_chaos);
  auto cut_pct = options.int_param("cut_pct", 0);
  auto cut_s = options.int_param("cut_s", 5);
  auto restarts = options.int_param("restarts", 0);
  auto isolate_s = options.int_param("isolate_s", 0);
  for (auto* p : {&keys, &rate, &write_s, &cut_pct, &cut_s, &restarts, &isolate_s, &chaos}) {
    if (!*p) return {false, p->status().message(), outcome.figures};
  }
  ControlClusterOptions o;
  o.nodes = options.nodes;
  o.seed = options.seed;
  ControlCluster cluster(o);
  const BootstrapFigures boot = run_bootstrap(cluster, 60s);
  if (!boot.converged_at) {
    outcome.ok = false;
    outcome.failure = "seed=" + std::to_string(options.seed) + " the cluster did not converge";
    return outcome;
  }
  cluster.sim().run_for(3s);

  Random pick(options.seed ^ 0x6b76636f6e76ULL);
  // What every acknowledged increment adds: key -> writer -> total.
  std::map<std::string, std::map<std::string, int64_t>> expected;
  uint64_t acknowledged = 0;
  uint64_t refused = 0;
  const Duration gap = std::chrono::microseconds(1'000'000 / std::max<int64_t>(1, *rate));
  const int64_t per_node = *rate * *write_s;
  for (NodeIndex n = 0; n < cluster.size(); ++n) {
    for (int64_t i = 0; i < per_node; ++i) {
      const Duration at = gap * i + Duration(static_cast<int64_t>(pick.uniform(static_cast<uint64_t>(gap.count()))));
      cluster.sim().after(at, [&, n] {
        NodeCore* core = cluster.node(n);
        if (core == nullptr) return;
        const std::string key = "k" + std::to_string(pick.uniform(static_cast<uint64_t>(*keys)));
        const std::string writer = cluster.sim().name(n);
        std::vector<crdt::FieldOp> ops{crdt::FieldOp::increment(writer, 1)};
        if (pick.chance(0.3)) ops.push_back(crdt::FieldOp::add("set", {"e" + std::to_string(pick.uniform(8))}));
        if (pick.chance(0.2)) ops.push_back(crdt::FieldOp::assign("reg", writer, cluster.sim().now().count()));
        Result<kv::KvStore::Written> result = Status::internal("not run");
        Actions out = core->kv_update(cluster.sim().now(), key, ops, nullptr, result);
        if (!result) {
          ++refused;
          return;
        }
        ++acknowledged;
        expected[key][writer] += 1;
        cluster.sim().execute(n, std::move(out));
      });
    }
  }
  std::optional<PartitionId> cut;
  size_t links_cut = 0;
  if (*cut_pct > 0) {
    cluster.sim().after(std::chrono::seconds(*write_s) / 4, [&] {
      auto links = cluster.overlay_links();
      pick.shuffle(links);
      links.resize(static_cast<size_t>(static_cast<double>(links.size()) * static_cast<double>(*cut_pct) / 100.0));
      links_cut = links.size();
      cut = cluster.sim().cut_links(links);
    });
    cluster.sim().after(std::chrono::seconds(*write_s) / 4 + std::chrono::seconds(*cut_s), [&] {
      if (cut) cluster.sim().heal(*cut);
    });
  }
  // Crashes: nodes (never a contact) die a quarter into the writes and come
  // back with their disk at three quarters.
  std::vector<NodeIndex> victims;
  for (int64_t i = 0; i < *restarts; ++i) {
    const auto v = static_cast<NodeIndex>(3 + pick.uniform(cluster.size() - 3));
    if (std::find(victims.begin(), victims.end(), v) == victims.end()) victims.push_back(v);
  }
  for (NodeIndex v : victims) {
    cluster.sim().after(std::chrono::seconds(*write_s) / 4, [&cluster, v] { cluster.sim().crash(v); });
    cluster.sim().after(std::chrono::seconds(*write_s) * 3 / 4, [&cluster, v] { cluster.sim().restart(v); });
  }
  // Isolation: one node cut from everyone for isolate_s (longer than the
  // multicast history, only anti-entropy brings it back in step).
  if (*isolate_s > 0) {
    const auto v = static_cast<NodeIndex>(3 + pick.uniform(cluster.size() - 3));
    cluster.sim().after(1s, [&cluster, v, isolate = *isolate_s] {
      const PartitionId id = cluster.sim().isolate(v);
      cluster.sim().after(std::chrono::seconds(isolate), [&cluster, id] { cluster.sim().heal(id); });
    });
  }
  // Chaos: `chaos` faults at random times during the writes, each lasting
  // 1-5 s: a partition into two random halves, a crash (the node restarts
  // with its disk), or 10% of the overlay's links cut.
  std::vector<PartitionId> open_cuts;
  std::vector<NodeIndex> down;
  uint64_t partitions = 0, crashes = 0, link_cuts = 0;
  for (int64_t f = 0; f < *chaos; ++f) {
    const Duration at = Duration(static_cast<int64_t>(pick.uniform(static_cast<uint64_t>(
        std::chrono::duration_cast<Duration>(std::chrono::seconds(*write_s)).count()))));
    const Duration lasts = std::chrono::milliseconds(1000 + static_cast<int64_t>(pick.uniform(4000)));
    const uint64_t kind = pick.uniform(3);
    cluster.sim().after(at, [&, kind, lasts] {
      if (kind == 0) {
        std::vector<NodeIndex> a, b;
        for (NodeIndex i = 0; i < cluster.size(); ++i) (pick.chance(0.5) ? a : b).push_back(i);
        const PartitionId id = cluster.sim().partition(a, b);
        ++partitions;
        cluster.sim().after(lasts, [&cluster, id] { cluster.sim().heal(id); });
      } else if (kind == 1) {
        const auto v = static_cast<NodeIndex>(3 + pick.uniform(cluster.size() - 3));
        if (cluster.node(v) == nullptr) return;
        cluster.sim().crash(v);
        ++crashes;
        cluster.sim().after(lasts, [&cluster, v] { cluster.sim().restart(v); });
      } else {
        auto links = cluster.overlay_links();
        pick.shuffle(links);
        links.resize(links.size() / 10);
        const PartitionId id = cluster.sim().cut_links(links);
        ++link_cuts;
        cluster.sim().after(lasts, [&cluster, id] { cluster.sim().heal(id); });
      }
    });
  }
  const Time writes_end = cluster.sim().now() + std::chrono::seconds(*write_s) + gap;
  cluster.sim().run_until(writes_end);

  // Converged: every live node's store has the same digest.
  auto identical = [&] {
    std::optional<uint64_t> digest;
    for (NodeIndex i : cluster.live_nodes()) {
      const uint64_t d = cluster.node(i)->kv().digest();
      if (digest && *digest != d) return false;
      digest = d;
    }
    return true;
  };
  std::optional<Time> converged_at;
  // Every fault ends within 5 s of the writes' end (a restart included).
  const Time limit = std::max(cluster.sim().now(), writes_end + std::chrono::seconds(*isolate_s)) + 60s;
  cluster.sim().run_for(*chaos > 0 ? 6s : 0s);
  while (cluster.sim().now() < limit) {
    if (identical()) {
      converged_at = cluster.sim().now();
      break;
    }
    cluster.sim().run_for(10ms);
  }

  uint64_t lost = 0;
  uint64_t refused_deltas = 0;
  uint64_t sync_states = 0;
  uint64_t sync_rounds = 0;
  uint64_t sync_equal = 0;
  for (NodeIndex i : cluster.live_nodes()) {
    const auto& st = cluster.node(i)->kv_sync().stats();
    sync_states += st.states_applied;
    sync_rounds += st.rounds_started;
    sync_equal += st.rounds_equal;
  }
  for (NodeIndex i : cluster.live_nodes()) {
    const kv::KvStore& store = cluster.node(i)->kv();
    refused_deltas += cluster.node(i)->stats().kv_deltas_refused + cluster.node(i)->stats().kv_deltas_malformed;
    for (const auto& [key, writers] : expected) {
      const crdt::Map* map = store.get(key);
      const crdt::MapValue value = map == nullptr ? crdt::MapValue{} : map->value();
      for (const auto& [writer, total] : writers) {
        const auto* field = value.find(writer, crdt::FieldType::counter);
        if (field == nullptr || std::get<int64_t>(field->value) != total) ++lost;
      }
    }
  }
  outcome.figures.add("keys", *keys)
      .add("updates_acknowledged", acknowledged)
      .add("updates_refused", refused)
      .add("links_cut", static_cast<uint64_t>(links_cut))
      .add("restarted", static_cast<uint64_t>(victims.size()))
      .add("isolated_s", *isolate_s)
      .add("chaos_partitions", partitions)
      .add("chaos_crashes", crashes)
      .add("chaos_link_cuts", link_cuts)
      .add("replicas_identical", converged_at.has_value())
      // With chaos, checking starts once every fault has ended (6 s after the writes).
      .add(*chaos > 0 ? "converged_after_faults_ms" : "converged_after_writes_ms",
           converged_at ? to_seconds(*converged_at - writes_end - (*chaos > 0 ? 6s : 0s)) * 1000.0 : NAN)
      .add("lost_acknowledged", lost)
      .add("deltas_refused", refused_deltas)
      .add("sync_rounds", sync_rounds)
      .add("sync_rounds_equal", sync_equal)
      .add("sync_states_applied", sync_states)
      .add("keys_per_node", static_cast<uint64_t>(cluster.node(cluster.live_nodes().front())->kv().size()));
  outcome.ok = converged_at.has_value() && lost == 0 && refused == 0 && refused_deltas == 0;
  if (!outcome.ok) {
    outcome.failure = "seed=" + std::to_string(options.seed) +
                      " replicas differ, an acknowledged update is missing, or a write or delta was refused";
  }
  outcome.figures.add("sim_seconds", to_seconds(cluster.sim().now() - Time(0)))
      .add("events", cluster.sim().stats().events)
      .add("wall_ms", wall.ms());
  return outcome;
}

// Time for a write to reach every node: every node subscribes to the
// written prefix (no coalescing), writes go to fresh keys from random nodes,
// and a write has arrived at a node when its subscription reports the key.
ScenarioOutcome run_kv_latency(const ScenarioOptions& options) {
  WallClock wall;
  ScenarioOutcome outcome;
  outcome.figures = begin_figures("kv-latency", options);
  outcome.figures.add("bench", "kv_converge");  // the name for this figure
  auto writes = options.int_param("writes", 200);
  auto interval_ms = options.int_param("interval_ms", 20);
  for (auto* p : {&writes, &interval_ms}) {
    if (!*p) return {false, p->status().message(), outcome.figures};
  }
  ControlClusterOptions o;
  o.nodes = options.nodes;
  o.seed = options.seed;
  o.tune = [](NodeConfig& c) { c.kv_coalesce = Duration(0); };
  ControlCluster cluster(o);
  std::map<std::string, Time> written_at;
  std::map<std::string, std::vector<Duration>> arrivals;
  cluster.sim().observe([&](Time now, NodeIndex, const Event& event) {
    const auto* c = std::get_if<KvChanged>(&event);
    if (c == nullptr || c->initial) return;
    auto it = written_at.find(c->key);
    if (it != written_at.end()) arrivals[c->key].push_back(now - it->second);
  });
  const BootstrapFigures boot = run_bootstrap(cluster, 60s);
  if (!boot.converged_at) {
    outcome.ok = false;
    outcome.failure = "seed=" + std::to_string(options.seed) + " the cluster did not converge";
    return outcome;
  }
  cluster.sim().run_for(5s);
  for (NodeIndex i : cluster.live_nodes()) {
    Status st;
    cluster.sim().execute(i, cluster.node(i)->kv_subscribe(cluster.sim().now(), 1, "lat/", false, st));
  }
  Random pick(options.seed ^ 0x6b766c6174ULL);
  for (int64_t w = 0; w < *writes; ++w) {
    cluster.sim().after(from_ms(*interval_ms) * w, [&, w] {
      const auto n = static_cast<NodeIndex>(pick.uniform(cluster.size()));
      const std::string key = "lat/" + std::to_string(w);
      std::vector<crdt::FieldOp> ops{crdt::FieldOp::increment("n", 1)};
      Result<kv::KvStore::Written> result = Status::internal("not run");
      written_at[key] = cluster.sim().now();
      cluster.sim().execute(n, cluster.node(n)->kv_update(cluster.sim().now(), key, ops, nullptr, result));
    });
  }
  cluster.sim().run_for(from_ms(*interval_ms) * *writes + 5s);
  std::vector<double> to_all_ms;
  std::vector<double> to_90_ms;
  uint64_t incomplete = 0;
  for (const auto& [key, at] : written_at) {
    auto times = arrivals[key];
    std::sort(times.begin(), times.end());
    if (times.size() < cluster.size()) {
      ++incomplete;
      continue;
    }
    to_all_ms.push_back(to_seconds(times.back()) * 1000.0);
    to_90_ms.push_back(to_seconds(times[times.size() * 9 / 10 - 1]) * 1000.0);
  }
  auto pct = [](std::vector<double> v, double q) -> double {
    if (v.empty()) return NAN;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
  };
  outcome.figures.add("writes", *writes)
      .add("incomplete", incomplete)
      .add("to_90pct_p50_ms", pct(to_90_ms, 0.5))
      .add("to_all_p50_ms", pct(to_all_ms, 0.5))
      .add("p99_ms", pct(to_all_ms, 0.99))
      .add("to_all_max_ms", pct(to_all_ms, 1.0))
      .add("sim_seconds", to_seconds(cluster.sim().now() - Time(0)))
      .add("wall_ms", wall.ms());
  outcome.ok = incomplete == 0;
  if (!outcome.ok) outcome.failure = "seed=" + std::to_string(options.seed) + " a write did not reach every node";
  return outcome;
}

// Tombstones: keys are written, then deleted (a few rewritten concurrently
// with their delete); one node is down meanwhile, which must hold off every
// collection; once it is back, every node collects every tombstone. Then
// half of the keys are written again: every replica reads only the new
// writes (nothing deleted comes back, no dot is reused).
ScenarioOutcome run_kv_tombstones(const ScenarioOptions& options) {
  WallClock wall;
  ScenarioOutcome outcome;
  outcome.figures = begin_figures("kv-tombstones", options);
  auto keys = options.int_param("keys", 200);
  auto grace_s = options.int_param("grace_s", 5);
  auto report_ms = options.int_param("report_ms", 1000);
  auto settle_s = options.int_param("settle_s", 10);
  for (auto* p : {&keys, &grace_s, &report_ms, &settle_s}) {
    if (!*p) return {false, p->status().message(), outcome.figures};
  }
  ControlClusterOptions o;
  o.nodes = options.nodes;
  o.seed = options.seed;
  o.tune = [&](NodeConfig& c) {
    c.kv_tombstone_grace = std::chrono::seconds(*grace_s);
    c.kv_tombstone_report = from_ms(*report_ms);
  };
  ControlCluster cluster(o);
  const BootstrapFigures boot = run_bootstrap(cluster, 60s);
  if (!boot.converged_at) {
    outcome.ok = false;
    outcome.failure = "seed=" + std::to_string(options.seed) + " the cluster did not converge";
    return outcome;
  }
  cluster.sim().run_for(3s);
  Random pick(options.seed ^ 0x746f6d6273ULL);
  auto random_live = [&] {
    const auto live = cluster.live_nodes();
    return live[pick.uniform(live.size())];
  };
  auto write = [&](NodeIndex n, const std::string& key, std::vector<crdt::FieldOp> ops) {
    Result<kv::KvStore::Written> result = Status::internal("not run");
    cluster.sim().execute(n, cluster.node(n)->kv_update(cluster.sim().now(), key, ops, nullptr, result));
    return result.is_ok();
  };
  auto key_of = [](int64_t i) { return "t/" + std::to_string(i); };
  // 1. Every key written by three random nodes.
  for (int64_t i = 0; i < *keys; ++i) {
    for (int w = 0; w < 3; ++w) {
      cluster.sim().after(from_ms(static_cast<int64_t>(pick.uniform(2000))), [&, i] {
        const NodeIndex n = random_live();
        write(n, key_of(i), {crdt::FieldOp::increment("old", 1), crdt::FieldOp::add("old_set", {cluster.sim().name(n)})});
      });
    }
  }
  cluster.sim().run_for(4s);
  // 2. One node goes down; every key is deleted by a random node; every
  // tenth key is also written concurrently elsewhere (update wins: it stays).
  const auto down = static_cast<NodeIndex>(3 + pick.uniform(cluster.size() - 3));
  cluster.sim().crash(down);
  uint64_t deletes = 0, survivors = 0;
  for (int64_t i = 0; i < *keys; ++i) {
    const NodeIndex n = random_live();
    Result<kv::KvStore::Written> removed = Status::internal("not run");
    cluster.sim().execute(n, cluster.node(n)->kv_remove(cluster.sim().now(), key_of(i), removed));
    if (removed.is_ok()) ++deletes;
    if (i % 10 == 0) {
      NodeIndex m = random_live();
      if (m == n) m = cluster.live_nodes().front() == n ? cluster.live_nodes().back() : cluster.live_nodes().front();
      if (write(m, key_of(i), {crdt::FieldOp::increment("survivor", 1)})) ++survivors;
    }
  }
  // 3. Past the grace, with the node still down: nothing may be collected.
  cluster.sim().run_for(std::chrono::seconds(*grace_s) + from_ms(*report_ms) * 4);
  uint64_t collected_while_down = 0;
  for (NodeIndex i : cluster.live_nodes()) collected_while_down += cluster.node(i)->kv().stats().tombstones_collected;
  cluster.sim().restart(down);
  // 4. Back: everything is collected everywhere within a few rounds after
  // the grace (the restarted node's tombstones start their grace anew).
  const Time limit = cluster.sim().now() + std::chrono::seconds(*grace_s) * 3 + from_ms(*report_ms) * 20 + 30s;
  auto all_collected = [&] {
    std::optional<uint64_t> digest;
    for (NodeIndex i : cluster.live_nodes()) {
      const kv::KvStore& store = cluster.node(i)->kv();
      if (store.tombstone_count() != 0) return false;
      if (digest && *digest != store.digest()) return false;
      digest = store.digest();
    }
    return true;
  };
  std::optional<Time> collected_at;
  const Time restarted_at = cluster.sim().now();
  while (cluster.sim().now() < limit) {
    cluster.sim().run_for(100ms);
    if (all_collected()) {
      collected_at = cluster.sim().now();
      break;
    }
  }
  uint64_t tombstones_left = 0, live_keys = 0, collected = 0;
  for (NodeIndex i : cluster.live_nodes()) {
    tombstones_left += cluster.node(i)->kv().tombstone_count();
    live_keys = std::max<uint64_t>(live_keys, cluster.node(i)->kv().size());
    collected += cluster.node(i)->kv().stats().tombstones_collected;
  }
  // 5. Half of the keys written again, several times, from random nodes.
  std::map<std::string, int64_t> again;
  for (int64_t i = 0; i < *keys; i += 2) {
    for (int w = 0; w < 2; ++w) {
      if (write(random_live(), key_of(i), {crdt::FieldOp::increment("again", 1)})) again[key_of(i)] += 1;
    }
  }
  cluster.sim().run_for(std::chrono::seconds(*settle_s));
  uint64_t resurrected = 0, wrong = 0;
  std::optional<uint64_t> digest;
  bool identical = true;
  for (NodeIndex i : cluster.live_nodes()) {
    const kv::KvStore& store = cluster.node(i)->kv();
    if (digest && *digest != store.digest()) identical = false;
    digest = store.digest();
    for (int64_t k = 0; k < *keys; ++k) {
      const crdt::Map* map = store.get(key_of(k));
      const crdt::MapValue value = map == nullptr ? crdt::MapValue{} : map->value();
      if (value.find("old", crdt::FieldType::counter) != nullptr ||
          value.find("old_set", crdt::FieldType::set) != nullptr) {
        ++resurrected;
      }
      const auto* field = value.find("again", crdt::FieldType::counter);
      const int64_t got = field == nullptr ? 0 : std::get<int64_t>(field->value);
      const auto expected = again.find(key_of(k));
      if (got != (expected == again.end() ? 0 : expected->second)) ++wrong;
    }
  }
  outcome.figures.add("keys", *keys)
      .add("deletes", deletes)
      .add("survivors", survivors)
      .add("collected_while_a_member_was_down", collected_while_down)
      .add("all_collected_after_restart_ms",
           collected_at ? to_seconds(*collected_at - restarted_at) * 1000.0 : NAN)
      .add("tombstones_left", tombstones_left)
      .add("tombstones_collected", collected)
      .add("live_keys_after_collection", live_keys)
      .add("resurrected_fields", resurrected)
      .add("wrong_rewrites", wrong)
      .add("replicas_identical", identical)
      .add("sim_seconds", to_seconds(cluster.sim().now() - Time(0)))
      .add("wall_ms", wall.ms());
  outcome.ok = deletes == static_cast<uint64_t>(*keys) && collected_while_down == 0 && collected_at.has_value() &&
               live_keys == survivors && resurrected == 0 && wrong == 0 && identical;
  if (!outcome.ok) {
    outcome.failure = "seed=" + std::to_string(options.seed) +
                      " a tombstone was collected while a member was down, was not collected, or a deleted field "
                      "came back";
  }
  return outcome;
}

const bool registered = [] {
  register_scenario({.name = "kv-converge",
                     .summary = "every node writes random updates to shared keys (optionally while a share of the "
                                "overlay's links is cut): after the writes every replica is identical and holds every "
                                "acknowledged update",
                     .default_nodes = 100,
                     .default_duration = 60s,
                     .params = {{"keys", "shared keys (default 1000)"},
                                {"updates_per_s", "per node (default 2)"},
                                {"write_s", "seconds of writes (default 10)"},
                                {"cut_pct", "share of overlay links cut a quarter into the writes (default 0)"},
                                {"cut_s", "how long they stay cut (default 5)"},
                                {"restarts", "nodes crashed a quarter into the writes, restarted at three quarters"},
                                {"isolate_s", "one node cut from all others this long, from 1 s into the writes"},
                                {"chaos", "random faults during the writes (default 0; see kv-chaos)"}},
                     .run = [](const ScenarioOptions& o) { return run_kv(o, "kv-converge", 10, 0); }});
  register_scenario({.name = "kv-latency",
                     .summary = "writes to fresh keys from random nodes; time until every node's subscription "
                                "reports each one (p99 over writes of the time to all nodes; goal 1 s at 100 nodes, "
                                "2 s at 1,000)",
                     .default_nodes = 100,
                     .default_duration = 60s,
                     .params = {{"writes", "writes (default 200)"}, {"interval_ms", "between writes (default 20)"}},
                     .run = run_kv_latency});
  register_scenario({.name = "kv-tombstones",
                     .summary = "keys written then deleted while one node is down: nothing is collected until it is "
                                "back, then every tombstone is collected everywhere; keys written again read only the "
                                "new writes",
                     .default_nodes = 50,
                     .default_duration = 120s,
                     .params = {{"keys", "keys (default 200)"},
                                {"grace_s", "kv.tombstone_grace_ms in seconds (default 5)"},
                                {"report_ms", "kv.tombstone_report_ms (default 1000)"},
                                {"settle_s", "seconds after the keys are written again (default 10)"}},
                     .run = run_kv_tombstones});
  register_scenario({.name = "kv-chaos",
                     .summary = "every node writes random updates to 1,000 shared keys for 30 s while random faults "
                                "come and go (partitions into halves, crashes with restart from disk, 10% of links "
                                "cut): afterwards every replica is identical and no acknowledged update is lost",
                     .default_nodes = 100,
                     .default_duration = 120s,
                     .params = {{"keys", "shared keys (default 1000)"},
                                {"updates_per_s", "per node (default 2)"},
                                {"write_s", "seconds of writes (default 30)"},
                                {"chaos", "faults during the writes (default 12)"}},
                     .run = [](const ScenarioOptions& o) { return run_kv(o, "kv-chaos", 30, 12); }});
  return true;
}();

}  // namespace
}  // namespace lashup::sim
