#include "core/config/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

namespace lashup::config {
namespace {

TEST(Config, every_key_has_a_valid_default_and_a_doc) {
  std::set<std::string_view> names;
  for (const auto& key : all_keys()) {
    EXPECT_TRUE(names.insert(key.name).second) << "duplicate key " << key.name;
    EXPECT_FALSE(key.doc.empty()) << key.name;
    if (!key.default_value.empty()) {
      std::string normalized;
      EXPECT_TRUE(validate_value(key, key.default_value, normalized)) << key.name;
    }
  }
}

TEST(Config, defaults_are_the_documented_ones) {
  Config c;
  EXPECT_EQ(*c.get_int("overlay.active_view_size"), 7);
  EXPECT_EQ(*c.get_int("overlay.passive_view_size"), 42);
  EXPECT_EQ(*c.get_int("overlay.active_random_walk_length"), 6);
  EXPECT_EQ(*c.get_int("overlay.passive_random_walk_length"), 3);
  EXPECT_EQ(*c.get("durability"), "group");
  EXPECT_TRUE(*c.get_bool("tls"));
  EXPECT_EQ(*c.get("node_name"), "");
}

TEST(Config, unknown_key_is_refused_with_its_name) {
  Config c;
  Status s = c.set("overlay.activ_view_size", "7");
  EXPECT_EQ(s.code(), StatusCode::invalid);
  EXPECT_EQ(s.message(), "overlay.activ_view_size: unknown configuration key");
}

TEST(Config, out_of_range_number_is_refused_with_the_range) {
  Config c;
  Status s = c.set("overlay.active_view_size", "500");
  EXPECT_EQ(s.message(), "overlay.active_view_size: \"500\" is out of range [2, 64]");
  EXPECT_EQ(*c.get_int("overlay.active_view_size"), 7);  // unchanged
}

TEST(Config, malformed_numbers_are_refused) {
  Config c;
  for (const char* bad : {"", "7x", " 7", "0x10", "99999999999999999999999", "-"}) {
    EXPECT_FALSE(c.set("overlay.active_view_size", bad)) << bad;
  }
}

TEST(Config, booleans_accept_common_spellings_and_normalize) {
  Config c;
  ASSERT_TRUE(c.set("tls", "false"));
  EXPECT_EQ(*c.get("tls"), "off");
  ASSERT_TRUE(c.set("tls", "yes"));
  EXPECT_EQ(*c.get("tls"), "on");
  EXPECT_FALSE(c.set("tls", "maybe"));
}

TEST(Config, choices_list_the_allowed_values) {
  Config c;
  Status s = c.set("durability", "fast");
  EXPECT_EQ(s.message(), "durability: expects one of sync,group,none, not \"fast\"");
  EXPECT_TRUE(c.set("durability", "sync"));
}

TEST(Config, addresses_are_parsed) {
  EXPECT_TRUE(parse_address("127.0.0.1:7450"));
  EXPECT_TRUE(parse_address("[::1]:7450"));
  EXPECT_TRUE(parse_address("node-1.example.com:1"));
  EXPECT_FALSE(parse_address("127.0.0.1"));
  EXPECT_FALSE(parse_address("127.0.0.1:65536"));
  EXPECT_FALSE(parse_address("::1:7450"));
  EXPECT_FALSE(parse_address(":7450"));
  EXPECT_FALSE(parse_address("[::1"));
}

TEST(Config, contact_nodes_take_optional_names) {
  auto list = parse_address_list("m1@10.0.0.1:7450, 10.0.0.2:7450");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "m1");
  EXPECT_EQ((*list)[0].port, 7450);
  EXPECT_EQ((*list)[1].name, "");
  EXPECT_EQ((*list)[1].host, "10.0.0.2");
  EXPECT_FALSE(parse_address_list("10.0.0.1:7450,,10.0.0.2:7450"));
  EXPECT_FALSE(parse_address_list("10.0.0.1:0"));
  EXPECT_FALSE(parse_address_list("bad name@10.0.0.1:7450"));
}

TEST(Config, walk_lengths_must_stay_ordered) {
  Config c;
  Status s = c.set("overlay.passive_random_walk_length", "7");
  EXPECT_FALSE(s);
  EXPECT_NE(s.message().find("must not exceed"), std::string::npos);
  EXPECT_TRUE(c.set("overlay.active_random_walk_length", "8"));
  EXPECT_TRUE(c.set("overlay.passive_random_walk_length", "7"));
  EXPECT_FALSE(c.set("overlay.active_random_walk_length", "6"));
}

TEST(Config, timeout_floors_must_not_exceed_the_ceiling) {
  for (const std::string floor : {"detector.probe_timeout_min_ms", "detector.heartbeat_timeout_min_ms"}) {
    SCOPED_TRACE(floor);
    Config c;
    Status s = c.set(floor, "2500");
    ASSERT_FALSE(s);
    EXPECT_NE(s.message().find(floor + " (2500) must not exceed detector.probe_timeout_max_ms (2000)"), std::string::npos);
    EXPECT_TRUE(c.set(floor, "2000"));
    EXPECT_FALSE(c.set("detector.probe_timeout_max_ms", "1999"));
    EXPECT_TRUE(c.set("detector.probe_timeout_max_ms", "10000"));
    EXPECT_TRUE(c.set(floor, "5000"));
  }
}

TEST(Config, load_text_reads_key_value_lines_with_comments_and_quotes) {
  Config c;
  Status s = c.load_text(
      "# a comment\n"
      "\n"
      "node_name = agent-1   # trailing comment\n"
      "overlay.active_view_size=5\r\n"
      "data_dir = \"/var/lib/lashup # not a comment\"\n",
      "node.conf");
  ASSERT_TRUE(s) << s.message();
  EXPECT_EQ(*c.get("node_name"), "agent-1");
  EXPECT_EQ(*c.get_int("overlay.active_view_size"), 5);
  EXPECT_EQ(*c.get("data_dir"), "/var/lib/lashup # not a comment");
}

TEST(Config, load_text_names_file_line_and_key_of_a_bad_line) {
  Config c;
  Status s = c.load_text("node_name = a\nno_such_key = 1\n", "node.conf");
  EXPECT_EQ(s.message(), "node.conf:2: no_such_key: unknown configuration key");
  EXPECT_EQ(c.load_text("just words\n", "f").message(), "f:1: expected key = value");
  EXPECT_EQ(c.load_text("= 3\n", "f").message(), "f:1: missing key before '='");
  EXPECT_EQ(c.load_text("data_dir = \"x\n", "f").message(), "f:1: unterminated quoted value");
}

TEST(Config, documentation_matches_the_table) {
  std::ifstream file(LASHUP_SOURCE_DIR "/docs/CONFIG.md");
  ASSERT_TRUE(file) << "docs/CONFIG.md is missing";
  std::stringstream text;
  text << file.rdbuf();
  EXPECT_EQ(text.str(), render_markdown()) << "regenerate docs/CONFIG.md with scripts/gen-docs.sh";
}

}  // namespace
}  // namespace lashup::config
