// Multicast scenarios of lashup-sim (issue: multicast).
//
//  mc-delivery  full nodes (NodeCore): messages from random origins reach
//               every subscriber exactly once, and nobody else.
//  mc-repair    full nodes; 10% of the overlay's links are cut while
//               messages are in flight: repair delivers nearly all within
//               2 s, and all once the links heal.
//  mc-latency   the multicast core alone over a fixed overlay (a random
//               graph of degree 5-7, as HyParView's active views) shared by
//               all nodes, so 5,000 nodes fit in memory: time to 50/99/100%
//               delivery and bytes on the wire per message.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include "control/control_cluster.h"
#include "control/control_scenarios.h"
#include "core/wire/multicast_messages.h"
#include "multicast/mc_tracker.h"
#include "scenario.h"
#include "scenario_support.h"

namespace lashup::sim {
namespace {

constexpr const char* kTopic = "sim/topic";

ScenarioOutcome finish(ScenarioOutcome outcome, Simulation& sim, const WallClock& wall) {
  return finish_outcome(std::move(outcome), sim, wall);
}

uint64_t multicast_bytes(const ControlCluster& cluster) {
  uint64_t bytes = 0;
  for (auto type : {wire::MessageType::mc_data, wire::MessageType::mc_announce, wire::MessageType::mc_pull}) {
    bytes += cluster.bytes_by_type()[static_cast<size_t>(type)];
  }
  return bytes;
}

// Publishes `count` messages from random live nodes, one every `interval`,
// starting now; returns when the last is scheduled.
// `origins` > 0: only the first `origins` live nodes publish (so each sends
// many, and their order can be checked).
void schedule_publishes(ControlCluster& cluster, McTracker& tracker, Random& pick, int64_t count, Duration interval,
                        size_t payload_bytes, size_t origins = 0) {
  for (int64_t i = 0; i < count; ++i) {
    cluster.sim().after(interval * i, [&cluster, &tracker, &pick, payload_bytes, origins] {
      auto live = cluster.live_nodes();
      if (origins > 0 && live.size() > origins) live.resize(origins);
      if (live.empty()) return;
      const NodeIndex origin = live[pick.uniform(live.size())];
      NodeCore* core = cluster.node(origin);
      Bytes payload(payload_bytes, 0x5a);
      Result<uint64_t> seq = Status::internal("not run");
      Actions out = core->mc_publish(cluster.sim().now(), kTopic, payload, seq);
      if (!seq) {
        cluster.sim().fail("publish failed: " + seq.status().message());
        return;
      }
      tracker.published(cluster.sim().name(origin), *seq, cluster.sim().now());
      cluster.sim().execute(origin, std::move(out));
    });
  }
}

ScenarioOutcome run_mc_delivery(const ScenarioOptions& options) {
  WallClock wall;
  ScenarioOutcome outcome;
  outcome.figures = begin_figures("mc-delivery", options);
  auto messages = options.int_param("messages", 200);
  auto interval_ms = options.int_param("interval_ms", 5);
  auto subscribers_pct = options.int_param("subscribers_pct", 50);
  auto payload = options.int_param("payload_bytes", 16);
  auto settle_s = options.int_param("settle_s", 5);
  auto origins = options.int_param("origins", 0);
  for (auto* p : {&messages, &interval_ms, &subscribers_pct, &payload, &settle_s, &origins}) {
    if (!*p) return {false, p->status().message(), outcome.figures};
  }
  ControlClusterOptions o;
  o.nodes = options.nodes;
  o.seed = options.seed;
  ControlCluster cluster(o);
  McTracker tracker(cluster.sim());
  const BootstrapFigures boot = run_bootstrap(cluster, 60s);
  if (!boot.converged_at) return finish({false, "the cluster did not converge", outcome.figures}, cluster.sim(), wall);
  cluster.sim().run_for(std::chrono::seconds(*settle_s));

  Random pick(options.seed ^ 0x6d63646c7679ULL);
  std::vector<NodeIndex> subscribers;
  for (NodeIndex i = 0; i < cluster.size(); ++i) {
    if (static_cast<int64_t>(pick.uniform(100)) < *subscribers_pct) subscribers.push_back(i);
  }
  for (NodeIndex i : subscribers) (void)cluster.node(i)->mc_subscribe(kTopic);
  tracker.set_subscribers(subscribers);

  const uint64_t bytes0 = multicast_bytes(cluster);
  schedule_publishes(cluster, tracker, pick, *messages, from_ms(*interval_ms), static_cast<size_t>(*payload),
                     static_cast<size_t>(*origins));
  cluster.sim().run_for(from_ms(*interval_ms) * *messages + 5s);

  const McFigures f = tracker.figures(std::nullopt);
  MulticastStats totals;
  for (NodeIndex i : cluster.live_nodes()) {
    const auto& s = cluster.node(i)->multicast().stats();
    totals.repaired += s.repaired;
    totals.duplicates_received += s.duplicates_received;
    totals.pulls_sent += s.pulls_sent;
  }
  const double bytes_per_message_per_node =
      static_cast<double>(multicast_bytes(cluster) - bytes0) / static_cast<double>(*messages) / cluster.size();
  outcome.figures.add("messages", *messages)
      .add("subscribers", static_cast<uint64_t>(subscribers.size()))
      .add("delivered_ratio", f.delivered_ratio)
      .add("missed", f.missing)
      .add("duplicates_delivered", f.duplicates)
      .add("deliveries_to_non_subscribers", f.strays)
      .add("out_of_order_deliveries", f.out_of_order)
      .add("deliveries_per_message", f.deliveries_per_message)
      .add("deliver_50pct_ms", f.t50_ms)
      .add("deliver_99pct_ms", f.t99_ms)
      .add("deliver_100pct_ms", f.t100_ms)
      .add("deliver_100pct_max_ms", f.t100_max_ms)
      .add("bytes_per_message_per_node", bytes_per_message_per_node)
      .add("original_tree_bytes_per_packet", static_cast<uint64_t>(84) * cluster.size())
      .add("repaired_copies", totals.repaired)
      .add("duplicate_copies_received", totals.duplicates_received)
      .add("pulls", totals.pulls_sent);
  outcome.ok = f.delivered_ratio == 1.0 && f.duplicates == 0 && f.strays == 0;
  if (!outcome.ok) outcome.failure = "a subscriber missed a message, or a message was delivered twice or to a non-subscriber";
  return finish(std::move(outcome), cluster.sim(), wall);
}

ScenarioOutcome run_mc_repair(const ScenarioOptions& options) {
  WallClock wall;
  ScenarioOutcome outcome;
  outcome.figures = begin_figures("mc-repair", options);
  auto messages = options.int_param("messages", 400);
  auto interval_ms = options.int_param("interval_ms", 10);
  auto cut_pct = options.int_param("cut_pct", 10);
  auto cut_s = options.int_param("cut_s", 10);
  for (auto* p : {&messages, &interval_ms, &cut_pct, &cut_s}) {
    if (!*p) return {false, p->status().message(), outcome.figures};
  }
  ControlClusterOptions o;
  o.nodes = options.nodes;
  o.seed = options.seed;
  ControlCluster cluster(o);
  McTracker tracker(cluster.sim());
  const BootstrapFigures boot = run_bootstrap(cluster, 60s);
  if (!boot.converged_at) return finish({false, "the cluster did not converge", outcome.figures}, cluster.sim(), wall);
  cluster.sim().run_for(5s);
  std::vector<NodeIndex> everyone = cluster.live_nodes();
  for (NodeIndex i : everyone) (void)cluster.node(i)->mc_subscribe(kTopic);
  tracker.set_subscribers(everyone);

  Random pick(options.seed ^ 0x6d6372657061ULL);
  const Duration interval = from_ms(*interval_ms);
  // The cut falls a quarter into the stream, while messages are in flight.
  schedule_publishes(cluster, tracker, pick, *messages, interval, 16);
  const Duration cut_at = interval * (*messages / 4);
  size_t cut_count = 0;
  size_t link_count = 0;
  std::optional<PartitionId> cut;
  cluster.sim().after(cut_at, [&] {
    auto links = cluster.overlay_links();
    link_count = links.size();
    pick.shuffle(links);
    links.resize(static_cast<size_t>(static_cast<double>(links.size()) * static_cast<double>(*cut_pct) / 100.0));
    cut_count = links.size();
    cut = cluster.sim().cut_links(links);
  });
  const Time heal_at = cluster.sim().now() + cut_at + std::chrono::seconds(*cut_s);
  cluster.sim().at(heal_at, [&] {
    if (cut) cluster.sim().heal(*cut);
  });
  cluster.sim().run_until(std::max(heal_at, cluster.sim().now() + interval * *messages) + 15s);

  const McFigures within_2s = tracker.figures(2s);
  const McFigures healed = tracker.figures(std::nullopt);
  uint64_t repaired = 0;
  uint64_t lost = 0;
  for (NodeIndex i : cluster.live_nodes()) {
    repaired += cluster.node(i)->multicast().stats().repaired;
    lost += cluster.node(i)->multicast().stats().lost;
  }
  outcome.figures.add("messages", *messages)
      .add("links", static_cast<uint64_t>(link_count))
      .add("links_cut", static_cast<uint64_t>(cut_count))
      .add("cut_s", *cut_s)
      .add("delivered_ratio_2s", within_2s.delivered_ratio)
      .add("missed_within_2s", within_2s.missing)
      .add("delivered_ratio_healed", healed.delivered_ratio)
      .add("duplicates_delivered", healed.duplicates)
      .add("out_of_order_deliveries", healed.out_of_order)
      .add("repaired_copies", repaired)
      .add("given_up", lost)
      .add("deliver_100pct_max_ms", healed.t100_max_ms);
  outcome.ok = cut_count > 0 && within_2s.delivered_ratio >= 0.999 && healed.delivered_ratio == 1.0 &&
               healed.duplicates == 0;
  if (!outcome.ok) outcome.failure = "below 99.9% within 2 s, or not 100% after the heal, or a duplicate";
  return finish(std::move(outcome), cluster.sim(), wall);
}

// --- mc-latency: the multicast core over a fixed overlay ------------------

// The overlay and the BFS trees every node would compute from it.
class FixedOverlay {
 public:
  FixedOverlay(uint32_t n, uint64_t seed, std::function<NodeName(NodeIndex)> name_of) : adjacency_(n) {
    Random random(seed);
    for (NodeIndex i = 0; i < n; ++i) names_.push_back(name_of(i));
    for (NodeIndex i = 0; i < n; ++i) index_[names_[i]] = i;
    // Each node fills its view to 5 with random nodes whose views are not
    // full (7); a ring first keeps the graph connected.
    auto linked = [&](NodeIndex a, NodeIndex b) {
      return std::find(adjacency_[a].begin(), adjacency_[a].end(), b) != adjacency_[a].end();
    };
    auto link = [&](NodeIndex a, NodeIndex b) {
      adjacency_[a].push_back(b);
      adjacency_[b].push_back(a);
    };
    for (NodeIndex i = 0; i + 1 < n; ++i) link(i, i + 1);
    for (NodeIndex i = 0; i < n; ++i) {
      for (int tries = 0; adjacency_[i].size() < 5 && tries < 100; ++tries) {
        const auto j = static_cast<NodeIndex>(random.uniform(n));
        if (j == i || adjacency_[j].size() >= 7 || linked(i, j)) continue;
        link(i, j);
      }
    }
    // Sorted by name, as Membership's graph is.
    for (auto& edges : adjacency_) {
      std::sort(edges.begin(), edges.end(), [&](NodeIndex a, NodeIndex b) { return names_[a] < names_[b]; });
      std::vector<NodeName> names;
      for (NodeIndex e : edges) names.push_back(names_[e]);
      neighbor_names_.push_back(std::move(names));
    }
  }

  const std::vector<NodeIndex>& neighbors(NodeIndex i) const { return adjacency_[i]; }
  const std::vector<NodeName>& neighbor_names(NodeIndex i) const { return neighbor_names_[i]; }

  const std::vector<NodeName>& children(const NodeName& origin, NodeIndex node) {
    static const std::vector<NodeName> none;
    auto root = index_.find(origin);
    if (root == index_.end()) return none;
    auto it = trees_.find(root->second);
    if (it == trees_.end()) it = trees_.emplace(root->second, bfs_children(root->second)).first;
    return it->second[node];
  }

 private:
  std::vector<std::vector<NodeName>> bfs_children(NodeIndex root) const {
    std::vector<std::vector<NodeName>> children(adjacency_.size());
    std::vector<bool> seen(adjacency_.size(), false);
    std::vector<NodeIndex> queue{root};
    seen[root] = true;
    for (size_t head = 0; head < queue.size(); ++head) {
      const NodeIndex v = queue[head];
      for (NodeIndex w : adjacency_[v]) {
        if (seen[w]) continue;
        seen[w] = true;
        children[v].push_back(names_[w]);
        queue.push_back(w);
      }
    }
    return children;
  }

  std::vector<std::vector<NodeIndex>> adjacency_;
  std::vector<std::vector<NodeName>> neighbor_names_;
  std::vector<NodeName> names_;
  std::unordered_map<NodeName, NodeIndex> index_;
  std::unordered_map<NodeIndex, std::vector<std::vector<NodeName>>> trees_;
};

class FixedOverlayNode final : public ProtocolCore, MulticastTopology {
 public:
  FixedOverlayNode(FixedOverlay& overlay, NodeIndex index, const NodeName& name, uint64_t seed, uint64_t& bytes)
      : overlay_(overlay),
        index_(index),
        random_(seed),
        multicast_(MulticastConfig{}, name, 1, random_, *this),
        bytes_(bytes) {}

  Actions on_start(Time now) override {
    Actions out;
    multicast_.start(now);
    for (const NodeName& peer : overlay_.neighbor_names(index_)) out.connect(peer, peer + ":7450");
    return out;
  }
  Actions on_message(Time now, const NodeName& from, std::span<const uint8_t> message) override {
    Actions out;
    wire::Reader reader(message);
    auto type = wire::read_message_type(reader);
    if (type) (void)multicast_.handle(now, from, *type, reader, out);
    return finish(std::move(out));
  }
  Actions on_tick(Time now) override {
    Actions out;
    multicast_.tick(now, out);
    return finish(std::move(out));
  }
  Actions on_connection(Time now, const NodeName& peer, bool up) override {
    Actions out;
    if (up) {
      if (up_.insert(peer).second) multicast_.on_neighbor_up(now, peer, out);
    } else {
      up_.erase(peer);
    }
    return finish(std::move(out));
  }
  Actions publish(Time now, std::string_view topic, wire::ByteView payload, Result<uint64_t>& seq) {
    Actions out;
    seq = multicast_.publish(now, topic, payload, out);
    return finish(std::move(out));
  }
  Multicast& multicast() { return multicast_; }

  const std::vector<NodeName>& tree_children(const NodeName& origin) override {
    return overlay_.children(origin, index_);
  }
  const std::vector<NodeName>& neighbors() override { return overlay_.neighbor_names(index_); }
  bool connected(const NodeName& peer) const override { return up_.count(peer) > 0; }

 private:
  Actions finish(Actions out) {
    if (auto at = multicast_.next_deadline()) out.wake_no_later_than(*at);
    for (const auto& action : out.items) {
      if (const auto* send = std::get_if<SendAction>(&action)) bytes_ += send->message.size() + 4;
    }
    return out;
  }

  FixedOverlay& overlay_;
  NodeIndex index_;
  Random random_;
  Multicast multicast_;
  std::set<NodeName> up_;
  uint64_t& bytes_;
};

ScenarioOutcome run_mc_latency(const ScenarioOptions& options) {
  WallClock wall;
  ScenarioOutcome outcome;
  outcome.figures = begin_figures("mc-latency", options);
  auto messages = options.int_param("messages", 200);
  auto interval_ms = options.int_param("interval_ms", 10);
  auto payload = options.int_param("payload_bytes", 16);
  for (auto* p : {&messages, &interval_ms, &payload}) {
    if (!*p) return {false, p->status().message(), outcome.figures};
  }
  FixedOverlay overlay(options.nodes, options.seed, control_node_name);
  std::vector<FixedOverlayNode*> nodes(options.nodes, nullptr);
  uint64_t bytes = 0;
  SimConfig config;
  config.nodes = options.nodes;
  config.seed = options.seed;
  config.name_of = control_node_name;
  Simulation sim(config, [&](const NodeContext& context) -> std::unique_ptr<ProtocolCore> {
    auto node = std::make_unique<FixedOverlayNode>(overlay, context.index, context.name, context.seed, bytes);
    (void)node->multicast().subscribe(kTopic);
    nodes[context.index] = node.get();
    return node;
  });
  McTracker tracker(sim);
  std::vector<NodeIndex> everyone;
  for (NodeIndex i = 0; i < options.nodes; ++i) everyone.push_back(i);
  tracker.set_subscribers(everyone);
  sim.start_all();
  sim.run_for(2s);

  Random pick(options.seed ^ 0x6d636c6174ULL);
  const uint64_t bytes0 = bytes;
  const Duration interval = from_ms(*interval_ms);
  for (int64_t i = 0; i < *messages; ++i) {
    sim.after(interval * i, [&] {
      const auto origin = static_cast<NodeIndex>(pick.uniform(options.nodes));
      Bytes data(static_cast<size_t>(*payload), 0x5a);
      Result<uint64_t> seq = Status::internal("not run");
      Actions out = nodes[origin]->publish(sim.now(), kTopic, data, seq);
      if (!seq) return sim.fail("publish failed: " + seq.status().message());
      tracker.published(sim.name(origin), *seq, sim.now());
      sim.execute(origin, std::move(out));
    });
  }
  sim.run_for(interval * *messages + 3s);
  const McFigures f = tracker.figures(std::nullopt);
  outcome.figures.add("messages", *messages)
      .add("payload_bytes", *payload)
      .add("link_latency", "1 ms + uniform 0-0.5 ms")
      .add("delivered_ratio", f.delivered_ratio)
      .add("duplicates_delivered", f.duplicates)
      .add("deliver_50pct_ms", f.t50_ms)
      .add("deliver_99pct_ms", f.t99_ms)
      .add("deliver_100pct_ms", f.t100_ms)
      .add("deliver_100pct_max_ms", f.t100_max_ms)
      .add("bytes_per_message_per_node",
           static_cast<double>(bytes - bytes0) / static_cast<double>(*messages) / options.nodes)
      .add("original_tree_bytes_per_packet", static_cast<uint64_t>(84) * options.nodes);
  outcome.ok = f.delivered_ratio == 1.0 && f.duplicates == 0;
  if (!outcome.ok) outcome.failure = "a message was missed or delivered twice";
  return finish(std::move(outcome), sim, wall);
}

const bool registered = [] {
  register_scenario({.name = "mc-delivery",
                     .summary = "stable cluster, a random share of nodes subscribed; messages from random origins: "
                                "every subscriber gets every message exactly once, non-subscribers none",
                     .default_nodes = 1000,
                     .default_duration = 60s,
                     .params = {{"messages", "messages published (default 200)"},
                                {"interval_ms", "between two publishes (default 5)"},
                                {"subscribers_pct", "share of nodes subscribed (default 50)"},
                                {"settle_s", "stable time before the first publish (default 5)"},
                                {"origins", "only this many nodes publish (default 0: any node)"},
                                {"payload_bytes", "payload size (default 16)"}},
                     .run = run_mc_delivery});
  register_scenario({.name = "mc-repair",
                     .summary = "every node subscribed; 10% of the overlay links are cut while messages are in "
                                "flight: >= 99.9% delivered within 2 s, 100% after the links heal, no duplicate",
                     .default_nodes = 1000,
                     .default_duration = 60s,
                     .params = {{"messages", "messages published (default 400)"},
                                {"interval_ms", "between two publishes (default 10)"},
                                {"cut_pct", "share of overlay links cut (default 10)"},
                                {"cut_s", "how long the links stay cut (default 10)"}},
                     .run = run_mc_repair});
  register_scenario({.name = "mc-latency",
                     .summary = "the multicast core alone on a fixed random overlay of degree 5-7 (so 5,000 nodes "
                                "fit): time to 50/99/100% delivery, bytes per message per node",
                     .default_nodes = 1000,
                     .default_duration = 60s,
                     .params = {{"messages", "messages published (default 200)"},
                                {"interval_ms", "between two publishes (default 10)"},
                                {"payload_bytes", "payload size (default 16)"}},
                     .run = run_mc_latency});
  return true;
}();

}  // namespace
}  // namespace lashup::sim
