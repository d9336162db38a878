#include "runtime/transport/handshake.h"

#include <gtest/gtest.h>

#include "core/wire/message.h"

namespace lashup::runtime {
namespace {

Handshake valid() { return Handshake{wire::kProtocolVersion, "cluster", "node-1", 42}; }

TEST(Handshake, round_trips) {
  Result<Handshake> decoded = decode_handshake(encode(valid()));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().message();
  EXPECT_EQ(*decoded, valid());
  EXPECT_TRUE(check_handshake(*decoded, "cluster").is_ok());
}

TEST(Handshake, refuses_another_message_type) {
  wire::Writer w = wire::begin_message(wire::MessageType::ping);
  w.varint(1);
  w.svarint(2);
  EXPECT_FALSE(decode_handshake(w.take()).is_ok());
}

TEST(Handshake, refuses_trailing_bytes_and_truncation) {
  wire::Bytes message = encode(valid());
  message.push_back(0);
  EXPECT_FALSE(decode_handshake(message).is_ok());
  message.resize(message.size() - 3);
  EXPECT_FALSE(decode_handshake(message).is_ok());
}

TEST(Handshake, refuses_a_cluster_id_over_64_bytes) {
  Handshake h = valid();
  h.cluster_id.assign(65, 'c');
  EXPECT_FALSE(decode_handshake(encode(h)).is_ok());
}

TEST(Handshake, check_refuses_versions_outside_the_supported_range) {
  Handshake h = valid();
  h.protocol_version = wire::kProtocolVersion + 1;
  EXPECT_EQ(check_handshake(h, "cluster").code(), StatusCode::unsupported);
  h.protocol_version = wire::kProtocolVersionMin - 1;
  EXPECT_EQ(check_handshake(h, "cluster").code(), StatusCode::unsupported);
}

TEST(Handshake, check_refuses_another_cluster_and_invalid_names) {
  EXPECT_FALSE(check_handshake(valid(), "other").is_ok());
  Handshake h = valid();
  h.node_name = "bad name";
  EXPECT_FALSE(check_handshake(h, "cluster").is_ok());
  h.node_name = "";
  EXPECT_FALSE(check_handshake(h, "cluster").is_ok());
}

}  // namespace
}  // namespace lashup::runtime
