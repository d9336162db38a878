// The adjacency DB of the whole cluster and BFS route trees over it. Vertex
// ids are local to one node; every out-edge list is kept sorted by the
// target's name so that, given the same graph, every node computes the same
// tree from a root (multicast forwards along the origin's tree and depends
// on it). The original used the same unweighted BFS (reference §1.4).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace lashup {

using MemberId = uint32_t;
inline constexpr MemberId kNoMember = std::numeric_limits<MemberId>::max();
inline constexpr uint32_t kUnreachable = std::numeric_limits<uint32_t>::max();

struct RouteTree {
  MemberId root = kNoMember;
  std::vector<uint32_t> distance;  // kUnreachable when not reachable from root
  std::vector<MemberId> parent;    // kNoMember for the root and unreachable vertices
  uint32_t max_distance = 0;       // eccentricity of the root

  bool reachable(MemberId id) const { return id < distance.size() && distance[id] != kUnreachable; }
  // root ... id, empty if unreachable.
  std::vector<MemberId> path_to(MemberId id) const;
  std::vector<MemberId> children_of(MemberId id) const;
};

class Graph {
 public:
  void resize(size_t vertices);
  size_t size() const { return out_.size(); }

  // Replaces the out-edges of `from` (ids already sorted by target name).
  // Returns true if they changed.
  bool set_edges(MemberId from, std::vector<MemberId> sorted_targets);
  const std::vector<MemberId>& edges(MemberId from) const { return out_[from]; }

  // `excluded[v]` vertices are neither traversed nor reached (members that
  // left). Empty vector: none excluded.
  RouteTree bfs(MemberId root, const std::vector<bool>& excluded) const;
  // The children of `node` in bfs(root, excluded), sorted by the order BFS
  // finds them; the search stops once `node` is expanded.
  std::vector<MemberId> children_in_bfs(MemberId root, MemberId node, const std::vector<bool>& excluded) const;

  // Increases whenever any edge changes; caches compare against it.
  uint64_t version() const { return version_; }

 private:
  std::vector<std::vector<MemberId>> out_;
  uint64_t version_ = 0;
};

}  // namespace lashup
