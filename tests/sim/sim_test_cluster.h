// Test fixture shared by the simulator's own tests: a small cluster of
// RecordingCores, scripted from the outside through Simulation::execute.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "recording_core.h"
#include "simulation.h"

namespace lashup::sim::testing {

using Kind = RecordingCore::Kind;

inline Bytes bytes_of(uint32_t value) {
  return Bytes{static_cast<uint8_t>(value >> 24), static_cast<uint8_t>(value >> 16), static_cast<uint8_t>(value >> 8),
               static_cast<uint8_t>(value)};
}

inline uint32_t value_of(const Bytes& bytes) {
  uint32_t value = 0;
  for (uint8_t b : bytes) value = (value << 8) | b;
  return value;
}

class Cluster {
 public:
  explicit Cluster(uint32_t nodes, NetworkConfig network = {}, uint64_t seed = 1) : cores_(nodes, nullptr) {
    SimConfig config;
    config.nodes = nodes;
    config.seed = seed;
    config.network = std::move(network);
    config.trace_list = true;
    sim_ = std::make_unique<Simulation>(config, [this](const NodeContext& node) {
      auto core = std::make_unique<RecordingCore>(node.persisted);
      cores_[node.index] = core.get();
      return core;
    });
    sim_->start_all();
    sim_->run_for(Duration(1));
  }

  Simulation& sim() { return *sim_; }
  // The current core of a node (replaced on restart).
  RecordingCore& core(NodeIndex node) { return *cores_[node]; }
  const NodeName& name(NodeIndex node) { return sim_->name(node); }

  void send(NodeIndex from, NodeIndex to, uint32_t value) {
    Actions actions;
    actions.send(name(to), bytes_of(value));
    sim_->execute(from, std::move(actions));
  }
  void connect(NodeIndex from, NodeIndex to) {
    Actions actions;
    actions.connect(name(to), name(to) + ":7450");
    sim_->execute(from, std::move(actions));
  }
  // Connects and lets the handshake finish.
  void connect_and_settle(NodeIndex from, NodeIndex to) {
    connect(from, to);
    run_for(100ms);
    ASSERT_TRUE(sim_->connected(from, to)) << name(from) << " -> " << name(to);
    ASSERT_TRUE(sim_->connected(to, from)) << name(to) << " -> " << name(from);
  }
  void persist(NodeIndex node, std::string key, Bytes value) {
    Actions actions;
    actions.persist(std::move(key), std::move(value));
    sim_->execute(node, std::move(actions));
  }
  void run_for(Duration duration) {
    const RunResult result = sim_->run_for(duration);
    ASSERT_TRUE(result.ok) << result.describe();
  }

  // Values of the messages `to` received from `from`, in arrival order.
  std::vector<uint32_t> received(NodeIndex to, NodeIndex from) {
    std::vector<uint32_t> values;
    for (const auto& input : core(to).inputs(Kind::message, name(from))) values.push_back(value_of(input.message));
    return values;
  }
  size_t count(NodeIndex node, Kind kind, NodeIndex peer) { return core(node).inputs(kind, name(peer)).size(); }

 private:
  std::vector<RecordingCore*> cores_;
  std::unique_ptr<Simulation> sim_;
};

}  // namespace lashup::sim::testing
