#include "partitions.h"

#include <cassert>

namespace lashup::sim {

PartitionId PartitionTable::cut(std::span<const NodeIndex> from, std::span<const NodeIndex> to, bool both_directions) {
  Cut cut;
  cut.in_from.assign(node_count_, false);
  cut.in_to.assign(node_count_, false);
  for (NodeIndex n : from) {
    assert(n < node_count_);
    cut.in_from[n] = true;
  }
  for (NodeIndex n : to) {
    assert(n < node_count_);
    cut.in_to[n] = true;
  }
  cut.both_directions = both_directions;
  cut.active = true;
  cuts_.push_back(std::move(cut));
  ++active_;
  return static_cast<PartitionId>(cuts_.size() - 1);
}

PartitionId PartitionTable::cut_links(std::span<const std::pair<NodeIndex, NodeIndex>> links) {
  Cut cut;
  for (const auto& [a, b] : links) {
    assert(a < node_count_ && b < node_count_);
    cut.links.insert(link_key(a, b));
  }
  cut.both_directions = true;
  cut.active = true;
  cuts_.push_back(std::move(cut));
  ++active_;
  return static_cast<PartitionId>(cuts_.size() - 1);
}

void PartitionTable::heal(PartitionId id) {
  if (id >= cuts_.size() || !cuts_[id].active) return;
  Cut& cut = cuts_[id];
  cut.active = false;
  cut.in_from = {};
  cut.in_to = {};
  cut.links = {};
  --active_;
}

void PartitionTable::heal_all() {
  for (PartitionId id = 0; id < cuts_.size(); ++id) heal(id);
}

}  // namespace lashup::sim
