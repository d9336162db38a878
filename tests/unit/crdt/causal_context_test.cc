#include "core/crdt/causal_context.h"

#include <gtest/gtest.h>

#include "core/crdt/causal.h"

namespace lashup::crdt {
namespace {

const ReplicaId kA{"a", 1};
const ReplicaId kB{"b", 1};

TEST(CausalContext, consecutive_dots_compact_into_a_version_vector_entry) {
  CausalContext c;
  const ReplicaIndex a = c.intern(kA);
  for (uint64_t i : {3, 1, 2, 5, 4}) EXPECT_TRUE(c.insert({a, i}));
  EXPECT_EQ(c.ranges(a), (DotRanges{{1, 5}}));
  EXPECT_FALSE(c.insert({a, 3}));
  EXPECT_EQ(c.next_dot(a), (Dot{a, 6}));
}

TEST(CausalContext, gaps_stay_in_the_dot_cloud_until_filled) {
  CausalContext c;
  const ReplicaIndex a = c.intern(kA);
  c.insert({a, 1});
  c.insert({a, 4});
  c.insert({a, 6});
  EXPECT_EQ(c.ranges(a), (DotRanges{{1, 1}, {4, 4}, {6, 6}}));
  EXPECT_TRUE(c.contains({a, 4}));
  EXPECT_FALSE(c.contains({a, 5}));
  c.insert({a, 5});
  EXPECT_EQ(c.ranges(a), (DotRanges{{1, 1}, {4, 6}}));
  c.insert({a, 2});
  c.insert({a, 3});
  EXPECT_EQ(c.ranges(a), (DotRanges{{1, 6}}));
  EXPECT_EQ(c.dot_count(), 6u);
}

TEST(CausalContext, merge_is_a_union_across_different_replica_tables) {
  CausalContext x, y;
  x.insert({x.intern(kA), 1});
  y.insert({y.intern(kB), 1});
  y.insert({y.intern(kA), 3});
  EXPECT_TRUE(x.merge(y));
  EXPECT_FALSE(x.merge(y));
  EXPECT_TRUE(x.includes(y));
  EXPECT_FALSE(y.includes(x));
  EXPECT_EQ(x.ranges(x.find(kA)), (DotRanges{{1, 1}, {3, 3}}));
}

TEST(CausalContext, equality_ignores_the_order_of_the_replica_tables) {
  CausalContext x, y;
  x.insert({x.intern(kA), 1});
  x.insert({x.intern(kB), 2});
  y.insert({y.intern(kB), 2});
  y.insert({y.intern(kA), 1});
  EXPECT_EQ(x, y);
  y.insert({y.find(kA), 2});
  EXPECT_NE(x, y);
}

TEST(CausalContext, large_replica_tables_are_searched_through_a_sorted_index) {
  CausalContext c;
  std::vector<ReplicaIndex> indices;
  for (int i = 0; i < 40; ++i) indices.push_back(c.intern(ReplicaId{"n" + std::to_string((i * 17) % 40), 1}));
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(c.find(ReplicaId{"n" + std::to_string((i * 17) % 40), 1}), indices[static_cast<size_t>(i)]);
    EXPECT_EQ(c.intern(ReplicaId{"n" + std::to_string((i * 17) % 40), 1}), indices[static_cast<size_t>(i)]);
  }
  EXPECT_EQ(c.find(ReplicaId{"n1", 2}), kNoReplica);
  EXPECT_EQ(c.replica_count(), 40u);
}

TEST(CausalContext, minus_keeps_only_the_dots_the_other_lacks) {
  CausalContext x, y;
  const ReplicaIndex a = x.intern(kA);
  for (uint64_t i = 1; i <= 10; ++i) x.insert({a, i});
  const ReplicaIndex ya = y.intern(kA);
  for (uint64_t i : {1, 2, 5, 9, 10}) y.insert({ya, i});
  EXPECT_EQ(x.minus(y).ranges(a), (DotRanges{{3, 4}, {6, 8}}));
  EXPECT_TRUE(y.minus(x).empty());
}

TEST(CausalContext, run_helpers_handle_edges) {
  EXPECT_EQ(union_ranges({{1, 2}}, {{3, 4}}), (DotRanges{{1, 4}}));
  EXPECT_EQ(union_ranges({{1, 2}, {8, 9}}, {{4, 5}}), (DotRanges{{1, 2}, {4, 5}, {8, 9}}));
  EXPECT_EQ(subtract_ranges({{1, 10}}, {{1, 10}}), DotRanges{});
  EXPECT_EQ(subtract_ranges({{1, 10}}, {{0, 0}, {2, 3}, {10, 12}}), (DotRanges{{1, 1}, {4, 9}}));
  EXPECT_TRUE(ranges_include({{1, 10}}, {{2, 3}, {5, 10}}));
  EXPECT_FALSE(ranges_include({{1, 4}, {6, 10}}, {{3, 7}}));
}

TEST(CausalContext, encoding_round_trips_and_is_the_compare_and_set_token) {
  CausalContext c;
  const ReplicaIndex b = c.intern(kB);
  const ReplicaIndex a = c.intern(kA);
  for (uint64_t i : {1, 2, 3, 7}) c.insert({a, i});
  c.insert({b, 2});
  const wire::Bytes bytes = encode_context(c);
  auto decoded = decode_context(bytes);
  ASSERT_TRUE(decoded) << decoded.status().message();
  EXPECT_EQ(*decoded, c);
  EXPECT_EQ(encode_context(*decoded), bytes);
}

TEST(CausalContext, decoder_rejects_unsorted_replicas_and_overlapping_runs) {
  wire::Writer w;
  w.u8(kEncodingVersion);
  w.u8(kContextTypeTag);
  w.varint(2);
  for (const char* name : {"b", "a"}) {
    w.string(name);
    w.varint(1);
    w.varint(1);
    w.varint(0);
    w.varint(0);
  }
  EXPECT_EQ(decode_context(w.view()).status().code(), StatusCode::invalid);

  wire::Writer v;
  v.u8(kEncodingVersion);
  v.u8(kContextTypeTag);
  v.varint(1);
  v.string("a");
  v.varint(1);
  v.varint(0);  // a replica without runs is never encoded
  EXPECT_FALSE(decode_context(v.view()));
}

}  // namespace
}  // namespace lashup::crdt
