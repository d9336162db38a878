// What the control-plane scenarios measure from the events nodes emit.
#pragma once

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <vector>

#include "control/control_cluster.h"

namespace lashup::sim {

// When each node first reported `target` unreachable, from `since` on.
class DetectionTracker {
 public:
  explicit DetectionTracker(ControlCluster& cluster) : cluster_(cluster) {
    cluster.sim().observe([this](Time now, NodeIndex node, const Event& event) {
      const auto* change = std::get_if<ReachabilityChanged>(&event);
      if (change == nullptr || !target_ || change->name != cluster_.sim().name(*target_)) return;
      if (change->state == Reachability::unreachable && reported_.insert(node).second) times_.push_back(now - since_);
    });
  }

  void watch(NodeIndex target, Time since) {
    target_ = target;
    since_ = since;
    reported_.clear();
    times_.clear();
  }
  size_t reported() const { return times_.size(); }
  // Time until `fraction` of `observers` reported, if they did.
  std::optional<Duration> time_to(double fraction, size_t observers) const {
    const auto needed = static_cast<size_t>(std::ceil(fraction * static_cast<double>(observers)));
    if (needed == 0 || times_.size() < needed) return std::nullopt;
    return times_[needed - 1];  // reports arrive in time order
  }

 private:
  ControlCluster& cluster_;
  std::optional<NodeIndex> target_;
  Time since_{0};
  std::set<NodeIndex> reported_;
  std::vector<Duration> times_;
};

// Every report of a live node as unreachable (or evicted as failed) by anyone:
// false positives, as long as the scenario kills nobody.
class FalsePositiveCounter {
 public:
  explicit FalsePositiveCounter(ControlCluster& cluster) : cluster_(cluster) {
    cluster.sim().observe([this](Time, NodeIndex, const Event& event) {
      if (!counting_) return;
      if (const auto* change = std::get_if<ReachabilityChanged>(&event)) {
        if (change->state == Reachability::unreachable && is_alive(change->name)) ++unreachable_marks_;
      } else if (const auto* neighbor = std::get_if<NeighborChanged>(&event)) {
        if (!neighbor->up && std::string_view(neighbor->reason) == "failed" && is_alive(neighbor->peer)) {
          ++false_evictions_;
        }
      }
    });
  }
  void start() { counting_ = true; }
  void stop() { counting_ = false; }
  uint64_t unreachable_marks() const { return unreachable_marks_; }
  uint64_t false_evictions() const { return false_evictions_; }

 private:
  bool is_alive(const NodeName& name) const {
    auto index = cluster_.sim().find(name);
    if (!index) return false;
    const NodeStatus status = cluster_.sim().status(*index);
    return status == NodeStatus::alive;
  }
  ControlCluster& cluster_;
  bool counting_ = false;
  uint64_t unreachable_marks_ = 0;
  uint64_t false_evictions_ = 0;
};

// Nearest-rank percentile of samples (p in (0, 100]).
inline double percentile(std::vector<double> samples, double p) {
  if (samples.empty()) return NAN;
  std::sort(samples.begin(), samples.end());
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(samples.size())));
  rank = std::clamp<size_t>(rank, 1, samples.size());
  return samples[rank - 1];
}

}  // namespace lashup::sim
