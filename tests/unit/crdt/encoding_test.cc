// The binary encoding: canonical round trips, and rejection of every kind of
// malformed input with a Status.
#include <gtest/gtest.h>

#include "printers.h"

#include "core/crdt/counter.h"
#include "core/crdt/flag.h"
#include "core/crdt/lww_register.h"
#include "core/crdt/map.h"
#include "core/crdt/or_set.h"

namespace lashup::crdt {
namespace {

const ReplicaId kA{"a", 1};
const ReplicaId kB{"b", 7};

using Ops = std::vector<FieldOp>;

Map sample_map() {
  Map m, other;
  EXPECT_TRUE(other.apply(kB, Ops{FieldOp::add("s", {"z"})}));
  EXPECT_TRUE(m.apply(kA, Ops{FieldOp::increment("c", -3), FieldOp::assign("r", std::string("\0bin", 4), 5),
                              FieldOp::enable("f"), FieldOp::add("s", {"a", "b"}),
                              FieldOp::update("m", {FieldOp::update("n", {FieldOp::increment("deep", 1)})})}));
  m.join(other);
  return m;
}

template <typename T>
void expect_round_trip(const T& object) {
  const wire::Bytes bytes = object.encode();
  auto decoded = T::decode(bytes);
  ASSERT_TRUE(decoded) << decoded.status().message();
  EXPECT_EQ(decoded->encode(), bytes);
  EXPECT_EQ(*decoded, object);
}

TEST(Encoding, states_and_deltas_of_every_type_round_trip) {
  Counter counter;
  expect_round_trip(counter.increment(kA, 5));
  expect_round_trip(counter);
  LwwRegister reg;
  expect_round_trip(reg.assign(kA, "v", 3));
  expect_round_trip(reg);
  Flag flag;
  flag.enable(kA);
  expect_round_trip(flag.disable(kA));
  expect_round_trip(flag);
  ORSet set;
  set.add(kA, "x");
  auto removed = set.remove(kA, "x");
  ASSERT_TRUE(removed);
  expect_round_trip(*removed);  // a marker in a partial set
  expect_round_trip(set.add(kB, "y"));
  expect_round_trip(set);
  Map map = sample_map();
  expect_round_trip(map);
  auto delta = map.apply(kA, Ops{FieldOp::remove_field("m", FieldType::map), FieldOp::remove("s", {"a"})});
  ASSERT_TRUE(delta);
  expect_round_trip(*delta);
  expect_round_trip(map);
  expect_round_trip(Map());
}

TEST(Encoding, equal_states_encode_equally_whatever_the_replica_table_order) {
  Map x, y;
  const Map da = *x.apply(kA, Ops{FieldOp::add("s", {"1"})});
  const Map db = *y.apply(kB, Ops{FieldOp::add("s", {"2"})});
  x.join(db);  // x's table: a, b
  y.join(da);  // y's table: b, a
  EXPECT_EQ(x.encode(), y.encode());
  EXPECT_EQ(x.digest(), y.digest());
}

TEST(Encoding, a_state_encodes_compactly) {
  ORSet set;
  for (int i = 0; i < 1000; ++i) set.add(kA, std::to_string(i));
  // About 3 + 2 + 3 bytes per element (length, digits, one dot) plus a
  // context of a single run.
  EXPECT_LT(set.encode().size(), 8000u);
}

TEST(Encoding, every_truncation_is_rejected) {
  const wire::Bytes bytes = sample_map().encode();
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto decoded = Map::decode(wire::ByteView(bytes.data(), n));
    EXPECT_FALSE(decoded) << "accepted a prefix of " << n << " bytes";
  }
}

TEST(Encoding, trailing_bytes_unknown_versions_and_other_types_are_rejected) {
  wire::Bytes bytes = sample_map().encode();
  bytes.push_back(0);
  EXPECT_EQ(Map::decode(bytes).status().code(), StatusCode::invalid);
  bytes.pop_back();
  bytes[0] = 2;
  EXPECT_EQ(Map::decode(bytes).status().code(), StatusCode::unsupported);
  bytes[0] = kEncodingVersion;
  EXPECT_EQ(ORSet::decode(bytes).status().code(), StatusCode::invalid);
}

// Builds the encoding of an ORSet from parts, to write malformed ones.
struct SetBytes {
  wire::Writer w;
  SetBytes() {
    w.u8(kEncodingVersion);
    w.u8(static_cast<uint8_t>(FieldType::set));
  }
  // Context: replica "a"/1 with the run [1, last].
  SetBytes& context(uint64_t last) {
    w.varint(1);
    w.string("a");
    w.varint(1);
    w.varint(1);
    w.varint(0);
    w.varint(last - 1);
    return *this;
  }
  SetBytes& header(bool complete, uint64_t count) {
    w.boolean(complete);
    w.varint(count);
    return *this;
  }
  SetBytes& element(std::string_view element, std::vector<uint64_t> counters) {
    w.string(element);
    w.varint(counters.size());
    for (uint64_t c : counters) {
      w.varint(0);
      w.varint(c);
    }
    return *this;
  }
  Result<ORSet> decode() { return ORSet::decode(w.view()); }
};

TEST(Encoding, hand_built_set_decodes) {
  auto set = SetBytes().context(3).header(true, 2).element("a", {1}).element("b", {2, 3}).decode();
  ASSERT_TRUE(set) << set.status().message();
  EXPECT_EQ(set->elements(), (std::vector<std::string>{"a", "b"}));
}

TEST(Encoding, stored_dots_outside_the_context_are_rejected) {
  auto set = SetBytes().context(3).header(true, 1).element("a", {4}).decode();
  ASSERT_FALSE(set);
  EXPECT_EQ(set.status().message(), "stored dot outside the causal context");
}

TEST(Encoding, unsorted_or_duplicate_elements_and_dots_are_rejected) {
  EXPECT_FALSE(SetBytes().context(3).header(true, 2).element("b", {1}).element("a", {2}).decode());
  EXPECT_FALSE(SetBytes().context(3).header(true, 2).element("a", {1}).element("a", {2}).decode());
  EXPECT_FALSE(SetBytes().context(3).header(true, 1).element("a", {2, 1}).decode());
  EXPECT_FALSE(SetBytes().context(3).header(true, 1).element("a", {2, 2}).decode());
}

TEST(Encoding, empty_elements_are_markers_allowed_only_in_partial_sets) {
  EXPECT_FALSE(SetBytes().context(3).header(true, 1).element("a", {}).decode());
  EXPECT_TRUE(SetBytes().context(3).header(false, 1).element("a", {}).decode());
}

TEST(Encoding, hostile_counts_fail_before_allocating) {
  SetBytes huge;
  huge.context(3).header(true, uint64_t{1} << 60);
  auto set = huge.decode();
  ASSERT_FALSE(set);
  EXPECT_EQ(set.status().code(), StatusCode::invalid);
}

TEST(Encoding, counters_beyond_the_dot_limit_are_rejected) {
  SetBytes big;
  big.w.varint(1);
  big.w.string("a");
  big.w.varint(1);
  big.w.varint(1);
  big.w.varint(kDotCounterMax);  // first = kDotCounterMax + 1
  big.w.varint(0);
  big.header(true, 0);
  EXPECT_FALSE(big.decode());
}

TEST(Encoding, nesting_deeper_than_the_limit_is_rejected) {
  Map m;
  Ops ops = {FieldOp::increment("c", 1)};
  for (int i = 0; i < 5; ++i) ops = {FieldOp::update("m", ops)};
  ASSERT_TRUE(m.apply(kA, ops));  // depth 6
  const wire::Bytes bytes = m.encode();
  Limits limits;
  limits.map_depth_max = 6;
  EXPECT_TRUE(Map::decode(bytes, limits));
  limits.map_depth_max = 5;
  auto decoded = Map::decode(bytes, limits);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.status().message(), "maps nested deeper than the limit");
}

TEST(Encoding, a_partial_node_inside_a_complete_one_is_rejected) {
  // Map, context a/1 [1,1], complete root with one set field, partial.
  wire::Writer w;
  w.u8(kEncodingVersion);
  w.u8(static_cast<uint8_t>(FieldType::map));
  w.varint(1);
  w.string("a");
  w.varint(1);
  w.varint(1);
  w.varint(0);
  w.varint(0);
  w.boolean(true);
  w.varint(1);
  w.string("s");
  w.u8(static_cast<uint8_t>(FieldType::set));
  w.boolean(false);
  w.varint(1);
  w.string("x");
  w.varint(1);
  w.varint(0);
  w.varint(1);
  auto decoded = Map::decode(w.view());
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.status().message(), "partial node inside a complete node");
}

TEST(Encoding, invalid_replica_names_are_rejected) {
  wire::Writer w;
  w.u8(kEncodingVersion);
  w.u8(static_cast<uint8_t>(FieldType::flag));
  w.varint(1);
  w.string("bad name");
  w.varint(1);
  w.varint(1);
  w.varint(0);
  w.varint(0);
  w.varint(0);
  EXPECT_FALSE(Flag::decode(w.view()));
}

}  // namespace
}  // namespace lashup::crdt
