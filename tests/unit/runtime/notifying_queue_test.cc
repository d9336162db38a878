#include "runtime/notifying_queue.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <thread>
#include <vector>

namespace lashup::runtime {
namespace {

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

TEST(NotifyingQueue, the_fd_is_readable_exactly_while_the_queue_is_not_empty) {
  NotifyingQueue<int> q(8, WhenFull::refuse);
  ASSERT_TRUE(q.open_fd());
  EXPECT_FALSE(readable(q.fd()));
  q.push(1);
  q.push(2);
  EXPECT_TRUE(readable(q.fd()));
  EXPECT_EQ(q.pop(std::chrono::milliseconds(0)), 1);
  EXPECT_TRUE(readable(q.fd()));
  EXPECT_EQ(q.pop(std::chrono::milliseconds(0)), 2);
  EXPECT_FALSE(readable(q.fd()));
  EXPECT_FALSE(q.pop(std::chrono::milliseconds(0)).has_value());
}

TEST(NotifyingQueue, a_full_command_queue_refuses_and_counts) {
  NotifyingQueue<int> q(2, WhenFull::refuse);
  EXPECT_TRUE(q.push(1));
  EXPECT_TRUE(q.push(2));
  EXPECT_FALSE(q.push(3));
  EXPECT_EQ(q.refused(), 1u);
  EXPECT_EQ(q.size(), 2u);
}

TEST(NotifyingQueue, a_full_event_queue_drops_the_oldest_and_counts) {
  NotifyingQueue<int> q(2, WhenFull::drop_oldest);
  q.push(1);
  q.push(2);
  q.push(3);
  EXPECT_EQ(q.dropped(), 1u);
  EXPECT_EQ(q.pop(std::chrono::milliseconds(0)), 2);
  EXPECT_EQ(q.pop(std::chrono::milliseconds(0)), 3);
}

TEST(NotifyingQueue, close_wakes_a_waiting_consumer_and_refuses_later_pushes) {
  NotifyingQueue<int> q(4, WhenFull::refuse);
  ASSERT_TRUE(q.open_fd());
  std::thread waiter([&] { EXPECT_FALSE(q.pop(std::chrono::milliseconds(60000)).has_value()); });
  q.close();
  waiter.join();
  EXPECT_FALSE(q.push(1));
  EXPECT_TRUE(readable(q.fd()));
}

TEST(NotifyingQueue, every_item_of_many_producers_reaches_the_consumers_once) {
  NotifyingQueue<int> q(1 << 20, WhenFull::refuse);
  ASSERT_TRUE(q.open_fd());
  constexpr int kProducers = 4, kEach = 20000;
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&q, p] {
      for (int i = 0; i < kEach; ++i) ASSERT_TRUE(q.push(p * kEach + i));
    });
  }
  std::vector<std::atomic<int>> seen(kProducers * kEach);
  std::atomic<int> received{0};
  std::vector<std::thread> consumers;
  for (int c = 0; c < 2; ++c) {
    consumers.emplace_back([&] {
      while (received.load() < kProducers * kEach) {
        // Wait on the fd as an event loop would, then drain.
        pollfd pfd{q.fd(), POLLIN, 0};
        ::poll(&pfd, 1, 10);
        while (auto item = q.pop(std::chrono::milliseconds(0))) {
          seen[*item].fetch_add(1);
          received.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : producers) t.join();
  for (auto& t : consumers) t.join();
  for (const auto& count : seen) ASSERT_EQ(count.load(), 1);
  EXPECT_FALSE(readable(q.fd()));
}

}  // namespace
}  // namespace lashup::runtime
