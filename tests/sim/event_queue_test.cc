// The agenda must pop in exactly (time, push order) order, whatever mix of
// near, far, same-instant and past-the-peek pushes it gets: every replayed
// seed depends on it.
#include "event_queue.h"

#include <gtest/gtest.h>

#include <array>
#include <queue>
#include <tuple>
#include <vector>

#include "core/common/random.h"

namespace lashup::sim {
namespace {

struct Reference {
  int64_t time;
  uint32_t id;
  bool operator>(const Reference& other) const { return std::tie(time, id) > std::tie(other.time, other.id); }
};

TEST(EventQueue, pops_in_time_then_push_order_across_all_levels) {
  Random random(7);
  EventQueue queue;
  std::priority_queue<Reference, std::vector<Reference>, std::greater<>> reference;
  int64_t now = 0;
  uint32_t next_id = 0;
  auto push = [&](int64_t time) {
    queue.push(Time(time), EntryKind::control, next_id);
    reference.push({time, next_id});
    ++next_id;
  };
  for (int round = 0; round < 200'000; ++round) {
    const uint64_t choice = random.uniform(100);
    if (choice < 55 || queue.empty()) {
      // Same instant, sub-millisecond, LAN round trips, protocol timers, far timers, beyond the wheel.
      static constexpr int64_t kSpans[] = {0, 1, 300, 3'000, 100'000, 20'000'000, 100'000'000};
      const int64_t span = kSpans[random.uniform(std::size(kSpans))];
      push(now + static_cast<int64_t>(random.uniform(static_cast<uint64_t>(span) + 1)));
    } else if (choice < 65) {
      // Peeking may turn the wheel past `now`; later pushes at `now` must still come first.
      ASSERT_EQ(queue.top().a, reference.top().id) << "round " << round;
    } else if (choice < 70) {
      // As run_until: pop only what is due by a bound.
      const int64_t bound = now + static_cast<int64_t>(random.uniform(5'000));
      Entry entry;
      const bool due = reference.top().time <= bound;
      ASSERT_EQ(queue.pop_due(Time(bound), entry), due) << "round " << round;
      if (due) {
        ASSERT_EQ(entry.a, reference.top().id) << "round " << round;
        reference.pop();
        now = entry.time.count();
      }
    } else {
      const Entry entry = queue.pop();
      ASSERT_FALSE(reference.empty());
      const Reference expected = reference.top();
      reference.pop();
      ASSERT_EQ(entry.time.count(), expected.time) << "round " << round;
      ASSERT_EQ(entry.a, expected.id) << "round " << round;
      ASSERT_GE(entry.time.count(), now);
      now = entry.time.count();
    }
  }
  while (!queue.empty()) {
    ASSERT_EQ(queue.pop().a, reference.top().id);
    reference.pop();
  }
}

TEST(EventQueue, a_push_before_a_peeked_entry_still_comes_first) {
  EventQueue queue;
  queue.push(Time(5'000'000), EntryKind::control, 1);
  EXPECT_EQ(queue.top().a, 1u);                    // the wheel turns to 5 s
  queue.push(Time(1'000), EntryKind::control, 2);  // as run_until(1 ms) then at(1 ms) would
  queue.push(Time(1'000), EntryKind::control, 3);
  EXPECT_EQ(queue.pop().a, 2u);
  EXPECT_EQ(queue.pop().a, 3u);
  EXPECT_EQ(queue.pop().a, 1u);
  EXPECT_TRUE(queue.empty());
}

TEST(EventQueue, hints_name_the_next_entries_when_nothing_is_pushed_before_them) {
  Random random(11);
  EventQueue queue;
  uint32_t next_id = 0;
  // Near and far entries, so that level-1 buckets move down along the way.
  for (int i = 0; i < 20'000; ++i) {
    queue.push(Time(static_cast<int64_t>(random.uniform(50'000'000))), EntryKind::control, next_id++);
  }
  size_t hinted = 0;
  while (!queue.empty()) {
    queue.top();  // settles the wheel, as pop_due does
    std::array<const Entry*, 2> hints;
    queue.peek_hints(hints);
    const uint32_t hinted_first = hints[0] != nullptr ? hints[0]->a : ~0u;
    const uint32_t hinted_second = hints[1] != nullptr ? hints[1]->a : ~0u;
    const Entry first = queue.pop();
    // A hint may be missing (at the end of the wheel's current block),
    // never wrong when nothing was pushed.
    if (hints[0] != nullptr) {
      ASSERT_EQ(hinted_first, first.a);
      ++hinted;
    }
    if (hints[1] != nullptr && !queue.empty()) ASSERT_EQ(hinted_second, queue.top().a);
  }
  EXPECT_GT(hinted, 19'000u);
}

}  // namespace
}  // namespace lashup::sim
