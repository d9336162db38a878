#include "core/membership/routing.h"

#include <algorithm>

namespace lashup {

std::vector<MemberId> RouteTree::path_to(MemberId id) const {
  std::vector<MemberId> path;
  if (!reachable(id)) return path;
  for (MemberId v = id; v != kNoMember; v = parent[v]) path.push_back(v);
  std::reverse(path.begin(), path.end());
  return path;
}

std::vector<MemberId> RouteTree::children_of(MemberId id) const {
  std::vector<MemberId> children;
  for (MemberId v = 0; v < parent.size(); ++v) {
    if (parent[v] == id) children.push_back(v);
  }
  return children;
}

void Graph::resize(size_t vertices) {
  if (vertices > out_.size()) out_.resize(vertices);
}

bool Graph::set_edges(MemberId from, std::vector<MemberId> sorted_targets) {
  resize(from + 1);
  if (out_[from] == sorted_targets) return false;
  out_[from] = std::move(sorted_targets);
  ++version_;
  return true;
}

RouteTree Graph::bfs(MemberId root, const std::vector<bool>& excluded) const {
  RouteTree tree;
  tree.root = root;
  tree.distance.assign(out_.size(), kUnreachable);
  tree.parent.assign(out_.size(), kNoMember);
  if (root >= out_.size() || (!excluded.empty() && excluded[root])) return tree;
  std::vector<MemberId> queue;
  queue.reserve(out_.size());
  queue.push_back(root);
  tree.distance[root] = 0;
  for (size_t head = 0; head < queue.size(); ++head) {
    const MemberId v = queue[head];
    const uint32_t next = tree.distance[v] + 1;
    for (MemberId w : out_[v]) {
      if (w >= out_.size() || tree.distance[w] != kUnreachable) continue;
      if (!excluded.empty() && excluded[w]) continue;
      tree.distance[w] = next;
      tree.parent[w] = v;
      tree.max_distance = next;
      queue.push_back(w);
    }
  }
  return tree;
}

std::vector<MemberId> Graph::children_in_bfs(MemberId root, MemberId node, const std::vector<bool>& excluded) const {
  std::vector<MemberId> children;
  if (root >= out_.size() || node >= out_.size()) return children;
  if (!excluded.empty() && (excluded[root] || excluded[node])) return children;
  std::vector<bool> seen(out_.size(), false);
  std::vector<MemberId> queue;
  queue.push_back(root);
  seen[root] = true;
  for (size_t head = 0; head < queue.size(); ++head) {
    const MemberId v = queue[head];
    for (MemberId w : out_[v]) {
      if (w >= out_.size() || seen[w]) continue;
      if (!excluded.empty() && excluded[w]) continue;
      seen[w] = true;
      if (v == node) children.push_back(w);
      queue.push_back(w);
    }
    if (v == node) break;
  }
  return children;
}

}  // namespace lashup
