// The map: batches, their atomicity and errors, compare-and-set, values.
#include "core/crdt/map.h"

#include <gtest/gtest.h>

#include "printers.h"

namespace lashup::crdt {
namespace {

const ReplicaId kA{"a", 1};
const ReplicaId kB{"b", 1};

using Ops = std::vector<FieldOp>;

Map applied(Map& map, const ReplicaId& self, Ops ops) {
  auto delta = map.apply(self, ops);
  EXPECT_TRUE(delta) << delta.status().message();
  return delta ? std::move(*delta) : Map();
}

const Value& value_of(const MapValue& value, std::string_view name, FieldType type) {
  const FieldValue* field = value.find(name, type);
  EXPECT_NE(field, nullptr) << name;
  static const Value kNone;
  return field ? field->value : kNone;
}

TEST(Map, holds_every_field_type_and_reads_fields_in_ascending_order) {
  Map m;
  applied(m, kA,
          {FieldOp::increment("test_counter", 5), FieldOp::update("sub", {FieldOp::assign("x", "1", 1)}),
           FieldOp::add("s", {"c", "a", "b"}), FieldOp::assign("r", "red", 10), FieldOp::enable("f")});
  const MapValue v = m.value();
  std::vector<std::string> names;
  for (const auto& field : v.fields) names.push_back(field.key.name);
  EXPECT_EQ(names, (std::vector<std::string>{"f", "r", "s", "sub", "test_counter"}));
  EXPECT_EQ(std::get<int64_t>(value_of(v, "test_counter", FieldType::counter)), 5);
  EXPECT_EQ(std::get<std::vector<std::string>>(value_of(v, "s", FieldType::set)),
            (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(std::get<Timestamped>(value_of(v, "r", FieldType::lww_register)).value, "red");
  EXPECT_TRUE(std::get<bool>(value_of(v, "f", FieldType::flag)));
  const auto& sub = std::get<MapValue>(value_of(v, "sub", FieldType::map));
  EXPECT_EQ(std::get<Timestamped>(value_of(sub, "x", FieldType::lww_register)).value, "1");
}

TEST(Map, the_same_name_with_two_types_is_two_fields) {
  Map m;
  applied(m, kA, {FieldOp::increment("x", 1), FieldOp::add("x", {"e"})});
  EXPECT_EQ(m.value().fields.size(), 2u);
}

TEST(Map, batch_delta_rebuilds_the_state_and_lists_only_touched_fields) {
  Map m;
  for (int i = 0; i < 100; ++i) applied(m, kA, {FieldOp::assign("f" + std::to_string(i), "v", 1)});
  const Map before = m;
  const Map delta = applied(m, kA, {FieldOp::assign("f7", "w", 2), FieldOp::increment("c", 1)});
  EXPECT_FALSE(delta.store().complete);
  EXPECT_EQ(delta.store().fields.size(), 2u);
  Map rebuilt = before;
  rebuilt.join(delta);
  EXPECT_EQ(rebuilt, m);
}

TEST(Map, a_failed_batch_changes_nothing_and_names_the_failing_operation) {
  Map m;
  applied(m, kA, {FieldOp::add("s", {"a"}), FieldOp::increment("c", 1)});
  const Map before = m;
  auto result = m.apply(kA, Ops{FieldOp::add("s", {"b"}), FieldOp::increment("c", 2),
                                FieldOp::remove_field("gone", FieldType::flag), FieldOp::increment("c", 3)});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.status().code(), StatusCode::not_found);
  EXPECT_EQ(result.status().message(), "ops[2] remove_field \"gone\" (flag): field is absent");
  EXPECT_EQ(m, before);
  // The next dot is the one the failed batch would have used: no gap.
  applied(m, kA, {FieldOp::increment("c", 1)});
  EXPECT_EQ(m.context().ranges(m.context().find(kA)), (DotRanges{{1, 3}}));
}

TEST(Map, removing_an_absent_element_fails_the_whole_batch) {
  Map m;
  applied(m, kA, {FieldOp::add("s", {"a", "b"})});
  const Map before = m;
  auto result = m.apply(kA, Ops{FieldOp::remove("s", {"a"}), FieldOp::remove("s", {"a"})});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.status().message(), "ops[1] remove \"s\" (set): element \"a\" is not in the set");
  EXPECT_EQ(m, before);
}

TEST(Map, an_operation_of_the_wrong_type_for_its_field_is_invalid) {
  Map m;
  FieldOp op = FieldOp::add("c", {"x"});
  op.field.type = FieldType::counter;
  auto result = m.apply(kA, Ops{FieldOp::increment("c", 1), op});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.status().code(), StatusCode::type_mismatch);
  EXPECT_EQ(result.status().message(), "ops[1] add \"c\" (counter): operation add does not apply to a counter field");
  EXPECT_TRUE(m.empty());
}

TEST(Map, nested_failures_name_the_path_and_roll_back_nested_changes) {
  Map m;
  applied(m, kA, {FieldOp::update("outer", {FieldOp::add("s", {"a"})})});
  const Map before = m;
  auto result =
      m.apply(kA, Ops{FieldOp::update("outer", {FieldOp::remove_field("s", FieldType::set), FieldOp::increment("n", 1),
                                                FieldOp::update("inner", {FieldOp::remove("t", {"z"})})})});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.status().message(),
            "ops[0] update \"outer\" (map): ops[2] update \"inner\" (map): ops[0] remove \"t\" (set): element \"z\" is "
            "not in the set");
  EXPECT_EQ(m, before);
}

TEST(Map, a_batch_sees_its_own_earlier_operations) {
  Map m;
  applied(m, kA, {FieldOp::add("s", {"a"})});
  const Map before = m;
  const Map delta = applied(m, kA,
                            {FieldOp::remove_field("s", FieldType::set), FieldOp::add("s", {"b"}),
                             FieldOp::remove("s", {"b"}), FieldOp::add("s", {"c"})});
  EXPECT_EQ(std::get<std::vector<std::string>>(value_of(m.value(), "s", FieldType::set)),
            std::vector<std::string>{"c"});
  Map rebuilt = before;
  rebuilt.join(delta);
  EXPECT_EQ(rebuilt, m);
}

TEST(Map, nesting_is_limited_for_local_batches) {
  Limits limits;
  limits.map_depth_max = 3;
  Map m;
  Ops deep = {FieldOp::update("l2", {FieldOp::update("l3", {FieldOp::increment("c", 1)})})};
  EXPECT_TRUE(m.apply(kA, deep, limits));
  Ops deeper = {FieldOp::update("l2", {FieldOp::update("l3", {FieldOp::update("l4", {FieldOp::increment("c", 1)})})})};
  auto result = m.apply(kA, deeper, limits);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.status().code(), StatusCode::invalid);
}

TEST(Map, oversized_names_and_values_are_too_large) {
  Limits limits;
  limits.element_bytes_max = 4;
  Map m;
  auto result = m.apply(kA, Ops{FieldOp::add("s", {"12345"})}, limits);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.status().code(), StatusCode::too_large);
}

TEST(Map, compare_and_set_applies_only_on_the_context_read) {
  Map m, other;
  applied(m, kA, {FieldOp::assign("leader", "a", 1)});
  const CausalContext read = m.context();
  EXPECT_TRUE(m.apply_if(kA, Ops{FieldOp::assign("leader", "b", 2)}, read));
  auto stale = m.apply_if(kB, Ops{FieldOp::assign("leader", "c", 3)}, read);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.status().code(), StatusCode::conflict);
  EXPECT_EQ(std::get<Timestamped>(value_of(m.value(), "leader", FieldType::lww_register)).value, "b");
}

TEST(Map, compare_and_set_fails_when_a_remote_delta_arrived_in_between) {
  Map a, b;
  b.join(applied(a, kA, {FieldOp::increment("c", 1)}));
  const CausalContext read = b.context();
  b.join(applied(a, kA, {FieldOp::increment("c", 1)}));
  EXPECT_EQ(b.apply_if(kB, Ops{FieldOp::increment("c", 1)}, read).status().code(), StatusCode::conflict);
}

TEST(Map, compare_and_set_fails_when_a_remote_remove_arrived_in_between) {
  // The remove changes no store dot of its own; its event dot still moves
  // the context, so the stale token is refused.
  Map a, b;
  b.join(applied(a, kA, {FieldOp::add("s", {"x", "y"})}));
  const CausalContext read = b.context();
  b.join(applied(a, kA, {FieldOp::remove("s", {"x"})}));
  EXPECT_NE(b.context(), read);
  EXPECT_EQ(b.apply_if(kB, Ops{FieldOp::add("s", {"z"})}, read).status().code(), StatusCode::conflict);
}

TEST(Map, a_remove_only_batch_draws_one_event_dot) {
  Map m;
  applied(m, kA, {FieldOp::add("s", {"x", "y"})});
  const Map delta = applied(m, kA, {FieldOp::remove("s", {"x"}), FieldOp::remove("s", {"y"})});
  EXPECT_EQ(m.context().ranges(m.context().find(kA)), (DotRanges{{1, 3}}));
  EXPECT_TRUE(delta.context().contains({delta.context().find(kA), 3}));
}

TEST(Map, empty_containers_are_not_fields) {
  Map m;
  applied(m, kA, {FieldOp::add("s", {"a"}), FieldOp::enable("f")});
  applied(m, kA, {FieldOp::remove("s", {"a"}), FieldOp::disable("f")});
  EXPECT_TRUE(m.empty());
  // So a remove of the emptied field is a remove of an absent field.
  EXPECT_EQ(m.apply(kA, Ops{FieldOp::remove_field("s", FieldType::set)}).status().code(), StatusCode::not_found);
}

TEST(Map, a_batch_of_no_ops_returns_a_bottom_delta) {
  Map m;
  applied(m, kA, {FieldOp::assign("r", "v", 10)});
  const Map delta = applied(m, kA, {FieldOp::assign("r", "old", 5), FieldOp::disable("f"), FieldOp::update("m", {})});
  EXPECT_TRUE(delta.is_bottom());
  EXPECT_EQ(m.value().fields.size(), 1u);
}

TEST(Map, clear_removes_every_field_seen_and_keeps_concurrent_updates) {
  Map a, b;
  b.join(applied(a, kA, {FieldOp::add("s", {"x"}), FieldOp::increment("c", 2)}));
  const Map cleared = a.clear(kA);
  const Map concurrent = applied(b, kB, {FieldOp::add("s", {"y"})});
  a.join(concurrent);
  b.join(cleared);
  EXPECT_EQ(a, b);
  ASSERT_EQ(a.value().fields.size(), 1u);
  EXPECT_EQ(std::get<std::vector<std::string>>(value_of(a.value(), "s", FieldType::set)),
            std::vector<std::string>{"y"});
}

TEST(Map, join_reports_value_changes_only_for_real_changes) {
  Map a, b;
  const Map d1 = applied(a, kA, {FieldOp::add("s", {"x"})});
  EXPECT_TRUE(b.join(d1).value_changed);
  EXPECT_FALSE(b.join(d1).state_changed);
  // A concurrent re-add of an element already there: new dot, same value.
  const Map d2 = applied(a, kA, {FieldOp::add("s", {"x"})});
  const JoinOutcome outcome = b.join(d2);
  EXPECT_TRUE(outcome.state_changed);
  EXPECT_FALSE(outcome.value_changed);
}

}  // namespace
}  // namespace lashup::crdt
