#include "runtime/transport/handshake.h"

#include <gtest/gtest.h>

#include "core/wire/message.h"

namespace lashup::runtime {
namespace {

constexpr VersionRange kOurs{wire::kProtocolVersionMin, wire::kProtocolVersion};

Handshake valid() { return Handshake{wire::kProtocolVersion, "cluster", "node-1", 42, wire::kProtocolVersionMin}; }

TEST(Handshake, round_trips) {
  Result<Handshake> decoded = decode_handshake(encode(valid()));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().message();
  EXPECT_EQ(*decoded, valid());
  Result<uint32_t> agreed = check_handshake(*decoded, "cluster", kOurs);
  ASSERT_TRUE(agreed.is_ok());
  EXPECT_EQ(*agreed, wire::kProtocolVersion);
}

// Builds that speak only version 1 refuse any byte after the incarnation:
// a handshake announcing version 1 must be exactly the version-1 form.
TEST(Handshake, version_one_form_is_the_original_bytes) {
  wire::Writer w = wire::begin_message(wire::MessageType::handshake);
  w.varint(1);
  w.string("cluster");
  w.string("node-1");
  w.varint(42);
  const wire::Bytes original = w.take();
  EXPECT_EQ(encode(Handshake{1, "cluster", "node-1", 42}), original);
  Result<Handshake> decoded = decode_handshake(original);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().message();
  EXPECT_EQ(decoded->versions().min, 1u);
  EXPECT_EQ(decoded->versions().max, 1u);
  Result<uint32_t> agreed = check_handshake(*decoded, "cluster", kOurs);
  ASSERT_TRUE(agreed.is_ok());
  EXPECT_EQ(*agreed, 1u);
}

TEST(Handshake, version_one_form_refuses_trailing_bytes_and_truncation) {
  wire::Bytes message = encode(Handshake{1, "cluster", "node-1", 42});
  message.push_back(0);
  EXPECT_FALSE(decode_handshake(message).is_ok());
  message.resize(message.size() - 3);
  EXPECT_FALSE(decode_handshake(message).is_ok());
}

// A later version may append fields; this build skips them.
TEST(Handshake, skips_fields_of_later_versions) {
  Handshake later{wire::kProtocolVersion + 1, "cluster", "node-1", 42, wire::kProtocolVersion};
  wire::Bytes message = encode(later);
  message.push_back(7);
  message.push_back(9);
  Result<Handshake> decoded = decode_handshake(message);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().message();
  EXPECT_EQ(*decoded, later);
  Result<uint32_t> agreed = check_handshake(*decoded, "cluster", kOurs);
  ASSERT_TRUE(agreed.is_ok()) << agreed.status().message();
  EXPECT_EQ(*agreed, wire::kProtocolVersion);
}

TEST(Handshake, refuses_a_minimum_above_the_maximum_or_zero) {
  Handshake h = valid();
  h.protocol_version_min = h.protocol_version + 1;
  EXPECT_FALSE(decode_handshake(encode(h)).is_ok());
  wire::Writer w = wire::begin_message(wire::MessageType::handshake);
  w.varint(2);
  w.string("cluster");
  w.string("node-1");
  w.varint(42);
  w.varint(0);
  EXPECT_FALSE(decode_handshake(w.take()).is_ok());
}

TEST(Handshake, refuses_another_message_type) {
  wire::Writer w = wire::begin_message(wire::MessageType::ping);
  w.varint(1);
  w.svarint(2);
  EXPECT_FALSE(decode_handshake(w.take()).is_ok());
}

TEST(Handshake, refuses_truncation) {
  wire::Bytes message = encode(valid());
  message.resize(message.size() - 1);
  EXPECT_FALSE(decode_handshake(message).is_ok());
}

TEST(Handshake, refuses_a_cluster_id_over_64_bytes) {
  Handshake h = valid();
  h.cluster_id.assign(65, 'c');
  EXPECT_FALSE(decode_handshake(encode(h)).is_ok());
}

TEST(Handshake, agrees_on_the_highest_common_version) {
  // A node pinned to version 1 (protocol.version = 1) and one at the top.
  Result<uint32_t> agreed = check_handshake(valid(), "cluster", VersionRange{1, 1});
  ASSERT_TRUE(agreed.is_ok());
  EXPECT_EQ(*agreed, 1u);
  agreed = check_handshake(Handshake{1, "cluster", "node-1", 42}, "cluster", kOurs);
  ASSERT_TRUE(agreed.is_ok());
  EXPECT_EQ(*agreed, 1u);
}

TEST(Handshake, check_refuses_ranges_that_do_not_overlap) {
  // Only newer versions than ours.
  Handshake h{wire::kProtocolVersion + 2, "cluster", "node-1", 42, wire::kProtocolVersion + 1};
  Result<uint32_t> agreed = check_handshake(h, "cluster", kOurs);
  EXPECT_EQ(agreed.status().code(), StatusCode::unsupported);
  EXPECT_NE(agreed.status().message().find("we speak 1.."), std::string::npos) << agreed.status().message();
  // Only older versions than ours.
  EXPECT_EQ(check_handshake(Handshake{1, "cluster", "node-1", 42}, "cluster", VersionRange{2, 2}).status().code(),
            StatusCode::unsupported);
  // Version 0 does not exist.
  EXPECT_EQ(check_handshake(Handshake{0, "cluster", "node-1", 42}, "cluster", kOurs).status().code(),
            StatusCode::unsupported);
}

TEST(Handshake, check_refuses_another_cluster_and_invalid_names) {
  EXPECT_FALSE(check_handshake(valid(), "other", kOurs).is_ok());
  Handshake h = valid();
  h.node_name = "bad name";
  EXPECT_FALSE(check_handshake(h, "cluster", kOurs).is_ok());
  h.node_name = "";
  EXPECT_FALSE(check_handshake(h, "cluster", kOurs).is_ok());
}

}  // namespace
}  // namespace lashup::runtime
