#include "core/crdt/chunked_map.h"

#include <gtest/gtest.h>

#include <map>

#include "core/common/random.h"

namespace lashup::crdt {
namespace {

using Model = std::map<std::string, int>;

void expect_same(const ChunkedMap<int>& map, const Model& model) {
  ASSERT_EQ(map.size(), model.size());
  auto it = map.begin();
  for (const auto& [key, value] : model) {
    ASSERT_NE(it, map.end());
    EXPECT_EQ(it->first, key);
    EXPECT_EQ(it->second, value);
    ++it;
  }
  EXPECT_EQ(it, map.end());
}

TEST(ChunkedMap, random_inserts_and_erases_match_an_ordered_map) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    Random rng(seed);
    ChunkedMap<int> map;
    Model model;
    for (int step = 0; step < 20000; ++step) {
      const std::string key = std::to_string(rng.uniform(3000));
      const uint64_t action = rng.uniform(10);
      if (action < 5) {
        const int value = static_cast<int>(rng.uniform(1000));
        auto [it, inserted] = map.try_emplace(key);
        EXPECT_EQ(inserted, !model.contains(key));
        EXPECT_EQ(it->first, key);
        it->second = value;
        model[key] = value;
      } else if (action < 9) {
        EXPECT_EQ(map.erase(key), model.erase(key) == 1);
      } else {
        auto it = map.find(key);
        EXPECT_EQ(it != map.end(), model.contains(key));
        if (it != map.end()) EXPECT_EQ(it->second, model[key]);
      }
      if (step % 1000 == 0) expect_same(map, model);
    }
    expect_same(map, model);
    // Erasing most entries leaves no long trail of near-empty chunks: the
    // map still iterates and finds correctly.
    map.erase_if([](const auto& entry) { return entry.first.size() > 1; });
    std::erase_if(model, [](const auto& entry) { return entry.first.size() > 1; });
    expect_same(map, model);
  }
}

TEST(ChunkedMap, keys_below_the_first_chunk_rekey_it) {
  ChunkedMap<int> map;
  for (int i = 100; i < 300; ++i) map.append(std::to_string(i), i);
  map.try_emplace("0").first->second = -1;
  EXPECT_EQ(map.begin()->first, "0");
  EXPECT_TRUE(map.contains("0"));
  map.erase("0");
  map.erase("100");
  EXPECT_EQ(map.begin()->first, "101");
  EXPECT_TRUE(map.contains("101"));
  EXPECT_EQ(map.last()->first, "299");
}

TEST(ChunkedMap, handles_binary_keys_in_bytewise_order) {
  ChunkedMap<int> map;
  for (std::string key : {std::string("\xff", 1), std::string("\0", 1), std::string("a"), std::string()}) {
    map.try_emplace(key);
  }
  std::vector<std::string> keys;
  for (const auto& entry : map) keys.push_back(entry.first);
  EXPECT_EQ(keys, (std::vector<std::string>{std::string(), std::string("\0", 1), "a", std::string("\xff", 1)}));
}

}  // namespace
}  // namespace lashup::crdt
