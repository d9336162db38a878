#include "core/wire/codec.h"

#include <gtest/gtest.h>

#include <limits>

namespace lashup::wire {
namespace {

TEST(Codec, varints_round_trip_at_every_width) {
  const uint64_t values[] = {0, 1, 127, 128, 16383, 16384, (1ull << 32) - 1, 1ull << 32,
                             std::numeric_limits<uint64_t>::max()};
  for (uint64_t v : values) {
    Writer w;
    w.varint(v);
    Reader r(w.view());
    uint64_t out = 0;
    ASSERT_TRUE(r.varint(out));
    EXPECT_EQ(out, v);
    EXPECT_TRUE(r.finish());
  }
}

TEST(Codec, signed_values_use_zigzag) {
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1}, std::numeric_limits<int64_t>::min(),
                    std::numeric_limits<int64_t>::max()}) {
    Writer w;
    w.svarint(v);
    Reader r(w.view());
    int64_t out = 0;
    ASSERT_TRUE(r.svarint(out));
    EXPECT_EQ(out, v);
  }
  Writer w;
  w.svarint(-1);
  EXPECT_EQ(w.size(), 1u);  // small negatives stay small
}

TEST(Codec, rejects_varint_longer_than_ten_bytes) {
  const Bytes eleven(11, 0x80);
  Reader r(eleven);
  uint64_t out = 0;
  EXPECT_FALSE(r.varint(out));
  EXPECT_EQ(r.status().code(), StatusCode::invalid);
}

TEST(Codec, rejects_varint_overflowing_64_bits) {
  Bytes overflow(9, 0xff);
  overflow.push_back(0x02);
  Reader r(overflow);
  uint64_t out = 0;
  EXPECT_FALSE(r.varint(out));
}

TEST(Codec, rejects_truncated_input) {
  Writer w;
  w.fixed64(0x0102030405060708ull);
  Bytes bytes = w.take();
  bytes.pop_back();
  Reader r(bytes);
  uint64_t out = 0;
  EXPECT_FALSE(r.fixed64(out));
  EXPECT_NE(r.status().message().find("truncated"), std::string::npos);
}

TEST(Codec, byte_strings_respect_their_limit) {
  Writer w;
  w.string("hello");
  Reader within(w.view());
  std::string s;
  EXPECT_TRUE(within.string(s, 5));
  EXPECT_EQ(s, "hello");
  Reader beyond(w.view());
  EXPECT_FALSE(beyond.string(s, 4));
}

TEST(Codec, hostile_length_does_not_allocate) {
  Writer w;
  w.varint(std::numeric_limits<uint64_t>::max());  // length far beyond the input
  Reader r(w.view());
  Bytes out;
  EXPECT_FALSE(r.bytes(out, std::numeric_limits<size_t>::max()));
  EXPECT_TRUE(out.empty());
}

TEST(Codec, counts_are_bounded_by_remaining_input) {
  Writer w;
  w.varint(1000);
  w.u8(0);
  Reader r(w.view());
  uint64_t n = 0;
  EXPECT_FALSE(r.count(n, 100000, 1, "items"));
}

TEST(Codec, booleans_must_be_zero_or_one) {
  const Bytes two{2};
  Reader r(two);
  bool b = false;
  EXPECT_FALSE(r.boolean(b));
}

TEST(Codec, finish_rejects_trailing_bytes) {
  const Bytes bytes{1, 2};
  Reader r(bytes);
  uint8_t v = 0;
  ASSERT_TRUE(r.u8(v));
  EXPECT_FALSE(r.finish());
}

TEST(Codec, a_failed_reader_stays_failed) {
  const Bytes bytes{};
  Reader r(bytes);
  uint8_t v = 0;
  EXPECT_FALSE(r.u8(v));
  const Bytes more{1};
  EXPECT_FALSE(r.u8(v));
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace lashup::wire
