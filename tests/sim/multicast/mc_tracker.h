// What the multicast scenarios measure from McDelivered events: for each
// published message, which subscribers got it, how long after publication,
// and every copy delivered twice or to a node that did not subscribe.
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "simulation.h"

namespace lashup::sim {

struct McFigures {
  double delivered_ratio = 0;  // (message, subscriber) pairs delivered / all pairs
  uint64_t missing = 0;        // pairs not delivered
  uint64_t duplicates = 0;     // second deliveries of a message to a node
  uint64_t strays = 0;         // deliveries to nodes that did not subscribe
  uint64_t out_of_order = 0;   // deliveries of an origin's message after a later one
  double deliveries_per_message = 0;
  // Medians over messages of the time to reach 50/99/100% of subscribers
  // (NaN when some message never reached that share), and the worst 100%.
  double t50_ms = NAN;
  double t99_ms = NAN;
  double t100_ms = NAN;
  double t100_max_ms = NAN;
};

class McTracker {
 public:
  explicit McTracker(Simulation& sim) {
    sim.observe([this](Time now, NodeIndex node, const Event& event) {
      if (const auto* d = std::get_if<McDelivered>(&event)) delivered(now, node, *d);
    });
  }

  void set_subscribers(const std::vector<NodeIndex>& nodes) {
    for (NodeIndex n : nodes) {
      if (n >= subscriber_.size()) subscriber_.resize(n + 1, false);
      subscriber_[n] = true;
    }
    subscribers_ = nodes.size();
  }

  void published(const NodeName& origin, uint64_t sequence, Time at) {
    index_[{origin, sequence}] = messages_.size();
    messages_.push_back(Message{at, {}, {}});
  }

  // Counting only deliveries within `within` of publication (all if unset).
  McFigures figures(std::optional<Duration> within) const {
    McFigures f;
    f.duplicates = duplicates_;
    f.strays = strays_;
    f.out_of_order = out_of_order_;
    if (messages_.empty() || subscribers_ == 0) return f;
    uint64_t delivered = 0;
    uint64_t all = 0;
    std::vector<double> t50, t99, t100;
    bool complete = true;
    for (const auto& m : messages_) {
      std::vector<Duration> times = m.times;
      std::sort(times.begin(), times.end());
      all += times.size();
      for (Duration t : times) delivered += (!within || t <= *within) ? 1 : 0;
      auto at_share = [&](double share) -> double {
        const auto needed = static_cast<size_t>(std::ceil(share * static_cast<double>(subscribers_)));
        if (needed == 0 || times.size() < needed) return NAN;
        return to_seconds(times[needed - 1]) * 1000.0;
      };
      t50.push_back(at_share(0.5));
      t99.push_back(at_share(0.99));
      t100.push_back(at_share(1.0));
      if (std::isnan(t100.back())) complete = false;
    }
    f.delivered_ratio = static_cast<double>(delivered) / static_cast<double>(messages_.size() * subscribers_);
    f.missing = messages_.size() * subscribers_ - delivered;
    f.deliveries_per_message = static_cast<double>(all) / static_cast<double>(messages_.size());
    f.t50_ms = median(t50);
    f.t99_ms = median(t99);
    f.t100_ms = median(t100);
    if (complete) f.t100_max_ms = *std::max_element(t100.begin(), t100.end());
    return f;
  }

 private:
  struct Message {
    Time at;
    std::vector<NodeIndex> nodes;  // delivered to, in order
    std::vector<Duration> times;
  };

  static double median(std::vector<double> values) {
    if (values.empty()) return NAN;
    for (double v : values) {
      if (std::isnan(v)) return NAN;
    }
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
  }

  void delivered(Time now, NodeIndex node, const McDelivered& d) {
    if (node >= subscriber_.size() || !subscriber_[node]) {
      ++strays_;
      return;
    }
    auto it = index_.find({d.origin, d.sequence});
    if (it == index_.end()) return;  // published before tracking began
    Message& m = messages_[it->second];
    if (std::find(m.nodes.begin(), m.nodes.end(), node) != m.nodes.end()) {
      ++duplicates_;
      return;
    }
    m.nodes.push_back(node);
    m.times.push_back(now - m.at);
    uint64_t& last = last_sequence_[{node, d.origin}];
    if (d.sequence < last) ++out_of_order_;
    last = std::max(last, d.sequence);
  }

  std::vector<bool> subscriber_;
  size_t subscribers_ = 0;
  std::map<std::pair<NodeName, uint64_t>, size_t> index_;
  std::vector<Message> messages_;
  std::map<std::pair<NodeIndex, NodeName>, uint64_t> last_sequence_;
  uint64_t duplicates_ = 0;
  uint64_t strays_ = 0;
  uint64_t out_of_order_ = 0;
};

}  // namespace lashup::sim
