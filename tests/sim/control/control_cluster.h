// A simulated cluster of full control-plane nodes (NodeCore): the harness of
// the control-plane scenarios and tests. It builds the cores, keeps a
// pointer to each live one, counts what each sends, and measures the
// cluster from the outside (overlay components, view symmetry, convergence)
// with the ground truth only the simulator has.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/node/node_core.h"
#include "simulation.h"

namespace lashup::sim {

struct ControlClusterOptions {
  uint32_t nodes = 0;
  uint64_t seed = 1;
  NetworkConfig network;
  uint32_t contacts = 3;  // nodes 0..contacts-1 are every node's contact nodes
  // Adjusts the defaults (from the configuration table) for a scenario.
  std::function<void(NodeConfig&)> tune;
  // Then adjusts one node's configuration for one boot (1 = the first
  // start): e.g. its protocol version, to simulate an upgrade by restart.
  std::function<void(NodeIndex, uint32_t boot, NodeConfig&)> tune_node;
  std::function<NodeName(NodeIndex)> name_of;  // default "n<index>"
  bool trace_hash = false;
};

class ControlCluster {
 public:
  explicit ControlCluster(ControlClusterOptions options);

  Simulation& sim() { return *sim_; }
  const Simulation& sim() const { return *sim_; }
  uint32_t size() const { return sim_->node_count(); }
  // The live core of `node`, or nullptr.
  NodeCore* node(NodeIndex index) const;
  bool alive(NodeIndex index) const { return node(index) != nullptr; }
  std::vector<NodeIndex> live_nodes() const;

  // Overlay ground truth: strongly connected components of the directed
  // graph "u has v in its active view" over live nodes.
  uint32_t overlay_components() const;
  // The undirected active-view edges between live nodes, (low, high), sorted.
  std::vector<std::pair<NodeIndex, NodeIndex>> overlay_links() const;
  // Share of active-view edges u->v (between live nodes) with v->u too.
  double symmetric_ratio() const;
  // Every live node has a record of every live node and reaches it; no live
  // node reaches a node that is not alive.
  bool membership_converged() const;
  bool converged() const { return overlay_components() == 1 && membership_converged(); }

  // Runs until converged() (checked every `step`) or `limit`; returns the
  // simulated time at which it first held.
  std::optional<Time> run_until_converged(Duration limit, Duration step = 100ms);

  // Invariant checks on every live node; empty when they hold.
  std::string check_views() const;
  // For a sample of live nodes: the route tree from `root` in their
  // membership is a BFS tree of their adjacency (parents are neighbours one
  // hop closer; distances are shortest).
  std::string check_route_trees(uint32_t samples) const;

  // Bytes and messages each node sent (over its lives).
  uint64_t bytes_sent(NodeIndex node) const { return bytes_sent_[node]; }
  uint64_t messages_sent(NodeIndex node) const { return messages_sent_[node]; }
  uint64_t total_bytes_sent() const;
  uint64_t total_messages_sent() const;
  // Messages sent by all nodes, by message type (index = wire::MessageType).
  const std::vector<uint64_t>& messages_by_type() const { return messages_by_type_; }
  const std::vector<uint64_t>& bytes_by_type() const { return bytes_by_type_; }

 private:
  class CountingCore;
  ControlClusterOptions options_;
  std::unique_ptr<Simulation> sim_;
  std::vector<CountingCore*> cores_;
  std::vector<uint64_t> bytes_sent_;
  std::vector<uint64_t> messages_sent_;
  std::vector<uint64_t> messages_by_type_;
  std::vector<uint64_t> bytes_by_type_;
};

NodeName control_node_name(NodeIndex index);

}  // namespace lashup::sim
