// Which directed links are cut. A cut separates a group of senders from a
// group of receivers; a symmetric partition is a cut in both directions, a
// one-way partition (A can reach B, B cannot reach A — the asymmetric
// misconfiguration DESIGN §0 insists must not get anyone marked dead) is one
// direction only. A cut link blackholes: what is sent across it is dropped
// silently, as a misrouted network does; nothing is reported to either side.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_set>
#include <utility>
#include <vector>

namespace lashup::sim {

using NodeIndex = uint32_t;
using PartitionId = uint32_t;

class PartitionTable {
 public:
  explicit PartitionTable(uint32_t node_count) : node_count_(node_count) {}

  // Cuts traffic from every node of `from` to every node of `to`, and back
  // too when `both_directions`.
  PartitionId cut(std::span<const NodeIndex> from, std::span<const NodeIndex> to, bool both_directions);
  // Cuts each listed link, both ways (many single links at once: a lossy
  // fabric rather than a split).
  PartitionId cut_links(std::span<const std::pair<NodeIndex, NodeIndex>> links);
  // Restores what `id` cut; an unknown or already healed id is ignored.
  void heal(PartitionId id);
  void heal_all();

  // Whether a message sent now from `from` to `to` is dropped.
  bool blocked(NodeIndex from, NodeIndex to) const {
    if (active_ == 0) return false;  // the common case: one load and a branch
    for (const auto& cut : cuts_) {
      if (!cut.active) continue;
      if (!cut.links.empty()) {
        if (cut.links.count(link_key(from, to)) > 0) return true;
        continue;
      }
      if (cut.in_from[from] && cut.in_to[to]) return true;
      if (cut.both_directions && cut.in_from[to] && cut.in_to[from]) return true;
    }
    return false;
  }

  uint32_t active_count() const { return active_; }

 private:
  static uint64_t link_key(NodeIndex a, NodeIndex b) {
    if (a > b) std::swap(a, b);
    return (static_cast<uint64_t>(a) << 32) | b;
  }
  struct Cut {
    std::unordered_set<uint64_t> links;  // cut_links: these, both ways
    std::vector<bool> in_from;
    std::vector<bool> in_to;
    bool both_directions = false;
    bool active = false;
  };
  uint32_t node_count_;
  uint32_t active_ = 0;
  // Indexed by PartitionId; healed cuts stay (inactive, emptied) so ids are never reused.
  std::vector<Cut> cuts_;
};

}  // namespace lashup::sim
