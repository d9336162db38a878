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

void PartitionTable::heal(PartitionId id) {
  if (id >= cuts_.size() || !cuts_[id].active) return;
  Cut& cut = cuts_[id];
  cut.active = false;
  cut.in_from = {};
  cut.in_to = {};
  --active_;
}

void PartitionTable::heal_all() {
  for (PartitionId id = 0; id < cuts_.size(); ++id) heal(id);
}

}  // namespace lashup::sim
