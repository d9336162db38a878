#include "core/membership/routing.h"

#include <gtest/gtest.h>

#include "core/common/random.h"

namespace lashup {
namespace {

TEST(Routing, bfs_gives_distances_parents_and_paths) {
  // 0 -> 1 -> 2 -> 3, and 0 -> 2.
  Graph g;
  g.resize(4);
  g.set_edges(0, {1, 2});
  g.set_edges(1, {2});
  g.set_edges(2, {3});
  RouteTree t = g.bfs(0, {});
  EXPECT_EQ(t.distance[0], 0u);
  EXPECT_EQ(t.distance[2], 1u);
  EXPECT_EQ(t.distance[3], 2u);
  EXPECT_EQ(t.parent[3], 2u);
  EXPECT_EQ(t.path_to(3), (std::vector<MemberId>{0, 2, 3}));
  EXPECT_EQ(t.children_of(0), (std::vector<MemberId>{1, 2}));
  EXPECT_EQ(t.max_distance, 2u);
}

TEST(Routing, edges_are_directed_and_unreachable_vertices_say_so) {
  Graph g;
  g.resize(3);
  g.set_edges(1, {0});  // 1 lists 0, but 0 lists nobody
  RouteTree t = g.bfs(0, {});
  EXPECT_FALSE(t.reachable(1));
  EXPECT_TRUE(t.path_to(1).empty());
  EXPECT_FALSE(t.reachable(2));
}

TEST(Routing, excluded_vertices_are_neither_reached_nor_traversed) {
  Graph g;
  g.resize(3);
  g.set_edges(0, {1});
  g.set_edges(1, {2});
  RouteTree t = g.bfs(0, {false, true, false});
  EXPECT_FALSE(t.reachable(1));
  EXPECT_FALSE(t.reachable(2));
}

TEST(Routing, version_changes_only_when_edges_change) {
  Graph g;
  g.resize(2);
  const uint64_t v0 = g.version();
  EXPECT_TRUE(g.set_edges(0, {1}));
  EXPECT_FALSE(g.set_edges(0, {1}));
  EXPECT_EQ(g.version(), v0 + 1);
}

// The original's PropEr model (reference §6): on random graphs, BFS
// distances equal shortest-path lengths and every path is a shortest path
// along existing edges.
TEST(Routing, bfs_matches_shortest_paths_on_random_graphs) {
  Random random(2024);
  for (int round = 0; round < 200; ++round) {
    const size_t n = 26;
    Graph g;
    g.resize(n);
    std::vector<std::vector<bool>> adjacent(n, std::vector<bool>(n, false));
    for (MemberId v = 0; v < n; ++v) {
      std::vector<MemberId> out;
      for (MemberId w = 0; w < n; ++w) {
        if (w != v && random.chance(0.08)) {
          out.push_back(w);
          adjacent[v][w] = true;
        }
      }
      g.set_edges(v, out);
    }
    // Floyd-Warshall.
    const uint32_t inf = kUnreachable;
    std::vector<std::vector<uint32_t>> d(n, std::vector<uint32_t>(n, inf));
    for (size_t v = 0; v < n; ++v) {
      d[v][v] = 0;
      for (size_t w = 0; w < n; ++w) {
        if (adjacent[v][w]) d[v][w] = 1;
      }
    }
    for (size_t k = 0; k < n; ++k) {
      for (size_t i = 0; i < n; ++i) {
        for (size_t j = 0; j < n; ++j) {
          if (d[i][k] != inf && d[k][j] != inf && d[i][k] + d[k][j] < d[i][j]) d[i][j] = d[i][k] + d[k][j];
        }
      }
    }
    const MemberId root = static_cast<MemberId>(random.uniform(n));
    RouteTree t = g.bfs(root, {});
    for (MemberId v = 0; v < n; ++v) {
      ASSERT_EQ(t.distance[v], d[root][v]) << "round " << round;
      auto path = t.path_to(v);
      if (d[root][v] == inf) {
        ASSERT_TRUE(path.empty());
        continue;
      }
      ASSERT_EQ(path.size(), d[root][v] + 1);
      ASSERT_EQ(path.front(), root);
      for (size_t i = 0; i + 1 < path.size(); ++i) ASSERT_TRUE(adjacent[path[i]][path[i + 1]]);
    }
  }
}

}  // namespace
}  // namespace lashup
