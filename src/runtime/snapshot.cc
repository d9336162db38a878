#include "runtime/snapshot.h"

#include <algorithm>
#include <tuple>
#include <unordered_map>

namespace lashup::runtime {

long Snapshot::index_of(const std::string& name) const {
  auto it = std::lower_bound(members.begin(), members.end(), name,
                             [](const MemberView& m, const std::string& n) { return m.name < n; });
  if (it == members.end() || it->name != name) return -1;
  return static_cast<long>(it - members.begin());
}

std::vector<RouteEntry> Snapshot::route_tree(const std::string& root) const {
  std::vector<RouteEntry> out;
  const long root_index = index_of(root);
  if (root_index < 0 || members[static_cast<size_t>(root_index)].state == Reachability::left) return out;
  // Vertices: members, plus names that appear only in someone's active view
  // (a neighbour whose record has not arrived yet), as in the core's graph.
  std::unordered_map<std::string, uint32_t> seen;  // name -> distance
  struct Item {
    const std::string* name;
    const std::string* parent;
    uint32_t distance;
  };
  std::vector<Item> queue{{&members[static_cast<size_t>(root_index)].name, nullptr, 0}};
  seen.emplace(root, 0);
  for (size_t head = 0; head < queue.size(); ++head) {
    const Item item = queue[head];
    const long index = index_of(*item.name);
    if (index < 0) continue;  // no record: no known neighbours
    for (const auto& next : members[static_cast<size_t>(index)].neighbors) {
      const long next_index = index_of(next);
      if (next_index >= 0 && members[static_cast<size_t>(next_index)].state == Reachability::left) continue;
      if (!seen.emplace(next, item.distance + 1).second) continue;
      queue.push_back({&next, item.name, item.distance + 1});
    }
  }
  out.reserve(queue.size());
  for (const auto& item : queue) out.push_back({*item.name, item.parent ? *item.parent : std::string(), item.distance});
  std::sort(out.begin(), out.end(), [](const RouteEntry& a, const RouteEntry& b) {
    return std::tie(a.distance, a.node) < std::tie(b.distance, b.node);
  });
  return out;
}

}  // namespace lashup::runtime
