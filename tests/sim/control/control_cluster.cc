#include "control/control_cluster.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "core/config/config.h"

namespace lashup::sim {

NodeName control_node_name(NodeIndex index) { return "n" + std::to_string(index); }

// Forwards to a NodeCore and counts the sends it asks for.
class ControlCluster::CountingCore final : public ProtocolCore {
 public:
  CountingCore(std::unique_ptr<NodeCore> core, uint64_t& bytes, uint64_t& messages, ControlCluster& cluster)
      : core_(std::move(core)), bytes_(bytes), messages_(messages), cluster_(cluster) {}

  Actions on_start(Time now) override { return count(core_->on_start(now)); }
  Actions on_message(Time now, const NodeName& from, std::span<const uint8_t> message) override {
    return count(core_->on_message(now, from, message));
  }
  Actions on_tick(Time now) override { return count(core_->on_tick(now)); }
  Actions on_connection(Time now, const NodeName& peer, bool up) override {
    return count(core_->on_connection(now, peer, up));
  }
  uint32_t protocol_version_max() const override { return core_->protocol_version_max(); }
  void on_connection_version(const NodeName& peer, uint32_t version) override {
    core_->on_connection_version(peer, version);
  }
  NodeCore& core() { return *core_; }

 private:
  Actions count(Actions actions) {
    for (const auto& action : actions.items) {
      if (const auto* send = std::get_if<SendAction>(&action)) {
        ++messages_;
        bytes_ += send->message.size() + 4;  // + the frame header
        const size_t type = send->message.empty() ? 0 : std::min<size_t>(send->message[0], wire::kMessageTypeMax + 1);
        ++cluster_.messages_by_type_[type];
        cluster_.bytes_by_type_[type] += send->message.size() + 4;
      }
    }
    return actions;
  }
  std::unique_ptr<NodeCore> core_;
  uint64_t& bytes_;
  uint64_t& messages_;
  ControlCluster& cluster_;
};

ControlCluster::ControlCluster(ControlClusterOptions options)
    : options_(std::move(options)),
      cores_(options_.nodes, nullptr),
      bytes_sent_(options_.nodes, 0),
      messages_sent_(options_.nodes, 0),
      messages_by_type_(wire::kMessageTypeMax + 2, 0),
      bytes_by_type_(wire::kMessageTypeMax + 2, 0) {
  auto name_of = options_.name_of ? options_.name_of : control_node_name;
  NodeConfig defaults = NodeConfig::from(config::Config{});
  for (uint32_t i = 0; i < options_.contacts && i < options_.nodes; ++i) {
    defaults.contacts.push_back({name_of(i), name_of(i) + ":7450"});
  }
  if (options_.tune) options_.tune(defaults);

  SimConfig config;
  config.nodes = options_.nodes;
  config.seed = options_.seed;
  config.network = options_.network;
  config.name_of = name_of;
  config.trace_hash = options_.trace_hash;
  auto factory = [this, defaults](const NodeContext& context) -> std::unique_ptr<ProtocolCore> {
    NodeConfig config = defaults;
    config.self = {context.name, context.name + ":7450"};
    if (options_.tune_node) options_.tune_node(context.index, context.boot, config);
    NodeCore::PersistedState persisted(context.persisted.begin(), context.persisted.end());
    Incarnation previous = 0;
    if (auto it = persisted.find(kPersistIncarnation); it != persisted.end()) {
      wire::Reader r(it->second);
      r.varint(previous);
    }
    // The simulator has no wall clock: the persisted incarnation is all there is.
    const Incarnation incarnation = next_incarnation(previous, 0);
    auto core = std::make_unique<NodeCore>(std::move(config), incarnation, persisted, context.seed);
    auto counting = std::make_unique<CountingCore>(std::move(core), bytes_sent_[context.index],
                                                   messages_sent_[context.index], *this);
    cores_[context.index] = counting.get();
    return counting;
  };
  sim_ = std::make_unique<Simulation>(config, factory);
}

NodeCore* ControlCluster::node(NodeIndex index) const {
  if (index >= cores_.size() || sim_->core(index) == nullptr || sim_->core(index) != cores_[index]) return nullptr;
  if (sim_->status(index) != NodeStatus::alive) return nullptr;
  return &cores_[index]->core();
}

std::vector<NodeIndex> ControlCluster::live_nodes() const {
  std::vector<NodeIndex> out;
  for (NodeIndex i = 0; i < size(); ++i) {
    if (node(i) != nullptr) out.push_back(i);
  }
  return out;
}

std::vector<std::pair<NodeIndex, NodeIndex>> ControlCluster::overlay_links() const {
  std::set<std::pair<NodeIndex, NodeIndex>> links;
  for (NodeIndex i : live_nodes()) {
    for (const auto& peer : node(i)->overlay().active_view()) {
      auto j = sim_->find(peer.name);
      if (j) links.emplace(std::min(i, *j), std::max(i, *j));
    }
  }
  return {links.begin(), links.end()};
}

uint32_t ControlCluster::overlay_components() const {
  // Kosaraju over live nodes.
  const uint32_t n = size();
  std::vector<std::vector<NodeIndex>> out(n), in(n);
  std::vector<bool> live(n, false);
  for (NodeIndex i = 0; i < n; ++i) live[i] = node(i) != nullptr;
  for (NodeIndex i = 0; i < n; ++i) {
    if (!live[i]) continue;
    for (const auto& peer : node(i)->overlay().active_view()) {
      auto j = sim_->find(peer.name);
      if (!j || !live[*j]) continue;
      out[i].push_back(*j);
      in[*j].push_back(i);
    }
  }
  std::vector<NodeIndex> order;
  std::vector<bool> seen(n, false);
  for (NodeIndex start = 0; start < n; ++start) {
    if (!live[start] || seen[start]) continue;
    // Iterative post-order DFS.
    std::vector<std::pair<NodeIndex, size_t>> stack{{start, 0}};
    seen[start] = true;
    while (!stack.empty()) {
      auto& [v, next] = stack.back();
      if (next < out[v].size()) {
        const NodeIndex w = out[v][next++];
        if (!seen[w]) {
          seen[w] = true;
          stack.emplace_back(w, 0);
        }
      } else {
        order.push_back(v);
        stack.pop_back();
      }
    }
  }
  std::vector<bool> assigned(n, false);
  uint32_t components = 0;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    if (assigned[*it]) continue;
    ++components;
    std::vector<NodeIndex> stack{*it};
    assigned[*it] = true;
    while (!stack.empty()) {
      const NodeIndex v = stack.back();
      stack.pop_back();
      for (NodeIndex w : in[v]) {
        if (!assigned[w]) {
          assigned[w] = true;
          stack.push_back(w);
        }
      }
    }
  }
  return components;
}

double ControlCluster::symmetric_ratio() const {
  uint64_t edges = 0;
  uint64_t symmetric = 0;
  for (NodeIndex i = 0; i < size(); ++i) {
    const NodeCore* a = node(i);
    if (a == nullptr) continue;
    for (const auto& peer : a->overlay().active_view()) {
      auto j = sim_->find(peer.name);
      if (!j || node(*j) == nullptr) continue;
      ++edges;
      if (node(*j)->overlay().is_active(a->name())) ++symmetric;
    }
  }
  return edges == 0 ? 1.0 : static_cast<double>(symmetric) / static_cast<double>(edges);
}

bool ControlCluster::membership_converged() const {
  const auto live = live_nodes();
  std::vector<bool> is_live(size(), false);
  for (NodeIndex i : live) is_live[i] = true;
  for (NodeIndex i : live) {
    const Membership& m = node(i)->membership();
    if (m.reachable_member_count() != live.size() - 1) return false;
    for (NodeIndex j = 0; j < size(); ++j) {
      if (j == i) continue;
      if (m.reachable(sim_->name(j)) != is_live[j]) return false;
    }
  }
  return true;
}

std::optional<Time> ControlCluster::run_until_converged(Duration limit, Duration step) {
  const Time end = sim_->now() + limit;
  while (sim_->now() < end) {
    if (converged()) return sim_->now();
    auto result = sim_->run_for(step);
    if (!result.ok) return std::nullopt;
  }
  if (converged()) return sim_->now();
  return std::nullopt;
}

std::string ControlCluster::check_views() const {
  for (NodeIndex i = 0; i < size(); ++i) {
    const NodeCore* n = node(i);
    if (n == nullptr) continue;
    std::string problems = n->overlay().check_invariants();
    if (!problems.empty()) return n->name() + ": " + problems;
  }
  return {};
}

std::string ControlCluster::check_route_trees(uint32_t samples) const {
  const auto live = live_nodes();
  if (live.empty()) return {};
  Random pick(options_.seed ^ static_cast<uint64_t>(sim_->now().count()));
  for (uint32_t s = 0; s < samples; ++s) {
    NodeCore* n = node(live[pick.uniform(live.size())]);
    const NodeName root = sim_->name(live[pick.uniform(live.size())]);
    auto tree = n->membership().route_tree(root);
    std::map<NodeName, uint32_t> distance;
    for (const auto& e : tree) distance[e.name] = e.distance;
    for (const auto& e : tree) {
      if (e.parent.empty()) {
        if (e.name != root || e.distance != 0) return n->name() + ": tree from " + root + " has a second root " + e.name;
        continue;
      }
      auto parent = n->membership().member(e.parent);
      const std::vector<NodeName>& view =
          e.parent == n->name() ? n->membership().own_record().active_view
                                : (parent ? parent->active_view : std::vector<NodeName>{});
      if (!std::binary_search(view.begin(), view.end(), e.name)) {
        return n->name() + ": in the tree from " + root + ", " + e.parent + " is the parent of " + e.name +
               " without an edge to it";
      }
      if (distance[e.parent] + 1 != e.distance) {
        return n->name() + ": in the tree from " + root + ", " + e.name + " is not one hop below its parent";
      }
    }
    // Shortest: no edge leads from a vertex to one more than a hop further.
    for (const auto& e : tree) {
      auto info = n->membership().member(e.name);
      const std::vector<NodeName>& view =
          e.name == n->name() ? n->membership().own_record().active_view
                              : (info ? info->active_view : std::vector<NodeName>{});
      if (info && info->state == Reachability::left) continue;
      for (const auto& next : view) {
        auto it = distance.find(next);
        auto next_info = n->membership().member(next);
        if (next_info && next_info->state == Reachability::left) continue;
        if (it == distance.end()) {
          return n->name() + ": in the tree from " + root + ", " + next + " is a neighbour of " + e.name +
                 " but missing from the tree";
        }
        if (it->second > e.distance + 1) {
          return n->name() + ": in the tree from " + root + ", " + next + " is not at its shortest distance";
        }
      }
    }
  }
  return {};
}

uint64_t ControlCluster::total_bytes_sent() const {
  uint64_t total = 0;
  for (uint64_t b : bytes_sent_) total += b;
  return total;
}

uint64_t ControlCluster::total_messages_sent() const {
  uint64_t total = 0;
  for (uint64_t m : messages_sent_) total += m;
  return total;
}

}  // namespace lashup::sim
