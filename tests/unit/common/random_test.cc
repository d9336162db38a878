#include "core/common/random.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace lashup {
namespace {

TEST(Random, same_seed_gives_same_sequence) {
  Random a(42), b(42);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a.next_u64(), b.next_u64());
}

TEST(Random, different_seeds_give_different_sequences) {
  Random a(1), b(2);
  int equal = 0;
  for (int i = 0; i < 100; ++i) equal += a.next_u64() == b.next_u64();
  EXPECT_LT(equal, 2);
}

TEST(Random, uniform_stays_below_bound_and_covers_it) {
  Random r(7);
  std::set<uint64_t> seen;
  for (int i = 0; i < 10000; ++i) {
    const uint64_t v = r.uniform(10);
    ASSERT_LT(v, 10u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(r.uniform(0), 0u);
  EXPECT_EQ(r.uniform(1), 0u);
}

TEST(Random, jittered_duration_stays_within_spread) {
  Random r(9);
  for (int i = 0; i < 1000; ++i) {
    const Duration d = r.jittered(1000ms, 0.5);
    ASSERT_GE(d, 500ms);
    ASSERT_LE(d, 1500ms);
  }
}

TEST(Random, shuffle_is_a_permutation) {
  Random r(3);
  std::vector<int> items{1, 2, 3, 4, 5, 6, 7, 8};
  r.shuffle(items);
  std::multiset<int> sorted(items.begin(), items.end());
  EXPECT_EQ(sorted, (std::multiset<int>{1, 2, 3, 4, 5, 6, 7, 8}));
}

}  // namespace
}  // namespace lashup
