// The known anomalies of nested observed-remove maps (reference §3, riak_dt
// module docs, crdt-notes §1.2), each with its expected result written down.
// Replicas A and B start from a common state, act concurrently, then
// exchange deltas; both must end identical, with the stated value.
#include <gtest/gtest.h>

#include "printers.h"

#include "core/crdt/map.h"

namespace lashup::crdt {
namespace {

const ReplicaId kA{"a", 1};
const ReplicaId kB{"b", 1};
const ReplicaId kC{"c", 1};

using Ops = std::vector<FieldOp>;

Map apply(Map& map, const ReplicaId& self, Ops ops) {
  auto delta = map.apply(self, ops);
  EXPECT_TRUE(delta) << delta.status().message();
  return delta ? std::move(*delta) : Map();
}

// Applies `a_ops` on A and `b_ops` on B concurrently, exchanges the deltas,
// checks convergence and returns the common value.
MapValue concurrently(Map& a, Map& b, Ops a_ops, Ops b_ops) {
  const Map da = apply(a, kA, std::move(a_ops));
  const Map db = apply(b, kB, std::move(b_ops));
  a.join(db);
  b.join(da);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.digest(), b.digest());
  return a.value();
}

std::vector<std::string> set_of(const MapValue& value, std::string_view name) {
  const FieldValue* field = value.find(name, FieldType::set);
  return field ? std::get<std::vector<std::string>>(field->value) : std::vector<std::string>{};
}

const MapValue* map_of(const MapValue& value, std::string_view name) {
  const FieldValue* field = value.find(name, FieldType::map);
  return field ? &std::get<MapValue>(field->value) : nullptr;
}

int64_t counter_of(const MapValue& value, std::string_view name) {
  const FieldValue* field = value.find(name, FieldType::counter);
  return field ? std::get<int64_t>(field->value) : 0;
}

TEST(Anomalies, concurrent_update_survives_a_field_remove_alone) {
  // riak_dt, verified: {s,[a,b,c]} removed ∥ add d → {s,[d]}.
  Map a, b;
  b.join(apply(a, kA, {FieldOp::add("s", {"a", "b", "c"})}));
  const MapValue v = concurrently(a, b, {FieldOp::remove_field("s", FieldType::set)}, {FieldOp::add("s", {"d"})});
  EXPECT_EQ(set_of(v, "s"), std::vector<std::string>{"d"});
}

TEST(Anomalies, re_add_after_remove_does_not_resurrect_old_elements) {
  Map a, b;
  b.join(apply(a, kA, {FieldOp::add("s", {"old"})}));
  apply(a, kA, {FieldOp::remove_field("s", FieldType::set)});
  const Map readd = apply(a, kA, {FieldOp::add("s", {"new"})});
  // B still holds {old}; the full state of A removes it.
  b.join(a);
  EXPECT_EQ(set_of(b.value(), "s"), std::vector<std::string>{"new"});
  // And an element removed then added again is present once.
  apply(a, kA, {FieldOp::remove("s", {"new"}), FieldOp::add("s", {"new"})});
  b.join(a);
  EXPECT_EQ(set_of(b.value(), "s"), std::vector<std::string>{"new"});
  EXPECT_EQ(a, b);
}

TEST(Anomalies, counter_restarts_from_zero_after_remove_and_re_add) {
  // The original's pncounter kept per-node maxima: remove + increment 2
  // read 7 again. Here the remove drops the 5 it saw.
  Map a, b;
  b.join(apply(a, kA, {FieldOp::increment("c", 5)}));
  b.join(apply(a, kA, {FieldOp::remove_field("c", FieldType::counter), FieldOp::increment("c", 2)}));
  EXPECT_EQ(counter_of(a.value(), "c"), 2);
  EXPECT_EQ(counter_of(b.value(), "c"), 2);
}

TEST(Anomalies, counter_increment_concurrent_with_remove_keeps_its_replica_total) {
  // Documented anomaly (riak_dt embedded counters, Baquero's ccounter): A
  // counted 5, B removes the field while A adds 2. A's new dot carries A's
  // running total 7, which B's remove never saw, so 7 survives — not 2.
  // Exact reset needs causal stability (Younes et al., PaPoC 2017).
  Map a, b;
  b.join(apply(a, kA, {FieldOp::increment("c", 5)}));
  const MapValue v = concurrently(a, b, {FieldOp::increment("c", 2)}, {FieldOp::remove_field("c", FieldType::counter)});
  EXPECT_EQ(counter_of(v, "c"), 7);
  // Increments by others that B saw are reset: only A's total survives.
  Map x, y;
  y.join(apply(x, kA, {FieldOp::increment("c", 5)}));
  x.join(apply(y, kB, {FieldOp::increment("c", 100)}));
  const MapValue w = concurrently(x, y, {FieldOp::increment("c", 2)}, {FieldOp::remove_field("c", FieldType::counter)});
  EXPECT_EQ(counter_of(w, "c"), 7);
}

TEST(Anomalies, nested_remove_inside_a_concurrently_removed_map_leaves_it_removed) {
  Map a, b;
  b.join(apply(a, kA, {FieldOp::update("m", {FieldOp::add("s", {"x", "y"}), FieldOp::increment("n", 1)})}));
  const MapValue v = concurrently(a, b, {FieldOp::update("m", {FieldOp::remove("s", {"x"})})},
                                  {FieldOp::remove_field("m", FieldType::map)});
  EXPECT_EQ(map_of(v, "m"), nullptr);
}

TEST(Anomalies, nested_update_inside_a_concurrently_removed_map_survives_alone) {
  Map a, b;
  b.join(apply(a, kA, {FieldOp::update("m", {FieldOp::add("s", {"x"}), FieldOp::increment("n", 1)})}));
  const MapValue v = concurrently(a, b, {FieldOp::update("m", {FieldOp::add("s", {"y"})})},
                                  {FieldOp::remove_field("m", FieldType::map)});
  const MapValue* m = map_of(v, "m");
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(m->fields.size(), 1u);  // the counter n was removed with the map
  EXPECT_EQ(set_of(*m, "s"), std::vector<std::string>{"y"});
}

TEST(Anomalies, a_remove_delivered_before_its_add_is_not_lost_in_a_removed_map) {
  // riak_dt deferred a context remove of an unseen element and lost it when
  // the field was removed. Here the remove is dots in the map's one context.
  Map a, b, c;
  const Map add = apply(a, kA, {FieldOp::update("m", {FieldOp::add("s", {"x"})})});
  b.join(add);
  const Map remove = apply(b, kB, {FieldOp::update("m", {FieldOp::remove("s", {"x"})})});
  c.join(remove);  // C sees the remove first: m does not even exist at C
  EXPECT_TRUE(c.empty());
  c.join(add);
  EXPECT_TRUE(c.empty());
  a.join(remove);
  EXPECT_EQ(a, c);
}

TEST(Anomalies, register_assignment_concurrent_with_remove_survives) {
  Map a, b;
  b.join(apply(a, kA, {FieldOp::assign("r", "old", 10)}));
  const MapValue v =
      concurrently(a, b, {FieldOp::remove_field("r", FieldType::lww_register)}, {FieldOp::assign("r", "new", 11)});
  const FieldValue* r = v.find("r", FieldType::lww_register);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(std::get<Timestamped>(r->value).value, "new");
}

TEST(Anomalies, remove_wins_over_a_concurrent_stale_register_write) {
  // A write that loses to the current value is a no-op: it cannot keep a
  // concurrently removed field alive.
  Map a, b;
  b.join(apply(a, kA, {FieldOp::assign("r", "v", 10)}));
  const MapValue v =
      concurrently(a, b, {FieldOp::remove_field("r", FieldType::lww_register)}, {FieldOp::assign("r", "stale", 9)});
  EXPECT_EQ(v.find("r", FieldType::lww_register), nullptr);
}

TEST(Anomalies, three_way_remove_update_remove_converges) {
  Map a, b, c;
  const Map base = apply(a, kA, {FieldOp::update("m", {FieldOp::add("s", {"x"})})});
  b.join(base);
  c.join(base);
  const Map da = apply(a, kA, {FieldOp::remove_field("m", FieldType::map)});
  const Map db = apply(b, kB, {FieldOp::update("m", {FieldOp::add("s", {"y"}), FieldOp::enable("f")})});
  const Map dc = apply(c, kC, {FieldOp::update("m", {FieldOp::remove("s", {"x"})})});
  for (Map* replica : {&a, &b, &c}) {
    replica->join(da);
    replica->join(db);
    replica->join(dc);
  }
  EXPECT_EQ(a, b);
  EXPECT_EQ(b, c);
  const MapValue v = a.value();
  const MapValue* m = map_of(v, "m");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(set_of(*m, "s"), std::vector<std::string>{"y"});
  EXPECT_NE(m->find("f", FieldType::flag), nullptr);
}

}  // namespace
}  // namespace lashup::crdt
