// Semantics of the standalone types: sequential behaviour, concurrent
// behaviour (two replicas that then exchange deltas), and deltas that are
// small and rebuild the mutated state.
#include <gtest/gtest.h>

#include "printers.h"

#include "core/crdt/counter.h"
#include "core/crdt/flag.h"
#include "core/crdt/lww_register.h"
#include "core/crdt/or_set.h"

namespace lashup::crdt {
namespace {

const ReplicaId kA{"a", 1};
const ReplicaId kB{"b", 1};

TEST(Counter, sums_increments_and_decrements_of_all_replicas) {
  Counter a, b;
  b.join(a.increment(kA, 5));
  a.join(b.increment(kB, -2));
  b.join(a.increment(kA, 1));
  EXPECT_EQ(a.value(), 4);
  EXPECT_EQ(b.value(), 4);
  EXPECT_EQ(a, b);
}

TEST(Counter, keeps_one_dot_per_replica_whatever_the_number_of_increments) {
  Counter a;
  for (int i = 0; i < 1000; ++i) a.increment(kA, 1);
  EXPECT_EQ(a.value(), 1000);
  EXPECT_EQ(a.store().entries.size(), 1u);
}

TEST(Counter, increment_delta_carries_one_entry_and_rebuilds_the_state) {
  Counter a;
  a.increment(kA, 3);
  const Counter before = a;
  const Counter delta = a.increment(kA, 4);
  EXPECT_EQ(delta.store().entries.size(), 1u);
  Counter rebuilt = before;
  rebuilt.join(delta);
  EXPECT_EQ(rebuilt, a);
  EXPECT_EQ(rebuilt.value(), 7);
}

TEST(Counter, reset_drops_observed_increments_and_counting_restarts_at_zero) {
  Counter a, b;
  b.join(a.increment(kA, 5));
  a.join(b.reset(kB));
  EXPECT_EQ(a.value(), 0);
  a.increment(kA, 2);
  EXPECT_EQ(a.value(), 2);
}

TEST(Counter, sums_wrap_instead_of_overflowing) {
  Counter a, b;
  b.join(a.increment(kA, INT64_MAX));
  b.increment(kB, 1);
  EXPECT_EQ(b.value(), INT64_MIN);
}

TEST(LwwRegister, higher_timestamp_wins_in_any_delivery_order) {
  LwwRegister a, b;
  const LwwRegister da = a.assign(kA, "red", 20);
  const LwwRegister db = b.assign(kB, "blue", 10);
  a.join(db);
  b.join(da);
  EXPECT_EQ(a.value()->value, "red");
  EXPECT_EQ(a, b);
}

TEST(LwwRegister, equal_timestamps_are_broken_by_the_greater_bytes) {
  LwwRegister a, b;
  const LwwRegister da = a.assign(kA, "apple", 7);
  const LwwRegister db = b.assign(kB, "banana", 7);
  a.join(db);
  b.join(da);
  EXPECT_EQ(a.value()->value, "banana");
  EXPECT_EQ(b.value()->value, "banana");
  EXPECT_EQ(a, b);
}

TEST(LwwRegister, a_stale_write_is_a_no_op_with_a_bottom_delta) {
  LwwRegister a;
  a.assign(kA, "new", 100);
  const LwwRegister stale = a.assign(kA, "old", 99);
  EXPECT_TRUE(stale.is_bottom());
  EXPECT_EQ(a.value()->value, "new");
  EXPECT_TRUE(a.assign(kA, "new", 100).is_bottom());
}

TEST(LwwRegister, a_later_write_replaces_all_concurrent_ones) {
  LwwRegister a, b;
  const LwwRegister x = a.assign(kA, "x", 1);
  b.assign(kB, "y", 2);
  b.join(x);
  EXPECT_EQ(b.store().entries.size(), 2u);  // concurrent: both kept
  EXPECT_EQ(b.value()->value, "y");
  const LwwRegister delta = b.assign(kB, "z", 3);
  a.join(delta);
  EXPECT_EQ(a.store().entries.size(), 1u);
  EXPECT_EQ(a.value()->value, "z");
}

TEST(Flag, enable_wins_over_a_concurrent_disable) {
  Flag a, b;
  b.join(a.enable(kA));
  const Flag off = a.disable(kA);
  const Flag on = b.enable(kB);
  a.join(on);
  b.join(off);
  EXPECT_TRUE(a.value());
  EXPECT_TRUE(b.value());
  EXPECT_EQ(a, b);
}

TEST(Flag, disable_of_a_disabled_flag_is_a_no_op) {
  Flag a;
  EXPECT_TRUE(a.disable(kA).is_bottom());
  a.enable(kA);
  EXPECT_FALSE(a.disable(kA).is_bottom());
  EXPECT_FALSE(a.value());
}

TEST(ORSet, add_wins_over_a_concurrent_remove) {
  ORSet a, b;
  b.join(a.add(kA, "x"));
  auto removed = a.remove(kA, "x");
  ASSERT_TRUE(removed);
  const ORSet readded = b.add(kB, "x");
  a.join(readded);
  b.join(*removed);
  EXPECT_TRUE(a.contains("x"));
  EXPECT_TRUE(b.contains("x"));
  EXPECT_EQ(a, b);
}

TEST(ORSet, remove_of_an_absent_element_fails_and_changes_nothing) {
  ORSet a;
  a.add(kA, "x");
  const ORSet before = a;
  auto removed = a.remove(kA, "y");
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.status().code(), StatusCode::not_found);
  EXPECT_EQ(a, before);
}

TEST(ORSet, elements_read_sorted_past_32_elements) {
  ORSet a;
  for (int i = 99; i >= 0; --i) a.add(kA, "e" + std::to_string(i));
  const auto elements = a.elements();
  ASSERT_EQ(elements.size(), 100u);
  EXPECT_TRUE(std::is_sorted(elements.begin(), elements.end()));
}

TEST(ORSet, removed_elements_leave_no_tombstone_in_the_store) {
  ORSet a;
  for (int i = 0; i < 100; ++i) a.add(kA, std::to_string(i));
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(a.remove(kA, std::to_string(i)));
  EXPECT_TRUE(a.store().elements.empty());
  // The context remembers the 100 adds and 100 removes as a single run.
  EXPECT_EQ(a.context().ranges(0), (DotRanges{{1, 200}}));
}

TEST(ORSet, a_delta_joins_in_time_independent_of_the_set_size_and_rebuilds_the_state) {
  ORSet a;
  for (int i = 0; i < 1000; ++i) a.add(kA, std::to_string(i));
  ORSet b = a;
  const ORSet before = a;
  const ORSet add = a.add(kB, "new");
  auto remove = a.remove(kA, "7");
  ASSERT_TRUE(remove);
  EXPECT_FALSE(add.store().complete);
  EXPECT_EQ(add.store().elements.size(), 1u);
  ORSet rebuilt = before;
  rebuilt.join(add);
  rebuilt.join(*remove);
  EXPECT_EQ(rebuilt, a);
  const JoinOutcome outcome = b.join(*remove);
  EXPECT_TRUE(outcome.state_changed);
  EXPECT_TRUE(outcome.value_changed);
  EXPECT_FALSE(b.contains("7"));
}

TEST(ORSet, joining_a_delta_twice_reports_no_change) {
  ORSet a, b;
  const ORSet delta = a.add(kA, "x");
  EXPECT_TRUE(b.join(delta).value_changed);
  const JoinOutcome again = b.join(delta);
  EXPECT_FALSE(again.state_changed);
  EXPECT_FALSE(again.value_changed);
}

TEST(ORSet, a_state_is_an_inflation_of_the_deltas_it_joined) {
  ORSet a, b;
  const ORSet delta = a.add(kA, "x");
  EXPECT_TRUE(is_inflation(delta, a));
  EXPECT_FALSE(is_inflation(delta, b));
  EXPECT_TRUE(is_strict_inflation(b, a));
  EXPECT_FALSE(is_strict_inflation(a, a));
  EXPECT_TRUE(delta.difference(a).is_bottom());
  EXPECT_EQ(delta.difference(b), delta);
}

TEST(ORSet, reset_removes_what_was_seen_and_keeps_concurrent_adds) {
  ORSet a, b;
  b.join(a.add(kA, "x"));
  const ORSet reset = a.reset(kA);
  const ORSet concurrent = b.add(kB, "y");
  a.join(concurrent);
  b.join(reset);
  EXPECT_EQ(a.elements(), std::vector<std::string>{"y"});
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace lashup::crdt
