#include "core/wire/ping_messages.h"

#include <gtest/gtest.h>

namespace lashup::wire {
namespace {

TEST(PingMessages, ping_and_pong_round_trip) {
  const Ping ping{77, -5};
  const Bytes bytes = encode(ping);
  Reader r(bytes);
  auto type = read_message_type(r);
  ASSERT_TRUE(type);
  EXPECT_EQ(*type, MessageType::ping);
  auto decoded = decode_ping(r);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, ping);
}

TEST(PingMessages, unknown_type_is_unsupported) {
  Writer w;
  w.varint(kMessageTypeMax + 1);
  Reader r(w.view());
  auto type = read_message_type(r);
  ASSERT_FALSE(type);
  EXPECT_EQ(type.status().code(), StatusCode::unsupported);
}

TEST(PingMessages, trailing_bytes_are_malformed) {
  Bytes bytes = encode(Pong{1, 2});
  bytes.push_back(0);
  Reader r(bytes);
  ASSERT_TRUE(read_message_type(r));
  EXPECT_FALSE(decode_pong(r));
}

}  // namespace
}  // namespace lashup::wire
