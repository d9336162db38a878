#include "core/common/ids.h"

#include <gtest/gtest.h>

namespace lashup {
namespace {

TEST(NodeName, accepts_usual_names) {
  EXPECT_TRUE(validate_node_name("agent-1.example.com"));
  EXPECT_TRUE(validate_node_name("dcos-net@10.0.0.1:7450"));
  EXPECT_TRUE(validate_node_name(std::string(255, 'a')));
}

TEST(NodeName, rejects_empty_long_and_unsafe_names) {
  EXPECT_EQ(validate_node_name("").code(), StatusCode::invalid);
  EXPECT_EQ(validate_node_name(std::string(256, 'a')).code(), StatusCode::invalid);
  EXPECT_FALSE(validate_node_name("a/b"));
  EXPECT_FALSE(validate_node_name("a b"));
  EXPECT_FALSE(validate_node_name(std::string("a\0b", 3)));
}

TEST(Incarnation, rises_above_persisted_and_wall_clock) {
  EXPECT_EQ(next_incarnation(0, 1700000000), 1700000000u);
  EXPECT_EQ(next_incarnation(1700000005, 1700000000), 1700000006u);
  // A clock that went backwards still yields a higher incarnation.
  EXPECT_GT(next_incarnation(1800000000, 1700000000), 1800000000u);
}

}  // namespace
}  // namespace lashup
