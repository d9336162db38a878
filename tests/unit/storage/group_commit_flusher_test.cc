#include "storage/group_commit_flusher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace lashup::storage {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

TEST(GroupCommitFlusher, never_flushes_while_nothing_is_committed) {
  std::atomic<int> flushes{0};
  GroupCommitFlusher flusher(milliseconds(1), [&] {
    ++flushes;
    return Status::ok();
  });
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_TRUE(flusher.stop().is_ok());
  EXPECT_EQ(flushes.load(), 0);
}

TEST(GroupCommitFlusher, wait_durable_returns_after_a_flush_covering_the_commits) {
  std::atomic<int> flushes{0};
  GroupCommitFlusher flusher(milliseconds(2), [&] {
    ++flushes;
    return Status::ok();
  });
  for (int i = 0; i < 100; ++i) flusher.note_commit();
  EXPECT_TRUE(flusher.wait_durable().is_ok());
  EXPECT_GE(flushes.load(), 1);
  // 100 commits inside one window share one or two flushes, not 100.
  EXPECT_LE(flushes.load(), 2);
}

TEST(GroupCommitFlusher, flushes_within_the_delay_without_a_waiter) {
  std::atomic<int> flushes{0};
  GroupCommitFlusher flusher(milliseconds(5), [&] {
    ++flushes;
    return Status::ok();
  });
  flusher.note_commit();
  const auto deadline = Clock::now() + milliseconds(2000);
  while (flushes.load() == 0 && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(1));
  EXPECT_EQ(flushes.load(), 1);
}

TEST(GroupCommitFlusher, wait_durable_with_nothing_committed_returns_at_once) {
  GroupCommitFlusher flusher(milliseconds(10000), [] { return Status::ok(); });
  const auto start = Clock::now();
  EXPECT_TRUE(flusher.wait_durable().is_ok());
  EXPECT_LT(Clock::now() - start, milliseconds(1000));
}

TEST(GroupCommitFlusher, stop_flushes_pending_commits_without_waiting_for_the_window) {
  std::atomic<int> flushes{0};
  GroupCommitFlusher flusher(milliseconds(60000), [&] {
    ++flushes;
    return Status::ok();
  });
  flusher.note_commit();
  const auto start = Clock::now();
  EXPECT_TRUE(flusher.stop().is_ok());
  EXPECT_LT(Clock::now() - start, milliseconds(5000));
  EXPECT_EQ(flushes.load(), 1);
}

TEST(GroupCommitFlusher, a_failed_flush_is_reported_to_every_later_wait) {
  std::atomic<int> flushes{0};
  GroupCommitFlusher flusher(milliseconds(1), [&] {
    ++flushes;
    return Status::io("disk on fire");
  });
  flusher.note_commit();
  Status first = flusher.wait_durable();
  EXPECT_EQ(first.code(), StatusCode::io);
  EXPECT_EQ(first.message(), "disk on fire");
  flusher.note_commit();
  EXPECT_EQ(flusher.wait_durable().code(), StatusCode::io);
  EXPECT_EQ(flusher.error().code(), StatusCode::io);
  // Sticky: no retried fsync after a failed one.
  EXPECT_EQ(flushes.load(), 1);
  EXPECT_EQ(flusher.stop().code(), StatusCode::io);
}

TEST(GroupCommitFlusher, stop_is_idempotent) {
  GroupCommitFlusher flusher(milliseconds(1), [] { return Status::ok(); });
  EXPECT_TRUE(flusher.stop().is_ok());
  EXPECT_TRUE(flusher.stop().is_ok());
  EXPECT_TRUE(flusher.wait_durable().is_ok());
}

}  // namespace
}  // namespace lashup::storage
